// The gateway's key-signed serial login (device-scripts/rootfs/serial-login) behind a real socat pty
// pair, answered with real `ssh-keygen -Y sign` signatures: a valid signature logs in (the login
// program is called with -f <user>), and every refusal names its reason; the delay grows; every
// attempt reaches the journal. The far end is a normal tty with echo, as agetty leaves it.
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { SerialPort } from 'serialport';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { SerialTarget } from '../../../src/core/target.js';
import type { SerialOptions, SerialTransport } from '../../../src/core/transport/serial.js';
import { connectSerial } from '../../../src/core/transport/serial.js';
import { openSerialPort } from '../../../src/core/transport/serial-port.js';
import type { ScriptedConsole } from '../../lib/serial-console.js';
import { startConsole } from '../../lib/serial-console.js';
import { SerialLine as Line } from '../../lib/serial-line.js';

const execFileAsync = promisify(execFile);
const HOST = 'gw-test';
const NAMESPACE = `rk64-serial-login@${HOST}`;

let dir: string;
let keysDir: string;
const open: { console: ScriptedConsole; port: SerialPort }[] = [];

async function key(name: string, type = 'ed25519'): Promise<string> {
  const path = join(dir, name);
  await execFileAsync('ssh-keygen', ['-q', '-t', type, '-N', '', '-C', name, '-f', path]);
  return path;
}

/** What a human runs on the laptop: `echo '<challenge>' | ssh-keygen -Y sign -n <namespace> -f <key>`. */
async function sign(keyPath: string, message: string, namespace = NAMESPACE): Promise<string> {
  const signing = execFileAsync('ssh-keygen', ['-Y', 'sign', '-n', namespace, '-f', keyPath]);
  signing.child.stdin?.end(`${message}\n`);
  return (await signing).stdout;
}

async function login(env: Record<string, string> = {}, state = join(dir, 'state')): Promise<Line> {
  const journal = join(dir, 'journal');
  const c = await startConsole({
    mode: 'key-login',
    env: {
      RK64_AUTHORIZED_KEYS_DIR: keysDir,
      RK64_SERIAL_LOGIN_STATE: state,
      RK64_HOSTNAME: HOST,
      SERIAL_LOGIN_JOURNAL: journal,
      RK64_TTY: 'ttyTEST',
      ...env,
    },
  });
  const port = await openSerialPort(c.device, 1_500_000);
  open.push({ console: c, port });
  const line = new Line(port);
  await line.expect(/rk64-login user: $/);
  return line;
}

/** Give the user, read the challenge line. */
async function challenge(line: Line, user = 'alice'): Promise<{ text: string; from: number }> {
  const from = line.text.length;
  await line.type(`${user}\r`);
  const match = await line.expect(/rk64-challenge: ([^\n]+)\n[\s\S]*rk64-signature: [^\n]*\n/, 10_000, from);
  return { text: match[1] ?? '', from };
}

async function paste(line: Line, signature: string): Promise<number> {
  const from = line.text.length;
  await line.type(`${signature.trim().split('\n').join('\r')}\r`);
  return from;
}

async function refusal(line: Line, from: number): Promise<{ reason: string; wait: number }> {
  const match = await line.expect(/rk64-login refused: ([^\n]+)\nrk64-login wait: (\d+) s/, 15_000, from);
  return { reason: match[1] ?? '', wait: Number(match[2]) };
}

let alice: string;
let stranger: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'rk64-serial-login-'));
  keysDir = join(dir, 'keys');
  await mkdir(keysDir);
  alice = await key('alice');
  stranger = await key('stranger');
  const aliceRsa = await key('alice-rsa', 'rsa');
  const aliceEcdsa = await key('alice-ecdsa', 'ecdsa');
  const pub = async (p: string): Promise<string> => (await readFile(`${p}.pub`, 'utf8')).trim();
  await writeFile(
    join(keysDir, 'alice'),
    [
      '# alice',
      await pub(alice),
      await pub(aliceRsa),
      await pub(aliceEcdsa),
      // A restricted SSH key must not become a serial shell: lines with options are skipped.
      `command="/bin/true" ${await pub(stranger)}`,
      `cert-authority ${await pub(stranger)}`,
      'not a key',
    ].join('\n') + '\n',
  );
}, 60_000);
afterEach(async () => {
  for (const { console: c, port } of open.splice(0)) {
    if (port.isOpen) await new Promise<void>((r) => port.close(() => r()));
    await c.stop();
  }
  await rm(join(dir, 'state'), { recursive: true, force: true });
  await rm(join(dir, 'journal'), { force: true });
});
afterAll(() => rm(dir, { recursive: true, force: true }));

