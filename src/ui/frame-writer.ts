// Minimal redraw for the full-screen dashboard. Ink renders each frame in full into this sink
// (Ink's debug mode: no cursor movement of its own); the sink compares it line by line with the
// frame on screen and writes only the lines that changed, each addressed absolutely in the
// alternate screen, at most `maxFps` times a second. A refresh that changes one value rewrites
// one line, which is what keeps a refresh cheap over a slow (serial) terminal.
// (Ink 6.8's own incrementalRendering redraws one line too low after a frame that ends in a
// newline, so it is not used.)
import { Writable } from 'node:stream';

const ESC = '\u001b[';

export const SCREEN = {
  enter: `${ESC}?1049h${ESC}?25l${ESC}2J`,
  leave: `${ESC}?25h${ESC}?1049l`,
} as const;

export interface TerminalLike {
  write(text: string): boolean;
  columns?: number;
  rows?: number;
  on(event: 'resize', listener: () => void): unknown;
  off(event: 'resize', listener: () => void): unknown;
}

/**
 * A terminal nobody sized (a pty from script(1), many serial terminals) reports 0 × 0; Ink would
 * then lay the dashboard out one character per line. Fall back to $COLUMNS/$LINES, then 80 × 24.
 */
function size(reported: number | undefined, fromEnv: string | undefined, fallback: number): number {
  if (reported && reported > 0) return reported;
  const env = Number(fromEnv);
  return Number.isInteger(env) && env > 0 ? env : fallback;
}

export class FrameSink extends Writable {
  /** Bytes written to the terminal so far (the benchmark reads it). */
  bytesWritten = 0;
  frames = 0;
  private shown: string[] = [];
  private pending: string | null = null;
  private timer: NodeJS.Timeout | null = null;
  private lastFlush = 0;
  private readonly minIntervalMs: number;
  private readonly onResize = () => {
    // Everything moved: redraw the whole frame on a clean screen.
    this.shown = [];
    this.emitToTerminal(`${ESC}2J`);
    this.emit('resize');
  };

  constructor(
    private readonly terminal: TerminalLike,
    maxFps: number,
  ) {
    super({ decodeStrings: false });
    this.minIntervalMs = 1000 / maxFps;
    terminal.on('resize', this.onResize);
  }

  get columns(): number {
    return size(this.terminal.columns, process.env.COLUMNS, 80);
  }

  get rows(): number {
    return size(this.terminal.rows, process.env.LINES, 24);
  }

  override _write(
    chunk: Buffer | string,
    _encoding: BufferEncoding,
    callback: (error?: Error | null) => void,
  ): void {
    this.pending = typeof chunk === 'string' ? chunk : chunk.toString('utf8');
    this.schedule();
    callback();
  }

  /** Writes the latest frame now (used before leaving the screen). */
  flush(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    const frame = this.pending;
    this.pending = null;
    if (frame === null) return;
    this.lastFlush = Date.now();
    const next = frame.replace(/\n$/, '').split('\n');
    let out = '';
    for (let i = 0; i < Math.max(next.length, this.shown.length); i++) {
      const line = next[i];
      if (line === this.shown[i]) continue;
      out += `${ESC}${i + 1};1H${line ?? ''}${ESC}K`;
    }
    this.shown = next;
    if (out !== '') {
      this.frames += 1;
      this.emitToTerminal(out);
    }
  }

  detach(): void {
    this.flush();
    this.terminal.off('resize', this.onResize);
  }

  private schedule(): void {
    if (this.timer) return;
    const wait = Math.max(0, this.lastFlush + this.minIntervalMs - Date.now());
    this.timer = setTimeout(() => this.flush(), wait);
  }

  private emitToTerminal(text: string): void {
    this.bytesWritten += Buffer.byteLength(text);
    this.terminal.write(text);
  }
}
