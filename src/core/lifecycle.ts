// A slot's update lifecycle and the gateway's lifecycle journal as the console shows them: the
// state label (`trying 1 of 3`), one line per journal event, and the one-sentence answer to "why
// did it fall back?" (`rk64 why`, the dashboard's why line). The journal and the states are the
// gateway's (device-scripts/lib/lifecycle.sh, lifecycle.jq; docs/boot.md, "Lifecycle journal");
// this module only reads the events rk64-status prints (status field `history`).
import type { HistoryEvent, SlotLifecycle } from './status/schema.js';

/** `trying 1 of 3`, `fell back`, `health-checking`; `unknown` for a state this console does not know. */
export function lifecycleLabel(lifecycle: SlotLifecycle | null): string {
  if (!lifecycle) return '-';
  switch (lifecycle.state) {
    case null:
      return 'unknown';
    case 'trying':
      return lifecycle.attempt !== null && lifecycle.maxAttempts !== null
        ? `trying ${lifecycle.attempt} of ${lifecycle.maxAttempts}`
        : 'trying';
    case 'fell-back':
      return 'fell back';
    default:
      return lifecycle.state;
  }
}

/** `14:02 UTC` from the gateway's ISO 8601 time; the text as it is when it is not one. */
export function clockTime(at: string): string {
  const m = /^\d{4}-\d{2}-\d{2}T(\d{2}:\d{2})(?::\d{2})?(?:\.\d+)?Z$/.exec(at);
  return m ? `${m[1]} UTC` : at;
}

const WORDS = ['no', 'one', 'two', 'three', 'four', 'five', 'six', 'seven', 'eight', 'nine', 'ten'];
const words = (n: number) => WORDS[n] ?? String(n);
const times = (n: number) => (n === 1 ? 'once' : n === 2 ? 'twice' : `${words(n)} times`);
const boots = (n: number) => `${words(n)} boot${n === 1 ? '' : 's'}`;

/** One journal event as one line: time, slot, what happened. */
export function describeEvent(e: HistoryEvent): string {
  const slot = e.slot ? `slot ${e.slot}` : 'slot ?';
  const by = e.by ? ` by ${e.by}` : '';
  const version = e.version ? ` version ${e.version}` : '';
  let what: string;
  switch (e.event) {
    case 'install-started':
      what = `${slot}: install of${version || ' a bundle'} started${by}${e.source ? ` from ${e.source}` : ''}`;
      break;
    case 'install-finished':
      what = `${slot}:${version || ' bundle'} installed${by}${e.hash ? ` (sha256 ${e.hash.slice(0, 12)}…)` : ''}`;
      break;
    case 'install-failed':
      what = `${slot}: install${version} failed${by}: ${e.reason ?? 'no reason recorded'}`;
      break;
    case 'slot-activated':
      what = `${slot} activated (boots next)${by}`;
      break;
    case 'boot': {
      const attempt =
        e.attemptsLeft !== null && e.maxAttempts !== null
          ? `, ${e.attemptsLeft} of ${e.maxAttempts} attempts left`
          : '';
      const ended = e.previousBootEnded
        ? `; the previous boot ended: ${endingText(e.previousBootEnded)}`
        : '';
      what = `booted ${slot}${attempt}${ended}`;
      break;
    }
    case 'up':
      what = `${slot} reached multi-user.target`;
      break;
    case 'health':
      what =
        e.verdict === 'failed'
          ? `${slot}: health check FAILED: ${e.detail ?? e.check ?? 'no detail'}`
          : e.verdict === 'running'
            ? `${slot}: health check started`
            : `${slot}: health check ${e.verdict ?? '?'}`;
      break;
    case 'marked':
      what = `${slot} marked ${e.verdict ?? '?'}${by}`;
      break;
    case 'fell-back':
      what = `${slot} FELL BACK to ${e.to ?? '?'}: its ${e.maxAttempts ?? e.boots ?? '?'} attempts ran out`;
      break;
    default:
      what = `${e.event}${e.slot ? ` (${slot})` : ''}`;
  }
  return `${e.at.replace('T', ' ').replace(/Z$/, '')}  ${what}`;
}

function endingText(ending: string): string {
  return ending === 'clean'
    ? 'clean shutdown'
    : ending === 'watchdog'
      ? 'watchdog reset'
      : 'unknown (power loss or a hang)';
}

/**
 * What a serial capture saw of the fallen-back slot's boots (the flight recorder, `rk64 capture`),
 * one entry per boot attempt of that slot, oldest first: added to the journal's evidence where the
 * journal cannot know (a boot that never reached user space leaves no journal line).
 * Built from the serial capture by src/core/serial-capture/saved.ts (`fallBackEvidence`).
 */
