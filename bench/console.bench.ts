// Console benchmarks (run by bench/console-bench, not part of the test suite): everything measured
// side by side in one run against loopback gateways (real sshd running the real rk64-status), and
// written to the "Console" section of docs/benchmarks.md. Each figure is the median of several runs.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';

import { afterAll, beforeAll, expect, it } from 'vitest';

import { fetchStatus } from '../src/core/status/fetch.js';
import { connectSerial } from '../src/core/transport/serial.js';
import type { Transport } from '../src/core/transport/transport.js';
import { runDashboard } from '../src/ui/run.js';
import { ensureBuilt, runCli } from '../test/lib/cli.js';
import { runNoInput, startLoopbackGateway, type LoopbackGateway } from '../test/lib/console-gateway.js';
import { repoRoot } from '../test/lib/exec.js';
import { startConsole } from '../test/lib/serial-console.js';
import { makeKey } from '../test/lib/sshd.js';

const RUNS = 7;
const FLEET = 20;
const UPLOAD_MIB = 64;
const rows: string[] = [];
/** Observations printed under the table (only this run's). */
const notes: string[] = [];
const gateways: LoopbackGateway[] = [];
const work = mkdtempSync(join(tmpdir(), 'rk64-bench-'));
/** 1-minute load average when the run started (other work on the machine inflates the times). */
const loadAtStart = loadavg()[0] ?? 0;

afterAll(async () => {
  try {
    if (rows.length > 0) await writeDocs();
  } finally {
    await Promise.all(gateways.map((g) => g.stop()));
    rmSync(work, { recursive: true, force: true });
  }
});

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? NaN;
}

async function timed(fn: () => Promise<unknown>): Promise<number> {
  const t0 = performance.now();
  await fn();
  return performance.now() - t0;
}

/** Median wall time of `runs` runs after one warm-up run. */
async function measure(fn: () => Promise<unknown>, runs = RUNS): Promise<number> {
  await fn();
  const times: number[] = [];
  for (let i = 0; i < runs; i++) times.push(await timed(fn));
  return median(times);
}

const ms = (x: number) => `${x.toFixed(0)} ms`;
const env = { ...process.env, SSH_AUTH_SOCK: '' };

function row(
  what: string,
  rk64: string,
  baseline: string,
  ratio: string,
  target: string,
  met: boolean | null,
) {
  rows.push(
    `| ${what} | ${rk64} | ${baseline} | ${ratio} | ${target} | ${met === null ? '-' : met ? 'yes' : 'NO'} |`,
  );
}

let key: Awaited<ReturnType<typeof makeKey>>;
let knownHosts: string;
let single = 0;

/** Starts gateways (5 at a time) until there are `n`, and lists them all in known_hosts. */
async function ensureGateways(n: number): Promise<void> {
  while (gateways.length < n) {
    const batch = Math.min(5, n - gateways.length);
    gateways.push(...(await Promise.all(Array.from({ length: batch }, () => startLoopbackGateway({ key })))));
  }
  writeFileSync(knownHosts, gateways.map((g) => `${g.sshd.knownHostsLine}\n`).join(''));
}

// One gateway for every row; the fleet row starts the other 19 (so `-t` runs of single rows are quick).
beforeAll(async () => {
  await ensureBuilt();
  key = await makeKey(work, 'id_ed25519');
  knownHosts = join(work, 'known_hosts');
  await ensureGateways(1);
}, 900_000);

const cliArgs = () => ['--identity', key.path, '--known-hosts', knownHosts];
const sshArgs = (g: LoopbackGateway) => [
  '-i',
  key.path,
  '-o',
  `UserKnownHostsFile=${knownHosts}`,
  '-o',
  'StrictHostKeyChecking=yes',
  '-o',
  'BatchMode=yes',
  '-o',
  'IdentitiesOnly=yes',
  '-p',
  String(g.sshd.port),
  'root@127.0.0.1',
];

/** rk64 status --json of one gateway, process start to exit (median of RUNS). */
async function measureSingle(): Promise<number> {
  const g = gateways[0] as LoopbackGateway;
  return measure(async () => {
    const r = await runCli(['status', '--json', g.url, ...cliArgs()], { env });
    expect(r.code, r.stderr).toBe(0);
  });
}

