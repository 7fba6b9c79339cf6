// Update bundles for the end-to-end scenarios, built from the test gateway's own inputs (its
// cached build: rootfs.squashfs, Image, initrd, boot.scr, boot.vfat, and its development CA) with
// the project's own tools: device-scripts/image/make-squashfs, make-boot-vfat and build-bundle.
// Cached under /var/cache/rk64/e2e/variants-<hash of every input>; a cold run builds them.
//
//   v2             the v1 root with IMAGE_VERSION=2: the update that must take
//   broken-kernel  a boot image whose kernel has no valid header (booti refuses it) and a tiny root
//                  (never reached: Linux never starts on B)
//   unhealthy      the v2 root with dnsmasq masked: it boots, but os-verification's dnsmasq check fails
//   hanging        the v1 root with a unit that freezes PID 1 (test/vm/e2e/variants/hang-pid1), so
//                  systemd stops feeding the i6300esb watchdog (armed at production's 30 s,
//                  test/vm/e2e/variants/watchdog-e2e.conf, instead of the test gateway's 60 s)
// The roots that boot (v2, unhealthy, hanging) carry test/vm/e2e/variants/os-verification-e2e.conf:
// os-verification checks every 5 s for 15 s instead of every 5 s for 60 s (its own environment
// variables), so a confirmation costs 15 s of emulated time; the checks themselves are unchanged.
// Their boot image is made by make-boot-vfat from the gateway's own kernel, initrd, boot.scr and
// kernel parameters (read back from its boot.vfat's kernel-params.txt, so a variant boots with the
// image's command line), 48 MiB instead of the slot's 128 MiB (RAUC writes the whole image; the
// rest of the slot is unused).
//   other-ca       a small bundle signed by a second development CA the gateway does not trust
//   wrong-compat   a small bundle for compatible "rock64-other"
//   tiny           a small bundle for rock64 signed by the gateway's CA (its root is never booted):
//                  the unsigned, truncated and flipped-byte bundles are cut from it at test time
//                  (cheap byte copies, and no 130 MB download per refused case)
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { copyFile, mkdir, open, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { buildGateway } from './gateway.js';
import type { GatewayBuild } from './gateway.js';
import { repoRoot, runOk } from './exec.js';
import { withFileLock } from './file-lock.js';

const cache = process.env.RK64_CACHE ?? '/var/cache/rk64';
const deviceScripts = join(repoRoot, 'device-scripts');
const variantFiles = join(repoRoot, 'test/vm/e2e/variants');

export type VariantName =
  'v2' | 'broken-kernel' | 'unhealthy' | 'hanging' | 'other-ca' | 'wrong-compat' | 'tiny';

export interface Bundle {
  name: string;
  path: string;
  /** The version in the bundle manifest. */
  version: string;
  size: number;
  sha256: string;
}

export interface Variants {
  build: GatewayBuild & { dir: string };
  dir: string;
  /** Seconds the (cold) variant build took; 0 when everything came from the cache. */
  buildSeconds: number;
  bundles: Record<VariantName, Bundle>;
}

const tool = (path: string): string => join(deviceScripts, path);
const long = { timeoutMs: 1_800_000 };
/** Boot image size of the variants (kernel 33 MB + initrd 2 MB fit; the slot is 128 MiB). */
const BOOT_SIZE = '48M';

export async function sha256File(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

async function describeBundle(name: string, path: string, version: string): Promise<Bundle> {
  return { name, path, version, size: (await stat(path)).size, sha256: await sha256File(path) };
}

function gatewayPki(): string {
  return process.env.GATEWAY_PKI ?? join(cache, 'gateway', 'pki');
}

async function variantsKey(build: GatewayBuild): Promise<string> {
  const hash = createHash('sha256').update(build.key);
  for (const file of [
    join(repoRoot, 'test/lib/e2e-variants.ts'),
    join(variantFiles, 'hang-pid1'),
    join(variantFiles, 'rk64-e2e-hang.service'),
    join(variantFiles, 'os-verification-e2e.conf'),
    join(variantFiles, 'watchdog-e2e.conf'),
    tool('image/make-squashfs'),
    tool('image/make-boot-vfat'),
    tool('image/build-bundle'),
    join(gatewayPki(), 'ca.cert.pem'),
  ]) {
    hash.update(await readFile(file));
  }
  return hash.digest('hex').slice(0, 16);
}

async function makeSquashfs(root: string, out: string): Promise<void> {
  await runOk('bash', [tool('image/make-squashfs'), '--root', root, '--out', out], long);
}

/**
 * The kernel parameters of a built boot image: the words of its kernel-params.txt (written by
 * make-boot-vfat from test/gateway/assemble-disk's list, in the one format boot.scr reads).
 */
export async function imageKernelParams(bootVfat: string): Promise<string> {
  const file = (await runOk('mtype', ['-i', bootVfat, '::kernel-params.txt'])).stdout;
  const lines = file.split('\n').filter((l) => l.startsWith('rk64_kernel_params='));
  if (lines.length !== 1)
    throw new Error(`${bootVfat}: kernel-params.txt has no single rk64_kernel_params= line:\n${file}`);
  return (lines[0] ?? '').slice('rk64_kernel_params='.length).trim();
}

async function makeBootVfat(
  kernel: string,
  initrd: string | null,
  bootScr: string,
  kernelParams: string,
  out: string,
  size?: string,
) {
  const args = [tool('image/make-boot-vfat'), '--kernel', kernel, '--boot-script', bootScr, '--out', out];
  if (initrd) args.push('--initrd', initrd);
  if (size) args.push('--size', size);
  args.push('--kernel-params', kernelParams);
  await runOk('bash', args, long);
}

interface SignWith {
  cert: string;
  key: string;
  keyring: string | null;
}

async function buildBundle(
  boot: string,
  rootfs: string,
  version: string,
  signer: SignWith,
  out: string,
  compatible = 'rock64',
): Promise<void> {
  await rm(out, { force: true });
  const args = [
    tool('image/build-bundle'),
    '--boot-image',
    boot,
    '--rootfs-image',
    rootfs,
    '--version',
    version,
    '--cert',
    signer.cert,
    '--key',
    signer.key,
    '--output',
    out,
    '--compatible',
    compatible,
  ];
  if (signer.keyring) args.push('--keyring', signer.keyring);
  await runOk('bash', args, long);
}

async function setImageVersion(root: string, version: string): Promise<void> {
  const file = join(root, 'usr/lib/os-release');
  const lines = (await readFile(file, 'utf8')).split('\n').filter((l) => !l.startsWith('IMAGE_VERSION='));
  while (lines.at(-1) === '') lines.pop();
  await writeFile(file, `${lines.join('\n')}\nIMAGE_VERSION=${version}\n`);
}

/** A copy of the kernel whose first 4 KiB (the arm64 Image header) are zeros: booti refuses it. */
async function brokenKernel(image: string, out: string): Promise<void> {
  await copyFile(image, out);
  const handle = await open(out, 'r+');
  try {
    await handle.write(Buffer.alloc(4096), 0, 4096, 0);
  } finally {
    await handle.close();
  }
}

async function buildAll(build: GatewayBuild & { dir: string }, tmp: string): Promise<void> {
  const pki = gatewayPki();
  const signer: SignWith = {
    cert: join(pki, 'signing.cert.pem'),
    key: join(pki, 'signing.key.pem'),
    keyring: join(pki, 'ca.cert.pem'),
  };
  const g = (f: string): string => join(build.dir, f);
  const kernelParams = await imageKernelParams(g('boot.vfat'));

  // broken-kernel: same initrd and boot script, kernel header destroyed.
  await brokenKernel(g('Image'), join(tmp, 'Image.broken'));
  await makeBootVfat(
    join(tmp, 'Image.broken'),
    g('initrd'),
    g('boot.scr'),
    kernelParams,
    join(tmp, 'boot-broken.vfat'),
    BOOT_SIZE,
  );
  await rm(join(tmp, 'Image.broken'));
  // The boot image of the roots that boot: the gateway's own kernel, initrd and boot script.
  await makeBootVfat(g('Image'), g('initrd'), g('boot.scr'), kernelParams, join(tmp, 'boot.vfat'), BOOT_SIZE);

  // Small payloads for bundles whose root is never used (refused, or B never reaches Linux).
  const small = join(tmp, 'small');
  await mkdir(join(small, 'root/etc'), { recursive: true });
  await writeFile(join(small, 'root/etc/rk64-e2e'), 'a root that must never be booted\n');
  await makeSquashfs(join(small, 'root'), join(small, 'rootfs.squashfs'));
  await writeFile(join(small, 'Image'), Buffer.alloc(4096));
  await makeBootVfat(
    join(small, 'Image'),
    null,
    g('boot.scr'),
    kernelParams,
    join(small, 'boot.vfat'),
    '40M',
  );
  const otherPki = join(tmp, 'other-pki');
  await runOk('bash', [tool('pki/make-dev-ca'), '--out', otherPki, '--name', 'rk64 e2e untrusted CA']);

  // Root variants: one extracted copy of the v1 root, changed and packed per variant.
  const root = join(tmp, 'root');
  await runOk('unsquashfs', ['-q', '-n', '-d', root, g('rootfs.squashfs')], long);
  await runOk('install', [
    '-D',
    '-m',
    '0644',
    join(variantFiles, 'os-verification-e2e.conf'),
    join(root, 'etc/systemd/system/os-verification.service.d/e2e.conf'),
  ]);
  await setImageVersion(root, '2');
  await makeSquashfs(root, join(tmp, 'v2.squashfs'));

  // unhealthy: dnsmasq masked, so the LAN has no DHCP server and os-verification fails.
  await runOk('systemctl', ['--root', root, 'mask', 'rk64-dnsmasq.service']);
  await makeSquashfs(root, join(tmp, 'unhealthy.squashfs'));
  await runOk('systemctl', ['--root', root, 'unmask', 'rk64-dnsmasq.service']);

  // hanging: PID 1 frozen early in every boot; the watchdog resets the machine.
  await runOk('install', [
    '-D',
    '-m',
    '0755',
    join(variantFiles, 'hang-pid1'),
    join(root, 'usr/lib/rk64-e2e/hang-pid1'),
  ]);
  await runOk('install', [
    '-D',
    '-m',
    '0644',
    join(variantFiles, 'rk64-e2e-hang.service'),
    join(root, 'usr/lib/systemd/system/rk64-e2e-hang.service'),
  ]);
  await runOk('systemctl', ['--root', root, 'enable', 'rk64-e2e-hang.service']);
  await runOk('install', [
    '-D',
    '-m',
    '0644',
    join(variantFiles, 'watchdog-e2e.conf'),
    join(root, 'etc/systemd/system.conf.d/zz-rk64-e2e-watchdog.conf'),
  ]);
  await makeSquashfs(root, join(tmp, 'hanging.squashfs'));
  await rm(root, { recursive: true, force: true });

  for (const v of ['v2', 'unhealthy', 'hanging'])
    await buildBundle(
      join(tmp, 'boot.vfat'),
      join(tmp, `${v}.squashfs`),
      '2',
      signer,
      join(tmp, `${v}.raucb`),
    );
  await buildBundle(
    join(tmp, 'boot-broken.vfat'),
    join(small, 'rootfs.squashfs'),
    '2',
    signer,
    join(tmp, 'broken-kernel.raucb'),
  );
  await buildBundle(
    join(small, 'boot.vfat'),
    join(small, 'rootfs.squashfs'),
    '2',
    { cert: join(otherPki, 'signing.cert.pem'), key: join(otherPki, 'signing.key.pem'), keyring: null },
    join(tmp, 'other-ca.raucb'),
  );
  await buildBundle(
    join(small, 'boot.vfat'),
    join(small, 'rootfs.squashfs'),
    '2',
    signer,
    join(tmp, 'wrong-compat.raucb'),
    'rock64-other',
  );
  await buildBundle(
    join(small, 'boot.vfat'),
    join(small, 'rootfs.squashfs'),
    '2',
    signer,
    join(tmp, 'tiny.raucb'),
  );
  for (const f of ['v2', 'unhealthy', 'hanging']) await rm(join(tmp, `${f}.squashfs`));
  for (const f of ['boot.vfat', 'boot-broken.vfat']) await rm(join(tmp, f));
  await rm(small, { recursive: true, force: true });
  await rm(otherPki, { recursive: true, force: true });
}

const names: VariantName[] = [
  'v2',
  'broken-kernel',
  'unhealthy',
  'hanging',
  'other-ca',
  'wrong-compat',
  'tiny',
];

/** Build (or reuse) the gateway image and every bundle variant. */
export async function e2eVariants(): Promise<Variants> {
  const build = await buildGateway();
  const key = await variantsKey(build);
  const dir = join(cache, 'e2e', `variants-${key}`);
  const done = (): Promise<boolean> =>
    stat(join(dir, 'bundles.json')).then(
      () => true,
      () => false,
    );
  // Another test file may be building the same variants right now: wait for it, then use them.
  const buildSeconds = (await done())
    ? 0
    : await withFileLock(`${dir}.lock`, async () => ((await done()) ? 0 : buildVariants(build, dir)));
  const bundles = JSON.parse(await readFile(join(dir, 'bundles.json'), 'utf8')) as Record<
    VariantName,
    Bundle
  >;
  return { build, dir, buildSeconds, bundles };
}

/** Builds every variant into `dir` (through a temporary directory); returns the seconds it took. */
async function buildVariants(build: GatewayBuild & { dir: string }, dir: string): Promise<number> {
  const started = Date.now();
  const tmp = `${dir}.tmp-${process.pid}`;
  await rm(tmp, { recursive: true, force: true });
  await mkdir(tmp, { recursive: true });
  try {
    await buildAll(build, tmp);
    const bundles: Partial<Record<VariantName, Bundle>> = {};
    for (const name of names) {
      const described = await describeBundle(name, join(tmp, `${name}.raucb`), '2');
      bundles[name] = { ...described, path: join(dir, `${name}.raucb`) };
    }
    await writeFile(join(tmp, 'bundles.json'), `${JSON.stringify(bundles, null, 2)}\n`);
    await rm(dir, { recursive: true, force: true });
    await rename(tmp, dir);
  } catch (error) {
    await rm(tmp, { recursive: true, force: true });
    throw error;
  }
  await pruneOldVariants(dir);
  return Math.round((Date.now() - started) / 1000);
}

/** Each variant set is ~600 MB: keep only the newest two. */
async function pruneOldVariants(keep: string): Promise<void> {
  const parent = join(cache, 'e2e');
  const out = await runOk('bash', [
    '-c',
    `find "$1" -maxdepth 1 -name 'variants-*' -type d ! -name '*.tmp-*' -printf '%T@ %p\\n' | sort -rn | tail -n +3 | cut -d' ' -f2-`,
    '_',
    parent,
  ]);
  for (const old of out.stdout.split('\n').filter((l) => l && l !== keep))
    await rm(old, { recursive: true, force: true });
}
