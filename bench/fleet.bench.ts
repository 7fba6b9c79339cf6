// Fleet benchmarks (run by bench/fleet-bench, not part of the test suite): the status of 20 and
// 100 loopback gateways (each a real sshd running the real rk64-status in its own namespace) with
// `rk64 status --json` and its peers: parallel-ssh (Debian pssh), GNU parallel + ssh, and
// `ansible all -m raw -a rk64-status` (Debian ansible-core), all with the same fan-out. Also the
// rk64 process's own CPU per gateway and its peak RSS at 100. Writes the "Fleet" section of
// docs/benchmarks.md. One run on one machine: ratios, not absolute times, are the result.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, beforeAll, expect, it } from 'vitest';

import { DEFAULT_PARALLEL } from '../src/cli/command.js';
import { ensureBuilt } from '../test/lib/cli.js';
import { runNoInput, startLoopbackGateway, type LoopbackGateway } from '../test/lib/console-gateway.js';
import { repoRoot } from '../test/lib/exec.js';
import { makeKey } from '../test/lib/sshd.js';

const SIZES = [20, 100] as const;
/** The fan-out every tool gets: rk64's default --parallel. */
const FANOUT = DEFAULT_PARALLEL;
const RUNS = 3;
const gateways: LoopbackGateway[] = [];
const work = mkdtempSync(join(tmpdir(), 'rk64-fleet-bench-'));
const loadAtStart = loadavg()[0] ?? 0;
const rows: string[] = [];
const notes: string[] = [];
const versions: Record<string, string> = {};
let key: Awaited<ReturnType<typeof makeKey>>;
let knownHosts: string;

const env: NodeJS.ProcessEnv = {
  ...process.env,
  SSH_AUTH_SOCK: '',
  HOME: work,
  ANSIBLE_LOCAL_TEMP: join(work, 'ansible-tmp'),
};
const ms = (x: number) => `${x.toFixed(0)} ms`;

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? NaN;
}

interface Measured {
  wallMs: number;
  cpuMs: number;
  maxRssKiB: number;
  stdout: string;
  stderr: string;
  code: number;
}

/** Runs a program under GNU time's cousin: node's own clock plus /usr/bin/time -f for CPU and RSS. */
function run(cmd: string, args: string[]): Promise<Measured> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const child = spawn('/usr/bin/env', [cmd, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      const wallMs = performance.now() - t0;
      resolve({ wallMs, cpuMs: NaN, maxRssKiB: NaN, stdout, stderr, code: code ?? -1 });
    });
  });
}

/** The child's user+sys CPU and peak RSS from wait4 (bash's `times` does not give RSS; python does). */
async function resources(cmd: string, args: string[]): Promise<Measured> {
  const script =
    'import resource,subprocess,sys,time\n' +
    't=time.monotonic();p=subprocess.run(sys.argv[1:],capture_output=True)\n' +
    'w=time.monotonic()-t;r=resource.getrusage(resource.RUSAGE_CHILDREN)\n' +
    'sys.stderr.buffer.write(p.stderr);sys.stdout.buffer.write(p.stdout)\n' +
    'print("\\nRK64BENCH %f %f %d %d"%(w*1000,(r.ru_utime+r.ru_stime)*1000,r.ru_maxrss,p.returncode),file=sys.stderr)';
  const r = await run('python3', ['-c', script, cmd, ...args]);
  const m = /RK64BENCH (\S+) (\S+) (\d+) (-?\d+)\s*$/.exec(r.stderr);
  if (!m) throw new Error(`no measurement: ${r.stderr.slice(-500)}`);
  return {
    wallMs: Number(m[1]),
    cpuMs: Number(m[2]),
    maxRssKiB: Number(m[3]),
    code: Number(m[4]),
    stdout: r.stdout,
    stderr: r.stderr.slice(0, m.index),
  };
}

async function ensureGateways(n: number): Promise<void> {
  while (gateways.length < n) {
    const batch = Math.min(10, n - gateways.length);
    gateways.push(...(await Promise.all(Array.from({ length: batch }, () => startLoopbackGateway({ key })))));
  }
  writeFileSync(knownHosts, gateways.map((g) => `${g.sshd.knownHostsLine}\n`).join(''));
}

const sshOptions = () => [
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
];

interface Tool {
  name: string;
  /** Command line for the first n gateways; `answers` counts the status documents in its output. */
  command: (n: number) => [string, string[]];
  answers: (stdout: string) => number;
}

