// Carrying out a rollout: batch after batch (the canary first), each gateway uploaded, installed,
// rebooted and then watched until the slot with the new version is `good` with the health check
// passed for the soak time (updateVerdict, src/core/slot-state.ts). A batch ends before the next
// starts. More failures than allowed stop new installs (running ones finish); unreachable
// gateways are counted apart and tried again at the end; an abort (Ctrl+C) starts nothing new.
// Every change is saved to the state file before it is reported.
import { runAction } from '../actions/run.js';
import { auditedTransport, type AuditLog } from '../audit.js';
import { isConnectionError } from '../dashboard/controller.js';
import { asRk64Error, runFleet } from '../fleet.js';
import { updateVerdict } from '../slot-state.js';
import type { GatewayStatus } from '../status/schema.js';
import type { Transport } from '../transport/transport.js';
import { allowedFailures, overFailureLimit, type GatewayPhase } from './plan.js';
import type { RolloutState } from './state.js';

export type RolloutEvent =
  | { event: 'start'; id: string; batches: string[][] }
  | { event: 'batch'; index: number; gateways: string[] }
  | { event: 'gateway'; gateway: string; phase: GatewayPhase; reason: string | null }
  | { event: 'stopped'; reason: string }
  | { event: 'done'; outcome: RolloutOutcome; counts: Record<GatewayPhase, number> };

export type RolloutOutcome = 'done' | 'stopped' | 'interrupted' | 'unreachable-left';

export interface RolloutDeps {
  connect: (gateway: string) => Promise<Transport>;
  fetchStatus: (transport: Transport) => Promise<GatewayStatus>;
  save: (state: RolloutState) => Promise<void>;
  emit: (event: RolloutEvent) => void;
  audit: { log: AuditLog | null; operator: string };
  /** Ctrl+C: start no new work. */
  signal: AbortSignal;
  parallel: number;
  /** How long a rebooted gateway has to come back and turn good. */
  bootTimeoutMs: number;
  pollMs: number;
  uploadDir?: string;
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
}

class Unreachable extends Error {}
class Failed extends Error {}

export function phaseCounts(state: RolloutState): Record<GatewayPhase, number> {
  const counts: Record<GatewayPhase, number> = {
    pending: 0,
    uploading: 0,
    installing: 0,
    rebooting: 0,
    verifying: 0,
    good: 0,
    failed: 0,
    unreachable: 0,
    skipped: 0,
  };
  for (const p of Object.values(state.gateways)) counts[p.phase]++;
  return counts;
}

