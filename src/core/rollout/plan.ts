// Rollout planning, React-free and without I/O: the batches (`--batches 1,10%,100%`), the failure
// threshold (`--max-failures N|P%`) and the per-gateway phases a rollout's state file records.
import { Rk64Error } from '../errors.js';

/** One step of `--batches`: how many gateways are done after it, in total (cumulative). */
export type BatchStep = { kind: 'count'; count: number } | { kind: 'percent'; percent: number };

export const DEFAULT_BATCHES = '1,10%,100%';
export const DEFAULT_MAX_FAILURES = '0';
/** How long the health check must stay passed on the new version before a gateway counts as good. */
export const DEFAULT_SOAK = '2m';
/** A rebooted gateway's time to come back and turn good: a Rock64 boots in about a minute. */
export const DEFAULT_BOOT_TIMEOUT_S = 600;

const usage = (why: string, hint: string) => new Rk64Error('usage', why, hint);

export function parseBatches(text: string): BatchStep[] {
  const steps = text.split(',').map((part) => part.trim());
  if (steps.length === 0 || steps.some((s) => s === '')) {
    throw usage(`--batches '${text}': empty step`, `e.g. --batches ${DEFAULT_BATCHES}`);
  }
  return steps.map((step) => {
    const percent = /^(\d{1,3})%$/.exec(step);
    if (percent) {
      const p = Number(percent[1]);
      if (p < 1 || p > 100)
        throw usage(`--batches: ${step} is not between 1% and 100%`, `e.g. --batches ${DEFAULT_BATCHES}`);
      return { kind: 'percent', percent: p };
    }
    if (/^[1-9]\d{0,5}$/.test(step)) return { kind: 'count', count: Number(step) };
    throw usage(
      `--batches: '${step}' is neither a count nor a percentage`,
      `e.g. --batches ${DEFAULT_BATCHES}`,
    );
  });
}

/**
 * The gateways in batches. Each step says how many are done after it, in total: a count, or a
 * percentage of the fleet rounded up (so 10% of 15 is 2, and a canary of 1 stays 1). A step that
 * adds nobody is dropped; the last step must reach every gateway (end with 100%).
 */
export function planBatches<T>(gateways: readonly T[], steps: readonly BatchStep[]): T[][] {
  const total = gateways.length;
  const batches: T[][] = [];
  let done = 0;
  for (const step of steps) {
    const target = Math.min(
      total,
      step.kind === 'count' ? step.count : Math.ceil((step.percent * total) / 100),
    );
    if (target > done) {
      batches.push(gateways.slice(done, target));
      done = target;
    }
  }
  if (done < total) {
    throw usage(
      `--batches reaches ${done} of ${total} gateways`,
      'end the batches with 100% so every gateway is in one',
    );
  }
  return batches;
}

export type FailureLimit = { kind: 'count'; count: number } | { kind: 'percent'; percent: number };

export function parseMaxFailures(text: string): FailureLimit {
  const percent = /^(\d{1,3})%$/.exec(text.trim());
  if (percent && Number(percent[1]) <= 100) return { kind: 'percent', percent: Number(percent[1]) };
  if (/^\d{1,6}$/.test(text.trim())) return { kind: 'count', count: Number(text.trim()) };
  throw usage(
    `--max-failures '${text}' is neither a count nor a percentage`,
    'e.g. --max-failures 0, 2 or 10%',
  );
}

/** The failures allowed: a count, or a percentage of the fleet rounded down (10% of 15 allows 1). */
export function allowedFailures(limit: FailureLimit, total: number): number {
  return limit.kind === 'count' ? limit.count : Math.floor((limit.percent * total) / 100);
}

/** More failed than allowed: the rollout starts no new installs. Unreachable gateways do not count. */
export function overFailureLimit(failed: number, limit: FailureLimit, total: number): boolean {
  return failed > allowedFailures(limit, total);
}

/** Where one gateway is in the rollout. */
export type GatewayPhase =
  | 'pending'
  | 'uploading'
  | 'installing'
  | 'rebooting'
  | 'verifying'
  | 'good'
  | 'failed'
  | 'unreachable'
  /** Not started because the rollout stopped. */
  | 'skipped';

export const FINAL_PHASES: readonly GatewayPhase[] = ['good', 'failed'];
