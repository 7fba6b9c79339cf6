// Scenario 3, watchdog rollback: a bundle whose system hangs after boot. Its root carries a unit
// that freezes PID 1 (test/vm/e2e/variants/hang-pid1: a ptrace trap, so systemd's main loop stops
// and with it the feeding of the i6300esb watchdog). Nothing in the guest reboots it: the
// watchdog resets the machine, U-Boot counts B down to 0 and boots A.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { recordMeasurement } from '../../../lib/e2e-measure.js';
import { expectedAttempts, installAndRollBack } from '../../../lib/e2e-rollback.js';
import type { RollbackRun } from '../../../lib/e2e-rollback.js';
import { startScenario } from '../../../lib/e2e-scenario.js';
import type { Scenario } from '../../../lib/e2e-scenario.js';

const title = 'rollback: watchdog (hung PID 1)';
let s: Scenario;
let run: RollbackRun;

beforeAll(async () => {
  s = await startScenario('watchdog', title);
});

afterAll(async () => {
  await s?.stop();
});

/** Serial output of each boot: from one U-Boot attempt line to the next. */
function perAttempt(serial: string): string[] {
  return serial.split(/(?=rk64: booting slot [AB] from)/).slice(1);
}

describe(title, () => {
  it('the watchdog resets the hung system three times, then the gateway is back on A with B bad', async () => {
    // The watchdog is armed and fed by systemd on the running gateway.
    const before = await s.gw.status();
    expect(before.watchdog).toMatchObject({ active: true });

    run = await installAndRollBack(s.gw, s.server, s.variants.bundles.hanging, 1_500_000);
    expect(run.install.events.at(-1)).toMatchObject({ event: 'result', ok: true });
    expect(run.attempts.map(({ slot, mode, left }) => ({ slot, mode, left }))).toEqual(expectedAttempts);

    const boots = perAttempt(run.serial);
    expect(boots).toHaveLength(4);
    for (const boot of boots.slice(0, 3)) {
      // B's kernel started, its systemd armed the watchdog, then PID 1 was frozen ...
      expect(boot).toMatch(/Booting Linux on physical CPU/);
      expect(boot).toMatch(/rk64-e2e: PID 1 is stopped/);
      // ... and nothing in Linux restarted or crashed the machine: the reset came from the watchdog.
      const afterFreeze = boot.slice(boot.indexOf('rk64-e2e: PID 1 is stopped'));
      expect(afterFreeze).not.toMatch(/reboot: Restarting system|Kernel panic|reboot: Power down/);
    }
    expect(boots[3]).not.toMatch(/rk64-e2e: PID 1 is stopped/);

    expect(run.health).toBe('skipped');
    const slot = (name: string) => run.status.rauc?.slots.find((x) => x.bootname === name);
    expect(run.status.rauc?.bootedSlot).toBe('A');
    expect(slot('B')).toMatchObject({ booted: false, bootStatus: 'bad' });
    expect(slot('A')).toMatchObject({ booted: true, bootStatus: 'good' });
    expect(run.status.versions.os).toBe('1');
    expect(run.status.bootState).toMatchObject({ attemptsLeft: { A: 3, B: 0 }, nextBootSlot: 'A' });
    expect(run.status.watchdog).toMatchObject({ active: true });

    const first = run.attempts[0]?.seenAt ?? run.rebootAt;
    recordMeasurement(title, 'rollback (first attempt of B to SSH on A)', (run.backOnA - first) / 1000);
    recordMeasurement(title, 'reboot command to SSH on A', (run.backOnA - run.rebootAt) / 1000);
  });
});
