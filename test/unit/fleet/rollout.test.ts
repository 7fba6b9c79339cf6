// Rollouts without gateways: batch planning (cumulative counts and percentages, rounding, a canary
// of 1), the failure threshold, the state file (atomic, validated, resumed from the last safe
// point), the success judgement over the status document, and the runner with scripted transports:
// a canary that falls back stops the rollout and the second gateway is never contacted.
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterEach, describe, expect, it } from 'vitest';

import {
  allowedFailures,
  overFailureLimit,
  parseBatches,
  parseMaxFailures,
  planBatches,
} from '../../../src/core/rollout/plan.js';
import { runRollout, type RolloutEvent } from '../../../src/core/rollout/run.js';
import {
  loadRollout,
  newRolloutId,
  resumable,
  ROLLOUT_SCHEMA,
  rolloutPath,
  saveRollout,
  type RolloutState,
} from '../../../src/core/rollout/state.js';
import { slotLifecycle, updateVerdict } from '../../../src/core/slot-state.js';
import type { GatewayStatus } from '../../../src/core/status/schema.js';
import { validateStatus } from '../../../src/core/status/validate.js';
import { loadStatus } from '../../lib/console-fixtures.js';
import { FakeTransport, ok } from '../../lib/fake-transport.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});
const tempDir = () => {
  const d = mkdtempSync(join(tmpdir(), 'rk64-rollout-'));
  dirs.push(d);
  return d;
};
const names = (n: number) => Array.from({ length: n }, (_, i) => `gw${i + 1}`);

describe('batch planning', () => {
  it('1,10%,100% of 15: a canary of 1, then up to 2 (10% rounded up), then the rest', () => {
    expect(planBatches(names(15), parseBatches('1,10%,100%')).map((b) => b.length)).toEqual([1, 1, 13]);
  });
  it('steps are cumulative; a step that adds nobody is dropped', () => {
    expect(planBatches(names(100), parseBatches('1,10%,50%,100%')).map((b) => b.length)).toEqual([
      1, 9, 40, 50,
    ]);
    expect(planBatches(names(2), parseBatches('1,10%,100%'))).toEqual([['gw1'], ['gw2']]);
    expect(planBatches(names(1), parseBatches('1,10%,100%'))).toEqual([['gw1']]);
  });
  it('a plan that leaves gateways out, or a bad step, is refused', () => {
    expect(() => planBatches(names(5), parseBatches('1,50%'))).toThrow(/reaches 3 of 5 gateways/);
    for (const bad of ['', '0', '0%', '101%', 'x', '1,,100%'])
      expect(() => parseBatches(bad)).toThrow(/--batches/);
  });
});

describe('failure threshold', () => {
  it('N allows N failures; P% allows P% of the fleet rounded down; the next one stops', () => {
    expect(allowedFailures(parseMaxFailures('0'), 10)).toBe(0);
    expect(allowedFailures(parseMaxFailures('10%'), 15)).toBe(1);
    expect(overFailureLimit(1, parseMaxFailures('0'), 10)).toBe(true);
    expect(overFailureLimit(1, parseMaxFailures('10%'), 15)).toBe(false);
    expect(overFailureLimit(2, parseMaxFailures('10%'), 15)).toBe(true);
    expect(() => parseMaxFailures('-1')).toThrow(/max-failures/);
  });
});

function stateOf(gateways: string[][], patch: Partial<RolloutState> = {}): RolloutState {
  return {
    schema: ROLLOUT_SCHEMA,
    id: newRolloutId(new Date('2026-12-06T05:46:00Z')),
    createdAt: '2026-12-06T05:46:00.000Z',
    operator: 'op',
    bundle: 'https://updates.example/rk64-2026.12.0.raucb',
    version: null,
    batches: gateways,
    maxFailures: { kind: 'count', count: 0 },
    soakSeconds: 0,
    gateways: Object.fromEntries(
      gateways
        .flat()
        .map((g) => [g, { phase: 'pending', reason: null, updatedAt: '2026-12-06T05:46:00.000Z' }]),
    ),
    stopped: null,
    ...patch,
  };
}