it('one gateway: rk64 status --json vs ssh host rk64-status', async () => {
  const g = gateways[0] as LoopbackGateway;
  single = await measureSingle();
  const ssh = await measure(async () => {
    const r = await runNoInput('ssh', [...sshArgs(g), 'rk64-status'], env);
    expect(r.code, r.stderr).toBe(0);
  });
  // CPU time is less disturbed by other work on the machine than wall time.
  const rk64Cpu = median(
    await repeat(RUNS, () =>
      cpuOf(process.execPath, [join(repoRoot, 'bin/rk64.js'), 'status', '--json', g.url, ...cliArgs()]),
    ),
  );
  const sshCpu = median(await repeat(RUNS, () => cpuOf('ssh', [...sshArgs(g), 'rk64-status'])));
  notes.push(
    `1 gateway: the rk64 process used ${ms(rk64Cpu)} CPU (user+sys), the ssh client ${ms(sshCpu)} ` +
      `(\`node -e 0\` alone: ${ms(median(await repeat(RUNS, () => cpuOf(process.execPath, ['-e', '0']))))}).`,
  );
  row(
    'status of 1 gateway (process start to exit)',
    ms(single),
    `${ms(ssh)} (ssh host rk64-status)`,
    `${(single / ssh).toFixed(2)}×`,
    '≤ 1.1× OpenSSH',
    single <= 1.1 * ssh,
  );
});

it(`${FLEET} gateways: rk64 status --json (concurrent) vs a sequential OpenSSH loop`, async () => {
  // The row compares with the single run: measured here when `-t` left the one-gateway row out.
  if (single === 0) single = await measureSingle();
  await ensureGateways(FLEET);
  const fleet = await measure(async () => {
    const r = await runCli(['status', '--json', ...gateways.map((g) => g.url), ...cliArgs()], { env });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.trim().split('\n')).toHaveLength(FLEET);
  }, 3);
  const loop = await measure(async () => {
    for (const g of gateways) {
      const r = await runNoInput('ssh', [...sshArgs(g), 'rk64-status'], env);
      expect(r.code).toBe(0);
    }
  }, 3);
  // Where the time goes: all 20 loopback gateways run rk64-status on this same host, so their CPU
  // and the console's share its cores; on real gateways only the console's share is local.
  const consoleCpu1 = median(
    await repeat(3, () =>
      cpuOf(process.execPath, [
        join(repoRoot, 'bin/rk64.js'),
        'status',
        '--json',
        (gateways[0] as LoopbackGateway).url,
        ...cliArgs(),
      ]),
    ),
  );
  const consoleCpuFleet = median(
    await repeat(3, () =>
      cpuOf(process.execPath, [
        join(repoRoot, 'bin/rk64.js'),
        'status',
        '--json',
        ...gateways.map((g) => g.url),
        ...cliArgs(),
      ]),
    ),
  );
  const gatewayCpu = median(await repeat(3, () => remoteCpuOf(gateways[0] as LoopbackGateway)));
  const cores = cpus().length;
  notes.push(
    `${FLEET} gateways: the rk64 process used ${ms(consoleCpuFleet)} CPU (${ms(consoleCpu1)} for one gateway); ` +
      `one rk64-status run costs ${ms(gatewayCpu)} CPU on the gateway side, so the ${FLEET} loopback gateways alone ` +
      `need about ${ms((FLEET * gatewayCpu) / cores)} of this host's ${cores} cores, time a real fleet spends on its own CPUs.`,
  );
  row(
    `status of ${FLEET} gateways`,
    ms(fleet),
    `${ms(loop)} (sequential ssh loop)`,
    `${(fleet / single).toFixed(2)}× the single rk64 run`,
    '< 2× single',
    fleet < 2 * single,
  );
});

async function repeat(n: number, fn: () => Promise<number>): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < n; i++) out.push(await fn());
  return out;
}

/** User + system CPU of a command, in ms (bash's time builtin). */
async function cpuOf(cmd: string, args: string[]): Promise<number> {
  const r = await runNoInput(
    'bash',
    ['-c', 'TIMEFORMAT="%U %S"; time "$@" >/dev/null 2>&1', 'bash', cmd, ...args],
    env,
  );
  const [user, sys] = r.stderr.trim().split('\n').at(-1)?.split(' ').map(Number) ?? [];
  return ((user ?? NaN) + (sys ?? NaN)) * 1000;
}

/** CPU of one rk64-status run on the gateway side, measured there. */
async function remoteCpuOf(g: LoopbackGateway): Promise<number> {
  const r = await runNoInput('ssh', [...sshArgs(g), 'TIMEFORMAT="%U %S"; time rk64-status >/dev/null'], env);
  const [user, sys] = r.stderr.trim().split('\n').at(-1)?.split(' ').map(Number) ?? [];
  return ((user ?? NaN) + (sys ?? NaN)) * 1000;
}

