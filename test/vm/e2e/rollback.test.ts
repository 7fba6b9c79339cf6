// Scenarios 2 and 3, rollback: a bundle that must not survive is installed and the gateway is
// rebooted into it; U-Boot's counted attempts run out and the gateway is back on A by itself.
// The three rollbacks share one gateway: each ends exactly where the next starts (A booted and
// good, B bad with no attempts left; the next install resets B to BOOT_ORDER="B A",
// BOOT_B_LEFT=3), which saves a boot to SSH per scenario.
//   kernel     (2a) the kernel does not boot: its arm64 Image header is destroyed, so U-Boot's
//              booti refuses it and the boot script resets the board; B's attempts are spent at
//              U-Boot speed (Linux never starts on B)
//   health     (2b) the root boots but fails the health check: dnsmasq is masked, so
//              os-verification's check fails and it reboots the uncommitted slot. This one is
//              installed and rebooted by `rk64 rollout` (the built CLI) with this gateway as the
//              canary of a fleet of two: the rollout must stop on the canary's failure and leave
//              the second gateway (a loopback gateway running the real device scripts) untouched
//   watchdog   (3) the system hangs after boot: PID 1 is frozen (test/vm/e2e/variants/hang-pid1),
//              systemd stops feeding the i6300esb and nothing in Linux reboots: the watchdog does
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { recordMeasurement } from '../../lib/e2e-measure.js';
import { ExitCode } from '../../../src/core/errors.js';
import { ensureBuilt } from '../../lib/cli.js';
import { startLoopbackGateway } from '../../lib/console-gateway.js';
import { expectedAttempts, installAndRollBack } from '../../lib/e2e-rollback.js';
import type { RollbackRun, RollbackStart } from '../../lib/e2e-rollback.js';
import { auditEntries, loopbackMember, startRollout, vmMember, writeFleet } from '../../lib/e2e-rollout.js';
import type { RolloutRun } from '../../lib/e2e-rollout.js';
import { startScenario } from '../../lib/e2e-scenario.js';
import type { Scenario } from '../../lib/e2e-scenario.js';
import { gatewayHistory, rk64Why, sinceLastInstall } from '../../lib/lifecycle.js';
import type { HistoryEvent } from '../../../src/core/status/schema.js';

let s: Scenario;

beforeAll(async () => {
  s = await startScenario('rollback', 'rollback');
  await ensureBuilt();
});

afterAll(async () => {
  await s?.stop();
});

