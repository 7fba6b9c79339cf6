// Scenario 5, bad bundles: each is offered by the update server as the next version and must be
// refused with a clear message, with both slots (their bytes, read from the disk on the host) and
// the boot state unchanged and no leftover file on /data.
// The genuine base is the `tiny` variant (signed by the gateway's CA for rock64, 15 KB), so no
// case pays for a 130 MB download; what is checked (signature, certificate chain, compatible,
// bundle format, checksum) does not depend on the payload's size.
//   unsigned       a genuine bundle with its CMS signature cut off
//   other CA       signed by a development CA the gateway does not trust
//   wrong compat   compatible "rock64-other"
//   truncated      the first half of the genuine bundle (the manifest describes this file)
//   flipped byte   the genuine bundle with one byte flipped (seeded) in transit: the manifest
//                  still describes the genuine file; and the same flip in the signature, installed
//                  directly with rk64-action, which only RAUC can catch
import { copyFile, mkdtemp, open, rm, stat, truncate } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startScenario } from '../../lib/e2e-scenario.js';
import type { Scenario } from '../../lib/e2e-scenario.js';
import { sha256File } from '../../lib/e2e-variants.js';
import { seededRandom } from '../../lib/seeded-random.js';

const title = 'bad bundles';
const seed = Number(process.env.RK64_E2E_SEED ?? Date.now() % 100_000);
let s: Scenario;
let work: string;
let baseline: Snapshot;
const slotPartitions = ['boot-a', 'rootfs-a', 'boot-b', 'rootfs-b'];

interface Snapshot {
  hashes: Record<string, string>;
  env: Record<string, string>;
  slots: string;
  dataFiles: string;
}

async function snapshot(partitions: string[]): Promise<Snapshot> {
  const hashes: Record<string, string> = {};
  for (const p of partitions) hashes[p] = await s.gw.partitionHash(p);
  const status = await s.gw.status();
  return {
    hashes,
    env: await s.gw.bootEnv(),
    slots: JSON.stringify(
      status.rauc?.slots.map((x) => [x.bootname, x.bootStatus, x.bundleVersion, x.installedAt]),
    ),
    // Every file on /data but the records a refused update leaves by design: os-upgrade's back-off
    // state (cleared after each case, see offer()) and rk64-action's last-action report.
    dataFiles: (
      await s.gw.sshOk(
        "find /data -xdev -type f ! -path /data/rk64/os-upgrade.state ! -path '/data/rk64/last-action.*' | sort",
      )
    ).stdout,
  };
}

async function bundleSignatureSize(path: string): Promise<number> {
  const handle = await open(path, 'r');
  try {
    const { size } = await handle.stat();
    const tail = Buffer.alloc(8);
    await handle.read(tail, 0, 8, size - 8);
    return Number(tail.readBigUInt64BE(0));
  } finally {
    await handle.close();
  }
}

async function flipByte(path: string, offset: number): Promise<void> {
  const handle = await open(path, 'r+');
  try {
    const b = Buffer.alloc(1);
    await handle.read(b, 0, 1, offset);
    b[0] = (b[0] ?? 0) ^ 0xff;
    await handle.write(b, 0, 1, offset);
  } finally {
    await handle.close();
  }
}

/** Offer FILE as version 2 through the manifest, run os-upgrade once, return its last log line. */
async function offer(name: string, file: string, manifestOf = file): Promise<string> {
  const { server, gw } = s;
  server.serveFile(`bad/${name}.raucb`, file);
  server.setManifest({
    version: '2',
    url: `bad/${name}.raucb`,
    size: (await stat(manifestOf)).size,
    sha256: await sha256File(manifestOf),
  });
  const since = (await gw.sshOk('date +%s')).stdout.trim();
  const r = await gw.ssh('systemctl start os-upgrade.service', { timeoutMs: 900_000 });
  expect(r.code, 'os-upgrade.service must fail for a bad bundle').not.toBe(0);
  const log = (await gw.sshOk(`journalctl -u os-upgrade.service --since @${since} -o cat --no-pager`)).stdout;
  // The back-off record is the one file a failed run keeps (by design); clear it for the next case.
  await gw.sshOk('rm -f /data/rk64/os-upgrade.state');
  const failed = log.split('\n').filter((l) => l.includes('update failed:'));
  expect(failed, `os-upgrade log for ${name}:\n${log}`).toHaveLength(1);
  return failed[0] ?? '';
}

