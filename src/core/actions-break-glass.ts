// Break-glass from the serial console (`rk64 break-glass serial:/dev/ttyUSB0`): physical recovery
// when nobody can log in. It stops U-Boot's autoboot, sets `_RUT_OH_=1` at the U-Boot prompt and
// boots. The boot script (device-scripts/boot/boot.cmd, docs/boot.md "Break-glass") takes a
// `_RUT_OH_=1` set at the prompt as a request for this boot only (it is never stored in the boot
// state), adds `rk64.breakglass=1` to the kernel command line, and the gateway's break-glass unit
// starts a root autologin on the serial console for that boot.
import { SerialPort } from 'serialport';

import { Rk64Error } from './errors.js';

const PROMPT = /(^|\n)=> $/;

export interface BreakGlassOptions {
  path: string;
  baud: number;
  /** How long to wait for U-Boot (the operator power-cycles the gateway meanwhile). */
  waitForUbootMs?: number;
  /** Boot after setting the flag (default true). */
  boot?: boolean;
  /** After `boot`, wait until the console shows this (e.g. the root shell prompt). */
  waitAfterBoot?: { pattern: RegExp; timeoutMs: number; what: string };
  /** Progress lines for stderr. */
  log?: (line: string) => void;
}

export interface BreakGlassResult {
  /** U-Boot's version line, naming the boot loader that took the request. */
  uboot: string;
  booted: boolean;
  /** What the console printed after `boot` (when `waitAfterBoot` was given). */
  bootOutput: string;
}

/** Talks to a U-Boot prompt: one command at a time, output up to the next `=> `. */
export class UbootConsole {
  private buffer = '';
  private waiter: (() => void) | null = null;

  constructor(private readonly port: SerialPort) {
    port.on('data', (chunk: Buffer) => {
      this.buffer += chunk.toString('latin1').replace(/\r/g, '');
      this.waiter?.();
    });
  }

  static async open(path: string, baud: number): Promise<UbootConsole> {
    const port = new SerialPort({ path, baudRate: baud, autoOpen: false });
    await new Promise<void>((resolve, reject) =>
      port.open((error) =>
        error
          ? reject(
              new Rk64Error(
                /busy|lock/i.test(error.message) ? 'serial-busy' : 'serial-missing',
                `Cannot open ${path}: ${error.message}`,
                'check the cable and that no other program (screen, minicom) holds the port',
              ),
            )
          : resolve(),
      ),
    );
    return new UbootConsole(port);
  }

  output(): string {
    return this.buffer;
  }

  private write(text: string): Promise<void> {
    return new Promise((resolve, reject) => this.port.write(text, (e) => (e ? reject(e) : resolve())));
  }

  /** Waits until `test` holds on the buffer, re-checking on every chunk, or times out. */
  private until(test: () => boolean, timeoutMs: number, what: string): Promise<void> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiter = null;
        const last = this.buffer.trim().split('\n').slice(-3).join(' | ');
        reject(
          new Rk64Error(
            'serial-silent',
            `No ${what} within ${Math.round(timeoutMs / 1000)} s${last ? ` (last output: ${last})` : ''}`,
          ),
        );
      }, timeoutMs);
      this.waiter = () => {
        if (test()) {
          clearTimeout(timer);
          this.waiter = null;
          resolve();
        }
      };
      this.waiter();
    });
  }

  /**
   * Presses Ctrl+C every 50 ms until U-Boot's prompt shows: stops the autoboot countdown (any
   * key does) and clears a half-typed line.
   */
  async interruptAutoboot(timeoutMs: number): Promise<void> {
    const keys = setInterval(() => void this.write('\u0003').catch(() => undefined), 50);
    try {
      await this.until(() => PROMPT.test(this.buffer), timeoutMs, 'U-Boot prompt (=>)');
      // Let the last presses arrive, then start from a clean prompt.
      clearInterval(keys);
      await new Promise((r) => setTimeout(r, 300));
      this.buffer = '';
      await this.write('\u0003');
      await this.until(() => PROMPT.test(this.buffer), 5000, 'U-Boot prompt (=>)');
    } finally {
      clearInterval(keys);
    }
  }

  /** Runs one command line; returns what it printed (without the echo and the prompt). */
  async run(line: string, timeoutMs = 10_000): Promise<string> {
    this.buffer = '';
    await this.write(`${line}\r`);
    await this.until(
      () => this.buffer.length > line.length && PROMPT.test(this.buffer),
      timeoutMs,
      `answer to '${line}'`,
    );
    const out = this.buffer.replace(PROMPT, '');
    const echo = out.indexOf('\n');
    return echo >= 0 ? out.slice(echo + 1) : '';
  }

  /** Sends a line without waiting for a prompt (e.g. `boot`). */
  async send(line: string): Promise<void> {
    this.buffer = '';
    await this.write(`${line}\r`);
  }

  async waitFor(pattern: RegExp, timeoutMs: number, what: string): Promise<void> {
    await this.until(() => pattern.test(this.buffer), timeoutMs, what);
  }

  close(): Promise<void> {
    return new Promise((resolve) => (this.port.isOpen ? this.port.close(() => resolve()) : resolve()));
  }
}

function parseEnvLines(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const m = /^([A-Za-z_][A-Za-z0-9_]*)=(.*)$/.exec(line.trim());
    if (m?.[1] !== undefined) out[m[1]] = m[2] ?? '';
  }
  return out;
}

export async function breakGlass(options: BreakGlassOptions): Promise<BreakGlassResult> {
  const log = options.log ?? (() => undefined);
  const uboot = await UbootConsole.open(options.path, options.baud);
  try {
    log(`waiting for U-Boot on ${options.path}: power-cycle or reset the gateway now`);
    await uboot.interruptAutoboot(options.waitForUbootMs ?? 120_000);
    const version = (await uboot.run('version')).trim().split('\n')[0] ?? 'U-Boot';
    log(`U-Boot prompt reached, autoboot stopped (${version})`);
    await uboot.run('setenv _RUT_OH_ 1');
    if (parseEnvLines(await uboot.run('printenv _RUT_OH_'))._RUT_OH_ !== '1') {
      throw new Rk64Error(
        'remote',
        'U-Boot did not keep _RUT_OH_=1; nothing was booted',
        'retry, or type it by hand',
      );
    }
    log('_RUT_OH_=1 set at the prompt (this boot only; never stored)');
    const boot = options.boot ?? true;
    let bootOutput = '';
    if (boot) {
      await uboot.send('boot');
      log('booting: the serial console comes up with a root autologin for this boot only');
      const wait = options.waitAfterBoot;
      if (wait) {
        await uboot.waitFor(wait.pattern, wait.timeoutMs, wait.what);
        bootOutput = uboot.output();
      }
    }
    return { uboot: version, booted: boot, bootOutput };
  } finally {
    await uboot.close();
  }
}
