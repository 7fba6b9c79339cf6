// A U-Boot prompt on a serial line, as a driver: stop the autoboot, run one command at a time and
// read its output up to the next `=> `. Break-glass (src/core/break-glass.ts) drives it; the
// shell console on the same line is the serial transport (serial.ts).
import type { SerialPort } from 'serialport';

import { Rk64Error } from '../errors.js';
import { openSerialPort } from './serial-port.js';

const PROMPT = /(^|\n)=> $/;

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

  /** Opens the device (locked, like every serial open) and talks to whatever U-Boot prints. */
  static async open(path: string, baud: number): Promise<UbootConsole> {
    return new UbootConsole(await openSerialPort(path, baud));
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
