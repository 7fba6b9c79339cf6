// Scenario 2a, rollback after failed boots: a bundle whose kernel does not boot (its arm64 Image
// header is destroyed, so U-Boot's booti refuses it and the boot script resets the board). U-Boot
// spends B's three counted attempts at U-Boot speed (no Linux on B at all), then boots A; RAUC
// reports B bad, the status says so, and A is confirmed again.
// The health-check (2b) and watchdog (3) rollbacks are drafts (drafts/rollback-health.draft.ts,
// drafts/watchdog-rollback.draft.ts) written to share this file's gateway once seen green: each
// rollback ends exactly where the next starts (A booted and good, B bad).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { recordMeasurement } from '../../lib/e2e-measure.js';
import { expectedAttempts, installAndRollBack } from '../../lib/e2e-rollback.js';
import type { RollbackRun } from '../../lib/e2e-rollback.js';
import { startScenario } from '../../lib/e2e-scenario.js';
import type { Scenario } from '../../lib/e2e-scenario.js';

let s: Scenario;

beforeAll(async () => {
  s = await startScenario('kernel', 'rollback: kernel does not boot');
});

afterAll(async () => {
  await s?.stop();
});

/** What every rollback ends in: A booted and confirmed again, B bad, B's attempts used up. */
function expectBackOnA(run: RollbackRun): void {
  expect(run.install.events.at(-1)).toMatchObject({ event: 'result', ok: true });
  expect(run.envAfterInstall).toMatchObject({ BOOT_ORDER: 'B A', BOOT_B_LEFT: '3' });
  expect(run.attempts.map(({ slot, mode, left }) => ({ slot, mode, left }))).toEqual(expectedAttempts);
  // A was committed before the update: os-verification marks it good again without the window.
  expect(run.health).toBe('skipped');
  const slot = (name: string) => run.status.rauc?.slots.find((x) => x.bootname === name);
  expect(run.status.rauc?.bootedSlot).toBe('A');
  expect(slot('B')).toMatchObject({ booted: false, bootStatus: 'bad' });
  expect(slot('A')).toMatchObject({ booted: true, bootStatus: 'good' });
  expect(run.status.versions.os).toBe('1');
  expect(run.status.bootState).toMatchObject({ attemptsLeft: { A: 3, B: 0 }, nextBootSlot: 'A' });
  expect(run.env).toMatchObject({ BOOT_A_LEFT: '3', BOOT_B_LEFT: '0' });
}

function record(title: string, run: RollbackRun): void {
  const first = run.attempts[0]?.seenAt ?? run.rebootAt;
  recordMeasurement(title, 'rollback (first attempt of B to SSH on A)', (run.backOnA - first) / 1000);
  recordMeasurement(title, 'reboot command to SSH on A', (run.backOnA - run.rebootAt) / 1000);
}

describe('rollback', () => {
  it('kernel does not boot: the three attempts of B end in U-Boot, the gateway is back on A with B bad', async () => {
    const title = 'rollback: kernel does not boot';
    const run = await installAndRollBack(s.gw, s.server, s.variants.bundles['broken-kernel'], 600_000);
    expectBackOnA(run);
    // Each B attempt died in U-Boot: booti refused the kernel and the script reset the board.
    expect(run.serial.match(/rk64: booti failed for slot B; resetting/g)).toHaveLength(3);
    // Linux started exactly once: on A.
    expect(run.serial.match(/Booting Linux on physical CPU/g)).toHaveLength(1);
    record(title, run);
  }, 900_000);
});
