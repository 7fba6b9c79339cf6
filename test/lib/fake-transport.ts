// A scripted Transport for the console's unit tests (keypress flows, action layer): records every
// command and upload, answers from handlers the test registers. Integration tests use the real
// SSH transport against a real sshd instead.
import { stat } from 'node:fs/promises';

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

export class FakeTransport implements Transport {
  readonly commands: string[] = [];
  readonly uploads: UploadRecord[] = [];
  closed = false;
  private readonly handlers: { match: RegExp; handler: Handler }[] = [];
  /** The next exec (any command) rejects with this error, once. */
  failNext: Rk64Error | null = null;
  /** Pause between the four progress reports of an upload (slow enough for frames to show it). */
  uploadChunkDelayMs = 40;

  constructor(
    readonly kind: TransportKind = 'ssh',
    readonly description = 'ssh://root@gw.test:22',
  ) {}

  on(match: RegExp, handler: Handler | ExecResult): this {
    this.handlers.push({ match, handler: typeof handler === 'function' ? handler : () => handler });
    return this;
  }

  /** rk64-status answers with this document (the one round trip per refresh). */
  status(doc: GatewayStatus | (() => GatewayStatus)): this {
    return this.on(/^rk64-status$/, () => ({
      stdout: JSON.stringify(typeof doc === 'function' ? doc() : doc),
      stderr: '',
      exitCode: 0,
    }));
  }

  async exec(command: string, options: ExecOptions = {}): Promise<ExecResult> {
    if (this.closed) throw new Rk64Error('connection-lost', 'fake transport: used after close');
    this.commands.push(command);
    if (this.failNext) {
      const error = this.failNext;
      this.failNext = null;
      throw error;
    }
    for (let i = this.handlers.length - 1; i >= 0; i--) {
      const h = this.handlers[i];
      if (h && h.match.test(command)) {
        const result = await h.handler(command, options);
        if (!options.onStdout && result.stdout) return result;
        if (options.onStdout && result.stdout) options.onStdout(result.stdout);
        return result;
      }
    }
    return { stdout: '', stderr: `sh: ${command.split(' ')[0]}: not found`, exitCode: 127 };
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

  async close(): Promise<void> {
    this.closed = true;
  }
}

export const ok = (stdout = ''): ExecResult => ({ stdout, stderr: '', exitCode: 0 });
