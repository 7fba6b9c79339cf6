// Scenario 1, update and confirm: a signed v2 bundle (the gateway's own root with IMAGE_VERSION=2)
// served over HTTPS from 127.0.0.1 (10.0.2.2 inside QEMU; the gateway pins the server's test CA);
// the gateway's os-upgrade finds it in the manifest, downloads, installs to slot B and reboots; U-Boot boots B; os-verification checks the
// gateway and marks B good; the status shows B booted, primary and good, A good, version 2.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bootAttempts } from '../../lib/e2e-gateway.js';
import { recordMeasurement, since } from '../../lib/e2e-measure.js';
import { startScenario } from '../../lib/e2e-scenario.js';
import type { Scenario } from '../../lib/e2e-scenario.js';
import { gatewayHistory, lifecycleSequence, sinceLastInstall } from '../../lib/lifecycle.js';

const title = 'update and confirm';
let s: Scenario;

beforeAll(async () => {
  s = await startScenario('update', title);
});

afterAll(async () => {
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
    const fetched = server.requests.filter((r) => r.status === 200).map((r) => r.path);
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
    expect(await lifecycleSequence(journal, 'B')).toEqual([
      'installed',
      'trying 1 of 3',
      'booted',
      'health-checking',
      'good',
    ]);
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
});