export interface CaptureEvidence {
  attempts: readonly { slot?: string; kernelStarted: boolean; userSpaceReached: boolean }[];
}

/** The journal's account of the last fall-back: the events of the slot's last trial, in order. */
export interface FallBack {
  slot: string;
  to: string | null;
  at: string;
  /** The slot's boot events between its last installation (or activation) and the fall-back. */
  boots: HistoryEvent[];
  /** How each of those boots ended: `previousBootEnded` of the boot that followed it. */
  endings: string[];
  healthFailures: HistoryEvent[];
  maxAttempts: number | null;
}

/** The last fall-back in the journal (oldest-first events), or null when there is none. */
export function lastFallBack(history: readonly HistoryEvent[]): FallBack | null {
  const at = history.findLastIndex((e) => e.event === 'fell-back' && e.slot !== null);
  const fell = history[at];
  if (!fell?.slot) return null;
  const slot = fell.slot;
  const start = history.findLastIndex(
    (e, i) => i < at && e.slot === slot && (e.event === 'install-finished' || e.event === 'slot-activated'),
  );
  const window = history.slice(start + 1, at + 1);
  const allBoots = window.filter((e) => e.event === 'boot');
  const boots = allBoots.filter((e) => e.slot === slot);
  const endings = boots.map((b) => allBoots[allBoots.indexOf(b) + 1]?.previousBootEnded ?? 'unknown');
  const healthFailures = window.filter(
    (e) => e.event === 'health' && e.slot === slot && e.verdict === 'failed',
  );
  return { slot, to: fell.to, at: fell.at, boots, endings, healthFailures, maxAttempts: fell.maxAttempts };
}

/**
 * One sentence: why the gateway fell back (from the journal, and the serial capture when there is
 * one), or what the journal says otherwise.
 */
export function explain(history: readonly HistoryEvent[], evidence?: CaptureEvidence): string {
  const fb = lastFallBack(history);
  if (!fb) {
    const last = history.at(-1);
    return last
      ? `no fall-back in the lifecycle journal; the last event: ${describeEvent(last)}`
      : 'no fall-back: the lifecycle journal is empty (or this gateway does not keep one)';
  }
  const head = `slot ${fb.slot} fell back to ${fb.to ?? 'the other slot'} at ${clockTime(fb.at)}`;
  return `${head}: ${fallBackCause(fb, evidence)}`;
}

function fallBackCause(fb: FallBack, evidence?: CaptureEvidence): string {
  const tries = fb.maxAttempts ?? 0;
  const attempts = evidence?.attempts.filter((a) => a.slot === undefined || a.slot === fb.slot) ?? [];
  if (fb.boots.length === 0) {
    const n = attempts.length || tries;
    const kernel = attempts.length
      ? attempts.every((a) => !a.kernelStarted)
        ? 'kernel did not start'
        : 'the kernel started, user space did not'
      : 'the kernel did not start, or stopped before user space';
    return `${boots(n)} of ${fb.slot} never reached user space (${kernel})`;
  }
  if (fb.healthFailures.length > 0) {
    const last = fb.healthFailures.at(-1);
    const what = last?.detail ?? last?.check ?? 'no detail recorded';
    return `the health check failed ${times(fb.healthFailures.length)}: ${what}`;
  }
  const watchdog = fb.endings.filter((e) => e === 'watchdog').length;
  const unknown = fb.endings.filter((e) => e !== 'watchdog' && e !== 'clean').length;
  if (watchdog === fb.endings.length) return `the watchdog reset a hung system ${times(watchdog)}`;
  if (unknown === fb.endings.length)
    return `${boots(unknown)} of ${fb.slot} ended without a clean shutdown (power loss, or a hang the watchdog driver does not report)`;
  const parts = [
    watchdog ? `${watchdog} reset by the watchdog` : '',
    unknown ? `${unknown} ended without a clean shutdown` : '',
    fb.endings.length - watchdog - unknown
      ? `${fb.endings.length - watchdog - unknown} shut down cleanly`
      : '',
  ].filter(Boolean);
  return `of its ${boots(fb.boots.length)}: ${parts.join(', ')}`;
}

/** The history panel's and `rk64 history`'s lines: the last fall-back's explanation on top, then newest first. */
export function historyLines(history: readonly HistoryEvent[]): { why: string | null; events: string[] } {
  return {
    why: lastFallBack(history) ? explain(history) : null,
    events: [...history].reverse().map(describeEvent),
  };
}