describe('state file', () => {
  it('is written atomically (no temporary file left) and read back; garbage is refused', async () => {
    const dir = tempDir();
    const state = stateOf([['gw1'], ['gw2']]);
    const path = rolloutPath(state.id, { XDG_STATE_HOME: dir });
    expect(path).toBe(join(dir, 'rk64', 'rollouts', `${state.id}.json`));
    await saveRollout(path, state);
    expect(readdirSync(join(dir, 'rk64', 'rollouts'))).toEqual([`${state.id}.json`]);
    expect(await loadRollout(path)).toEqual(state);
    writeFileSync(path, '{"schema":"rk64.rollout/1"}');
    await expect(loadRollout(path)).rejects.toThrow(/is not a rk64.rollout\/1 state file/);
    expect(() => rolloutPath('../../etc/passwd')).toThrow(/not a rollout id/);
  });

  it('resumes from the last safe point: interrupted installs redone, reboots verified, unreachable retried', () => {
    const s = stateOf([['a', 'b', 'c', 'd', 'e', 'f']], { stopped: 'interrupted' });
    const at = '2026-12-06T05:50:00.000Z';
    s.gateways = {
      a: { phase: 'good', reason: null, updatedAt: at },
      b: { phase: 'installing', reason: null, updatedAt: at },
      c: { phase: 'rebooting', reason: null, updatedAt: at },
      d: { phase: 'failed', reason: 'fell back', updatedAt: at },
      e: { phase: 'unreachable', reason: 'refused', updatedAt: at },
      f: { phase: 'skipped', reason: 'interrupted', updatedAt: at },
    };
    const r = resumable(s);
    expect(Object.fromEntries(Object.entries(r.gateways).map(([g, p]) => [g, p.phase]))).toEqual({
      a: 'good',
      b: 'pending',
      c: 'verifying',
      d: 'failed',
      e: 'pending',
      f: 'pending',
    });
    expect(r.stopped).toBeNull();
  });
});

/** The healthy fixture after installing `version` into B and booting it: B booted, good, health passed. */
function onB(version: string, bootStatus: 'good' | 'bad' | null, health: string): GatewayStatus {
  const doc = structuredClone(loadStatus('healthy')) as unknown as {
    rauc: { bootedSlot: string; slots: Record<string, unknown>[] };
    health: { state: string };
  };
  doc.rauc.bootedSlot = 'B';
  // A gateway without the lifecycle journal: judged from RAUC and the health check.
  for (const s of doc.rauc.slots) {
    s.booted = s.bootname === 'B';
    delete s.lifecycle;
  }
  Object.assign(doc.rauc.slots[1] ?? {}, { bundleVersion: version, bootStatus });
  doc.health.state = health;
  return validateStatus(doc);
}

function fellBack(version: string): GatewayStatus {
  const doc = structuredClone(loadStatus('healthy')) as unknown as {
    rauc: { slots: Record<string, unknown>[] };
  };
  Object.assign(doc.rauc.slots[1] ?? {}, { bundleVersion: version, bootStatus: 'bad' });
  for (const s of doc.rauc.slots) delete s.lifecycle; // judged, as onB
  return validateStatus(doc);
}

/** The same fall-back as a gateway with the lifecycle journal reports it. */
function fellBackReported(version: string): GatewayStatus {
  const doc = structuredClone(loadStatus('healthy')) as unknown as {
    rauc: { slots: Record<string, unknown>[] };
  };
  Object.assign(doc.rauc.slots[1] ?? {}, {
    bundleVersion: version,
    bootStatus: 'bad',
    lifecycle: {
      state: 'fell-back',
      reason: 'its boot attempts ran out',
      since: null,
      attempt: null,
      maxAttempts: 3,
    },
  });
  return validateStatus(doc);
}

describe('success judgement', () => {
  it('good only when the slot with the version is booted, good and healthy; fell back is failed', () => {
    expect(updateVerdict(onB('2026.12.0', 'good', 'passed'), '2026.12.0')).toEqual({ kind: 'good' });
    expect(updateVerdict(onB('2026.12.0', null, 'running'), '2026.12.0').kind).toBe('pending');
    expect(updateVerdict(onB('2026.12.0', 'good', 'failed'), '2026.12.0').kind).toBe('failed');
    expect(updateVerdict(fellBack('2026.12.0'), '2026.12.0').kind).toBe('failed');
    expect(updateVerdict(fellBackReported('2026.12.0'), '2026.12.0')).toEqual({
      kind: 'failed',
      why: 'slot B (2026.12.0) fell back',
    });
    expect(updateVerdict(loadStatus('healthy'), '2026.12.0').kind).toBe('pending');
  });
  it('reads the reported lifecycle when the gateway has one', () => {
    const doc = structuredClone(onB('2026.12.0', 'good', 'passed')) as unknown as {
      rauc: { slots: Record<string, unknown>[] };
    };
    (doc.rauc.slots[1] as Record<string, unknown>).lifecycle = {
      state: 'trying',
      attempt: 1,
      maxAttempts: 3,
    };
    const status = validateStatus(doc);
    expect(slotLifecycle(status, 'B')).toMatchObject({ state: 'trying', attempt: 1, reported: true });
    expect(updateVerdict(status, '2026.12.0').kind).toBe('pending');
  });
});

