// Network namespaces, veth links and long-running daemons inside them, for tests that exercise the
// gateway's real firewall, dnsmasq and chronyd. Everything created here is recorded and removed by
// `destroy()`: namespaces get a random suffix so two test files can run side by side.
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { run, runOk } from './exec.js';
import type { RunOptions, RunResult } from './exec.js';

export interface Daemon {
  readonly name: string;
  readonly child: ChildProcess;
  /** Everything the daemon wrote so far (stdout and stderr). */
  output(): string;
  /** True while the process runs. */
  alive(): boolean;
  stop(signal?: NodeJS.Signals): Promise<void>;
}

export function startDaemon(
  name: string,
  cmd: string,
  args: readonly string[],
  env?: NodeJS.ProcessEnv,
): Daemon {
  const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], env: env ?? process.env });
  let out = '';
  let exited = false;
  child.stdout?.setEncoding('utf8').on('data', (d: string) => (out += d));
  child.stderr?.setEncoding('utf8').on('data', (d: string) => (out += d));
  const done = new Promise<void>((resolve) =>
    child.on('close', () => {
      exited = true;
      resolve();
    }),
  );
  child.on('error', (e) => {
    out += `spawn error: ${e.message}\n`;
  });
  return {
    name,
    child,
    output: () => out,
    alive: () => !exited && child.exitCode === null,
    async stop(signal: NodeJS.Signals = 'SIGTERM') {
      if (!exited) {
        child.kill(signal);
        const timer = setTimeout(() => child.kill('SIGKILL'), 3000);
        await done;
        clearTimeout(timer);
      }
    },
  };
}

// Runs inside the namespace under node: one server socket per (address, port).
const RESPONDER = `
const net = require('node:net');
const dgram = require('node:dgram');
const { addrs, tcp, udp } = JSON.parse(process.argv[1]);
const pending = [];
for (const a of addrs) {
  for (const p of tcp) {
    const server = net.createServer((s) => { s.on('error', () => {}); s.end('open\\n'); });
    pending.push(new Promise((r) => server.listen(p, a, r)));
  }
  for (const p of udp) {
    const u = dgram.createSocket('udp4');
    u.on('message', (_m, rinfo) => u.send('open\\n', rinfo.port, rinfo.address));
    pending.push(new Promise((r) => u.bind(p, a, r)));
  }
}
Promise.all(pending).then(() => console.log('ready'));
`;

export class NetnsLab {
  readonly id = randomBytes(3).toString('hex');
  private readonly namespaces: string[] = [];
  private readonly daemons: Daemon[] = [];
  private vethCount = 0;

  /** Create a namespace `rk64s<id><role>` with its loopback up; returns its name. */
  async ns(role: string): Promise<string> {
    const name = `rk64s${this.id}${role}`;
    await runOk('ip', ['netns', 'add', name]);
    this.namespaces.push(name);
    await runOk('ip', ['-n', name, 'link', 'set', 'lo', 'up']);
    return name;
  }

  /** A veth pair between two namespaces, each end renamed and addressed (CIDR), both up. */
  async link(a: { ns: string; name: string; addr?: string }, b: { ns: string; name: string; addr?: string }) {
    const tmpA = `v${this.id}${this.vethCount}a`;
    const tmpB = `v${this.id}${this.vethCount}b`;
    this.vethCount += 1;
    await runOk('ip', ['link', 'add', tmpA, 'type', 'veth', 'peer', 'name', tmpB]);
    for (const [tmp, end] of [
      [tmpA, a],
      [tmpB, b],
    ] as const) {
      await runOk('ip', ['link', 'set', tmp, 'netns', end.ns]);
      await runOk('ip', ['-n', end.ns, 'link', 'set', tmp, 'name', end.name]);
      if (end.addr) await runOk('ip', ['-n', end.ns, 'addr', 'add', end.addr, 'dev', end.name]);
      await runOk('ip', ['-n', end.ns, 'link', 'set', end.name, 'up']);
    }
  }

  exec(ns: string, cmd: string, args: readonly string[], options?: RunOptions): Promise<RunResult> {
    return run('ip', ['netns', 'exec', ns, cmd, ...args], options);
  }

  execOk(ns: string, cmd: string, args: readonly string[], options?: RunOptions): Promise<RunResult> {
    return runOk('ip', ['netns', 'exec', ns, cmd, ...args], options);
  }

  /** Start a long-running program inside a namespace; stopped by destroy(). */
  daemon(ns: string, name: string, cmd: string, args: readonly string[], env?: NodeJS.ProcessEnv): Daemon {
    const d = startDaemon(name, 'ip', ['netns', 'exec', ns, cmd, ...args], env);
    this.daemons.push(d);
    return d;
  }

  /**
   * TCP and UDP responders on every given address and port, answering "open" to each connection
   * or datagram: a reply proves the packet got through, a timeout means it was dropped. One socket
   * per address, so a reply leaves from the address that was probed.
   */
  async responder(ns: string, addrs: string[], tcp: number[], udp: number[]): Promise<Daemon> {
    const d = this.daemon(ns, 'responder', process.execPath, [
      '-e',
      RESPONDER,
      JSON.stringify({ addrs, tcp, udp }),
    ]);
    if (!(await waitFor(() => d.output().includes('ready') || !d.alive(), 10_000))) {
      throw new Error(`responder in ${ns} did not start: ${d.output()}`);
    }
    if (!d.alive()) throw new Error(`responder in ${ns} failed: ${d.output()}`);
    return d;
  }

  /** Send one probe; true when the "open" answer came back within timeoutS. */
  async probe(
    ns: string,
    proto: 'tcp' | 'udp',
    host: string,
    port: number,
    timeoutS = 2.5,
  ): Promise<boolean> {
    const target =
      proto === 'tcp' ? `TCP4:${host}:${port},connect-timeout=${timeoutS}` : `UDP4:${host}:${port}`;
    const r = await run(
      'ip',
      [
        'netns',
        'exec',
        ns,
        'bash',
        '-c',
        'echo probe | socat -T "$1" -t "$1" - "$2"',
        'probe',
        String(timeoutS),
        target,
      ],
      { timeoutMs: (timeoutS + 3) * 1000 },
    );
    return r.stdout.includes('open');
  }

  async destroy(): Promise<void> {
    await Promise.all(this.daemons.map((d) => d.stop()));
    for (const ns of this.namespaces.reverse()) {
      await run('ip', ['netns', 'del', ns]);
    }
  }
}

/** Wait until check() is true, polling every intervalMs; false on timeout. */
export async function waitFor(check: () => boolean | Promise<boolean>, timeoutMs: number, intervalMs = 100) {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (await check()) return true;
    await new Promise((r) => setTimeout(r, intervalMs));
  }
  return check();
}
