// The SSH transport against a real OpenSSH sshd on loopback.
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { access, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { connect, createServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Rk64Error } from '../../../src/core/errors.js';
import type { SshOptions } from '../../../src/core/transport/ssh.js';
import { connectSsh } from '../../../src/core/transport/ssh.js';
import { dialTcp } from '../../../src/core/transport/tcp.js';
import type { SshTarget } from '../../../src/core/target.js';
import type { KeyPair, Sshd } from '../../lib/sshd.js';
import { makeKey, startSshd } from '../../lib/sshd.js';
import { run, runOk } from '../../lib/exec.js';
import { NetnsLab } from '../../lib/netns.js';

let dir: string;
let userKey: KeyPair;
let sshd: Sshd;
let knownHosts: string;

function target(server: Sshd = sshd): SshTarget {
  return { kind: 'ssh', name: 'test', host: server.host, port: server.port, user: 'root' };
}

function opts(extra: SshOptions = {}): SshOptions {
  return {
    knownHostsPath: knownHosts,
    identityFiles: [userKey.path],
    agentSocket: '',
    connectTimeoutMs: 10_000,
    ...extra,
  };
}

async function rejection(promise: Promise<unknown>): Promise<Rk64Error> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(Rk64Error);
  return error as Rk64Error;
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'rk64-ssh-test-'));
  userKey = await makeKey(dir, 'id_ed25519');
  sshd = await startSshd({ authorizedKeys: [userKey.publicLine] });
  knownHosts = join(dir, 'known_hosts');
  await writeFile(knownHosts, `# test\n${sshd.knownHostsLine}\n`);
});

afterAll(async () => {
  await sshd?.stop();
  await rm(dir, { recursive: true, force: true });
});

