// The test gateway for tests: a real aarch64 gateway in QEMU (test/gateway/gateway), built once
// and cached under /var/cache/rk64/gateway, booted per test file. Every test that needs a gateway
// goes through startGateway(); e2e scenarios use powerCut()/boot() for power loss and QMP for the
// rest. The shell command is the one implementation: this module only drives it.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { run, runOk, repoRoot } from './exec.js';
import type { RunOptions, RunResult } from './exec.js';

export const gatewayCommand = join(repoRoot, 'test/gateway/gateway');
const qmpCommand = join(repoRoot, 'test/gateway/qmp');

/** What `gateway up --json` prints (test/gateway/gateway write_state). */
export interface GatewayState {
  name: string;
  build: string;
  /** 127.0.0.1 port relayed to the gateway's LAN address 172.20.30.1:22 (the operator on the LAN). */
  sshPort: number;
  /** ssh://operator@127.0.0.1:PORT: the console's target (the product's SSH user). */
  sshTarget: string;
  /**
   * The test-only account (test/gateway/files/usr/lib/rk64-gateway/test-account) every command of
   * ssh()/sshOk() logs in as: it runs each command as root, for inspection and control.
   */
  testUser: string;
  /** 127.0.0.1 port QEMU forwards to the WAN side (eth0:22): answers only while SSH-on-WAN is on. */
  wanSshPort: number;
  serialPath: string;
  serialLog: string;
  /** QMP unix socket. */
  qmp: string;
  /** Network namespace holding the LAN tap (the gateway's eth1 is on the other end). */
  netns: string;
  lanInterface: string;
  disk: string;
  /** Private key whose public half was provisioned (flash --authorized-keys) for operator and the test account. */
  identity: string;
  /** known_hosts holding the host keys read from the serial console. */
  knownHosts: string;
  /** rk64 config with the profiles gateway-NAME and gateway-NAME-serial. */
  config: string;
  wanMac: string;
  lanMac: string;
  startedAt: number;
  /** From QEMU start to SSH answering: a boot, or a restore (`restored`). */
  bootToSshMs: number;
  /** Resumed from a booted snapshot (`gateway up --restore`) instead of booted. */
  restored?: boolean;
}

/** build.json of the cached image (test/gateway/gateway cmd_build). */
export interface GatewayBuild {
  key: string;
  base: string;
  kernel: string;
  baseSeconds: number;
  imageSeconds: number;
  builtAt: string;
}

export interface StartOptions {
  /** Instance name; defaults to a unique one per call so test files never share a disk. */
  name?: string;
  /** Start from the pristine built disk (a first boot). Default true. */
  fresh?: boolean;
  /** Extra environment for the gateway command (e.g. GATEWAY_BOOT_TIMEOUT). */
  env?: NodeJS.ProcessEnv;
  /**
   * Resume the machine state `gateway save` wrote to this file instead of booting; the instance
   * directory must already hold the disk.img and host_keys saved with it.
   */
  restore?: string;
}

export interface Gateway {
  readonly name: string;
  /** Current state; sshPort and serialPath change when the gateway is booted again. */
  readonly state: GatewayState;
  readonly sshTarget: string;
  readonly sshPort: number;
  readonly serialPath: string;
  /** ssh(1) options that log in as the test account (commands run as root) with strict host-key checking. */
  sshArgs(): string[];
  /** Run a command on the gateway over SSH (system ssh, strict host-key checking). */
  ssh(command: string, options?: RunOptions): Promise<RunResult>;
  sshOk(command: string, options?: RunOptions): Promise<RunResult>;
  /** Send one QMP command; resolves with its "return" value. */
  qmp(command: string, args?: Record<string, unknown>): Promise<unknown>;
  /** The serial console log since the last (re)start of QEMU. */
  serialLog(): Promise<string>;
  /** Pull the plug: QEMU quits at once, the disk keeps whatever reached it. */
  powerCut(): Promise<void>;
  /** Boot the same disk again (after powerCut or stop) and wait for SSH (a real boot, never a restore). */
  boot(): Promise<void>;
  /** Clean reboot from inside (systemctl reboot); resolves when SSH answers from the new boot. */
  reboot(timeoutMs?: number): Promise<void>;
  /** Wait until SSH answers and the boot id differs from `previousBootId` (if given). */
  waitForSsh(timeoutMs: number, previousBootId?: string): Promise<string>;
  /** Stop QEMU and remove the LAN namespace. */
  stop(): Promise<void>;
  /** Freeze the running gateway (`gateway save`): machine state to `file`, then QEMU stops. */
  save(file: string): Promise<void>;
}