it(`upload of ${UPLOAD_MIB} MiB: Transport.upload (SFTP over ssh2) vs scp`, async () => {
  const g = gateways[0] as LoopbackGateway;
  const file = join(work, 'bundle.raucb');
  writeFileSync(file, randomBytes(UPLOAD_MIB * 1024 * 1024));
  const transport = await g.connect();
  try {
    const ours = await measure(() => transport.upload(file, join(g.dir, 'up.part')), 3);
    const scp = await measure(async () => {
      const r = await runNoInput(
        'scp',
        [
          '-q',
          '-i',
          key.path,
          '-o',
          `UserKnownHostsFile=${knownHosts}`,
          '-o',
          'BatchMode=yes',
          '-P',
          String(g.sshd.port),
          file,
          `root@127.0.0.1:${join(g.dir, 'scp.part')}`,
        ],
        env,
      );
      expect(r.code, r.stderr).toBe(0);
    }, 3);
    const mibs = (t: number) => `${((UPLOAD_MIB * 1000) / t).toFixed(0)} MiB/s`;
    row(
      `upload ${UPLOAD_MIB} MiB`,
      `${ms(ours)} (${mibs(ours)})`,
      `${ms(scp)} (${mibs(scp)}, scp)`,
      `${(ours / scp).toFixed(2)}×`,
      '≤ 1× scp',
      ours <= scp,
    );
  } finally {
    await transport.close();
  }
});

/** Spawns `rk64 tui` on a pty (script(1)) and times the first frame and the first frame with data. */
function firstFrame(g: LoopbackGateway): Promise<{ frame: number; live: number }> {
  const cmd = [process.execPath, join(repoRoot, 'bin/rk64.js'), 'tui', g.url, ...cliArgs()].join(' ');
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const child = spawn('script', ['-qfec', cmd, '/dev/null'], {
      env: { ...env, NO_COLOR: '1', COLUMNS: '120', LINES: '50' },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let out = '';
    let frame = 0;
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`no frame: ${out.slice(-300)}`));
    }, 30_000);
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      if (!frame && /connecting to|live/.test(out)) frame = performance.now() - t0;
      if (out.includes('live\u001b[K')) {
        clearTimeout(timer);
        const live = performance.now() - t0;
        // The dashboard may already be gone (it quits on q within 0.5 s): ignore a closed pipe.
        child.stdin.on('error', () => undefined);
        child.stdin.write('q');
        setTimeout(() => child.kill('SIGKILL'), 500);
        resolve({ frame, live });
      }
    });
  });
}

it('time to first frame of rk64 tui (from the built bundle)', async () => {
  const g = gateways[0] as LoopbackGateway;
  await firstFrame(g);
  const runs: { frame: number; live: number }[] = [];
  for (let i = 0; i < 5; i++) runs.push(await firstFrame(g));
  const frame = median(runs.map((r) => r.frame));
  const live = median(runs.map((r) => r.live));
  row(
    'rk64 tui: first frame / first frame with data',
    `${ms(frame)} / ${ms(live)}`,
    '-',
    '-',
    'first frame < 300 ms, with data < 700 ms',
    frame < 300 && live < 700,
  );
});

class FakeStdin extends EventEmitter {
  isTTY = true;
  private data: string | null = null;
  setEncoding(): void {}
  setRawMode(): void {}
  resume(): void {}
  pause(): void {}
  ref(): void {}
  unref(): void {}
  read(): string | null {
    const d = this.data;
    this.data = null;
    return d;
  }
  press(text: string): void {
    this.data = text;
    this.emit('readable');
    this.emit('data', text);
  }
}

