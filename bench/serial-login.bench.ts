// Serial login benchmark (run by bench/serial-login-bench, not part of the test suite): how long the
// console's key-signed login takes over a pty at 1500000 baud, against the gateway's real login
// program (device-scripts/rootfs/serial-login, real ssh-keygen), next to the same connection to a
// console that is already at a shell (no login), and the bytes the login puts on the line. A pty has
// no baud rate of its own: the line's own time is computed from the bytes (10 bits per byte).
// Writes the "Serial login" section of docs/benchmarks.md. Medians of RUNS runs.
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { connectSerial } from '../src/core/transport/serial.js';
import { repoRoot } from '../test/lib/exec.js';
import { startConsole, type ScriptedConsole } from '../test/lib/serial-console.js';

const RUNS = 7;
const BAUD = 1_500_000;
const dir = mkdtempSync(join(tmpdir(), 'rk64-serial-login-bench-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const median = (values: number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? NaN;
};

async function ready(mode: 'key-login' | 'shell', run: number): Promise<ScriptedConsole> {
  const keys = join(dir, 'keys');
  const c = await startConsole({
    mode,
    env: {
      RK64_AUTHORIZED_KEYS_DIR: keys,
      RK64_SERIAL_LOGIN_STATE: join(dir, `state-${run}`),
      RK64_HOSTNAME: 'bench-gw',
      SERIAL_LOGIN_JOURNAL: join(dir, 'journal'),
    },
  });
  // The getty's program is already waiting on a real gateway: let it start before timing.
  await new Promise((r) => setTimeout(r, 1500));
  return c;
}

/** One connection to a usable shell: milliseconds, and bytes in each direction on the line. */
async function connectOnce(mode: 'key-login' | 'shell', run: number): Promise<{ ms: number; bytes: number }> {
  const c = await ready(mode, run);
  try {
    const started = performance.now();
    const t = await connectSerial(
      { kind: 'serial', name: 'bench', path: c.device, baud: BAUD },
      { user: 'operator', agentSocket: '', identityFiles: [join(dir, 'id_ed25519')] },
    );
    const ms = performance.now() - started;
    const bytes = (t as unknown as { received: number }).received;
    expect((await t.exec('echo ok')).stdout).toBe('ok\n');
    await t.close();
    return { ms, bytes };
  } finally {
    await c.stop();
  }
}

it('serial login over a pty at 1500000 baud', async () => {
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', join(dir, 'id_ed25519')]);
  mkdirSync(join(dir, 'keys'));
  writeFileSync(join(dir, 'keys', 'operator'), readFileSync(join(dir, 'id_ed25519.pub')));
  const load = loadavg()[0]?.toFixed(1) ?? '?';
  await connectOnce('key-login', 0); // warm-up
  const login: { ms: number; bytes: number }[] = [];
  const shell: { ms: number; bytes: number }[] = [];
  for (let run = 1; run <= RUNS; run++) {
    login.push(await connectOnce('key-login', run));
    shell.push(await connectOnce('shell', run));
  }
  const loginMs = median(login.map((r) => r.ms));
  const shellMs = median(shell.map((r) => r.ms));
  const received = median(login.map((r) => r.bytes));
  // Sent: the user name and the armoured signature (about 300 characters for ed25519).
  const sentBytes = 'operator\r'.length + 300;
  const lineMs = ((received + sentBytes) * 10 * 1000) / BAUD;
  const extra = loginMs - shellMs;
  const section = [
    '<!-- serial-login-bench:begin (written by bench/serial-login-bench) -->',
    `Last run ${new Date().toISOString().slice(0, 16)}Z on this machine (${process.arch}, ${cpus().length} cores, Node ${process.version}, load average ${load} at the start), a socat pty pair at ${BAUD} baud, the real device-scripts/rootfs/serial-login with real ssh-keygen behind it, an ed25519 identity file; medians of ${RUNS} runs after one warm-up.`,
    '',
    '| What | Time |',
    '| --- | --- |',
    `| connect to a console already at a shell (wake, prompt settles) | ${Math.round(shellMs)} ms |`,
    `| connect through the key-signed login (wake, user, challenge, sign, paste, verify, login, prompt settles) | ${Math.round(loginMs)} ms |`,
    `| the login's own cost (difference) | ${Math.round(extra)} ms |`,
    `| the line's own time for the login's bytes (${received} B received, about ${sentBytes} B sent, 10 bits a byte) | ${lineMs.toFixed(1)} ms |`,
    '',
    `Target (#21): well under a second beyond the line's own time: ${extra - lineMs < 1000 ? 'met' : 'NOT met'} (${Math.round(extra - lineMs)} ms).`,
    '<!-- serial-login-bench:end -->',
  ].join('\n');
  const docs = join(repoRoot, 'docs/benchmarks.md');
  const text = readFileSync(docs, 'utf8');
  const re = /<!-- serial-login-bench:begin[\s\S]*?<!-- serial-login-bench:end -->/;
  writeFileSync(docs, re.test(text) ? text.replace(re, section) : text);
  process.stderr.write(`${section}\n`);
}, 600_000);