export async function runRollout(initial: RolloutState, deps: RolloutDeps): Promise<RolloutOutcome> {
  let state = initial;
  const now = deps.now ?? Date.now;
  const sleep = deps.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const total = state.batches.flat().length;
  let saving: Promise<void> = Promise.resolve();

  const set = async (gateway: string, phase: GatewayPhase, reason: string | null = null): Promise<void> => {
    state = {
      ...state,
      gateways: { ...state.gateways, [gateway]: { phase, reason, updatedAt: new Date(now()).toISOString() } },
    };
    const snapshot = state;
    saving = saving.then(() => deps.save(snapshot));
    await saving;
    deps.emit({ event: 'gateway', gateway, phase, reason });
  };
  const stop = async (reason: string): Promise<void> => {
    if (state.stopped !== null) return;
    state = { ...state, stopped: reason };
    const snapshot = state;
    saving = saving.then(() => deps.save(snapshot));
    await saving;
    deps.emit({ event: 'stopped', reason });
  };
  const failedCount = () => Object.values(state.gateways).filter((g) => g.phase === 'failed').length;

  const audited = (gateway: string, transport: Transport) =>
    auditedTransport(transport, {
      log: deps.audit.log,
      operator: deps.audit.operator,
      gateway,
      source: `rollout ${state.id}`,
      now,
    });

  /** Waits for the gateway to come back and be good on the version, then for the soak time. */
  const verify = async (gateway: string): Promise<void> => {
    const version = state.version;
    if (version === null) throw new Failed('the bundle version is not known (no install finished)');
    const deadline = now() + deps.bootTimeoutMs;
    let reached = false;
    let goodSince: number | null = null;
    let last = 'not back yet';
    for (;;) {
      let transport: Transport | null = null;
      try {
        transport = await deps.connect(gateway);
        reached = true;
        const status = await deps.fetchStatus(transport);
        const verdict = updateVerdict(status, version);
        if (verdict.kind === 'failed') throw new Failed(verdict.why);
        if (verdict.kind === 'good') {
          goodSince ??= now();
          if (now() - goodSince >= state.soakSeconds * 1000) return;
          last = `good, soaking ${Math.round((now() - goodSince) / 1000)}/${state.soakSeconds} s`;
        } else if (status.rauc === null || status.health === null) {
          // The gateway could not read RAUC or the health check this time (a busy gateway's RAUC
          // can miss rk64-status's time limit): the section is null with its reason, which says
          // nothing about the update. Ask again; a soak goes on.
          const unread = status.errors.find((e) => e.field === 'rauc' || e.field === 'health');
          last = `the status lacks ${status.rauc === null ? 'RAUC' : 'the health check'}${unread ? `: ${unread.reason}` : ''}`;
        } else {
          if (goodSince !== null) throw new Failed(`left good during the soak: ${verdict.why}`);
          last = verdict.why;
        }
      } catch (error) {
        if (error instanceof Failed) throw error;
        // A status read that fails is no verdict either: right after `rk64-action reboot` the old
        // system still answers while it shuts down (its /tmp already gone). Ask again until the
        // boot timeout; during a soak it ends the soak.
        if (goodSince !== null) throw new Failed(`lost during the soak: ${asRk64Error(error).toLine()}`);
        last = asRk64Error(error).toLine();
      } finally {
        await transport?.close().catch(() => undefined);
      }
      if (now() >= deadline) {
        const why = `not good within ${Math.round(deps.bootTimeoutMs / 1000)} s: ${last}`;
        throw reached ? new Failed(why) : new Unreachable(why);
      }
      await sleep(deps.pollMs);
    }
  };

  const updateOne = async (gateway: string): Promise<void> => {
    const phase = state.gateways[gateway]?.phase ?? 'pending';
    if (phase === 'good' || phase === 'failed') return;
    if (deps.signal.aborted || state.stopped !== null) {
      await set(gateway, 'skipped', state.stopped ?? 'interrupted');
      return;
    }
    try {
      // A gateway found good on the version already says so once, with the reason.
      let verifyingSaid = false;
      if (phase !== 'verifying' && phase !== 'rebooting') {
        let transport: Transport;
        try {
          transport = await deps.connect(gateway);
        } catch (error) {
          if (isConnectionError(error)) throw new Unreachable(asRk64Error(error).toLine());
          throw new Failed(asRk64Error(error).toLine());
        }
        try {
          const before = await deps.fetchStatus(transport);
          if (state.version !== null && updateVerdict(before, state.version).kind === 'good') {
            await set(gateway, 'verifying', `already runs ${state.version}`);
            verifyingSaid = true;
          } else {
            await set(gateway, 'uploading');
            const sent = audited(gateway, transport);
            let installing = false;
            const outcome = await runAction(
              sent,
              { kind: 'install', source: state.bundle, allowDowngrade: false },
              {
                onEvent: (e) => {
                  if (e.phase === 'install' && !installing) {
                    installing = true;
                    void set(gateway, 'installing');
                  }
                },
                ...(deps.uploadDir ? { uploadDir: deps.uploadDir } : {}),
              },
            );
            if (!outcome.ok) throw new Failed(outcome.message);
            const after = await deps.fetchStatus(transport);
            const written = after.rauc?.slots.find((s) => !s.booted)?.bundleVersion ?? null;
            if (written === null)
              throw new Failed('installed, but the gateway reports no version in the other slot');
            if (state.version === null) state = { ...state, version: written };
            else if (written !== state.version) {
              throw new Failed(`the bundle installed as ${written} here, ${state.version} elsewhere`);
            }
            await set(gateway, 'rebooting');
            // The gateway may drop the connection while it reboots: that is the reboot, not a failure.
            const reboot = await runAction(sent, { kind: 'reboot' }).catch((error: unknown) => {
              if (isConnectionError(error)) return { ok: true, message: '' };
              throw error;
            });
            if (!reboot.ok) throw new Failed(reboot.message);
          }
        } catch (error) {
          if (error instanceof Failed || error instanceof Unreachable) throw error;
          if (isConnectionError(error)) throw new Unreachable(asRk64Error(error).toLine());
          throw new Failed(asRk64Error(error).toLine());
        } finally {
          await transport.close().catch(() => undefined);
        }
      }
      if (!verifyingSaid) await set(gateway, 'verifying');
      await verify(gateway);
      await set(gateway, 'good');
    } catch (error) {
      if (error instanceof Unreachable) await set(gateway, 'unreachable', error.message);
      else await set(gateway, 'failed', error instanceof Error ? error.message : String(error));
      if (overFailureLimit(failedCount(), state.maxFailures, total)) {
        await stop(
          `${failedCount()} gateway(s) failed, more than --max-failures allows (${allowedFailures(state.maxFailures, total)})`,
        );
      }
    }
  };

  deps.emit({ event: 'start', id: state.id, batches: state.batches });
  for (const [index, batch] of state.batches.entries()) {
    if (deps.signal.aborted || state.stopped !== null) {
      for (const g of batch)
        if (!['good', 'failed'].includes(state.gateways[g]?.phase ?? 'pending'))
          await set(g, 'skipped', state.stopped ?? 'interrupted');
      continue;
    }
    deps.emit({ event: 'batch', index, gateways: batch });
    await runFleet(batch, deps.parallel, updateOne);
  }
  // Unreachable gateways get one more try once everything else is done.
  const unreachable = Object.entries(state.gateways)
    .filter(([, p]) => p.phase === 'unreachable')
    .map(([g]) => g);
  if (unreachable.length > 0 && state.stopped === null && !deps.signal.aborted) {
    await runFleet(unreachable, deps.parallel, updateOne);
  }
  await saving;
  if (deps.signal.aborted && state.stopped === null) await stop('interrupted');
  const counts = phaseCounts(state);
  const outcome: RolloutOutcome = deps.signal.aborted
    ? 'interrupted'
    : state.stopped !== null
      ? 'stopped'
      : counts.unreachable > 0
        ? 'unreachable-left'
        : 'done';
  deps.emit({ event: 'done', outcome, counts });
  return outcome;
}