describe('ssh transport', () => {
  it('runs commands and returns stdout, stderr and exit codes', async () => {
    const t = await connectSsh(target(), opts());
    try {
      const ok = await t.exec('echo hello; echo oops >&2');
      expect(ok).toEqual({ stdout: 'hello\n', stderr: 'oops\n', exitCode: 0 });
      expect((await t.exec('exit 7')).exitCode).toBe(7);
      expect((await t.exec('false')).exitCode).toBe(1);
      const lines = await t.exec('seq 1 3');
      expect(lines.stdout).toBe('1\n2\n3\n');
    } finally {
      await t.close();
    }
  });

  it('a command that prints without end is stopped at the output cap with a clear error', async () => {
    const t = await connectSsh(target(), opts());
    try {
      const out = await rejection(t.exec('yes gateway-output', { maxOutputBytes: 64 * 1024 }));
      expect(out.kind).toBe('protocol');
      expect(out.message).toContain("'yes gateway-output' printed more than 64 KiB on stdout; stopped it");
      const err = await rejection(t.exec('yes oops >&2', { maxOutputBytes: 64 * 1024 }));
      expect(err.message).toContain('more than 64 KiB on stderr');
      // The default cap: 8 MiB streamed is refused, and the connection stays usable.
      const big = await rejection(t.exec('head -c 8388608 /dev/zero'));
      expect(big.message).toContain('printed more than 4096 KiB on stdout');
      expect((await t.exec('echo still usable')).stdout).toBe('still usable\n');
    } finally {
      await t.close();
    }
  });

  it('times out a command that does not finish', async () => {
    const t = await connectSsh(target(), opts());
    try {
      const error = await rejection(t.exec('sleep 20', { timeoutMs: 500 }));
      expect(error.kind).toBe('timeout');
      expect((await t.exec('echo still usable')).stdout).toBe('still usable\n');
    } finally {
      await t.close();
    }
  });

  it('cancels a running command through an AbortSignal', async () => {
    const t = await connectSsh(target(), opts());
    try {
      const controller = new AbortController();
      setTimeout(() => controller.abort(), 300);
      const error = await rejection(t.exec('sleep 20', { signal: controller.signal }));
      expect(error.kind).toBe('aborted');
      expect((await t.exec('echo next')).stdout).toBe('next\n');
    } finally {
      await t.close();
    }
  });

  it('a server that accepts but never speaks SSH times out', async () => {
    const silent = createServer(() => undefined);
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const address = silent.address();
    const port = typeof address === 'object' && address ? address.port : 0;
    try {
      const started = Date.now();
      const error = await rejection(connectSsh({ ...target(), port }, opts({ connectTimeoutMs: 1000 })));
      expect(error.kind).toBe('timeout');
      expect(error.exitCode).toBe(3);
      expect(Date.now() - started).toBeLessThan(10_000);
    } finally {
      silent.close();
    }
  });

  it('uploads a file via a .part name and the content arrives intact', async () => {
    const t = await connectSsh(target(), opts());
    try {
      const data = randomBytes(3 * 1024 * 1024 + 17);
      const local = join(dir, 'bundle.raucb');
      await writeFile(local, data);
      const remote = join(dir, 'uploaded.raucb');
      const progress: number[] = [];
      await t.upload(local, remote, { onProgress: (p) => progress.push(p.bytesSent) });
      const sum = await t.exec(`sha256sum ${remote}`);
      expect(sum.stdout.split(' ')[0]).toBe(createHash('sha256').update(data).digest('hex'));
      expect(progress.at(-1)).toBe(data.length);
      expect(progress.length).toBeGreaterThan(1);
      await expect(access(`${remote}.part`)).rejects.toThrow();
    } finally {
      await t.close();
    }
  });

  it('an upload into a missing directory fails clearly and leaves no file', async () => {
    const t = await connectSsh(target(), opts());
    try {
      const local = join(dir, 'small');
      await writeFile(local, 'x');
      const error = await rejection(t.upload(local, join(dir, 'no-such-dir', 'f')));
      expect(error.kind).toBe('remote');
      expect(error.message).toContain('no-such-dir/f.part');
    } finally {
      await t.close();
    }
  });

  it('refuses an unknown host before authenticating, and records it only with accept-new', async () => {
    const fresh = join(dir, 'known_hosts_empty');
    const logins = (): number => sshd.log().split('Accepted publickey').length;
    const before = logins();
    const error = await rejection(connectSsh(target(), opts({ knownHostsPath: fresh })));
    expect(error.kind).toBe('host-key-unknown');
    expect(error.message).toContain(fresh);
    expect(error.hint).toContain('--accept-new-host-key');
    expect(error.exitCode).toBe(4);
    expect(logins()).toBe(before); // refused before authenticating
    await expect(access(fresh)).rejects.toThrow();

    const t = await connectSsh(target(), opts({ knownHostsPath: fresh, acceptNewHostKey: true }));
    await t.close();
    expect(await readFile(fresh, 'utf8')).toBe(`${sshd.knownHostsLine}\n`);
    const again = await connectSsh(target(), opts({ knownHostsPath: fresh }));
    await again.close();
  });

  it('refuses a changed host key, naming the known_hosts line, even with accept-new', async () => {
    const other = await makeKey(dir, 'other_host_key');
    const stale = join(dir, 'known_hosts_stale');
    await writeFile(
      stale,
      `# line 1\n\n[127.0.0.1]:${sshd.port} ${other.type} ${other.blob.toString('base64')}\n`,
    );
    const error = await rejection(
      connectSsh(target(), opts({ knownHostsPath: stale, acceptNewHostKey: true })),
    );
    expect(error.kind).toBe('host-key-changed');
    expect(error.message).toContain(`${stale}:3`);
    expect(error.exitCode).toBe(4);
    expect(await readFile(stale, 'utf8')).not.toContain(sshd.hostKey.blob.toString('base64'));
  });

  it('accept-new never records a new key type for a known host (a downgrade path)', async () => {
    const ecdsa = await makeKey(dir, 'known_ecdsa_host_key', 'ecdsa');
    const known = join(dir, 'known_hosts_other_type');
    const line = `[127.0.0.1]:${sshd.port} ${ecdsa.type} ${ecdsa.blob.toString('base64')}\n`;
    await writeFile(known, line);
    const error = await rejection(
      connectSsh(target(), opts({ knownHostsPath: known, acceptNewHostKey: true })),
    );
    expect(error.kind).toBe('host-key-changed');
    expect(error.exitCode).toBe(4);
    expect(error.message).toContain('never a new key type for a known host');
    expect(error.message).toContain('ecdsa-sha2-nistp256 keys only');
    expect(await readFile(known, 'utf8')).toBe(line);
  });

  it('accepts a hashed known_hosts entry (ssh-keygen -H)', async () => {
    const hashed = join(dir, 'known_hosts_hashed');
    await writeFile(hashed, `${sshd.knownHostsLine}\n`);
    await runHash(hashed);
    expect(await readFile(hashed, 'utf8')).toMatch(/^\|1\|/);
    const t = await connectSsh(target(), opts({ knownHostsPath: hashed }));
    await t.close();
  });

  it('an aborted upload leaves neither the final file nor the .part', async () => {
    const t = await connectSsh(target(), opts());
    try {
      const local = join(dir, 'big.raucb');
      await writeFile(local, randomBytes(32 * 1024 * 1024));
      const remote = join(dir, 'aborted.raucb');
      const controller = new AbortController();
      const error = await rejection(
        t.upload(local, remote, {
          signal: controller.signal,
          onProgress: (p) => {
            if (p.bytesSent > 1024 * 1024) controller.abort();
          },
        }),
      );
      expect(error.kind).toBe('aborted');
      await expect(access(remote)).rejects.toThrow();
      await expect(access(`${remote}.part`)).rejects.toThrow();
    } finally {
      await t.close();
    }
  });

  it('uses ssh-agent, and skips a passphrase-protected default key with a note', async () => {
    const home = join(dir, 'agent-home');
    await mkdir(join(home, '.ssh'), { recursive: true });
    const locked = await makeKey(join(home, '.ssh'), 'id_ed25519', 'ed25519', 'secret phrase');
    const agentKey = await makeKey(dir, 'agent_key');
    const sock = join(dir, 'agent.sock');
    // -D: stay in the foreground as our child, so it dies with the test
    const agent = spawn('ssh-agent', ['-D', '-a', sock], { stdio: 'ignore' });
    try {
      for (
        let i = 0;
        i < 100 &&
        !(await access(sock).then(
          () => true,
          () => false,
        ));
        i++
      ) {
        await new Promise((r) => setTimeout(r, 50));
      }
      await runOk('ssh-add', [agentKey.path], { env: { ...process.env, SSH_AUTH_SOCK: sock } });
      const withAgent = await startSshd({ authorizedKeys: [agentKey.publicLine, locked.publicLine] });
      try {
        const kh = join(dir, 'known_hosts_agent');
        await writeFile(kh, `${withAgent.knownHostsLine}\n`);
        const notes: string[] = [];
        const t = await connectSsh(target(withAgent), {
          knownHostsPath: kh,
          env: { HOME: home, SSH_AUTH_SOCK: sock },
          log: (line) => notes.push(line),
        });
        expect((await t.exec('echo via agent')).stdout).toBe('via agent\n');
        await t.close();
        expect(notes.join('\n')).toContain(`skipping passphrase-protected key ${locked.path}`);
        const noAgent = await rejection(
          connectSsh(target(withAgent), { knownHostsPath: kh, env: { HOME: home } }),
        );
        expect(noAgent.kind).toBe('auth');
        expect(noAgent.message).toContain('no usable key');
      } finally {
        await withAgent.stop();
      }
    } finally {
      agent.kill();
    }
  });

  it('refuses a key the server does not authorize', async () => {
    const wrong = await makeKey(dir, 'wrong_key');
    const error = await rejection(connectSsh(target(), opts({ identityFiles: [wrong.path] })));
    expect(error.kind).toBe('auth');
    expect(error.exitCode).toBe(5);
  });

  it('reports a refused connection', async () => {
    const closed = { ...target(), port: 1 };
    const error = await rejection(connectSsh(closed, opts()));
    expect(error.kind).toBe('refused');
    expect(error.exitCode).toBe(3);
  });

  it('reports a refused connection that failed before the SSH client took its socket over', async () => {
    // openTransport dials before ssh2 has loaded (tcp.ts); the refusal may come first.
    const closed = { ...target(), port: 1 };
    const dial = dialTcp(closed);
    while (!dial.socket.destroyed) await new Promise((r) => setTimeout(r, 5));
    const error = await rejection(connectSsh(closed, opts({ connectTimeoutMs: 5000 }), dial));
    expect(error.kind).toBe('refused');
    expect(error.exitCode).toBe(3);
  });

  it('close() leaves once its goodbye is sent, without waiting for the server to close its side', async () => {
    // A relay that passes everything but never closes the server's direction: a server slow to
    // acknowledge the disconnect. OpenSSH's client exits at this point; so does the console.
    const sockets: Socket[] = [];
    const relay = createServer({ allowHalfOpen: true }, (client) => {
      const server = connect(sshd.port, sshd.host);
      sockets.push(client, server);
      client.pipe(server);
      server.pipe(client, { end: false });
      client.on('error', () => undefined);
      server.on('error', () => undefined);
    });
    await new Promise<void>((resolve) => relay.listen(0, '127.0.0.1', resolve));
    const address = relay.address();
    const port = typeof address === 'object' && address ? address.port : 0;
    const relayKnownHosts = join(dir, 'known_hosts_relay');
    await writeFile(
      relayKnownHosts,
      `[127.0.0.1]:${port} ${sshd.knownHostsLine.split(' ').slice(1).join(' ')}\n`,
    );
    const dial = dialTcp({ ...target(), port });
    try {
      const transport = await connectSsh(
        { ...target(), port },
        opts({ knownHostsPath: relayKnownHosts }),
        dial,
      );
      expect((await transport.exec('echo hi')).stdout).toBe('hi\n');
      const closed = new Promise<void>((resolve) => dial.socket.once('close', () => resolve()));
      await transport.close();
      const waited = await Promise.race([
        closed.then(() => 'closed'),
        new Promise((r) => setTimeout(() => r('still open after 3 s'), 3000)),
      ]);
      expect(waited).toBe('closed');
    } finally {
      for (const s of sockets) s.destroy();
      relay.close();
    }
  });

  it('reaches the gateway through a jump host, where only the jump host can reach it', async () => {
    // host --veth-- jump namespace (sshd) --veth-- gateway namespace (sshd). The jump namespace does
    // not forward and the gateway has no route back, so only the jump sshd's own connection
    // (direct-tcpip) reaches the gateway; a client that skipped the jump would find no path.
    const lab = new NetnsLab();
    const [a = 0, b = 0] = randomBytes(2);
    const net = `100.${64 + (a % 64)}.${b}`;
    const jumpKey = await makeKey(dir, 'jump_host_key');
    let jump: Sshd | undefined;
    let gateway: Sshd | undefined;
    try {
      const jumpNs = await lab.ns('jump');
      const gatewayNs = await lab.ns('gw');
      await runOk('ip', ['link', 'add', `rk64j${lab.id}`, 'type', 'veth', 'peer', 'name', `rk64j${lab.id}p`]);
      await runOk('ip', ['link', 'set', `rk64j${lab.id}p`, 'netns', jumpNs]);
      await runOk('ip', ['addr', 'add', `${net}.1/30`, 'dev', `rk64j${lab.id}`]);
      await runOk('ip', ['link', 'set', `rk64j${lab.id}`, 'up']);
      await runOk('ip', ['-n', jumpNs, 'addr', 'add', `${net}.2/30`, 'dev', `rk64j${lab.id}p`]);
      await runOk('ip', ['-n', jumpNs, 'link', 'set', `rk64j${lab.id}p`, 'up']);
      await lab.link(
        { ns: jumpNs, name: 'lan', addr: `${net}.5/30` },
        { ns: gatewayNs, name: 'wan', addr: `${net}.6/30` },
      );
      jump = await startSshd({
        authorizedKeys: [userKey.publicLine],
        hostKey: jumpKey,
        netns: { name: jumpNs, listenAddress: `${net}.2` },
      });
      gateway = await startSshd({
        authorizedKeys: [userKey.publicLine],
        netns: { name: gatewayNs, listenAddress: `${net}.6` },
      });
      await writeFile(knownHosts, `${gateway.knownHostsLine}\n${jump.knownHostsLine}\n`);
      // The control: straight to the gateway there is no path.
      const direct = await rejection(connectSsh(target(gateway), opts({ connectTimeoutMs: 3000 })));
      expect(direct.message).toMatch(/refused|timed out|unreachable/i);
      expect(gateway.log()).not.toContain('Connection from');
      const viaJump: SshTarget = {
        ...target(gateway),
        jump: { host: jump.host, port: jump.port, user: 'root' },
      };
      const t = await connectSsh(viaJump, opts());
      try {
        expect(t.description).toContain(`via root@${net}.2:${jump.port}`);
        expect((await t.exec('echo through')).stdout).toBe('through\n');
      } finally {
        await t.close();
      }
      expect(jump.log()).toContain(`Accepted publickey for root from ${net}.1`);
      // The gateway saw the login come from the jump host's side of its link.
      expect(gateway.log()).toContain(`Accepted publickey for root from ${net}.5`);
    } finally {
      await jump?.stop();
      await gateway?.stop();
      await run('ip', ['link', 'del', `rk64j${lab.id}`]);
      await lab.destroy();
      await writeFile(knownHosts, `${sshd.knownHostsLine}\n`);
    }
  });

  it('a server killed mid-command gives a connection-lost error', async () => {
    const doomedKey = await makeKey(dir, 'doomed_host_key');
    const doomed = await startSshd({ authorizedKeys: [userKey.publicLine], hostKey: doomedKey });
    const kh = join(dir, 'known_hosts_doomed');
    await writeFile(kh, `${doomed.knownHostsLine}\n`);
    try {
      const t = await connectSsh(target(doomed), opts({ knownHostsPath: kh }));
      const pending = t.exec('echo started; sleep 60');
      setTimeout(() => void doomed.kill(), 500);
      const error = await rejection(pending);
      expect(error.kind).toBe('connection-lost');
      expect(error.message).toContain('sleep 60');
      const next = await rejection(t.exec('true'));
      expect(next.kind).toBe('connection-lost');
      await t.close();
    } finally {
      await doomed.stop();
    }
  });
});

async function runHash(path: string): Promise<void> {
  await runOk('ssh-keygen', ['-q', '-H', '-f', path]);
}