/** What every rollback ends in: A booted and confirmed again, B bad, B's attempts used up. */
function expectBackOnA(run: RollbackRun): void {
  // Read between the install and the reboot when rk64-action ran by hand (a rollout reboots at once).
  if (run.install !== null) expect(run.install.events.at(-1)).toMatchObject({ event: 'result', ok: true });
  if (run.envAfterInstall !== null)
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

/**
 * The lifecycle journal of the last install: B installed and activated by the console, then the
 * boots of B, then A booted and the fall-back of B recorded; the lifecycle says B fell back.
 * Returns B's boot events and the events after each (to check how each boot ended).
 */
async function expectFallBackJournal(
  run: RollbackRun,
  bBoots: number,
  label: string,
): Promise<HistoryEvent[]> {
  const events = sinceLastInstall(await gatewayHistory(s.gw, label));
  expect(events[0]).toMatchObject({ event: 'install-started', slot: 'B', by: 'console' });
  expect(events.filter((e) => e.event === 'install-finished' && e.slot === 'B')).toHaveLength(1);
  expect(events.filter((e) => e.event === 'slot-activated' && e.slot === 'B')).toHaveLength(1);
  const boots = events.filter((e) => e.event === 'boot');
  expect(boots.filter((e) => e.slot === 'B')).toHaveLength(bBoots);
  expect(boots[bBoots]).toMatchObject({ slot: 'A' });
  expect(events.filter((e) => e.event === 'fell-back')).toEqual([
    expect.objectContaining({ slot: 'B', to: 'A', maxAttempts: 3, boots: bBoots }),
  ]);
  expect(run.status.rauc?.slots.find((x) => x.bootname === 'B')?.lifecycle).toMatchObject({
    state: 'fell-back',
  });
  return boots;
}

function record(title: string, run: RollbackRun): void {
  const first = run.attempts[0]?.seenAt ?? run.rebootAt;
  recordMeasurement(title, 'rollback (first attempt of B to SSH on A)', (run.backOnA - first) / 1000);
  recordMeasurement(title, 'reboot command to SSH on A', (run.backOnA - run.rebootAt) / 1000);
}

/** Serial output of each boot: from one U-Boot attempt line to the next. */
function perAttempt(serial: string): string[] {
  return serial.split(/(?=rk64: booting slot [AB] from)/).slice(1);
}

describe.sequential('rollback', () => {
  it('kernel does not boot: the three attempts of B end in U-Boot, the gateway is back on A with B bad', async () => {
    const run = await installAndRollBack(s.gw, s.server, s.variants.bundles['broken-kernel'], 600_000);
    expectBackOnA(run);
    // Each B attempt died in U-Boot: booti refused the kernel and the script reset the board.
    expect(run.serial.match(/rk64: booti failed for slot B; resetting/g)).toHaveLength(3);
    // Linux started exactly once: on A.
    expect(run.serial.match(/Booting Linux on physical CPU/g)).toHaveLength(1);
    // No boot of B reached user space: the journal holds no boot of B, and says so.
    await expectFallBackJournal(run, 0, 'rollback-kernel');
    expect(await rk64Why(s.gw)).toMatch(
      /^slot B fell back to A at \d\d:\d\d UTC: three boots of B never reached user space/,
    );
    record('rollback: kernel does not boot', run);
  }, 900_000);

  it('root fails the health check: os-verification reboots B three times, the gateway is back on A with B bad; the rollout that installed it stopped on it', async () => {
    const second = await startLoopbackGateway();
    const canary = vmMember(s.gw);
    const fleet = writeFleet('site', [canary, loopbackMember('loopback-gateway', second)]);
    let rollout: RolloutRun | undefined;
    // The rollout installs and reboots the canary; the rollback is followed as in the other two.
    const viaRollout: RollbackStart = (_gw, url) =>
      new Promise((resolve, reject) => {
        rollout = startRollout(
          fleet,
          [
            url,
            '--group',
            'site',
            '--batches',
            '1,100%',
            '--max-failures',
            '0',
            '--soak',
            '1s',
            '--boot-timeout',
            '1500',
            '--apply',
          ],
          (event) => {
            if (event.event === 'gateway' && event.gateway === canary.name && event.phase === 'rebooting')
              resolve({ install: null, envAfterInstall: null, rebootAt: Date.now() });
          },
        );
        void rollout.done.then((r) =>
          reject(new Error(`the rollout ended before it rebooted the canary (exit ${r.code}): ${r.stderr}`)),
        );
      });
    let run: RollbackRun;
    let ended: Awaited<RolloutRun['done']>;
    let sent: { canary: string[]; second: string[] };
    let secondState: string[];
    try {
      run = await installAndRollBack(s.gw, s.server, s.variants.bundles.unhealthy, 1_200_000, viaRollout);
      if (rollout === undefined) throw new Error('no rollout was started');
      ended = await rollout.done;
      sent = {
        canary: (await auditEntries(fleet, canary.name)).map((e) => e.command),
        second: (await auditEntries(fleet, 'loopback-gateway')).map((e) => e.command),
      };
      // What rk64-action or an install would have left on the second gateway: nothing.
      secondState = await readdir(join(second.dir, 'data')).catch(() => []);
    } finally {
      rollout?.child.kill('SIGKILL');
      fleet.remove();
      await second.stop();
    }
    // The rollout judged the canary failed, stopped, and never started the second batch: exit 7,
    // the second gateway skipped with the reason, not one command sent to it.
    expect(ended.code, ended.stderr).toBe(ExitCode.rolloutStopped);
    const canaryEvents = ended.events.filter((e) => e.event === 'gateway' && e.gateway === canary.name);
    const verdict = canaryEvents.at(-1);
    expect(verdict).toMatchObject({ phase: 'failed' });
    expect(verdict && 'reason' in verdict ? verdict.reason : '').toMatch(/slot B \(.*\) (is bad|fell back)/);
    const stopped = ended.events.find((e) => e.event === 'stopped');
    expect(stopped && 'reason' in stopped ? stopped.reason : '').toMatch(
      /^1 gateway\(s\) failed, more than --max-failures allows \(0\)$/,
    );
    expect(ended.events.filter((e) => e.event === 'gateway' && e.gateway === 'loopback-gateway')).toEqual([
      expect.objectContaining({ phase: 'skipped' }),
    ]);
    expect(ended.events.at(-1)).toMatchObject({ event: 'done', outcome: 'stopped' });
    expect(sent.second).toEqual([]);
    expect(secondState.filter((f) => f !== 'config')).toEqual([]);
    expect(sent.canary).toEqual([
      expect.stringMatching(/rk64-action install .*unhealthy\.raucb/),
      expect.stringMatching(/rk64-action reboot/),
    ]);
    expectBackOnA(run);
    const boots = perAttempt(run.serial);
    expect(boots).toHaveLength(4);
    for (const boot of boots.slice(0, 3)) {
      // B's Linux came up, os-verification's check failed (it says so on the console) and the
      // system rebooted cleanly.
      expect(boot).toMatch(/Booting Linux on physical CPU/);
      expect(boot).toMatch(/os-verification: health check FAILED, slot B stays uncommitted: .*dnsmasq/);
      expect(boot).toMatch(/reboot: Restarting system/);
    }
    expect(boots[3]).not.toMatch(/health check FAILED/);
    // Each boot of B reached user space, failed the health check on dnsmasq and shut down cleanly.
    const bootRecords = await expectFallBackJournal(run, 3, 'rollback-health');
    const journal = sinceLastInstall(await gatewayHistory(s.gw));
    expect(bootRecords.slice(1).map((e) => e.previousBootEnded)).toEqual(['clean', 'clean', 'clean']);
    const failed = journal.filter((e) => e.event === 'health' && e.verdict === 'failed');
    expect(failed.map((e) => [e.slot, e.check])).toEqual([
      ['B', 'dnsmasq'],
      ['B', 'dnsmasq'],
      ['B', 'dnsmasq'],
    ]);
    expect(journal.filter((e) => e.event === 'fell-back')[0]).toMatchObject({ bootsReachedUserSpace: 3 });
    expect(await rk64Why(s.gw)).toMatch(
      /^slot B fell back to A at \d\d:\d\d UTC: the health check failed three times: dnsmasq: dnsmasq not running/,
    );
    record('rollback: health check fails', run);
  }, 1_500_000);

  it('system hangs: the watchdog resets B three times, the gateway is back on A with B bad', async () => {
    // The watchdog is armed and fed by systemd on the running gateway.
    expect((await s.gw.status()).watchdog).toMatchObject({ active: true });
    const run = await installAndRollBack(s.gw, s.server, s.variants.bundles.hanging, 1_500_000);
    expectBackOnA(run);
    expect(run.status.watchdog).toMatchObject({ active: true });
    const boots = perAttempt(run.serial);
    expect(boots).toHaveLength(4);
    for (const boot of boots.slice(0, 3)) {
      // B's kernel started, its systemd armed the watchdog (PID 1 holds the device open), then
      // PID 1 was frozen ...
      expect(boot).toMatch(/Booting Linux on physical CPU/);
      expect(boot).toMatch(/rk64-e2e: PID 1 holds \/dev\/watchdog\d* open/);
      expect(boot).toMatch(/rk64-e2e: PID 1 is stopped/);
      // ... and nothing in Linux restarted or crashed the machine: the reset came from the watchdog.
      const afterFreeze = boot.slice(boot.indexOf('rk64-e2e: PID 1 is stopped'));
      expect(afterFreeze).not.toMatch(/reboot: Restarting system|Kernel panic|reboot: Power down/);
    }
    expect(boots[3]).not.toMatch(/rk64-e2e: PID 1 is stopped/);
    // Each boot of B after the first, and A's, read the watchdog's bootstatus: a watchdog reset.
    const bootRecords = await expectFallBackJournal(run, 3, 'rollback-watchdog');
    expect(bootRecords.slice(1).map((e) => e.previousBootEnded)).toEqual([
      'watchdog',
      'watchdog',
      'watchdog',
    ]);
    expect(await rk64Why(s.gw)).toMatch(
      /^slot B fell back to A at \d\d:\d\d UTC: the watchdog reset a hung system three times$/,
    );
    record('rollback: watchdog (hung PID 1)', run);
  }, 1_800_000);
});
