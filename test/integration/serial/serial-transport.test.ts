// The serial transport against a scripted console on a real socat pty pair: a real interactive
// bash with echo and a coloured prompt, a login prompt, kernel log noise, a U-Boot prompt, and a
// silent line.
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, readFile, realpath, rm, writeFile } from 'node:fs/promises';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Rk64Error } from '../../../src/core/errors.js';
import type { SerialOptions, SerialTransport } from '../../../src/core/transport/serial.js';
import { connectSerial } from '../../../src/core/transport/serial.js';
import type { SerialTarget } from '../../../src/core/target.js';
import type { ConsoleOptions, ScriptedConsole } from '../../lib/serial-console.js';
import { startConsole } from '../../lib/serial-console.js';
import { ensureBuilt } from '../../lib/cli.js';
import { repoRoot, run } from '../../lib/exec.js';

const consoles: ScriptedConsole[] = [];
const transports: SerialTransport[] = [];
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'rk64-serial-test-'));
});
afterEach(async () => {
  await Promise.all(transports.splice(0).map((t) => t.close()));
  await Promise.all(consoles.splice(0).map((c) => c.stop()));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

async function open(consoleOptions: ConsoleOptions, options: SerialOptions = {}): Promise<SerialTransport> {
  const c = await startConsole(consoleOptions);
  consoles.push(c);
  const target: SerialTarget = { kind: 'serial', name: 't', path: c.device, baud: 1_500_000 };
  const t = await connectSerial(target, { wakeTimeoutMs: 8000, ...options });
  transports.push(t);
  return t;
}

async function rejection(promise: Promise<unknown>): Promise<Rk64Error> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(Rk64Error);
  return error as Rk64Error;
}

describe('serial transport', () => {
  it('finds the shell prompt and captures output and exit codes despite echo', async () => {
    const t = await open({ mode: 'shell' });
    expect(await t.exec('echo hello')).toEqual({ stdout: 'hello\n', stderr: '', exitCode: 0 });
    expect((await t.exec('exit 7')).exitCode).toBe(7);
    expect((await t.exec('ls /nonexistent-rk64')).exitCode).toBe(2);
    const multi = await t.exec("printf 'a\\nb b\\n\\tc\\n'; echo 'quote '\"'\"' and $HOME and !x'");
    expect(multi.stdout).toBe("a\nb b\n\tc\nquote ' and $HOME and !x\n");
    const script = await t.exec('for i in 1 2 3; do\n  echo line $i\ndone\necho err >&2\nfalse');
    expect(script).toEqual({ stdout: 'line 1\nline 2\nline 3\n', stderr: 'err\n', exitCode: 1 });
    // a warning on stderr (sudo's "unable to resolve host") never gets into a JSON document
    expect(await t.exec('echo warn >&2; echo \'{"a":1}\'; echo more >&2; exit 3')).toEqual({
      stdout: '{"a":1}\n',
      stderr: 'warn\nmore\n',
      exitCode: 3,
    });
    expect((await t.exec('printf no-newline')).stdout).toBe('no-newline');
    expect(await t.exec('printf out; printf err >&2')).toEqual({ stdout: 'out', stderr: 'err', exitCode: 0 });
    // the console is still usable after a command that exits the (sub)shell
    expect((await t.exec('echo after')).stdout).toBe('after\n');
  });

  it('strips terminal escapes from output', async () => {
    const t = await open({ mode: 'shell' });
    const result = await t.exec("printf '\\033[1;32mgreen\\033[0m plain\\n'");
    expect(result.stdout).toBe('green plain\n');
  });

  it('tolerates split, delayed writes and interleaved kernel log lines', async () => {
    const t = await open({ mode: 'shell', kernelNoise: true });
    const result = await t.exec(
      "printf 'par'; sleep 0.4; printf 'tial\\n'; sleep 0.7; seq 1 5; sleep 0.4; echo done",
    );
    expect(result).toEqual({ stdout: 'partial\n1\n2\n3\n4\n5\ndone\n', stderr: '', exitCode: 0 });
  });

  it('logs in at a login prompt, and works with write pacing', async () => {
    const t = await open(
      { mode: 'login', user: 'root', password: 's3cret' },
      { user: 'root', password: 's3cret', writeChunkBytes: 16, writeDelayMs: 2 },
    );
    const result = await t.exec('echo logged in as $(id -un)');
    expect(result.stdout).toBe('logged in as root\n');
  });

  it('refuses a login prompt without credentials, and a wrong password', async () => {
    const c = await startConsole({ mode: 'login', password: 'right' });
    consoles.push(c);
    const target: SerialTarget = { kind: 'serial', name: 't', path: c.device, baud: 1_500_000 };
    const none = await rejection(connectSerial(target, { wakeTimeoutMs: 8000 }));
    expect(none.kind).toBe('auth');
    expect(none.message).toContain('asks for a login');
    const c2 = await startConsole({ mode: 'login', password: 'right' });
    consoles.push(c2);
    const wrong = await rejection(
      connectSerial({ ...target, path: c2.device }, { wakeTimeoutMs: 8000, user: 'root', password: 'wrong' }),
    );
    expect(wrong.kind).toBe('auth');
  });

  it('recognises the U-Boot prompt', async () => {
    const c = await startConsole({ mode: 'uboot' });
    consoles.push(c);
    const error = await rejection(
      connectSerial({ kind: 'serial', name: 't', path: c.device, baud: 1_500_000 }, { wakeTimeoutMs: 8000 }),
    );
    expect(error.kind).toBe('remote');
    expect(error.message).toContain('U-Boot prompt');
  });

  it('times out a command that does not finish and interrupts it', async () => {
    const t = await open({ mode: 'shell' });
    // The command notes where its standard error goes (the frame's file on the gateway).
    const noted = join(tmpdir(), `rk64-serial-err-${process.pid}`);
    const error = await rejection(t.exec(`echo "$__rk64_err" >${noted}; sleep 30`, { timeoutMs: 1000 }));
    expect(error.kind).toBe('timeout');
    expect((await t.exec('echo back')).stdout).toBe('back\n');
    // The interrupted command's error file is gone once the next command ran.
    const left = readFileSync(noted, 'utf8').trim();
    rmSync(noted);
    expect(left).toMatch(/^\/\S+$/);
    expect(existsSync(left)).toBe(false);
  });

  it('a command that prints without end is stopped at the output cap and interrupted', async () => {
    const t = await open({ mode: 'shell' });
    const error = await rejection(
      t.exec('yes serial-output', { maxOutputBytes: 16 * 1024, timeoutMs: 20_000 }),
    );
    expect(error.kind).toBe('protocol');
    expect(error.message).toContain(
      "'yes serial-output' printed more than 16 KiB on the console; stopped it",
    );
    expect((await t.exec('echo back')).stdout).toBe('back\n');
  });

  it('uploads a small file with a checksum check', async () => {
    const t = await open({ mode: 'shell' });
    const data = randomBytes(5000);
    const local = join(dir, 'small.bin');
    await writeFile(local, data);
    const remote = join(dir, 'uploaded.bin');
    const progress: number[] = [];
    await t.upload(local, remote, { onProgress: (p) => progress.push(p.bytesSent) });
    expect(
      createHash('sha256')
        .update(await readFile(remote))
        .digest('hex'),
    ).toBe(createHash('sha256').update(data).digest('hex'));
    expect(progress.at(-1)).toBe(5000);
  });

  it('reports a silent line', async () => {
    const c = await startConsole({ mode: 'silent' });
    consoles.push(c);
    const error = await rejection(
      connectSerial({ kind: 'serial', name: 't', path: c.device, baud: 1_500_000 }, { wakeTimeoutMs: 1500 }),
    );
    expect(error.kind).toBe('serial-silent');
    expect(error.message).toMatch(/no answer from the console within 2 s/);
    expect(error.exitCode).toBe(3);
  });

  it('reports a missing and a busy device', async () => {
    const missing = await rejection(
      connectSerial({ kind: 'serial', name: 't', path: join(dir, 'ttyNOPE'), baud: 1_500_000 }),
    );
    expect(missing.kind).toBe('serial-missing');
    const t = await open({ mode: 'shell' });
    const c = consoles.at(-1);
    const busy = await rejection(
      connectSerial(
        { kind: 'serial', name: 't', path: c?.device ?? '', baud: 1_500_000 },
        { wakeTimeoutMs: 2000 },
      ),
    );
    expect(busy.kind).toBe('serial-busy');
    expect((await t.exec('echo fine')).stdout).toBe('fine\n');
  });

  it('reports a device this user may not open as permission denied, for the shell and for U-Boot', async () => {
    await ensureBuilt();
    const c = await startConsole({ mode: 'shell' });
    consoles.push(c);
    // The pty itself (root:tty, 0620), not the link in this root-only directory.
    const device = await realpath(c.device);
    const asNobody = (args: string[]) =>
      run(
        'setpriv',
        [
          '--reuid=65534',
          '--regid=65534',
          '--clear-groups',
          process.execPath,
          join(repoRoot, 'bin/rk64.js'),
          ...args,
        ],
        { env: { PATH: process.env.PATH ?? '', HOME: '/nonexistent' }, timeoutMs: 30_000 },
      );
    for (const args of [
      ['status', `serial:${device}`],
      ['break-glass', `serial:${device}`, '--wait', '1'],
    ]) {
      const r = await asNobody(args);
      expect(r.stderr).toContain(
        `permission denied opening serial device ${device}; add yourself to the dialout group`,
      );
      expect(r.code).toBe(3);
    }
  }, 120_000);
});
