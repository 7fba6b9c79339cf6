// A scripted Transport for the console's unit tests (keypress flows, action layer), in the style of
// lazygit's fake command runner: the test lists the commands it expects, in order, with their
// answers; any other command, one out of order, or one never sent fails the test (checked when the
// test finishes). The one exception is `rk64-status`, the dashboard's poll, answered whenever it
// comes once `status()` is given. Integration tests use the real SSH transport against a real sshd.
import { stat } from 'node:fs/promises';

import { onTestFinished } from 'vitest';

import { Rk64Error } from '../../src/core/errors.js';
import type { GatewayStatus } from '../../src/core/status/schema.js';
import type {
  ExecOptions,
  ExecResult,
  Transport,
  TransportKind,
  UploadOptions,
} from '../../src/core/transport/transport.js';

export type Handler = (command: string, options: ExecOptions) => ExecResult | Promise<ExecResult>;

export interface UploadRecord {
  localPath: string;
  remotePath: string;
  bytes: number;
}

interface Expected {
  match: string | RegExp;
  handler: Handler;
}

const describeMatch = (m: string | RegExp): string => (typeof m === 'string' ? JSON.stringify(m) : String(m));

export class FakeTransport implements Transport {
  readonly commands: string[] = [];
  readonly uploads: UploadRecord[] = [];
  /** Commands that were not the next expected one (the test fails when it finishes). */
  readonly unexpected: string[] = [];
  closed = false;
  private readonly script: Expected[] = [];
  private statusHandler: Handler | null = null;
  /** The next exec (any command) rejects with this error, once. */
  failNext: Rk64Error | null = null;
  /** Pause between the four progress reports of an upload (slow enough for frames to show it). */
  uploadChunkDelayMs = 40;

  constructor(
    readonly kind: TransportKind = 'ssh',
    readonly description = 'ssh://root@gw.test:22',
    /** The line rate of a serial transport (Transport.baud). */
    readonly baud?: number,
  ) {
    onTestFinished(() => this.verify());
  }

  /** The next command must be exactly this string (or match this pattern); it gets this answer. */
  expect(match: string | RegExp, handler: Handler | ExecResult): this {
    this.script.push({ match, handler: typeof handler === 'function' ? handler : () => handler });
    return this;
  }

  /** rk64-status answers with this document, whenever it is asked (the one round trip per refresh). */
  status(doc: GatewayStatus | (() => GatewayStatus)): this {
    this.statusHandler = () => ({
      stdout: JSON.stringify(typeof doc === 'function' ? doc() : doc),
      stderr: '',
      exitCode: 0,
    });
    return this;
  }

  /** Throws when a command was unexpected or an expected one was never sent. */
  verify(): void {
    const problems = [
      ...this.unexpected.map((u) => `unexpected command ${u}`),
      ...this.script.map((e) => `expected command never sent: ${describeMatch(e.match)}`),
    ];
    if (problems.length > 0) throw new Error(`fake transport (${this.description}):\n${problems.join('\n')}`);
  }

  async exec(command: string, options: ExecOptions = {}): Promise<ExecResult> {
    if (this.closed) throw new Rk64Error('connection-lost', 'fake transport: used after close');
    this.commands.push(command);
    if (this.failNext) {
      const error = this.failNext;
      this.failNext = null;
      throw error;
    }
    const handler = command === 'rk64-status' && this.statusHandler ? this.statusHandler : this.next(command);
    options.onStarted?.();
    const result = await handler(command, options);
    if (options.onStdout && result.stdout) options.onStdout(result.stdout);
    return result;
  }

  private next(command: string): Handler {
    const expected = this.script[0];
    const matches =
      expected &&
      (typeof expected.match === 'string' ? expected.match === command : expected.match.test(command));
    if (!expected || !matches) {
      const wanted = expected ? describeMatch(expected.match) : 'no further command';
      this.unexpected.push(`${JSON.stringify(command)} (expected ${wanted})`);
      throw new Error(`fake transport: unexpected command ${JSON.stringify(command)} (expected ${wanted})`);
    }
    this.script.shift();
    return expected.handler;
  }

  async upload(localPath: string, remotePath: string, options: UploadOptions = {}): Promise<void> {
    if (this.closed) throw new Rk64Error('connection-lost', 'fake transport: used after close');
    const totalBytes = (await stat(localPath)).size;
    const chunk = Math.max(1, Math.ceil(totalBytes / 4));
    for (let sent = 0; sent < totalBytes;) {
      sent = Math.min(totalBytes, sent + chunk);
      options.onProgress?.({ bytesSent: sent, totalBytes });
      await new Promise((r) => setTimeout(r, this.uploadChunkDelayMs));
    }
    this.uploads.push({ localPath, remotePath, bytes: totalBytes });
  }

  close(): Promise<void> {
    this.closed = true;
    return Promise.resolve();
  }
}

export const ok = (stdout = ''): ExecResult => ({ stdout, stderr: '', exitCode: 0 });