async function expectUnchanged(partitions: string[]): Promise<void> {
  const now = await snapshot(partitions);
  for (const p of partitions) expect(now.hashes[p], `partition ${p}`).toBe(baseline.hashes[p]);
  expect(now.env).toEqual(baseline.env);
  expect(now.slots).toBe(baseline.slots);
  expect(now.dataFiles).toBe(baseline.dataFiles);
}

beforeAll(async () => {
  console.log(`bad bundles: seed ${seed} (RK64_E2E_SEED=${seed} repeats this run)`);
  s = await startScenario('bad', title);
  work = await mkdtemp(join(tmpdir(), 'rk64-e2e-bad-'));
  const { server, gw } = s;
  await gw.sshOk(server.gatewaySetup());
  baseline = await snapshot(slotPartitions);
});

afterAll(async () => {
  await s?.stop();
  if (work) await rm(work, { recursive: true, force: true });
});

describe(title, () => {
  it('refuses an unsigned bundle', async () => {
    const genuine = s.variants.bundles.tiny.path;
    const unsigned = join(work, 'unsigned.raucb');
    await copyFile(genuine, unsigned);
    const { size } = await stat(unsigned);
    await truncate(unsigned, size - 8 - (await bundleSignatureSize(genuine)));
    const line = await offer('unsigned', unsigned);
    expect(line).toMatch(/bundle 2: rauc info refused the bundle: .*signature/i);
    await expectUnchanged(['boot-b', 'rootfs-b']);
  });

  it('refuses a bundle signed by another CA', async () => {
    const line = await offer('other-ca', s.variants.bundles['other-ca'].path);
    expect(line).toMatch(/bundle 2: rauc info refused the bundle: .*(signature|certificate|issuer)/i);
    await expectUnchanged(['boot-b', 'rootfs-b']);
  });

  it('refuses a bundle for another compatible', async () => {
    const line = await offer('wrong-compat', s.variants.bundles['wrong-compat'].path);
    expect(line).toMatch(/rauc rejected the 2 bundle: .*compatible.*rock64-other/i);
    await expectUnchanged(['boot-b', 'rootfs-b']);
  });

  it('refuses a truncated bundle', async () => {
    const truncated = join(work, 'truncated.raucb');
    await copyFile(s.variants.bundles.tiny.path, truncated);
    await truncate(truncated, Math.floor(s.variants.bundles.tiny.size / 2));
    const line = await offer('truncated', truncated);
    expect(line).toMatch(/bundle 2: rauc info refused the bundle: /);
    await expectUnchanged(['boot-b', 'rootfs-b']);
  });

  it('refuses a bundle with one flipped byte, in transit (checksum) and in its signature (RAUC)', async () => {
    const rand = seededRandom(seed);
    const tiny = s.variants.bundles.tiny;
    const inTransit = join(work, 'flipped.raucb');
    await copyFile(tiny.path, inTransit);
    const offset = Math.floor(rand() * tiny.size);
    console.log(`bad bundles: flipped byte at offset ${offset} of ${tiny.size}`);
    await flipByte(inTransit, offset);
    const line = await offer('flipped', inTransit, tiny.path);
    expect(line).toMatch(
      /bundle 2 has sha256 [0-9a-f]{64}, the manifest says [0-9a-f]{64} \(corrupt download\)/,
    );
    await expectUnchanged(['boot-b', 'rootfs-b']);

    // The same kind of damage inside the signature, handed to RAUC directly (no manifest checksum).
    const sigSize = await bundleSignatureSize(tiny.path);
    const inSignature = join(work, 'flipped-signature.raucb');
    await copyFile(tiny.path, inSignature);
    const sigOffset = tiny.size - 8 - sigSize + Math.floor(rand() * sigSize);
    console.log(`bad bundles: flipped signature byte at offset ${sigOffset}`);
    await flipByte(inSignature, sigOffset);
    s.server.serveFile('bad/flipped-signature.raucb', inSignature);
    const result = await s.gw.install(s.server.guestUrl('bad/flipped-signature.raucb'));
    expect(result.code).toBe(3);
    const last = result.events.at(-1);
    expect(last).toMatchObject({ event: 'result', ok: false });
    expect(last?.message).toMatch(/rauc info refused the bundle: .+/);
    await expectUnchanged(slotPartitions);
  });
});