it('bytes per refresh over serial (serial transport, low-bandwidth dashboard)', async () => {
  process.env.PATH = `${repoRoot}/device-scripts/rootfs:${process.env.PATH ?? ''}`;
  const console_ = await startConsole({ mode: 'shell' });
  let lineBytes = 0;
  let refreshes = 0;
  const count = (t: Transport): Transport => ({
    kind: t.kind,
    description: t.description,
    exec: async (command, options) => {
      const r = await t.exec(command, options);
      // The command as typed plus what came back (markers and echo of the framing not counted).
      lineBytes += Buffer.byteLength(command) + Buffer.byteLength(r.stdout);
      if (command === 'rk64-status') refreshes += 1;
      return r;
    },
    upload: (a, b, c) => t.upload(a, b, c),
    close: () => t.close(),
  });
  let terminalBytes = 0;
  let bytesAtFirstRefresh = 0;
  const stdout = new Writable({
    write(chunk: Buffer | string, _e, cb) {
      terminalBytes += Buffer.byteLength(chunk);
      cb();
    },
  });
  Object.assign(stdout, { columns: 100, rows: 40, isTTY: true });
  const stdin = new FakeStdin();
  const target = { kind: 'serial' as const, name: 'serial-bench', path: console_.device, baud: 1_500_000 };
  try {
    const done = runDashboard({
      gateway: target.name,
      connect: async () => count(await connectSerial(target)),
      fetchStatus: (t) => fetchStatus(t, { timeoutMs: 30_000 }),
      lowBandwidth: true,
      refreshIntervalMs: 1000,
      stdout: stdout as unknown as NodeJS.WriteStream,
      stdin: stdin as unknown as NodeJS.ReadStream,
    });
    const waitRefreshes = async (n: number) => {
      while (refreshes < n) await new Promise((r) => setTimeout(r, 50));
      await new Promise((r) => setTimeout(r, 700)); // let the frame (2 fps) go out
    };
    await waitRefreshes(1);
    bytesAtFirstRefresh = terminalBytes;
    const linesAtFirst = lineBytes;
    await waitRefreshes(11);
    stdin.press('q');
    expect(await done).toBe(0);
    const perRefreshTerminal = (terminalBytes - bytesAtFirstRefresh) / 10;
    const perRefreshLine = (lineBytes - linesAtFirst) / 10;
    row(
      'one refresh over serial at 1500000 baud',
      `${perRefreshTerminal.toFixed(0)} B redrawn on the terminal (first frame ${bytesAtFirstRefresh} B); ${perRefreshLine.toFixed(0)} B on the serial line (${((perRefreshLine * 10 * 1000) / 1_500_000).toFixed(0)} ms)`,
      '-',
      '-',
      'few bytes per refresh',
      null,
    );
  } finally {
    await console_.stop();
  }
});

/** Writes the rows measured in this run into docs/benchmarks.md (after all tests, also with -t). */
async function writeDocs(): Promise<void> {
  const nodeStartMs = (await timed(() => runNoInput(process.execPath, ['-e', '0']))).toFixed(0);
  const load = Math.max(loadAtStart, loadavg()[0] ?? 0);
  const busy = load > cpus().length / 2;
  const loads = `load average ${loadAtStart.toFixed(1)} at the start, ${(loadavg()[0] ?? 0).toFixed(1)} at the end`;
  const path = join(repoRoot, 'docs/benchmarks.md');
  const begin = '<!-- console-bench:begin (written by bench/console-bench) -->';
  const end = '<!-- console-bench:end -->';
  let doc = existsSync(path) ? readFileSync(path, 'utf8') : '# Benchmarks\n';
  // Rows measured in this run replace the same rows of an earlier run (a run may use -t).
  const cell = (r: string) => r.split('|')[1]?.trim() ?? '';
  const earlier = doc.includes(begin)
    ? doc
        .slice(doc.indexOf(begin), doc.indexOf(end))
        .split('\n')
        .filter((l) => l.startsWith('| ') && !l.startsWith('| What') && !l.startsWith('| ---'))
    : [];
  // In the earlier order; rows new to the table go last.
  const merged = [
    ...earlier.map((r) => rows.find((n) => cell(n) === cell(r)) ?? r),
    ...rows.filter((n) => !earlier.some((r) => cell(r) === cell(n))),
  ];
  // Notes start with what they are about ("1 gateway:", "20 gateways:"): keep earlier ones on other rows.
  const about = (n: string) => n.slice(0, n.indexOf(':'));
  const earlierNotes = doc.includes(begin)
    ? doc
        .slice(doc.indexOf(begin), doc.indexOf(end))
        .split('\n')
        .filter((l) => l.startsWith('- '))
        .map((l) => l.slice(2))
    : [];
  const allNotes = [...earlierNotes.filter((n) => !notes.some((m) => about(m) === about(n))), ...notes];
  const section = [
    begin,
    `Last run ${new Date().toISOString().slice(0, 16)}Z on this machine (${process.arch}, ${cpus().length} cores, Node ${process.version},`,
    busy
      ? `shared with other work: ${loads}, \`node -e 0\` took ${nodeStartMs} ms, so absolute times are inflated),`
      : `otherwise idle: ${loads}, \`node -e 0\` took ${nodeStartMs} ms),`,
    `loopback sshd gateways running the real device scripts;`,
    `medians of ${RUNS} runs (3 for the fleet and the upload) after one warm-up run.`,
    '',
    '| What | rk64 | Baseline | Ratio | Target | Met |',
    '| --- | --- | --- | --- | --- | --- |',
    ...merged,
    ...(allNotes.length ? ['', ...allNotes.map((n) => `- ${n}`)] : []),
    end,
  ].join('\n');
  if (doc.includes(begin)) {
    doc = doc.slice(0, doc.indexOf(begin)) + section + doc.slice(doc.indexOf(end) + end.length);
  } else {
    doc = `${doc.trimEnd()}\n\n## Console (bench/console-bench)\n\n${section}\n`;
  }
  writeFileSync(path, doc);
  console.log(section);
}
