// Real U-Boot (Debian's qemu_arm64 build) under qemu-system-aarch64 with its serial console on a
// pseudo-terminal, booting a small GPT disk laid out like the rk64 eMMC (boot-a with the real
// boot.scr compiled from device-scripts/boot/boot.cmd, rootfs-a, uboot-env at LBA 0x7000 holding
// a libubootenv redundant environment), for the break-glass helper's tests.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { runNoInput } from './console-gateway.js';
import { repoRoot } from './exec.js';
import { waitFor } from './netns.js';

export const UBOOT_BIN = '/usr/lib/u-boot/qemu_arm64/u-boot.bin';

async function must(cmd: string, args: string[]): Promise<string> {
  const r = await runNoInput(cmd, args);
  if (r.code !== 0) throw new Error(`${cmd} ${args.join(' ')} exited ${r.code}: ${r.stderr}`);
  return r.stdout;
}

export interface RkDisk {
  dir: string;
  image: string;
  /** fw_env.config for the real fw_printenv/fw_setenv on the image file. */
  fwEnvConfig: string;
  fwPrintenv(): Promise<Record<string, string>>;
  cleanup(): void;
}

/** A 48 MiB disk; `withEnvPartition: false` leaves out uboot-env (a disk that is not rk64's). */
export async function makeRkDisk(options: { withEnvPartition?: boolean } = {}): Promise<RkDisk> {
  const dir = mkdtempSync(join(tmpdir(), 'rk64-uboot-'));
  const image = join(dir, 'disk.img');
  await must('truncate', ['-s', '48M', image]);
  const env = options.withEnvPartition ?? true;
  await must('sgdisk', [
    '--set-alignment=1',
    '--new=1:32768:+16M',
    '--change-name=1:boot-a',
    '--attributes=1:set:2',
    '--new=2:65536:+8M',
    '--change-name=2:rootfs-a',
    ...(env ? [`--new=3:${0x7000}:+1M`, '--change-name=3:uboot-env'] : []),
    image,
  ]);
  const scr = join(dir, 'boot.scr');
  await must(join(repoRoot, 'device-scripts/boot/compile-boot-script'), ['--out', scr]);
  const vfat = join(dir, 'boot-a.vfat');
  await must('truncate', ['-s', '16M', vfat]);
  await must('mkfs.vfat', ['-n', 'BOOT-A', vfat]);
  await must('mcopy', ['-i', vfat, scr, '::boot.scr']);
  await must('dd', [`if=${vfat}`, `of=${image}`, 'bs=512', 'seek=32768', 'conv=notrunc', 'status=none']);
  const fwEnvConfig = join(dir, 'fw_env.config');
  // The same two copies as device-scripts/boot/fw_env.config, at the partition's offset in the image.
  writeFileSync(fwEnvConfig, `${image} 0xE00000 0x4000\n${image} 0xE04000 0x4000\n`);
  if (env) {
    const text = join(dir, 'env.txt');
    writeFileSync(text, 'BOOT_ORDER=A B\nBOOT_A_LEFT=3\nBOOT_B_LEFT=3\n');
    const copy = join(dir, 'env-a.bin');
    await must('mkenvimage', ['-r', '-s', '0x4000', '-o', copy, text]);
    await must('dd', [
      `if=${copy}`,
      `of=${image}`,
      'bs=1',
      `seek=${0xe00000}`,
      'conv=notrunc',
      'status=none',
    ]);
  }
  return {
    dir,
    image,
    fwEnvConfig,
    fwPrintenv: async () =>
      Object.fromEntries(
        (await must('fw_printenv', ['-c', fwEnvConfig]))
          .split('\n')
          .filter((l) => l.includes('='))
          .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
      ),
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}

export interface UbootVm {
  /** The pseudo-terminal of the board's serial console. */
  pty: string;
  log(): string;
  /** True once QEMU has ended by itself within timeoutMs (-no-reboot: the board reset). */
  exitedWithin(timeoutMs: number): Promise<boolean>;
  stop(): Promise<void>;
}

export async function startUbootVm(image: string): Promise<UbootVm> {
  const child: ChildProcess = spawn(
    'qemu-system-aarch64',
    [
      '-M',
      'virt',
      '-cpu',
      'cortex-a53',
      '-m',
      '512',
      '-display',
      'none',
      '-nic',
      'none',
      '-monitor',
      'none',
      '-bios',
      UBOOT_BIN,
      '-drive',
      `if=none,file=${image},format=raw,id=d0`,
      '-device',
      'virtio-blk-device,drive=d0',
      '-serial',
      'pty',
      // The disk carries no kernel: boot.scr resets after its attempt. Without -no-reboot U-Boot
      // would come back and count a second attempt while a test is still looking.
      '-no-reboot',
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let log = '';
  child.stdout?.on('data', (d: Buffer) => (log += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (log += d.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const deadline = Date.now() + 10_000;
  while (!/\/dev\/pts\/\d+/.test(log)) {
    if (Date.now() > deadline || child.exitCode !== null) {
      child.kill('SIGKILL');
      throw new Error(`qemu did not offer a serial pty:\n${log}`);
    }
    await new Promise((r) => setTimeout(r, 20));
  }
  return {
    pty: /\/dev\/pts\/\d+/.exec(log)?.[0] ?? '',
    log: () => log,
    exitedWithin: (timeoutMs) =>
      waitFor(() => child.exitCode !== null || child.signalCode !== null, timeoutMs),
    stop: async () => {
      if (child.exitCode === null) {
        child.kill('SIGKILL');
        await exited;
      }
    },
  };
}
