// The serial flight recorder over a real pty pair (socat): the test plays the gateway on one end
// and replays the recorded capture of the test gateway (test/fixtures/serial/boot-b-fallback.log)
// byte for byte, with a "reset" (the next boot's banner straight after the last line of the
// previous one), while the recorder holds the other end.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SerialPort } from 'serialport';
import { afterEach, describe, expect, it, vi } from 'vitest';

import { captureLines, parseCapture } from '../../../src/core/serial-capture/format.js';
import { SerialLine } from '../../../src/core/serial-capture/line.js';
import type { SerialTarget } from '../../../src/core/target.js';
import { ensureBuilt } from '../../lib/cli.js';
import { repoRoot } from '../../lib/exec.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** A pty pair: `near` for the recorder, `far` the gateway's side the test writes into. */
async function ptyPair(): Promise<{ near: string; far: SerialPort }> {
  const socat = spawn('socat', ['-d', '-d', 'pty,rawer', 'pty,rawer'], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  cleanups.push(() => {
    socat.kill();
  });
  let err = '';
  socat.stderr.on('data', (d: Buffer) => (err += d.toString()));
  await vi.waitFor(() => expect(err.match(/\/dev\/pts\/\d+/g)?.length).toBe(2), { timeout: 5000 });
  const [near, farPath] = err.match(/\/dev\/pts\/\d+/g) ?? [];
  const far = new SerialPort({ path: farPath ?? '', baudRate: 115200, autoOpen: false });
  await new Promise<void>((resolve, reject) => far.open((e) => (e ? reject(e) : resolve())));
  cleanups.push(() => new Promise<void>((resolve) => (far.isOpen ? far.close(() => resolve()) : resolve())));
  return { near: near ?? '', far };
}

async function write(port: SerialPort, bytes: Buffer): Promise<void> {
  await new Promise<void>((resolve, reject) => port.write(bytes, (e) => (e ? reject(e) : resolve())));
  await new Promise<void>((resolve) => port.drain(() => resolve()));
}

/** The wire bytes of the recorded boots `from`.. of the fixture (each boot from its banner line's start). */
async function recordedBoots(): Promise<Buffer[]> {
  const text = await readFile(join(repoRoot, 'test/fixtures/serial/boot-b-fallback.log'), 'utf8');
  const lines = captureLines(parseCapture(text).records);
  const starts = lines.flatMap((l, i) => (/^U-Boot 20/.test(l.bytes.toString()) ? [i] : []));
  return starts.map((start, n) =>
    Buffer.concat(
      lines
        .slice(start, starts[n + 1] ?? lines.length)
        .map((l) => (l.complete ? Buffer.concat([l.bytes, Buffer.from('\n')]) : l.bytes)),
    ),
  );
}

/** Write in uneven pieces, as a UART delivers them. */
async function replay(port: SerialPort, bytes: Buffer): Promise<void> {
  for (let offset = 0, n = 0; offset < bytes.length; n += 1) {
    const size = [1, 7, 64, 500, 4096][n % 5] ?? 64;
    await write(port, bytes.subarray(offset, offset + size));
    offset += size;
  }
}

function wire(captureText: string): Buffer {
  return Buffer.concat(
    captureLines(parseCapture(captureText).records).map((l) =>
      l.complete ? Buffer.concat([l.bytes, Buffer.from('\n')]) : l.bytes,
    ),
  );
}

describe('serial flight recorder over a pty pair', () => {
  it('rk64 capture --boots 2 keeps every byte of a replayed boot, the first ones after the reset included', async () => {
    await ensureBuilt();
    const state = await mkdtemp(join(tmpdir(), 'rk64-fr-'));
    cleanups.push(() => rm(state, { recursive: true, force: true }));
    const { near, far } = await ptyPair();
    const [, , lastB, a] = await recordedBoots();
    if (!lastB || !a) throw new Error('the fixture lost its boots');
    const child: ChildProcess = spawn(
      process.execPath,
      [join(repoRoot, 'bin/rk64.js'), 'capture', `serial:${near}@115200`, '--boots', '2'],
      { env: { ...process.env, XDG_STATE_HOME: state }, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    cleanups.push(() => {
      child.kill();
    });
    let stdout = '';
    let stderr = '';
    child.stdout?.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    await vi.waitFor(() => expect(stderr).toContain('rk64 capture: recording'), { timeout: 10_000 });
    // The last boot of B ends in boot.scr's reset; the bytes of A's boot follow at once.
    const sent = Buffer.concat([lastB, a]);
    await replay(far, sent);
    // It stops by itself at A's login prompt; if it missed it, the bytes below say what it missed.
    const code = await Promise.race([
      exited,
      new Promise<string>((r) => setTimeout(() => r('still running'), 15_000)),
    ]);
    if (code === 'still running') {
      child.kill('SIGINT');
      await exited;
    }
    const path = stdout.trim();
    expect(path.startsWith(join(state, 'rk64', 'serial', 'serial_dev_pts_'))).toBe(true);
    const captured = wire(await readFile(path, 'utf8'));
    expect(captured.subarray(0, sent.length).toString('latin1')).toBe(sent.toString('latin1'));
    expect(code, stderr).toBe(0);
    expect(stderr).toContain('boot 1: U-Boot 2023.01');
    expect(stderr).toContain('boot 2: kernel starting (slot A, normal; attempts left 3 → 2)');
    expect(stderr).toContain('boot 2: login prompt: slot A is up');
    expect(stderr).toMatch(/one boot of B never started the kernel/);
  }, 240_000);

  it('the dashboard’s line: a reboot takes the console from the transport, U-Boot gets no key, the boot is recorded and followed', async () => {
    const state = await mkdtemp(join(tmpdir(), 'rk64-fr-'));
    cleanups.push(() => rm(state, { recursive: true, force: true }));
    const { near, far } = await ptyPair();
    const target: SerialTarget = { kind: 'serial', name: 'gw-serial', path: near, baud: 115200 };
    const line = new SerialLine(target, { XDG_STATE_HOME: state });
    cleanups.push(() => line.close());
    const events: string[] = [];
    line.onBoot((e) => events.push(e.text));
    const lease = await line.lease();
    let closed = false;
    lease.on('close', () => (closed = true));
    const typed: Buffer[] = [];
    far.on('data', (d: Buffer) => typed.push(d));

    const [firstB] = await recordedBoots();
    if (!firstB) throw new Error('the fixture lost its boots');
    const banner = firstB.indexOf('DRAM:');
    await write(far, firstB.subarray(0, banner));
    await vi.waitFor(() => expect(closed).toBe(true), { timeout: 5000 });
    // The transport's line is gone: what it writes now never reaches the gateway.
    const refused = await new Promise<Error | null | undefined>((resolve) => lease.write('\r', resolve));
    expect(refused?.message).toMatch(/released/);
    await expect(line.lease()).rejects.toThrow(/rebooting: boot 1 on its way \(uboot\)/);
    // The rest of the boot right after the banner: every byte recorded.
    await replay(far, firstB.subarray(banner));
    await write(far, Buffer.from('\r\nrk64-gateway login: '));
    await vi.waitFor(() => expect(events.at(-1)).toBe('boot 1: login prompt: slot B is up'), {
      timeout: 5000,
    });
    const again = await line.lease();
    expect(again.isOpen).toBe(true);
    again.close(() => undefined);
    await line.close();
    expect(Buffer.concat(typed).length, `U-Boot received: ${Buffer.concat(typed).toString()}`).toBe(0);
    const captured = wire(await readFile(line.capturePath, 'utf8'));
    expect(captured.toString('latin1')).toBe(
      Buffer.concat([firstB, Buffer.from('\r\nrk64-gateway login: ')]).toString('latin1'),
    );
    expect(events.slice(0, 2)).toEqual([
      'boot 1: U-Boot 2023.01+dfsg-2+deb12u3 (Jun 22 2026 - 08:38:07 +0000)',
      'boot 1: boot script running',
    ]);
  }, 240_000);
});
