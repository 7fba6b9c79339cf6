// Where a gateway's slots stand in an update's lifecycle, and whether a rollout to a version has
// succeeded on it. One function each, over the status document: they read rauc.slots[].lifecycle
// when the gateway reports it (rk64.status/1 with the lifecycle journal) and otherwise judge from
// the fields every gateway reports (booted slot, RAUC's boot status, the health check).
import { LIFECYCLE_STATES } from './status/schema.js';
import type { GatewayStatus, LifecycleState, SlotName } from './status/schema.js';
import { statusJson } from './status/validate.js';

export interface SlotLifecycle {
  state: LifecycleState;
  /** `trying`: attempt n of N, when reported. */
  attempt: number | null;
  maxAttempts: number | null;
  /** From the gateway's lifecycle journal (true) or judged from RAUC and the health check (false). */
  reported: boolean;
}

function record(value: unknown): Record<string, unknown> | null {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : null;
}

const count = (v: unknown): number | null =>
  typeof v === 'number' && Number.isInteger(v) && v >= 0 ? v : null;

/** The lifecycle the gateway reported for the slot, if it reports one this console knows. */
function reportedLifecycle(status: GatewayStatus, slot: SlotName): SlotLifecycle | null {
  const rauc = record(record(statusJson(status))?.rauc);
  const slots = Array.isArray(rauc?.slots) ? rauc.slots : [];
  const entry = slots.map(record).find((s) => s?.bootname === slot);
  const lifecycle = record(entry?.lifecycle);
  const state = lifecycle?.state;
  if (typeof state !== 'string' || !(LIFECYCLE_STATES as readonly string[]).includes(state)) return null;
  return {
    state: state as LifecycleState,
    attempt: count(lifecycle?.attempt),
    maxAttempts: count(lifecycle?.maxAttempts),
    reported: true,
  };
}

/** The slot's lifecycle: reported, or judged from RAUC's boot status and the health check. */
export function slotLifecycle(status: GatewayStatus, slot: SlotName): SlotLifecycle {
  const reported = reportedLifecycle(status, slot);
  if (reported) return reported;
  const judged = (state: LifecycleState): SlotLifecycle => ({
    state,
    attempt: null,
    maxAttempts: null,
    reported: false,
  });
  const s = status.rauc?.slots.find((x) => x.bootname === slot);
  if (!s) return judged('empty');
  if (s.booted) {
    if (s.bootStatus === 'bad') return judged('bad');
    switch (status.health?.state) {
      case 'failed':
        return judged('bad');
      case 'running':
        return judged('health-checking');
      case 'passed':
        return judged(s.bootStatus === 'good' ? 'good' : 'health-checking');
      default:
        return judged(s.bootStatus === 'good' ? 'good' : 'booted');
    }
  }
  if (s.bootStatus === 'bad') return judged('bad');
  return judged(s.bundleVersion === null ? 'empty' : 'installed');
}

/** The booted slot's lifecycle in words (`trying 1/3`, `good`), or null when nothing is booted. */
export function bootedLifecycleText(status: GatewayStatus): string | null {
  const booted = status.rauc?.bootedSlot ?? null;
  if (booted === null) return null;
  const l = slotLifecycle(status, booted);
  return l.state === 'trying' && l.attempt !== null && l.maxAttempts !== null
    ? `trying ${l.attempt}/${l.maxAttempts}`
    : l.state;
}

export type UpdateVerdict =
  /** The new version runs, is good and its health check passed. */
  | { kind: 'good' }
  /** Not decided yet (installing, rebooting, trying, checking). */
  | { kind: 'pending'; why: string }
  /** It will not become good: it fell back, or it is bad. */
  | { kind: 'failed'; why: string };

/**
 * Whether an update to `version` succeeded on this gateway: the slot carrying it is booted, its
 * lifecycle is `good`, and the health check passed. Fell back (the other slot booted and the new
 * one is fell-back or bad) or bad is a failure; anything else is still pending.
 */
export function updateVerdict(status: GatewayStatus, version: string): UpdateVerdict {
  const slots = status.rauc?.slots ?? [];
  const target = slots.find((s) => s.bundleVersion === version);
  const name = target?.bootname ?? null;
  if (!target || name === null) return { kind: 'pending', why: `no slot holds ${version} yet` };
  const lifecycle = slotLifecycle(status, name);
  if (lifecycle.state === 'bad') return { kind: 'failed', why: `slot ${name} (${version}) is bad` };
  if (lifecycle.state === 'fell-back') return { kind: 'failed', why: `slot ${name} (${version}) fell back` };
  if (!target.booted) {
    // Judged without a journal: installed into a slot that is not booted although the gateway is
    // up on the other one after the reboot: RAUC marked it bad (above) or the boot fell back.
    return { kind: 'pending', why: `slot ${name} (${version}) is not booted` };
  }
  if (lifecycle.state !== 'good') return { kind: 'pending', why: `slot ${name} is ${lifecycle.state}` };
  if (status.health?.state !== 'passed')
    return { kind: 'pending', why: `health check ${status.health?.state ?? 'unknown'}` };
  return { kind: 'good' };
}

/** The VPN server's state from the status document's `vpn` section, when the gateway reports it. */
export function vpnState(status: GatewayStatus): string | null {
  const vpn = record(record(statusJson(status))?.vpn);
  const state = vpn?.state;
  return typeof state === 'string' ? state : null;
}
