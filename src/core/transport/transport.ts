// The one interface the console uses to reach a gateway, whatever carries it (SSH, SSH via a
// jump host over the VPN, or the serial console). Implementations live beside this file.
import { Rk64Error } from '../errors.js';

export interface ExecOptions {
  /** Kill the remote command's wait after this long and reject with a timeout error. */
  timeoutMs?: number;
  /** Abort waiting (and, where the transport can, the remote command). */
  signal?: AbortSignal;
  /** Streamed stdout, for long commands that print progress lines. */
  onStdout?: (chunk: string) => void;
  /** Most output kept per stream (stdout, stderr); more ends the command. Default MAX_OUTPUT_BYTES. */
  maxOutputBytes?: number;
  /** Called once the gateway runs the command (SSH: the exec request was granted; serial: the line was sent). */
  onStarted?: () => void;
}

/**
 * A command's output is held in memory until it ends, so a gateway that prints without end must
 * not fill the console's memory: no rk64 command prints near this much (a status document with a
 * thousand leases is about 150 KiB), so more is an error, never truncated data.
 */
export const MAX_OUTPUT_BYTES = 4 * 1024 * 1024;

/** The error for a command that printed more than the cap. */
export function outputTooLarge(where: string, command: string, stream: string, max: number): Rk64Error {
  return new Rk64Error(
    'protocol',
    `${where}: '${command}' printed more than ${Math.round(max / 1024)} KiB on ${stream}; stopped it`,
    'run the command on the gateway to see what it prints',
  );
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
  /** The line rate of a serial transport, in baud; undefined for SSH. */
  readonly baud?: number;
  /** The account commands run as; undefined is root (src/core/privilege.ts adds sudo otherwise). */
  readonly user?: string;
  exec(command: string, options?: ExecOptions): Promise<ExecResult>;
  upload(localPath: string, remotePath: string, options?: UploadOptions): Promise<void>;
  close(): Promise<void>;
}

/**
 * The serial flight recorder's capture files (src/core/serial-capture/recorder.ts): one file per
 * console run is closed and a new part started when it reaches CAPTURE_FILE_MAX_BYTES; the newest
 * CAPTURE_PARTS_KEPT parts of a run are kept, so one run never holds more than their product
 * (a chatty console at 1.5 Mbaud fills a part in about a minute; a booting gateway in hours).
 */
export const CAPTURE_FILE_MAX_BYTES = 8 * 1024 * 1024;
export const CAPTURE_PARTS_KEPT = 4;
/** A line longer than this is written as fragments (a console that never sends a newline). */
export const CAPTURE_RECORD_MAX_BYTES = 4096;
/** Bytes of an unfinished line (a login prompt) are written after this much silence. */
export const CAPTURE_IDLE_FLUSH_MS = 200;
