// The serial flight recorder's file side: every byte read from a serial line goes, with the time
// it arrived, into a capture file per console run (format.ts), so the first lines of a boot that
// fails before anything else can see it are kept on the operator's machine.
//
// Where: $XDG_STATE_HOME/rk64/serial/<target>/<start time>.log (XDG_STATE_HOME defaults to
// ~/.local/state). Rotation: when a file reaches CAPTURE_FILE_MAX_BYTES it becomes <name>.log.1
// (older parts move up to .2, ...; more than CAPTURE_PARTS_KEPT parts: the oldest is deleted) and
// writing goes on in a fresh <name>.log. Files are private to the user (0600, directory 0700):
// a console shows what was typed into it.
import { closeSync, fstatSync, mkdirSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';

import {
  CAPTURE_FILE_MAX_BYTES,
  CAPTURE_IDLE_FLUSH_MS,
  CAPTURE_PARTS_KEPT,
  CAPTURE_RECORD_MAX_BYTES,
} from '../transport/transport.js';
import { CAPTURE_MAGIC, formatRecord, type CaptureRecord } from './format.js';

/** A target name as one safe path component: `serial:/dev/ttyUSB0` → `serial_dev_ttyUSB0`. */
export function captureDirName(target: string): string {
  const safe = target
    .replace(/[^A-Za-z0-9._-]+/g, '_')
    .replace(/^[._]+/, '')
    .replace(/_+$/, '')
    .slice(0, 64);
  return safe === '' ? 'serial' : safe;
}

/** $XDG_STATE_HOME/rk64/serial (an XDG_STATE_HOME that is not absolute is ignored, as the spec says). */
export function captureRoot(env: NodeJS.ProcessEnv): string {
  const state = env.XDG_STATE_HOME?.startsWith('/') ? env.XDG_STATE_HOME : undefined;
  return join(state ?? join(env.HOME ?? homedir(), '.local', 'state'), 'rk64', 'serial');
}

/** `2026-12-06T05-12-25.123Z`: the ISO time with no colon (file managers and scp dislike them). */
export function captureFileStem(now: Date): string {
  return now.toISOString().replace(/:/g, '-');
}

export interface RecorderOptions {
  /** The target's name (profile or what was typed): the directory below the capture root. */
  target: string;
  device: string;
  baud: number;
  env: NodeJS.ProcessEnv;
  /** Overrides for tests; the declared limits otherwise. */
  maxFileBytes?: number;
  partsKept?: number;
  idleFlushMs?: number;
  now?: () => Date;
}

/**
 * Records the bytes of one serial line. `write(data)` is the tap: call it with every chunk read
 * from the port, in order. It never throws: a full disk stops the recording (with a note on
 * `failure`), never the console.
 */
export class CaptureRecorder {
  readonly path: string;
  /** Why recording stopped, if it did. */
  failure: string | undefined;
  private fd: number | undefined;
  private size = 0;
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private pendingSince: Date | undefined;
  private idleTimer: NodeJS.Timeout | undefined;
  private readonly maxFileBytes: number;
  private readonly partsKept: number;
  private readonly idleFlushMs: number;
  private readonly now: () => Date;
  private readonly listeners = new Set<(line: Buffer, time: Date, complete: boolean) => void>();

  constructor(private readonly options: RecorderOptions) {
    this.maxFileBytes = options.maxFileBytes ?? CAPTURE_FILE_MAX_BYTES;
    this.partsKept = options.partsKept ?? CAPTURE_PARTS_KEPT;
    this.idleFlushMs = options.idleFlushMs ?? CAPTURE_IDLE_FLUSH_MS;
    this.now = options.now ?? (() => new Date());
    const dir = join(captureRoot(options.env), captureDirName(options.target));
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const stem = captureFileStem(this.now());
    let path = join(dir, `${stem}.log`);
    // Two runs started in the same millisecond: never append to another run's file.
    for (let n = 2; ; n += 1) {
      try {
        this.fd = openSync(path, 'wx', 0o600);
        break;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST' || n > 99) throw error;
        path = join(dir, `${stem}-${n}.log`);
      }
    }
    this.path = path;
    this.header('started');
  }

  /** Called with every complete line (and every fragment flushed) as it is recorded. */
  onLine(listener: (line: Buffer, time: Date, complete: boolean) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** The tap: bytes as they were read from the port. */
  write(data: Buffer): void {
    const time = this.now();
    let start = 0;
    for (;;) {
      const lf = data.indexOf(0x0a, start);
      if (lf === -1) break;
      this.append(data.subarray(start, lf), time);
      this.emit('line', time);
      start = lf + 1;
    }
    if (start < data.length) this.append(data.subarray(start), time);
    this.armIdle();
  }

  /** A note of the recorder's own in the file (`# ...`): port opened, lost, closed. */
  note(text: string): void {
    this.flushPending();
    this.put({ kind: 'note', text: `${this.now().toISOString()} ${text}` });
  }

  close(reason = 'closed'): void {
    if (this.fd === undefined) return;
    this.note(reason);
    clearTimeout(this.idleTimer);
    closeSync(this.fd);
    this.fd = undefined;
  }

  private header(why: string): void {
    const { target, device, baud } = this.options;
    this.put({
      kind: 'note',
      text: `${CAPTURE_MAGIC.slice(2)} target=${target} device=${device} baud=${baud} ${why}=${this.now().toISOString()}`,
    });
  }

  private append(bytes: Buffer, time: Date): void {
    if (bytes.length === 0) return;
    this.pendingSince ??= time;
    this.pending.push(Buffer.from(bytes));
    this.pendingBytes += bytes.length;
    while (this.pendingBytes > CAPTURE_RECORD_MAX_BYTES)
      this.emit('fragment', time, CAPTURE_RECORD_MAX_BYTES);
  }

  /** Write the pending bytes (or their first `limit`) as a record; a line record even when empty. */
  private emit(kind: 'line' | 'fragment', time: Date, limit?: number): void {
    const all = Buffer.concat(this.pending);
    const bytes = limit === undefined ? all : all.subarray(0, limit);
    const rest = limit === undefined ? Buffer.alloc(0) : all.subarray(limit);
    const since = this.pendingSince ?? time;
    this.pending = rest.length > 0 ? [Buffer.from(rest)] : [];
    this.pendingBytes = rest.length;
    this.pendingSince = rest.length > 0 ? time : undefined;
    this.put({ kind, time: since, bytes });
    for (const listener of [...this.listeners]) listener(bytes, since, kind === 'line');
  }

  private flushPending(): void {
    if (this.pendingBytes > 0) this.emit('fragment', this.pendingSince ?? this.now());
  }

  private armIdle(): void {
    clearTimeout(this.idleTimer);
    if (this.pendingBytes === 0) return;
    this.idleTimer = setTimeout(() => this.flushPending(), this.idleFlushMs);
    this.idleTimer.unref();
  }

  private put(record: CaptureRecord): void {
    if (this.fd === undefined) return;
    const text = Buffer.from(formatRecord(record), 'utf8');
    try {
      if (this.size > 0 && this.size + text.length > this.maxFileBytes) this.rotate();
      writeSync(this.fd, text);
      this.size += text.length;
    } catch (error) {
      this.failure = `writing ${this.path} failed: ${(error as Error).message}; recording stopped`;
      try {
        closeSync(this.fd);
      } catch {
        // already gone
      }
      this.fd = undefined;
    }
  }

  /** <name>.log → <name>.log.1 → ... ; the part beyond CAPTURE_PARTS_KEPT is deleted. */
  private rotate(): void {
    if (this.fd === undefined) return;
    closeSync(this.fd);
    this.fd = undefined;
    rmSync(`${this.path}.${this.partsKept - 1}`, { force: true });
    for (let n = this.partsKept - 2; n >= 1; n -= 1) {
      try {
        renameSync(`${this.path}.${n}`, `${this.path}.${n + 1}`);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
      }
    }
    if (this.partsKept > 1) renameSync(this.path, `${this.path}.1`);
    else rmSync(this.path, { force: true });
    this.fd = openSync(this.path, 'wx', 0o600);
    this.size = fstatSync(this.fd).size;
    this.header('continued');
  }
}