const upTimeoutMs = 900_000;

/** Build (or reuse) the cached gateway image; returns its build.json. */
export async function buildGateway(env?: NodeJS.ProcessEnv): Promise<GatewayBuild & { dir: string }> {
  const result = await runOk('bash', [gatewayCommand, 'build'], {
    timeoutMs: upTimeoutMs,
    env: { ...process.env, ...env },
  });
  const dir = result.stdout.trim().split('\n').pop() ?? '';
  const build = JSON.parse(await readFile(join(dir, 'build.json'), 'utf8')) as GatewayBuild;
  return { ...build, dir };
}

async function up(
  name: string,
  fresh: boolean,
  env: NodeJS.ProcessEnv | undefined,
  restore?: string,
): Promise<GatewayState> {
  const args = [gatewayCommand, 'up', '--name', name, '--json', '--isolated'];
  if (fresh) args.push('--fresh');
  if (restore !== undefined) args.push('--restore', restore);
  const result = await run('bash', args, { timeoutMs: upTimeoutMs, env: { ...process.env, ...env } });
  if (result.code !== 0) {
    // Leave nothing running behind a failed start.
    await run('bash', [gatewayCommand, 'down', '--name', name], {
      env: { ...process.env, ...env },
      timeoutMs: 60_000,
    });
    const log = await readFile(join(instanceDir(name, env), 'serial.log'), 'utf8').catch(
      () => '(no serial log)',
    );
    throw new Error(
      `gateway up --name ${name} failed (exit ${result.code ?? result.signal}):\n${result.stderr}\n--- last serial output ---\n${log.slice(-6000)}`,
    );
  }
  try {
    return JSON.parse(result.stdout) as GatewayState;
  } catch (error) {
    await run('bash', [gatewayCommand, 'down', '--name', name], {
      env: { ...process.env, ...env },
      timeoutMs: 60_000,
    });
    throw new Error(`gateway up --name ${name} printed no JSON state: ${String(error)}\n${result.stdout}`);
  }
}

function instanceDir(name: string, env: NodeJS.ProcessEnv | undefined): string {
  const cache = env?.RK64_CACHE ?? process.env.RK64_CACHE ?? '/var/cache/rk64';
  const state = env?.GATEWAY_STATE ?? process.env.GATEWAY_STATE ?? join(cache, 'gateway', 'instances');
  return join(state, name);
}

