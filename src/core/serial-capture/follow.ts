// Following a serial line live: the recorder's lines go to a BootTracker, and every boot that
// starts and every stage it reaches becomes an event for the console to show (the dashboard's
// boot line, `rk64 capture`'s progress).
import { printable } from '../printable.js';
import { BootTracker, type Boot, type BootStage } from './boots.js';
import type { CaptureRecorder } from './recorder.js';

export interface BootEvent {
  /** 'new-boot' when U-Boot's banner appeared; otherwise the stage reached. */
  kind: 'new-boot' | BootStage;
  boot: Boot;
  /** One printable line for a person. */
  text: string;
}

function attempts(boot: Boot): string {
  if (boot.attemptsLeftBefore === undefined) return '';
  const after = boot.attemptsLeftAfter === undefined ? '' : ` → ${boot.attemptsLeftAfter}`;
  return `; attempts left ${boot.attemptsLeftBefore}${after}`;
}

/** The line shown when `boot` reached `kind`. */
export function describeBootEvent(kind: BootEvent['kind'], boot: Boot): string {
  const n = `boot ${boot.index + 1}`;
  switch (kind) {
    case 'new-boot':
      return `${n}: ${boot.banner}`;
    case 'boot-script':
      return `${n}: boot script running`;
    case 'kernel':
      return `${n}: kernel starting (slot ${boot.slot ?? '?'}, ${boot.mode ?? 'normal'}${attempts(boot)})`;
    case 'user-space':
      return `${n}: user space (systemd) on slot ${boot.slot ?? '?'}`;
    case 'health-check':
      return `${n}: health check running`;
    case 'login':
      return `${n}: login prompt: slot ${boot.slot ?? '?'} is up`;
    case 'uboot':
      return `${n}: U-Boot`;
  }
}

/** The health check's verdict as a line, once it has one. */
export function describeHealth(boot: Boot): string | undefined {
  const h = boot.health;
  if (!h || h.verdict === 'checking') return undefined;
  const n = `boot ${boot.index + 1}`;
  if (h.verdict === 'failed') return `${n}: health check FAILED: ${h.reason}`;
  return h.verdict === 'passed'
    ? `${n}: health check passed, slot ${boot.slot ?? '?'} marked good`
    : `${n}: slot ${boot.slot ?? '?'} was committed earlier`;
}

/** Feed the recorder's lines to a tracker and report boots and stages to `onEvent`. */
export function followBoots(recorder: CaptureRecorder, onEvent: (event: BootEvent) => void): BootTracker {
  const tracker = new BootTracker();
  let open: Buffer[] = [];
  let lastHealth: string | undefined;
  recorder.onLine((bytes, time, complete) => {
    open.push(bytes);
    const line = Buffer.concat(open);
    // A fragment (a prompt without its newline yet) is looked at for the login prompt only; the
    // whole line goes to the tracker once it is complete.
    const reached = complete ? tracker.line(line, time) : tracker.partial(line, time);
    if (complete) open = [];
    const boot = tracker.current;
    if (!boot) return;
    if (reached) onEvent({ kind: reached, boot, text: printable(describeBootEvent(reached, boot)) });
    const health = describeHealth(boot);
    if (health && health !== lastHealth) {
      lastHealth = health;
      onEvent({ kind: 'health-check', boot, text: printable(health) });
    }
  });
  return tracker;
}