describe('serial-login', () => {
  it("logs in with a signature by one of the user's keys, and the journal says so", async () => {
    const line = await login();
    expect(line.text).toContain(`rk64 serial login on ${HOST}`);
    const { text, from } = await challenge(line);
    expect(text).toMatch(/^rk64-serial-login\/1 host=gw-test user=alice nonce=[0-9a-f]{32} expires=\d+$/);
    // The human's command is on the line, complete.
    expect(line.text.slice(from)).toContain(
      `echo '${text}' | ssh-keygen -Y sign -n ${NAMESPACE} -f ~/.ssh/id_ed25519`,
    );
    await paste(line, await sign(alice, text));
    await line.expect(/rk64-login accepted: logging in as alice\n/);
    await line.expect(/login-as: alice\n/);
    await line.expect(/# $/);
    const journal = await readFile(join(dir, 'journal'), 'utf8');
    expect(journal).toMatch(/challenge user=alice nonce=/);
    expect(journal).toMatch(/accepted user=alice nonce=/);
    expect(journal).toMatch(/skipped .*alice line 5: not a plain public key/);
    expect(journal).toMatch(/skipped .*alice line 6: not a plain public key/);
  });

  it.each([
    ['rsa', 'alice-rsa'],
    ['ecdsa', 'alice-ecdsa'],
  ])('accepts a %s key too', async (_type, name) => {
    const line = await login();
    const { text } = await challenge(line);
    await paste(line, await sign(join(dir, name), text));
    await line.expect(/login-as: alice\n/);
  });

  it("refuses a key that is not in the user's list, also one listed only with options", async () => {
    const line = await login();
    const { text } = await challenge(line);
    const from = await paste(line, await sign(stranger, text));
    expect((await refusal(line, from)).reason).toBe("the signing key is not among alice's authorized keys");
    expect(await readFile(join(dir, 'journal'), 'utf8')).toMatch(
      /refused user=alice: the signing key is not among/,
    );
  });

  it("refuses a signature of another nonce, another host's namespace and another user", async () => {
    const line = await login({ RK64_SERIAL_LOGIN_MAX_DELAY: '1' });
    const cases: [(t: string) => string, string][] = [
      [(t) => t.replace(/nonce=[0-9a-f]{32}/, `nonce=${'0'.repeat(32)}`), NAMESPACE],
      [(t) => t, 'rk64-serial-login@other-gw'],
      [(t) => t.replace('user=alice', 'user=bob'), NAMESPACE],
    ];
    for (const [edit, namespace] of cases) {
      const { text } = await challenge(line);
      const from = await paste(line, await sign(alice, edit(text), namespace));
      expect((await refusal(line, from)).reason).toBe(
        'the signature does not sign this challenge (another nonce, host, user or namespace)',
      );
      await line.expect(/rk64-login user: $/, 5000, from);
    }
  });

  it('refuses a replayed signature: one that logged in before', async () => {
    const first = await login();
    const { text } = await challenge(first);
    const signature = await sign(alice, text);
    await paste(first, signature);
    await first.expect(/login-as: alice\n/);
    // The getty starts the program again (same state directory on /run): the old answer is refused.
    const second = await login();
    await challenge(second);
    const from = await paste(second, signature);
    expect((await refusal(second, from)).reason).toBe(
      'replayed signature (it signs a challenge that was already used)',
    );
  });

  it('refuses an expired challenge', async () => {
    const line = await login({ RK64_SERIAL_LOGIN_TTL: '2' });
    const { text } = await challenge(line);
    const signature = await sign(alice, text);
    const from = line.text.length;
    await new Promise((r) => setTimeout(r, 2500));
    await paste(line, signature);
    expect((await refusal(line, from)).reason).toMatch(/^challenge expired/);
  });

  it('refuses garbage, overlong lines and control characters, and keeps answering', async () => {
    const line = await login({ RK64_SERIAL_LOGIN_MAX_DELAY: '1' });
    await challenge(line);
    let from = await paste(line, 'hello\nworld');
    expect((await refusal(line, from)).reason).toMatch(/^not an SSH signature/);
    await line.expect(/rk64-login user: $/, 5000, from);
    await challenge(line);
    from = await paste(line, `-----BEGIN SSH SIGNATURE-----\n${'A'.repeat(60)}\n-----END SSH SIGNATURE-----`);
    expect((await refusal(line, from)).reason).toBe(
      'not an SSH signature (the armoured block does not decode to SSHSIG)',
    );
    await line.expect(/rk64-login user: $/, 5000, from);
    await challenge(line);
    from = await paste(line, Array.from({ length: 60 }, () => 'QUFB').join('\n'));
    expect((await refusal(line, from)).reason).toMatch(/^not an SSH signature/);
    await line.expect(/rk64-login user: $/, 5000, from);
    from = line.text.length;
    await line.type(`al\x1b[2Jice${'x'.repeat(300)}\r`);
    expect((await refusal(line, from)).reason).toMatch(/^'al\[2Jicex+' is not a valid user name$/);
  });

  it('waits longer after every failure, also across restarts of the program', async () => {
    const line = await login();
    const waits: number[] = [];
    for (let i = 0; i < 3; i++) {
      await challenge(line);
      const from = await paste(line, 'garbage');
      const refused = await refusal(line, from);
      const refusedAt = Date.now();
      waits.push(refused.wait);
      await line.expect(/rk64-login user: $/, 10_000, from);
      expect(Date.now() - refusedAt).toBeGreaterThanOrEqual(refused.wait * 1000 - 100);
    }
    expect(waits).toEqual([1, 2, 4]);
    // A new program on the same state directory starts with the longer wait.
    const started = Date.now();
    const again = await login();
    expect(Date.now() - started).toBeGreaterThanOrEqual(3_900);
    const { text } = await challenge(again);
    await paste(again, await sign(alice, text));
    await again.expect(/login-as: alice\n/);
  }, 30_000);
});

describe('the serial transport at the key login prompt', () => {
  const transports: SerialTransport[] = [];
  afterEach(async () => {
    await Promise.all(transports.splice(0).map((t) => t.close()));
  });

  async function connect(options: SerialOptions, env: Record<string, string> = {}): Promise<SerialTransport> {
    const c = await startConsole({
      mode: 'key-login',
      env: {
        RK64_AUTHORIZED_KEYS_DIR: keysDir,
        RK64_SERIAL_LOGIN_STATE: join(dir, 'state'),
        RK64_HOSTNAME: HOST,
        SERIAL_LOGIN_JOURNAL: join(dir, 'journal'),
        ...env,
      },
    });
    open.push({ console: c, port: { isOpen: false } as SerialPort });
    const target: SerialTarget = { kind: 'serial', name: 't', path: c.device, baud: 1_500_000 };
    const t = await connectSerial(target, {
      wakeTimeoutMs: 8000,
      user: 'alice',
      agentSocket: '',
      ...options,
    });
    transports.push(t);
    return t;
  }

  async function agentWith(...keys: string[]): Promise<string> {
    const socket = join(dir, `agent-${Math.random().toString(16).slice(2)}.sock`);
    const { stdout } = await execFileAsync('ssh-agent', ['-a', socket, '-s']);
    const pid = /SSH_AGENT_PID=(\d+)/.exec(stdout)?.[1];
    agents.push(Number(pid));
    for (const k of keys)
      await execFileAsync('ssh-add', ['-q', k], { env: { ...process.env, SSH_AUTH_SOCK: socket } });
    return socket;
  }
  const agents: number[] = [];
  afterAll(() => {
    for (const pid of agents) process.kill(pid);
  });

  it.each([['alice'], ['alice-rsa'], ['alice-ecdsa']])(
    'signs with an identity file (%s) and then runs commands',
    async (name) => {
      const t = await connect({ identityFiles: [join(dir, name)] });
      const result = await t.exec('echo "logged in: $((6 * 7))"');
      expect(result).toEqual({ stdout: 'logged in: 42\n', stderr: '', exitCode: 0 });
      expect(await readFile(join(dir, 'journal'), 'utf8')).toMatch(/accepted user=alice/);
    },
  );

  it('signs with the ssh-agent first (an RSA key: rsa-sha2-512)', async () => {
    const socket = await agentWith(join(dir, 'alice-rsa'));
    const t = await connect({ agentSocket: socket, identityFiles: [join(dir, 'stranger')] });
    expect((await t.exec('echo ok')).stdout).toBe('ok\n');
    // One challenge, one acceptance: the agent's key was used, not the file's.
    const journal = await readFile(join(dir, 'journal'), 'utf8');
    expect(journal.match(/challenge user=/g)).toHaveLength(1);
  });

  it("tries the next key when the gateway says a key is not the user's, and stops at other refusals", async () => {
    const logged: string[] = [];
    const socket = await agentWith(join(dir, 'stranger'));
    const t = await connect({ agentSocket: socket, identityFiles: [alice], log: (l) => logged.push(l) });
    expect((await t.exec('echo ok')).stdout).toBe('ok\n');
    expect(logged.join('\n')).toMatch(
      /serial login with ssh-agent key stranger refused: the signing key is not among/,
    );
    await t.close();
    await expect(connect({ identityFiles: [stranger] })).rejects.toMatchObject({
      kind: 'auth',
      message: expect.stringMatching(
        /serial login as 'alice' refused: the signing key is not among/,
      ) as unknown,
    });
    await expect(connect({ identityFiles: [alice], user: 'bob' })).rejects.toMatchObject({
      kind: 'auth',
      message: expect.stringMatching(/refused: no usable key for bob/) as unknown,
    });
  }, 40_000);

  it('says there is no key when it has none', async () => {
    await expect(connect({ identityFiles: [] })).rejects.toMatchObject({
      kind: 'auth',
      message: expect.stringMatching(/there is no key to sign with/) as unknown,
    });
  });
});
