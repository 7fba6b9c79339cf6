// Scenario 1, update and confirm: a signed v2 bundle (the gateway's own root with IMAGE_VERSION=2)
// served over HTTPS from 127.0.0.1 (10.0.2.2 inside QEMU; the gateway pins the server's test CA);
// the gateway's os-upgrade finds it in the manifest, downloads, installs to slot B and reboots; U-Boot boots B; os-verification checks the
// gateway and marks B good; the status shows B booted, primary and good, A good, version 2.
// Then the same bundle goes to a fleet of two gateways with `rk64 rollout` (the built CLI): a
// second gateway, resumed from the same snapshot, is the canary; the rollout is interrupted (SIGINT,
// as Ctrl+C) while it verifies the canary, so the second batch never starts; resumed, it finds the
// first gateway already good on v2 (through os-upgrade) and only verifies it. Both end on B, good.
// The canary's part runs from beforeAll on, beside the first test: both gateways spend much of an
// update waiting (the download, the health check's window), and the waits overlap.
import type { ChildProcess } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ExitCode } from '../../../src/core/errors.js';
import { ensureBuilt } from '../../lib/cli.js';
import { bootAttempts, startE2eGateway, type E2eGateway } from '../../lib/e2e-gateway.js';
import { recordMeasurement, since } from '../../lib/e2e-measure.js';
import {
  auditEntries,
  rolloutState,
  startRollout,
  vmMember,
  writeFleet,
  type Fleet,
  type FleetMember,
  type RolloutLine,
  type RolloutRun,
} from '../../lib/e2e-rollout.js';
import { startScenario } from '../../lib/e2e-scenario.js';
import type { Scenario } from '../../lib/e2e-scenario.js';
import { gatewayHistory, lifecycleSequence, sinceLastInstall } from '../../lib/lifecycle.js';

const title = 'update and confirm';
/** An update that takes: B's lifecycle states from its install to its confirmation. */
const confirmedOnFirstTrial = ['installed', 'trying 1 of 3', 'booted', 'health-checking', 'good'];
let s: Scenario;
/** The rollout's canary: a second gateway from the same booted snapshot. */
let canary: E2eGateway | undefined;
let fleet: Fleet | undefined;

interface CanaryRun {
  first: FleetMember;
  second: FleetMember;
  /** Seconds from the canary's restore to the interrupted rollout's exit. */
  seconds: number;
  run1: Awaited<RolloutRun['done']>;
}
let canaryRun: Promise<CanaryRun> | undefined;

/** The rollout's canary: restored, then updated by `rk64 rollout`, interrupted while it is verified. */
async function updateCanary(): Promise<CanaryRun> {
  const started = Date.now();
  const { gw, server } = s;
  canary = await startE2eGateway(s.snapshot, 'rollout');
  await canary.sshOk(server.gatewaySetup());
  const first = vmMember(canary);
  const second = vmMember(gw);
  fleet = writeFleet('site', [first, second]);
  // Interrupted while the canary is verified: it finishes, the second batch never starts.
  let interrupted = false;
  const onEvent = (event: RolloutLine, child: ChildProcess) => {
    if (
      !interrupted &&
      event.event === 'gateway' &&
      event.gateway === first.name &&
      event.phase === 'verifying'
    ) {
      interrupted = true;
      child.kill('SIGINT');
    }
  };
  const run1 = await startRollout(fleet, [...rolloutArgs(), '--apply'], onEvent).done;
  return { first, second, seconds: (Date.now() - started) / 1000, run1 };
}

/** Its own path on the update server: the first test counts os-upgrade's requests. */
const rolloutArgs = () => [
  s.server.guestUrl('rollout/v2.raucb'),
  '--group',
  'site',
  '--batches',
  '1,100%',
  '--soak',
  '10s',
  '--boot-timeout',
  '900',
];

beforeAll(async () => {
  s = await startScenario('update', title);
  await ensureBuilt();
  s.server.serveFile('rollout/v2.raucb', s.variants.bundles.v2.path);
  canaryRun = updateCanary();
  canaryRun.catch(() => undefined); // awaited by the rollout test, which reports its failure
});

afterAll(async () => {
  fleet?.remove();
  await canary?.stop();
  await s?.stop();
});

