// Scripted serial consoles for tests: a socat pty pair whose far end is test/lib/serial/scripted-console
// (a real interactive bash behind a real pty, optionally behind a login prompt, with kernel log
// noise), or a silent line nobody answers. `device` is the path a transport opens.
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { access, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { repoRoot } from './exec.js';

export interface ConsoleOptions {
  /** key-login: device-scripts/rootfs/serial-login (configure it through `env`), test/lib/serial/login-as behind it. */
  mode?: 'shell' | 'login' | 'uboot' | 'silent' | 'key-login';
  user?: string;
  password?: string;
  kernelNoise?: boolean;
  /** Directories put in front of the console shell's PATH (e.g. one holding rk64-status). */
  pathPrepend?: string[];
  /** Extra environment for the console shell. */
  env?: Record<string, string>;
}

export interface ScriptedConsole {
  device: string;
  stop(): Promise<void>;
}

async function waitForPath(path: string, child: ChildProcess, deadline: number): Promise<void> {
  for (;;) {
    try {
      await access(path);
      return;
    } catch {
      if (child.exitCode !== null)
        throw new Error(`socat exited (${child.exitCode}) before creating ${path}`);
      if (Date.now() > deadline) throw new Error(`socat did not create ${path}`);
      await new Promise((r) => setTimeout(r, 30));
    }
  }
}

export async function startConsole(options: ConsoleOptions = {}): Promise<ScriptedConsole> {
  const dir = await mkdtemp(join(tmpdir(), 'rk64-serial-'));
  const device = join(dir, 'ttyS2');
  const mode = options.mode ?? 'shell';
  // The operator's side is raw (a UART has no line discipline of its own); the gateway side
  // is a normal tty with echo, as a getty would leave it.
  const program =
    mode === 'key-login' ? 'device-scripts/rootfs/serial-login' : 'test/lib/serial/scripted-console';
  const far =
    mode === 'silent'
      ? `PTY,link=${join(dir, 'nobody')},rawer`
      : `EXEC:${join(repoRoot, program)},pty,stderr,setsid,ctty,sane`;
  const child = spawn('socat', [`PTY,link=${device},rawer,wait-slave`, far], {
    stdio: ['ignore', 'ignore', 'pipe'],
    env: {
      ...options.env,
      PATH: [...(options.pathPrepend ?? []), process.env.PATH ?? '/usr/bin:/bin'].join(':'),
      HOME: dir,
      CONSOLE_MODE: mode,
      CONSOLE_USER: options.user ?? 'root',
      CONSOLE_PASSWORD: options.password ?? '',
      CONSOLE_KERNEL_NOISE: options.kernelNoise ? '1' : '0',
      ...(mode === 'key-login'
        ? {
            LOGIN_PROGRAM: join(repoRoot, 'test/lib/serial/login-as'),
            LOGGER: join(repoRoot, 'test/lib/serial/journal'),
            ...options.env,
          }
        : {}),
    },
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  await waitForPath(device, child, Date.now() + 10_000);
  return {
    device,
    stop: async () => {
      if (child.exitCode === null) {
        child.kill('SIGTERM');
        await exited;
      }
      await rm(dir, { recursive: true, force: true });
    },
  };
}