/**
 * Status documents in a tool's output. Ansible's raw module runs the command on a terminal (ssh -tt),
 * where rk64-status prints colour: the escapes are removed before counting.
 */
const documents = (stdout: string) =>
  // eslint-disable-next-line no-control-regex -- removing terminal colour escapes is the point
  (stdout.replace(/\u001b\[[0-9;]*m/g, '').match(/"schema":\s*"rk64\.status\/1"/g) ?? []).length;

const TOOLS: Tool[] = [
  {
    name: 'rk64 status --json',
    command: (n) => [
      process.execPath,
      [
        join(repoRoot, 'bin/rk64.js'),
        'status',
        '--json',
        '--parallel',
        String(FANOUT),
        '--identity',
        key.path,
        '--known-hosts',
        knownHosts,
        ...gateways.slice(0, n).map((g) => g.url),
      ],
    ],
    answers: documents,
  },
  {
    name: 'parallel-ssh',
    command: (n) => {
      const hosts = join(work, `pssh-hosts-${n}`);
      writeFileSync(
        hosts,
        gateways
          .slice(0, n)
          .map((g) => `root@127.0.0.1:${g.sshd.port}\n`)
          .join(''),
      );
      return [
        'parallel-ssh',
        ['-h', hosts, '-p', String(FANOUT), '-i', '-t', '120', '-x', sshOptions().join(' '), 'rk64-status'],
      ];
    },
    answers: documents,
  },
  {
    name: 'GNU parallel + ssh',
    command: (n) => [
      'parallel',
      [
        '--will-cite',
        '-j',
        String(FANOUT),
        'ssh',
        ...sshOptions(),
        '-p',
        '{}',
        'root@127.0.0.1',
        'rk64-status',
        ':::',
        ...gateways.slice(0, n).map((g) => String(g.sshd.port)),
      ],
    ],
    answers: documents,
  },
  {
    name: 'ansible -m raw',
    command: (n) => {
      const inventory = join(work, `inventory-${n}.ini`);
      writeFileSync(
        inventory,
        [
          '[gw]',
          ...gateways
            .slice(0, n)
            .map((g, i) => `gw${i} ansible_host=127.0.0.1 ansible_port=${g.sshd.port} ansible_user=root`),
          '',
        ].join('\n'),
      );
      const cfg = join(work, 'ansible.cfg');
      writeFileSync(
        cfg,
        [
          '[defaults]',
          'host_key_checking = True',
          `private_key_file = ${key.path}`,
          'gathering = explicit',
          'interpreter_python = auto_silent',
          '[ssh_connection]',
          // Ansible's own default (ControlMaster/ControlPersist) with our known_hosts: each run starts cold.
          `ssh_args = -C -o ControlMaster=auto -o ControlPersist=60s -o UserKnownHostsFile=${knownHosts} -o IdentitiesOnly=yes`,
          `control_path_dir = ${join(work, 'cp')}`,
          '',
        ].join('\n'),
      );
      env.ANSIBLE_CONFIG = cfg;
      return ['ansible', ['all', '-i', inventory, '-m', 'raw', '-a', 'rk64-status', '-f', String(FANOUT)]];
    },
    answers: documents,
  },
];

async function version(cmd: string, args: string[]): Promise<string> {
  const r = await runNoInput(cmd, args, env);
  return (r.stdout || r.stderr).trim().split('\n')[0] ?? '?';
}

beforeAll(async () => {
  await ensureBuilt();
  key = await makeKey(work, 'id_ed25519');
  knownHosts = join(work, 'known_hosts');
  const pkg = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { version: string };
  versions['rk64'] = `rk64 ${pkg.version} (Node ${process.version})`;
  versions['parallel-ssh'] = `pssh ${await version('dpkg-query', ['-W', '-f', '${Version}', 'pssh'])}`;
  versions['GNU parallel + ssh'] =
    `${await version('parallel', ['--version'])}; ${await version('ssh', ['-V'])}`;
  versions['ansible -m raw'] = await version('ansible', ['--version']);
}, 900_000);

afterAll(async () => {
  try {
    if (rows.length > 0) writeDocs();
  } finally {
    await Promise.all(gateways.map((g) => g.stop().catch(() => undefined)));
    rmSync(work, { recursive: true, force: true });
  }
}, 900_000);

for (const size of SIZES) {
  it(`${size} gateways: rk64 status vs parallel-ssh, GNU parallel + ssh, ansible raw`, async () => {
    await ensureGateways(size);
    const results = new Map<string, Measured[]>();
    const broken = new Map<string, string>();
    // Interleaved runs, one warm-up each, so load changes on the shared machine hit every tool alike.
    for (let run = 0; run <= RUNS; run++) {
      for (const tool of TOOLS) {
        const [cmd, args] = tool.command(size);
        if (broken.has(tool.name)) continue;
        const m = await resources(cmd, args);
        const answered = tool.answers(m.stdout);
        if (answered !== size) {
          // Recorded as it is, never as a time: a peer that did not fetch every document did not do the job.
          broken.set(
            tool.name,
            `${answered} of ${size} documents (exit ${m.code}; stdout starts ${JSON.stringify(m.stdout.slice(0, 160))}, stderr ends ${JSON.stringify(m.stderr.slice(-160))})`,
          );
          continue;
        }
        if (run > 0) results.set(tool.name, [...(results.get(tool.name) ?? []), m]);
      }
    }
    const wall = (name: string) => median((results.get(name) ?? []).map((m) => m.wallMs));
    const cpu = (name: string) => median((results.get(name) ?? []).map((m) => m.cpuMs));
    const rk64 = wall('rk64 status --json');
    expect(broken.get('rk64 status --json')).toBeUndefined();
    for (const tool of TOOLS.slice(1)) {
      const why = broken.get(tool.name);
      if (why !== undefined) {
        rows.push(
          `| ${size} | ${tool.name} | ${ms(rk64)} | not measured: ${why.replace(/\|/g, '/')} | - | - | - |`,
        );
        continue;
      }
      const peer = wall(tool.name);
      rows.push(
        `| ${size} | ${tool.name} | ${ms(rk64)} | ${ms(peer)} | ${(rk64 / peer).toFixed(2)}× | ${ms(cpu(tool.name))} | ${rk64 < peer ? 'yes' : 'NO'} |`,
      );
    }
    const rss = Math.max(...(results.get('rk64 status --json') ?? []).map((m) => m.maxRssKiB)) / 1024;
    notes.push(
      `${size} gateways: the rk64 process used ${ms(cpu('rk64 status --json'))} CPU (user+sys), ` +
        `${(cpu('rk64 status --json') / size).toFixed(1)} ms per gateway; peak RSS ${rss.toFixed(0)} MiB` +
        `${size === 100 ? ` (goal under 150 MiB: ${rss < 150 ? 'met' : 'NOT met'})` : ''}. ` +
        `The gateways' own CPU (sshd + rk64-status, ${size} of them on this host) is not in these figures but ` +
        `competes for the same ${cpus().length} cores, as it does for every peer.`,
    );
  }, 1_800_000);
}

function writeDocs(): void {
  const path = join(repoRoot, 'docs/benchmarks.md');
  const begin = '<!-- fleet-bench:begin (written by bench/fleet-bench) -->';
  const end = '<!-- fleet-bench:end -->';
  let doc = existsSync(path) ? readFileSync(path, 'utf8') : '# Benchmarks\n';
  const section = [
    begin,
    `Last run ${new Date().toISOString().slice(0, 16)}Z on this machine (${process.arch}, ${cpus().length} cores, ` +
      `shared with other work: load average ${loadAtStart.toFixed(1)} at the start, ${(loadavg()[0] ?? 0).toFixed(1)} at the end).`,
    `Loopback gateways: one real sshd each, running the real rk64-status; every tool runs ${FANOUT} at a time;`,
    `median of ${RUNS} interleaved runs after a warm-up. Wall time from process start to exit; CPU is the peer's`,
    'own process tree (user+sys), without the gateways.',
    '',
    '| Gateways | Peer | rk64 | Peer time | rk64 / peer | Peer CPU | rk64 faster |',
    '| --- | --- | --- | --- | --- | --- | --- |',
    ...rows,
    '',
    ...notes.map((n) => `- ${n}`),
    '',
    'Versions:',
    ...Object.values(versions).map((v) => `- ${v}`),
    end,
  ].join('\n');
  if (doc.includes(begin)) {
    doc = doc.slice(0, doc.indexOf(begin)) + section + doc.slice(doc.indexOf(end) + end.length);
  } else {
    doc = `${doc.trimEnd()}\n\n## Fleet (bench/fleet-bench)\n\n${section}\n`;
  }
  writeFileSync(path, doc);
  console.log(section);
}
