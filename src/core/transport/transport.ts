// The one interface the console uses to reach a gateway, whatever carries it (SSH, SSH via a
// jump host over the VPN, or the serial console). Implementations live beside this file.

export interface ExecOptions {
  /** Kill the remote command's wait after this long and reject with a timeout error. */
  timeoutMs?: number;
  /** Abort waiting (and, where the transport can, the remote command). */
  signal?: AbortSignal;
  /** Streamed stdout, for long commands that print progress lines. */
  onStdout?: (chunk: string) => void;
}

export interface ExecResult {
  stdout: string;
  stderr: string;
  /** The remote command's exit status; serial transports merge stderr into stdout. */
  exitCode: number;
}

export interface UploadProgress {
  bytesSent: number;
  totalBytes: number;
}

export interface UploadOptions {
  signal?: AbortSignal;
  onProgress?: (progress: UploadProgress) => void;
}

export type TransportKind = 'ssh' | 'serial';

export interface Transport {
  readonly kind: TransportKind;
  /** Human-readable: `ssh://op@10.8.0.5:22 via jump.example` or `serial:/dev/ttyUSB0@1500000`. */
  readonly description: string;
  exec(command: string, options?: ExecOptions): Promise<ExecResult>;
  upload(localPath: string, remotePath: string, options?: UploadOptions): Promise<void>;
  close(): Promise<void>;
}
