// Boot-chain test helpers: real arm64 artifacts, the device-scripts image tools, the
// boot state (libubootenv redundant format) on a disk image, and the real fw_* tools.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import { repoRoot, run, runOk } from './exec.js';

export const arm64Dir = process.env.RK64_ARM64_DIR ?? '/var/cache/rk64/arm64';
export const bootCacheDir = join(process.env.RK64_CACHE ?? '/var/cache/rk64', 'boot');
export const scripts = {
  compileBootScript: join(repoRoot, 'device-scripts/boot/compile-boot-script'),
  buildImage: join(repoRoot, 'device-scripts/image/build-image'),
  makeBootVfat: join(repoRoot, 'device-scripts/image/make-boot-vfat'),
  makeSquashfs: join(repoRoot, 'device-scripts/image/make-squashfs'),
  flash: join(repoRoot, 'device-scripts/provision/flash'),
  breakGlass: join(repoRoot, 'device-scripts/rootfs/break-glass'),
  fwEnvConfig: join(repoRoot, 'device-scripts/boot/fw_env.config'),
  initialEnv: join(repoRoot, 'device-scripts/boot/u-boot-initial-env'),
  repartDir: join(repoRoot, 'device-scripts/repart'),
};

export const SECTOR = 512;
export const ENV_COPY_SIZE = 0x4000;

export function kernelPath(): string {
  const boot = join(arm64Dir, 'boot');
  const name = readdirSync(boot).find((f) => f.startsWith('vmlinuz-'));
  if (!name) throw new Error(`no vmlinuz-* in ${boot}; run scripts/setup`);
  return join(boot, name);
}

export const rock64 = {
  idbloader: join(arm64Dir, 'usr/lib/u-boot/rock64-rk3328/idbloader.img'),
  ubootItb: join(arm64Dir, 'usr/lib/u-boot/rock64-rk3328/u-boot.itb'),
  dtb(): string {
    const lib = join(arm64Dir, 'usr/lib');
    const dir = readdirSync(lib).find((d) => d.startsWith('linux-image-'));
    if (!dir) throw new Error(`no linux-image-* in ${lib}; run scripts/setup`);
    return join(lib, dir, 'rockchip/rk3328-rock64.dtb');
  },
};

// The test initramfs: busybox prints the kernel command line, then powers off. Built once
// per busybox + init text and cached outside the repository.
const TEST_INIT = `#!/bin/busybox sh
/bin/busybox mount -t proc proc /proc
echo "RK64-TEST-CMDLINE: $(/bin/busybox cat /proc/cmdline)"
/bin/busybox poweroff -f
`;

export async function testInitrd(): Promise<string> {
  const busybox = join(arm64Dir, 'bin/busybox');
  const hash = createHash('sha256')
    .update(readFileSync(busybox))
    .update(TEST_INIT)
    .digest('hex')
    .slice(0, 16);
  const dir = join(bootCacheDir, `initrd-${hash}`);
  const out = join(dir, 'initrd.gz');
  if (existsSync(out)) return out;
  mkdirSync(dir, { recursive: true });
  const tree = join(dir, `tree.${process.pid}`);
  rmSync(tree, { recursive: true, force: true });
  for (const d of ['bin', 'proc', 'dev']) mkdirSync(join(tree, d), { recursive: true });
  await runOk('cp', [busybox, join(tree, 'bin/busybox')]);
  writeFileSync(join(tree, 'init'), TEST_INIT, { mode: 0o755 });
  const tmp = `${out}.${process.pid}`;
  await runOk('sh', [
    '-c',
    `cd "${tree}" && find . | LC_ALL=C sort | cpio -o -H newc --quiet --reproducible | gzip -9n > "${tmp}"`,
  ]);
  renameSync(tmp, out);
  rmSync(tree, { recursive: true, force: true });
  return out;
}

export async function compileBootScript(out: string): Promise<void> {
  await runOk('bash', [scripts.compileBootScript, '--out', out]);
}

export async function tinySquashfs(dir: string): Promise<string> {
  const root = join(dir, 'sqroot');
  mkdirSync(join(root, 'etc'), { recursive: true });
  writeFileSync(join(root, 'etc/rk64-test'), 'rootfs\n');
  const out = join(dir, 'rootfs.squashfs');
  await runOk('bash', [scripts.makeSquashfs, '--root', root, '--out', out]);
  return out;
}

export interface Partition {
  number: number;
  name: string;
  start: number; // sectors
  size: number; // sectors
  type: string;
}