describe(title, () => {
  it('os-upgrade installs v2 from the update server into slot B, U-Boot boots it and os-verification confirms it', async () => {
    const { gw, server, variants } = s;
    const before = await gw.status();
    expect(before.rauc?.bootedSlot).toBe('A');
    expect(before.versions.os).toBe('1');
    // Slot A's kernel command line, without what boot.scr sets per slot.
    const perSlot = /^(root|rauc\.slot)=/;
    const commandLine = async (): Promise<string[]> =>
      (await gw.sshOk('cat /proc/cmdline')).stdout
        .trim()
        .split(/\s+/)
        .filter((a) => !perSlot.test(a));
    const onA = await commandLine();
    expect(onA).toContain('net.ifnames=0');

    const v2 = variants.bundles.v2;
    server.serveFile('bundles/v2.raucb', v2.path);
    server.setManifest({ version: '2', url: 'bundles/v2.raucb', size: v2.size, sha256: v2.sha256 });
    await gw.sshOk(server.gatewaySetup());

    const bootId = await gw.bootId();
    const started = Date.now();
    // What os-upgrade.timer does when it fires, without waiting 15 minutes for it.
    await gw.sshOk('systemctl start --no-block os-upgrade.service');
    const newBoot = gw.waitForNewBoot(bootId, 900_000);
    let downloaded = 0;
    let rebooting = 0;
    const watch = setInterval(() => {
      if (!downloaded && server.requests.some((r) => r.path === '/bundles/v2.raucb' && r.status === 200)) {
        downloaded = Date.now();
      }
      if (!rebooting) {
        void gw.serial().then((s) => {
          if (!rebooting && /reboot: Restarting system/.test(s)) rebooting = Date.now();
        });
      }
    }, 500);
    await newBoot.finally(() => clearInterval(watch));
    const onB = Date.now();

    // The gateway fetched the manifest, then the bundle, exactly once.
    const fetched = server.requests
      .filter((r) => r.status === 200 && !r.path.startsWith('/rollout/'))
      .map((r) => r.path);
    expect(fetched).toEqual(['/manifest.json', '/bundles/v2.raucb']);

    // U-Boot chose B from the boot state RAUC wrote (B first, 3 attempts, one used now).
    const attempts = bootAttempts(await gw.serial());
    expect(attempts.at(-1)).toEqual({ slot: 'B', mode: 'normal', left: { A: 3, B: 2 } });

    const onTrial = await gw.status();
    expect(onTrial.rauc?.bootedSlot).toBe('B');
    expect(onTrial.versions.os).toBe('2');
    // The bundle's boot image carries the image's kernel-params.txt: B boots with A's command line.
    expect(await commandLine()).toEqual(onA);

    const health = await gw.waitForHealth(600_000);
    const confirmed = Date.now();
    expect(health).toBe('passed');

    const after = await gw.status();
    expect(after.rauc?.bootedSlot).toBe('B');
    expect(after.rauc?.primarySlot).toBe('B');
    const slot = (name: string) => after.rauc?.slots.find((s) => s.bootname === name);
    expect(slot('B')).toMatchObject({ booted: true, primary: true, bootStatus: 'good', bundleVersion: '2' });
    expect(slot('A')).toMatchObject({ booted: false, primary: false, bootStatus: 'good' });
    expect(after.versions).toMatchObject({ os: '2', bundle: '2' });
    expect(after.health).toMatchObject({ state: 'passed' });
    // mark-good restored B's counter through fw_setenv: the confirmation reached the real boot state.
    expect(after.bootState).toMatchObject({
      order: ['B', 'A'],
      attemptsLeft: { A: 3, B: 3 },
      nextBootSlot: 'B',
    });
    const env = await gw.bootEnv();
    expect(env).toMatchObject({ BOOT_ORDER: 'B A', BOOT_B_LEFT: '3' });

    // The lifecycle journal: os-upgrade installed and activated B, B booted on its first trial,
    // reached multi-user.target, os-verification checked it, marked it good and recorded its pass; the
    // gateway's state machine walks the whole sequence, and the status says good.
    const journal = sinceLastInstall(await gatewayHistory(gw, 'update-confirm'));
    expect(journal.map((e) => [e.event, e.slot, e.by ?? e.verdict ?? null])).toEqual([
      ['install-started', 'B', 'os-upgrade'],
      ['install-finished', 'B', 'os-upgrade'],
      ['slot-activated', 'B', 'os-upgrade'],
      ['boot', 'B', null],
      ['up', 'B', null],
      ['health', 'B', 'running'],
      ['marked', 'B', 'os-verification'],
      ['health', 'B', 'passed'],
    ]);
    expect(journal[0]).toMatchObject({ version: '2', hash: v2.sha256 });
    expect(journal[3]).toMatchObject({ attemptsLeft: 2, maxAttempts: 3, previousBootEnded: 'clean' });
    expect(await lifecycleSequence(journal, 'B')).toEqual(confirmedOnFirstTrial);
    expect(slot('B')?.lifecycle).toMatchObject({ state: 'good' });
    expect(slot('A')?.lifecycle).toMatchObject({ state: 'good' });
    expect(onTrial.rauc?.slots.find((x) => x.bootname === 'B')?.lifecycle?.state).toMatch(
      /^(trying|booted|health-checking)$/,
    );

    // The download was removed once installed.
    expect((await gw.sshOk('find /data/rk64/downloads -type f 2>/dev/null | wc -l')).stdout.trim()).toBe('0');

    recordMeasurement(title, 'download', downloaded ? (downloaded - started) / 1000 : NaN);
    recordMeasurement(
      title,
      'install (download done to reboot)',
      rebooting && downloaded ? (rebooting - downloaded) / 1000 : NaN,
    );
    recordMeasurement(title, 'reboot to SSH on B', rebooting ? (onB - rebooting) / 1000 : NaN);
    recordMeasurement(title, 'confirm (SSH on B to marked good)', (confirmed - onB) / 1000);
    recordMeasurement(title, 'apply total (poll to confirmed)', since(started));
  });

  it('rk64 rollout to two gateways: the canary updated and verified, interrupted before the second batch, resumed: both on B, good', async () => {
    const { gw } = s;
    if (canaryRun === undefined) throw new Error('the canary was never started');
    const { first, second, seconds, run1 } = await canaryRun;
    if (canary === undefined || fleet === undefined) throw new Error('the canary has no gateway or fleet');
    expect(run1.code, run1.stderr).toBe(ExitCode.interrupted);
    const id = run1.events.find((e) => e.event === 'start')?.id ?? '';
    const phases = (events: typeof run1.events, name: string) =>
      events.flatMap((e) => (e.event === 'gateway' && e.gateway === name ? [e.phase] : []));
    // The events with their reasons, to say why when a phase is not the expected one.
    const said = JSON.stringify(run1.events.filter((e) => e.event === 'gateway'));
    expect(phases(run1.events, first.name), said).toEqual([
      'uploading',
      'installing',
      'rebooting',
      'verifying',
      'good',
    ]);
    expect(phases(run1.events, second.name)).toEqual(['skipped']);
    expect(run1.events.at(-1)).toMatchObject({ event: 'done', outcome: 'interrupted' });
    const afterInterrupt = await rolloutState(fleet, id);
    expect(afterInterrupt.gateways[first.name]).toMatchObject({ phase: 'good' });
    expect(afterInterrupt.gateways[second.name]).toMatchObject({ phase: 'skipped', reason: 'interrupted' });
    expect(afterInterrupt.version).toBe('2');
    // The canary got exactly the install and the reboot; the second gateway nothing at all.
    expect((await auditEntries(fleet, first.name)).map((e) => e.command)).toEqual([
      expect.stringMatching(/rk64-action install .*rollout\/v2\.raucb/),
      expect.stringMatching(/rk64-action reboot/),
    ]);
    expect(await auditEntries(fleet, second.name)).toEqual([]);
    const resumedAt = Date.now();

    // Resumed: the canary stays done; the second gateway runs v2 already (os-upgrade, above), so
    // it is verified, not installed again.
    const run2 = await startRollout(fleet, ['--resume', id, '--apply']).done;
    expect(run2.code, run2.stderr).toBe(ExitCode.ok);
    expect(phases(run2.events, first.name)).toEqual([]);
    expect(phases(run2.events, second.name)).toEqual(['verifying', 'good']);
    expect(run2.events.find((e) => e.event === 'gateway' && e.gateway === second.name)).toMatchObject({
      reason: 'already runs 2',
    });
    expect(run2.events.at(-1)).toMatchObject({ event: 'done', outcome: 'done' });
    expect(await auditEntries(fleet, second.name)).toEqual([]);
    expect((await rolloutState(fleet, id)).gateways[second.name]).toMatchObject({ phase: 'good' });

    // Both gateways, read from themselves: B booted, primary, good, version 2.
    for (const member of [canary, gw]) {
      const status = await member.status();
      expect(status.rauc?.bootedSlot).toBe('B');
      expect(status.rauc?.primarySlot).toBe('B');
      expect(status.versions.os).toBe('2');
      expect(status.health).toMatchObject({ state: 'passed' });
      expect(status.rauc?.slots.find((x) => x.bootname === 'B')?.lifecycle).toMatchObject({ state: 'good' });
    }
    // The canary's journal: the console installed B (the rollout's rk64-action), B booted on its
    // first trial and os-verification confirmed it.
    const journal = sinceLastInstall(await gatewayHistory(canary, 'rollout-canary'));
    expect(journal[0]).toMatchObject({ event: 'install-started', slot: 'B', by: 'console', version: '2' });
    expect(await lifecycleSequence(journal, 'B')).toEqual(confirmedOnFirstTrial);
    recordMeasurement(
      title,
      'rollout: canary (restore, install, reboot, verify; beside the first test)',
      seconds,
    );
    recordMeasurement(title, 'rollout: resume (verify the second gateway)', since(resumedAt));
  }, 1_500_000);
});
