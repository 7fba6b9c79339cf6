// Real U-Boot (Debian's qemu_arm64) booting a disk built by build-image, under QEMU.
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { run, runOk } from './exec.js';
import {
  SECTOR,
  compileBootScript,
  kernelPath,
  partitions,
  scripts,
  testInitrd,
  tinySquashfs,
} from './boot-image.js';

export const ubootQemu = process.env.RK64_UBOOT_QEMU ?? '/usr/lib/u-boot/qemu_arm64/u-boot.bin';

export interface Attempt {
  slot: string;
  mode: string;
}

export interface BootResult {
  log: string;
  /** one entry per "rk64: booting slot" line, in order */
  attempts: Attempt[];
  /** the state U-Boot read, from "rk64: BOOT_ORDER=… BOOT_A_LEFT=… BOOT_B_LEFT=…" (last boot) */
  seen: { order: string; a: string; b: string } | null;
  bootargs: string | null;
  /** /proc/cmdline as the booted kernel printed it */
  cmdline: string | null;
  /** U-Boot "resetting ..." lines */
  resets: number;
  end: 'exit' | 'stopped' | 'timeout';
}

export interface BootOptions {
  /** stop at the first "rk64: bootargs:" (U-Boot only) or after the kernel printed its cmdline */
  until: 'uboot' | 'kernel';
  /** let U-Boot resets restart the machine (default: a reset ends QEMU) */
  followResets?: boolean;
  timeoutMs?: number;
  /** typed at the U-Boot prompt before `run bootcmd` (first boot only) */
  atPrompt?: string;
}

/**
 * One QEMU run. The autoboot countdown is skipped by pressing a key and typing
 * `run bootcmd` (Debian's bootcmd = distro boot), which saves two seconds per attempt.
 */