export async function partitions(img: string): Promise<Partition[]> {
  const { stdout } = await runOk('sfdisk', ['--json', img]);
  const parsed = JSON.parse(stdout) as {
    partitiontable: {
      partitions: { node: string; start: number; size: number; type: string; name?: string }[];
    };
  };
  return parsed.partitiontable.partitions.map((p) => ({
    number: Number(/(\d+)$/.exec(p.node)?.[1] ?? 0),
    name: p.name ?? '',
    start: p.start,
    size: p.size,
    type: p.type.toUpperCase(),
  }));
}

export async function partition(img: string, name: string): Promise<Partition> {
  const p = (await partitions(img)).find((x) => x.name === name);
  if (!p) throw new Error(`no partition ${name} in ${img}`);
  return p;
}

/**
 * The shipped fw_env.config, pointed at a disk image file: the by-partlabel device becomes
 * the image and each offset moves by the partition's byte offset. So the tests use the
 * shipped offsets and sizes, not a copy of them.
 */
export async function fwEnvConfigFor(img: string, dir: string): Promise<string> {
  const env = await partition(img, 'uboot-env');
  const lines = readFileSync(scripts.fwEnvConfig, 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '' && !l.trim().startsWith('#'))
    .map((l) => {
      const [dev, off, size] = l.trim().split(/\s+/);
      if (dev !== '/dev/disk/by-partlabel/uboot-env' || off === undefined || size === undefined) {
        throw new Error(`unexpected fw_env.config line: ${l}`);
      }
      return `${img} 0x${(env.start * SECTOR + Number(off)).toString(16)} ${size}`;
    });
  const cfg = join(dir, `fw_env.${createHash('sha1').update(img).digest('hex').slice(0, 8)}.config`);
  writeFileSync(cfg, lines.join('\n') + '\n');
  return cfg;
}

/** fw_printenv through the real tool; null when it finds no valid copy. */
export async function fwPrintenv(cfg: string): Promise<Record<string, string> | null> {
  const r = await run('fw_printenv', ['-c', cfg]);
  if (r.code !== 0) return null;
  const vars: Record<string, string> = {};
  for (const line of r.stdout.split('\n')) {
    const i = line.indexOf('=');
    if (i > 0) vars[line.slice(0, i)] = line.slice(i + 1);
  }
  return vars;
}

/** fw_setenv through the real tool, one call per variable (as RAUC does); null deletes. */
export async function fwSetenv(cfg: string, vars: Record<string, string | null>): Promise<void> {
  for (const [name, value] of Object.entries(vars)) {
    const args = ['-c', cfg, '-f', scripts.initialEnv, name];
    if (value !== null) args.push(value);
    await runOk('fw_setenv', args);
  }
}

/** One env copy in libubootenv's redundant layout: crc32 LE over data, flags byte, data. */
export function envCopy(vars: Record<string, string>, flags: number): Buffer {
  const buf = Buffer.alloc(ENV_COPY_SIZE);
  const data = Buffer.from(
    Object.entries(vars)
      .map(([k, v]) => `${k}=${v}\0`)
      .join('') + '\0',
  );
  data.copy(buf, 5);
  buf.writeUInt8(flags & 0xff, 4);
  buf.writeUInt32LE(crc32(buf.subarray(5)), 0);
  return buf;
}

export async function envPartitionOffset(img: string): Promise<number> {
  return (await partition(img, 'uboot-env')).start * SECTOR;
}

export async function writeAt(file: string, offset: number, data: Buffer): Promise<void> {
  const fh = await open(file, 'r+');
  try {
    await fh.write(data, 0, data.length, offset);
  } finally {
    await fh.close();
  }
}

export async function readAt(file: string, offset: number, length: number): Promise<Buffer> {
  const fh = await open(file, 'r');
  try {
    const buf = Buffer.alloc(length);
    await fh.read(buf, 0, length, offset);
    return buf;
  } finally {
    await fh.close();
  }
}

/** Raw access to copy 0 (A) / 1 (B) of the boot state. */
export async function writeEnvCopy(img: string, copy: 0 | 1, data: Buffer): Promise<void> {
  await writeAt(img, (await envPartitionOffset(img)) + copy * ENV_COPY_SIZE, data);
}

export async function readEnvCopy(img: string, copy: 0 | 1): Promise<Buffer> {
  return readAt(img, (await envPartitionOffset(img)) + copy * ENV_COPY_SIZE, ENV_COPY_SIZE);
}

export async function zeroEnv(img: string): Promise<void> {
  const p = await partition(img, 'uboot-env');
  await writeAt(img, p.start * SECTOR, Buffer.alloc(p.size * SECTOR));
}
