// DRAFT (not yet seen green; see docs/e2e.md). Scenario 2b, rollback after failed health checks:
// the `unhealthy` bundle's root boots, but dnsmasq is masked, so os-verification's check fails and
// it reboots the uncommitted slot; U-Boot counts B down to 0 and boots A; B ends bad, A booted.
// Meant to run on the gateway of rollback-kernel.test.ts, after the kernel rollback.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { recordMeasurement } from '../../../lib/e2e-measure.js';
import { expectedAttempts, installAndRollBack } from '../../../lib/e2e-rollback.js';
import type { RollbackRun } from '../../../lib/e2e-rollback.js';
import { startScenario } from '../../../lib/e2e-scenario.js';
import type { Scenario } from '../../../lib/e2e-scenario.js';

let s: Scenario;

beforeAll(async () => {
  s = await startScenario('health', 'rollback: health check fails');
});

afterAll(async () => {
  await s?.stop();
});

/** Serial output of each boot: from one U-Boot attempt line to the next. */
function perAttempt(serial: string): string[] {
  return serial.split(/(?=rk64: booting slot [AB] from)/).slice(1);
}

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
  it('root fails the health check: os-verification reboots B three times, the gateway is back on A with B bad', async () => {
    const title = 'rollback: health check fails';
    const run = await installAndRollBack(s.gw, s.server, s.variants.bundles.unhealthy, 1_200_000);
    expectBackOnA(run);
    const boots = perAttempt(run.serial);
    expect(boots).toHaveLength(4);
    for (const boot of boots.slice(0, 3)) {
      // B's Linux came up, os-verification's check failed and the system rebooted cleanly.
      expect(boot).toMatch(/Booting Linux on physical CPU/);
      expect(boot).toMatch(/Failed to start \S*os-verification/);
      expect(boot).toMatch(/reboot: Restarting system/);
    }
    expect(boots[3]).not.toMatch(/Failed to start \S*os-verification/);
    record(title, run);
  }, 1_500_000);
});