export function boot(disk: string, opts: BootOptions): Promise<BootResult> {
  const args = [
    '-M',
    'virt',
    '-cpu',
    'cortex-a53',
    '-m',
    '512',
    '-display',
    'none',
    '-serial',
    'stdio',
    '-monitor',
    'none',
    '-nic',
    'none',
    '-bios',
    ubootQemu,
    '-drive',
    `if=none,file=${disk},format=raw,id=d`,
    '-device',
    'virtio-blk-device,drive=d',
  ];
  if (!opts.followResets) args.push('-no-reboot');
  return new Promise((resolve, reject) => {
    const child = spawn('qemu-system-aarch64', args, { stdio: ['pipe', 'pipe', 'pipe'] });
    let log = '';
    let handledBanners = 0;
    let awaitingPrompt = false;
    let end: BootResult['end'] = 'exit';
    const stop = (why: BootResult['end']): void => {
      end = why;
      child.kill('SIGKILL');
    };
    const timer = setTimeout(() => stop('timeout'), opts.timeoutMs ?? 120_000);
    const onData = (d: Buffer): void => {
      log += d.toString('latin1');
      const banners = log.split('Hit any key to stop autoboot').length - 1;
      if (banners > handledBanners) {
        handledBanners = banners;
        awaitingPrompt = true;
        child.stdin.write('\n');
      }
      if (awaitingPrompt && /=> $/.test(log)) {
        awaitingPrompt = false;
        const typed = handledBanners === 1 && opts.atPrompt ? `${opts.atPrompt}; ` : '';
        child.stdin.write(`${typed}run bootcmd\n`);
      }
      if (opts.until === 'uboot' && /rk64: bootargs: [^\n]*\n/.test(log)) stop('stopped');
      if (opts.until === 'kernel' && /RK64-TEST-CMDLINE: [^\n]*\n/.test(log)) stop('stopped');
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', (d: Buffer) => (log += d.toString('latin1')));
    child.on('error', reject);
    child.on('close', () => {
      clearTimeout(timer);
      const clean = log.replace(/\r/g, '');
      const attempts = [...clean.matchAll(/rk64: booting slot (\S+) from \S+ \S+ \((\w+)\)/g)].map((m) => ({
        slot: m[1] ?? '',
        mode: m[2] ?? '',
      }));
      const seenAll = [...clean.matchAll(/rk64: BOOT_ORDER=(.*) BOOT_A_LEFT=(\S*) BOOT_B_LEFT=(\S*)\n/g)];
      const last = seenAll[seenAll.length - 1];
      const bootargsAll = [...clean.matchAll(/rk64: bootargs: ([^\n]*)\n/g)];
      resolve({
        log: clean,
        attempts,
        seen: last ? { order: last[1] ?? '', a: last[2] ?? '', b: last[3] ?? '' } : null,
        bootargs: bootargsAll.length ? (bootargsAll[bootargsAll.length - 1]?.[1]?.trim() ?? null) : null,
        cmdline: /RK64-TEST-CMDLINE: ([^\n]*)\n/.exec(clean)?.[1]?.trim() ?? null,
        resets: (clean.match(/^resetting \.\.\./gm) ?? []).length,
        end,
      });
    });
  });
}

export interface TestDisk {
  disk: string;
  /** vfat images for boot-b: a real kernel, or garbage where the kernel should be */
  bootGood: string;
  bootBroken: string;
}

const BOOT_SIZE = '40M';

/** What the test disk's build asks the kernel for (kernel-params.txt on both boot slots). */
export const TEST_KERNEL_PARAMS = 'rk64.test-param=1 loglevel=4';

/**
 * A small disk from the real build-image (no U-Boot blobs: QEMU's U-Boot is the firmware),
 * plus boot-b/rootfs-b as systemd-repart would add them, so both slots can boot.
 */
export async function buildTestDisk(dir: string): Promise<TestDisk> {
  const bootScr = join(dir, 'boot.scr');
  await compileBootScript(bootScr);
  const initrd = await testInitrd();
  const rootfs = await tinySquashfs(dir);
  const disk = join(dir, 'disk.img');
  await runOk('bash', [
    scripts.buildImage,
    '--kernel',
    kernelPath(),
    '--initrd',
    initrd,
    '--boot-script',
    bootScr,
    '--rootfs',
    rootfs,
    '--out',
    disk,
    '--boot-size',
    BOOT_SIZE,
    '--rootfs-size',
    '4M',
    '--kernel-params',
    TEST_KERNEL_PARAMS,
  ]);
  const bootGood = join(dir, 'boot-good.vfat');
  const bootBroken = join(dir, 'boot-broken.vfat');
  await runOk('bash', [
    scripts.makeBootVfat,
    '--kernel',
    kernelPath(),
    '--initrd',
    initrd,
    '--boot-script',
    bootScr,
    '--out',
    bootGood,
    '--size',
    BOOT_SIZE,
    '--kernel-params',
    TEST_KERNEL_PARAMS,
  ]);
  const garbage = join(dir, 'garbage-Image');
  writeFileSync(garbage, Buffer.alloc(64 * 1024, 0x5a));
  await runOk('bash', [
    scripts.makeBootVfat,
    '--kernel',
    garbage,
    '--boot-script',
    bootScr,
    '--out',
    bootBroken,
    '--size',
    BOOT_SIZE,
  ]);
  // grow the disk and add slot B the way repart would (labels are what matter to boot.scr)
  const parts = await partitions(disk);
  const rootfsA = parts.find((p) => p.name === 'rootfs-a');
  if (!rootfsA) throw new Error('build-image wrote no rootfs-a');
  const bootBStart = rootfsA.start + rootfsA.size;
  const bootBSectors = (40 * 1024 * 1024) / SECTOR;
  const rootfsBSectors = (4 * 1024 * 1024) / SECTOR;
  await runOk('truncate', [
    '-s',
    String((bootBStart + bootBSectors + rootfsBSectors) * SECTOR + 1048576),
    disk,
  ]);
  await runOk('sgdisk', [
    '-e',
    `--new=5:${bootBStart}:+${bootBSectors}`,
    '--change-name=5:boot-b',
    `--new=6:${bootBStart + bootBSectors}:+${rootfsBSectors}`,
    '--change-name=6:rootfs-b',
    disk,
  ]);
  await setBootB(disk, bootGood);
  return { disk, bootGood, bootBroken };
}

export async function setBootB(disk: string, vfat: string): Promise<void> {
  const p = (await partitions(disk)).find((x) => x.name === 'boot-b');
  if (!p) throw new Error('no boot-b');
  await runOk('dd', [
    `if=${vfat}`,
    `of=${disk}`,
    'bs=1M',
    `seek=${p.start * SECTOR}`,
    'oflag=seek_bytes',
    'conv=notrunc',
    'status=none',
  ]);
}

/** Replace (content) or delete (null) one file on a boot partition of the disk, with mtools. */
export async function setBootFile(
  disk: string,
  label: string,
  name: string,
  content: Buffer | string | null,
  dir: string,
): Promise<void> {
  const p = (await partitions(disk)).find((x) => x.name === label);
  if (!p) throw new Error(`no ${label}`);
  const image = `${disk}@@${p.start * SECTOR}`;
  if (content === null) {
    await runOk('mdel', ['-i', image, `::${name}`]);
    return;
  }
  const src = join(dir, `boot-file.${process.pid}`);
  writeFileSync(src, content);
  await runOk('mcopy', ['-o', '-i', image, src, `::${name}`]);
}

/** One file from a boot partition of the disk, or null when it is not there. */
export async function readBootFile(disk: string, label: string, name: string): Promise<string | null> {
  const p = (await partitions(disk)).find((x) => x.name === label);
  if (!p) throw new Error(`no ${label}`);
  const r = await run('mtype', ['-i', `${disk}@@${p.start * SECTOR}`, `::${name}`]);
  return r.code === 0 ? r.stdout : null;
}