// eslint-disable-next-line no-control-regex -- systemd's colour and cursor codes on the console
const CONSOLE_ESCAPE = /\x1b\[[0-9;?]*[A-Za-z]/g;

/** A gateway's serial log as text to match: without systemd's colour and cursor codes and CRs. */
export function withoutEscapes(text: string): string {
  return text.replace(CONSOLE_ESCAPE, '').replace(/\r/g, '');
}

export function qmp(socket: string, command: string, args?: Record<string, unknown>): Promise<unknown> {
  const argv = [qmpCommand, socket, command];
  if (args) argv.push(JSON.stringify(args));
  return runOk('python3', argv, { timeoutMs: 60_000 }).then((r) => JSON.parse(r.stdout) as unknown);
}

/**
 * ssh's arguments for a fresh login to a gateway `up` started: its known host key, its key only,
 * no agent or prompt; `user` defaults to the test account. The command goes after them.
 */
export function sshArgsFor(state: GatewayState, user: string = state.testUser): string[] {
  return [
    '-o',
    'BatchMode=yes',
    '-o',
    'StrictHostKeyChecking=yes',
    '-o',
    `UserKnownHostsFile=${state.knownHosts}`,
    '-o',
    'IdentitiesOnly=yes',
    '-o',
    'ConnectTimeout=20',
    '-o',
    'LogLevel=ERROR',
    '-i',
    state.identity,
    '-p',
    String(state.sshPort),
    `${user}@127.0.0.1`,
  ];
}

/** Build if needed, boot a gateway and wait until SSH answers with the provisioned key. */
export async function startGateway(options: StartOptions = {}): Promise<Gateway> {
  const name = options.name ?? `t${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
  const env = options.env;
  let state = await up(name, options.restore === undefined && (options.fresh ?? true), env, options.restore);
  const gatewayEnv = { ...process.env, ...env };

  const sshArgs = (): string[] => sshArgsFor(state);

  // The harness's own commands (ssh/sshOk, and the boot probes built on them) share one SSH
  // connection per gateway boot. A fresh login costs the emulated gateway about 1.3 s of CPU
  // (key exchange, sshd's re-exec, PAM), a command on an open connection about 0.4 s: measured
  // on the test gateway, and every boot probe and status poll paid the full price while the
  // gateway booted beside it. The connection ends with the boot (sshd stops, or QEMU's sockets
  // close); ServerAlive ends one whose peer was reset without a word (a watchdog reset), and
  // the next command opens a new one. Tests about SSH itself use sshArgs(): fresh connections.
  const muxPath = join(instanceDir(name, env), 'ssh.mux');
  // A unix socket's path holds at most 107 bytes; a longer instance directory goes without.
  const muxUsable = Buffer.byteLength(muxPath) <= 100;
  const muxArgs = (): string[] =>
    !muxUsable
      ? []
      : [
          '-o',
          'ControlMaster=auto',
          '-o',
          `ControlPath=${muxPath}`,
          '-o',
          'ControlPersist=120',
          '-o',
          'ServerAliveInterval=5',
          '-o',
          'ServerAliveCountMax=2',
        ];
  /** Ends the shared connection (before a new boot of the same instance, and at stop). */
  const closeMux = async (): Promise<void> => {
    if (!muxUsable) return;
    await run('ssh', ['-O', 'exit', '-o', `ControlPath=${muxPath}`, 'gateway'], { timeoutMs: 10_000 });
  };
  const harnessSsh = (command: string): string[] => [...muxArgs(), ...sshArgs(), command];

  const gateway: Gateway = {
    name,
    get state() {
      return state;
    },
    get sshTarget() {
      return state.sshTarget;
    },
    get sshPort() {
      return state.sshPort;
    },
    get serialPath() {
      return state.serialPath;
    },
    sshArgs,
    ssh: (command, runOptions = {}) => run('ssh', harnessSsh(command), { timeoutMs: 120_000, ...runOptions }),
    sshOk: (command, runOptions = {}) =>
      runOk('ssh', harnessSsh(command), { timeoutMs: 120_000, ...runOptions }),
    qmp: (command, args) => qmp(state.qmp, command, args),
    serialLog: () => readFile(state.serialLog, 'utf8'),
    powerCut: async () => {
      await closeMux();
      await runOk('bash', [gatewayCommand, 'power-cut', '--name', name], {
        env: gatewayEnv,
        timeoutMs: 60_000,
      });
    },
    boot: async () => {
      await closeMux();
      state = await up(name, false, env);
    },
    waitForSsh: async (timeoutMs, previousBootId) => {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const probe = await run('ssh', harnessSsh('cat /proc/sys/kernel/random/boot_id'), {
          timeoutMs: 30_000,
        });
        const bootId = probe.stdout.trim();
        if (probe.code === 0 && bootId !== '' && bootId !== previousBootId) return bootId;
        if (Date.now() > deadline) {
          throw new Error(`gateway ${name}: SSH did not answer from a new boot within ${timeoutMs / 1000} s`);
        }
        await new Promise((resolve) => setTimeout(resolve, 3000));
      }
    },
    reboot: async (timeoutMs = 600_000) => {
      const bootId = (await gateway.sshOk('cat /proc/sys/kernel/random/boot_id')).stdout.trim();
      // The connection drops while systemd shuts down; the exit status of this ssh is meaningless.
      await gateway.ssh('systemctl reboot', { timeoutMs: 30_000 });
      await gateway.waitForSsh(timeoutMs, bootId);
    },
    stop: async () => {
      await closeMux();
      await runOk('bash', [gatewayCommand, 'down', '--name', name], { env: gatewayEnv, timeoutMs: 60_000 });
    },
    save: async (file) => {
      await closeMux();
      await runOk('bash', [gatewayCommand, 'save', '--name', name, '--out', file], {
        env: gatewayEnv,
        timeoutMs: 700_000,
      });
    },
  };
  return gateway;
}
