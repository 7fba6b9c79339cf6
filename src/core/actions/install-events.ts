// `rk64-action install` reports on stdout as JSON lines (contract: device-scripts/rootfs/rk64-action):
// {"event":"progress","percent":N,"message":"..."} ... then one {"event":"result","ok":B,"message":"..."},
// which carries "refused":"downgrade", "bundleVersion" and "runningVersion" when the gateway refused
// a bundle that is not newer than the running system.

export interface Downgrade {
  /** The version the gateway runs. */
  running: string;
  /** The signed version inside the bundle (not newer than `running`). */
  bundle: string;
}

export type InstallEvent =
  | { event: 'progress'; percent: number; message: string }
  | { event: 'result'; ok: boolean; message: string; downgrade: Downgrade | null };

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function downgradeOf(value: Record<string, unknown>): Downgrade | null {
  const { refused, runningVersion, bundleVersion } = value;
  if (refused !== 'downgrade' || typeof runningVersion !== 'string' || typeof bundleVersion !== 'string') {
    return null;
  }
  return { running: runningVersion, bundle: bundleVersion };
}

export function parseInstallEvent(value: unknown): InstallEvent | null {
  if (!isRecord(value)) return null;
  const message = typeof value.message === 'string' ? value.message : '';
  if (value.event === 'progress' && typeof value.percent === 'number') {
    return { event: 'progress', percent: Math.min(100, Math.max(0, value.percent)), message };
  }
  if (value.event === 'result' && typeof value.ok === 'boolean') {
    return { event: 'result', ok: value.ok, message, downgrade: value.ok ? null : downgradeOf(value) };
  }
  return null;
}

/** Splits streamed stdout into JSON lines; lines that are not JSON (console noise) are skipped. */
export class JsonLines {
  private buffer = '';
  constructor(private readonly onValue: (value: unknown) => void) {}

  push(chunk: string): void {
    this.buffer += chunk;
    let newline = this.buffer.indexOf('\n');
    while (newline >= 0) {
      this.emit(this.buffer.slice(0, newline));
      this.buffer = this.buffer.slice(newline + 1);
      newline = this.buffer.indexOf('\n');
    }
  }

  end(): void {
    this.emit(this.buffer);
    this.buffer = '';
  }

  private emit(line: string): void {
    const trimmed = line.trim();
    if (!trimmed.startsWith('{')) return;
    try {
      this.onValue(JSON.parse(trimmed));
    } catch {
      // Not a JSON line (an interleaved kernel message over serial): not ours.
    }
  }
}