describe('runner', () => {
  const statusOf = async (t: { exec: FakeTransport['exec'] }) =>
    validateStatus(JSON.parse((await t.exec('rk64-status')).stdout));
  /** The rest of a runner's dependencies: no audit log, no abort, no waiting between polls. */
  const quick = {
    fetchStatus: statusOf,
    audit: { log: null, operator: 'op' },
    signal: new AbortController().signal,
    parallel: 4,
    bootTimeoutMs: 60_000,
    pollMs: 0,
    sleep: () => Promise.resolve(),
  };

  it('the canary falls back: the rollout stops after it, the second gateway is never contacted', async () => {
    const version = '2026.12.0';
    let phase: 'before' | 'installed' | 'fell-back' = 'before';
    const canary = () =>
      new FakeTransport('ssh', 'ssh://root@gw1:22').status(() =>
        phase === 'before'
          ? loadStatus('healthy')
          : phase === 'installed'
            ? fellBack(version)
            : fellBack(version),
      );
    const first = canary()
      .expect(/^rk64-action install 'https:\/\/updates\.example\/rk64-2026\.12\.0\.raucb'$/, () => {
        phase = 'installed';
        return ok();
      })
      .expect('rk64-action reboot', () => {
        phase = 'fell-back';
        return ok();
      });
    const connections: string[] = [];
    const events: RolloutEvent[] = [];
    const saved: RolloutState[] = [];
    const outcome = await runRollout(stateOf([['gw1'], ['gw2']]), {
      connect: (g) => {
        connections.push(g);
        if (g !== 'gw1') throw new Error(`${g} must not be contacted`);
        return Promise.resolve(connections.length === 1 ? first : canary());
      },
      save: (s) => {
        saved.push(s);
        return Promise.resolve();
      },
      emit: (e) => events.push(e),
      ...quick,
    });
    expect(outcome).toBe('stopped');
    const last = saved.at(-1) as RolloutState;
    expect(last.gateways.gw1).toMatchObject({ phase: 'failed' });
    expect(last.gateways.gw1?.reason).toMatch(/slot B \(2026\.12\.0\) is bad/);
    expect(last.gateways.gw2).toMatchObject({ phase: 'skipped' });
    expect(last.stopped).toMatch(/1 gateway\(s\) failed, more than --max-failures allows \(0\)/);
    expect(new Set(connections)).toEqual(new Set(['gw1']));
    expect(events.at(-1)).toMatchObject({ event: 'done', outcome: 'stopped' });
  });

  it('a gateway already good on the version is verified, not installed: one verifying event with the reason, then good', async () => {
    const version = '2026.12.0';
    const done = () =>
      new FakeTransport('ssh', 'ssh://root@gw1:22').status(() => onB(version, 'good', 'passed'));
    const events: RolloutEvent[] = [];
    const outcome = await runRollout(stateOf([['gw1']], { version }), {
      // Two connections: the look before installing, then the verification; neither sends a command.
      connect: () => Promise.resolve(done()),
      save: () => Promise.resolve(),
      emit: (e) => events.push(e),
      ...quick,
    });
    expect(outcome).toBe('done');
    expect(events.filter((e) => e.event === 'gateway')).toEqual([
      { event: 'gateway', gateway: 'gw1', phase: 'verifying', reason: `already runs ${version}` },
      { event: 'gateway', gateway: 'gw1', phase: 'good', reason: null },
    ]);
  });

  it('a read without RAUC (the busy gateway’s RAUC missed the time limit) during the soak is asked again, not a failure', async () => {
    const version = '2026.12.0';
    const withoutRauc = (): GatewayStatus => {
      const doc = structuredClone(onB(version, 'good', 'passed')) as unknown as Record<string, unknown>;
      doc.rauc = null;
      doc.errors = [{ field: 'rauc', reason: 'rauc status did not answer within 10 s' }];
      return validateStatus(doc);
    };
    // Good, then one read without RAUC, then good again: the soak (2 s, a clock of 1 s per read) ends good.
    const reads = [onB(version, 'good', 'passed'), onB(version, 'good', 'passed'), withoutRauc()];
    let clock = 0;
    const events: RolloutEvent[] = [];
    const outcome = await runRollout(stateOf([['gw1']], { version, soakSeconds: 2 }), {
      connect: () =>
        Promise.resolve(
          new FakeTransport('ssh', 'ssh://root@gw1:22').status(
            () => reads.shift() ?? onB(version, 'good', 'passed'),
          ),
        ),
      save: () => Promise.resolve(),
      emit: (e) => events.push(e),
      ...quick,
      now: () => (clock += 1000),
    });
    expect(reads).toEqual([]);
    expect(outcome).toBe('done');
    expect(events.filter((e) => e.event === 'gateway').map((e) => 'phase' in e && e.phase)).toEqual([
      'verifying',
      'good',
    ]);
  });

  it('a status read that fails right after the reboot (the old system shutting down) is asked again', async () => {
    const version = '2026.12.0';
    let fetches = 0;
    const events: RolloutEvent[] = [];
    const outcome = await runRollout(stateOf([['gw1']], { version }), {
      connect: () =>
        Promise.resolve(
          new FakeTransport('ssh', 'ssh://root@gw1:22').status(() => onB(version, 'good', 'passed')),
        ),
      save: () => Promise.resolve(),
      emit: (e) => events.push(e),
      ...quick,
      // The look before installing, then one read the shutting-down system fails, then good.
      fetchStatus: async (t) => {
        fetches++;
        if (fetches === 2)
          throw new Error('rk64-status exited 1: /tmp/tmp.x/empty: No such file or directory');
        return statusOf(t);
      },
    });
    expect(fetches).toBe(3);
    expect(outcome).toBe('done');
  });
});
