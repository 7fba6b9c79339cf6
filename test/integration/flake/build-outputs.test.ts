// The image steps of the flake (flake/packages/build-outputs, the exact command lines the Nix
// derivations run) with real inputs: Debian's Rock64 U-Boot and arm64 kernel + rk3328-rock64.dtb
// instead of nixpkgs' builds, and a stand-in "closure" of two store paths.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { repoRoot, run, runOk } from '../../lib/exec.js';

const ARM64 = join(process.env.RK64_CACHE ?? '/var/cache/rk64', 'arm64');
const UBOOT = join(ARM64, 'usr/lib/u-boot/rock64-rk3328');
const buildOutputs = join(repoRoot, 'flake/packages/build-outputs');

let work = '';
let kernel = '';
let dtb = '';

function debianKernel(): { kernel: string; dtb: string } {
  const vmlinuz = readdirSync(join(ARM64, 'boot')).find((f) => f.startsWith('vmlinuz-'));
  const imageDir = readdirSync(join(ARM64, 'usr/lib')).find((f) => f.startsWith('linux-image-'));
  if (vmlinuz === undefined || imageDir === undefined) throw new Error(`no Debian arm64 kernel under ${ARM64}: run scripts/setup`);
  return { kernel: join(ARM64, 'boot', vmlinuz), dtb: join(ARM64, 'usr/lib', imageDir, 'rockchip/rk3328-rock64.dtb') };
}

const step = (args: string[]) => run('bash', [buildOutputs, ...args], { timeoutMs: 170_000 });

beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'rk64-flake-outputs-'));
  ({ kernel, dtb } = debianKernel());
  // A stand-in system closure: two store paths, one with the system's init.
  const store = join(work, 'store/nix/store');
  mkdirSync(join(store, 'aaaaaaaa-nixos-system-rk64'), { recursive: true });
  mkdirSync(join(store, 'bbbbbbbb-glibc/lib'), { recursive: true });
  writeFileSync(join(store, 'aaaaaaaa-nixos-system-rk64/init'), '#!/bin/sh\n', { mode: 0o755 });
  writeFileSync(join(store, 'bbbbbbbb-glibc/lib/libc.so.6'), 'not really libc\n');
  writeFileSync(
    join(work, 'store-paths'),
    `${join(store, 'aaaaaaaa-nixos-system-rk64')}\n${join(store, 'bbbbbbbb-glibc')}\n`,
  );
  writeFileSync(join(work, 'initrd'), 'initrd stand-in\n');
});
afterAll(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

describe('flake image steps (build-outputs)', () => {
  it('compiles boot.cmd to a U-Boot script image', async () => {
    await runOk('bash', [buildOutputs, 'boot-script', '--out', join(work, 'boot.scr')]);
    // legacy uImage magic 0x27051956, type script
    expect(readFileSync(join(work, 'boot.scr')).readUInt32BE(0)).toBe(0x27051956);
  });

  it('packs the closure into a squashfs root with /sbin/init and the mount points', async () => {
    const init = '/nix/store/aaaaaaaa-nixos-system-rk64/init';
    const r = await step(['squashfs', '--store-paths', join(work, 'store-paths'), '--init', init, '--out', join(work, 'rootfs.squashfs')]);
    expect(r.stderr + r.stdout).not.toMatch(/error/i);
    expect(r.code).toBe(0);
    const list = (await runOk('unsquashfs', ['-lls', '-d', '', join(work, 'rootfs.squashfs')])).stdout;
    expect(list).toMatch(/sbin\/init -> \/nix\/store\/aaaaaaaa-nixos-system-rk64\/init/);
    expect(list).toMatch(/ \/nix\/store\/aaaaaaaa-nixos-system-rk64\/init\n/);
    expect(list).toMatch(/ \/nix\/store\/bbbbbbbb-glibc\/lib\/libc\.so\.6\n/);
    for (const dir of ['etc', 'var', 'nix/var', 'bin', 'usr', 'root', 'data', 'tmp', 'run', 'dev', 'proc', 'sys']) {
      expect(list, dir).toMatch(new RegExp(`^d\\S+ .* /${dir.replace('/', '\\/')}\\n`, 'm'));
    }
  });

  it('refuses a root image above the size limit', async () => {
    const out = join(work, 'too-big.squashfs');
    const r = await step(['squashfs', '--store-paths', join(work, 'store-paths'), '--init', '/x', '--limit', '1K', '--out', out]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/limit|larger|exceeds/i);
  });

  it('makes the boot slot image with Image, board.dtb, initrd and boot.scr', async () => {
    const out = join(work, 'boot.vfat');
    await runOk('bash', [buildOutputs, 'boot-vfat', '--kernel', kernel, '--dtb', dtb, '--initrd', join(work, 'initrd'), '--boot-script', join(work, 'boot.scr'), '--out', out]);
    const dir = (await runOk('mdir', ['-b', '-i', out, '::/'])).stdout;
    for (const name of ['Image', 'board.dtb', 'initrd', 'boot.scr']) expect(dir, name).toMatch(new RegExp(`::/${name}\\b`, 'i'));
  });

  it("writes the system's kernel parameters to kernel-params.txt, without the keys boot.scr sets", async () => {
    const out = join(work, 'boot-params.vfat');
    // as NixOS asks: root=fstab (systemd initrd), loglevel, net.ifnames=0 (no predictable names)
    const params = 'root=fstab loglevel=4 net.ifnames=0 console=ttyS2,1500000';
    const r = await step(['boot-vfat', '--kernel', kernel, '--dtb', dtb, '--initrd', join(work, 'initrd'), '--boot-script', join(work, 'boot.scr'), '--kernel-params', params, '--out', out]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/root=fstab dropped: boot\.scr sets root itself/);
    const file = (await runOk('mtype', ['-i', out, '::kernel-params.txt'])).stdout;
    expect(file.split('\n').filter((l) => !l.startsWith('#'))).toEqual(['rk64_kernel_params=loglevel=4 net.ifnames=0', '']);
  });

  it('assembles the eMMC image with U-Boot at sectors 64 and 16384 and the A slot', async () => {
    const outDir = join(work, 'image');
    await runOk('bash', [
      buildOutputs, 'image',
      '--idbloader', join(UBOOT, 'idbloader.img'), '--uboot-itb', join(UBOOT, 'u-boot.itb'),
      '--kernel', kernel, '--dtb', dtb, '--initrd', join(work, 'initrd'),
      '--boot-script', join(work, 'boot.scr'), '--rootfs', join(work, 'rootfs.squashfs'), '--out-dir', outDir,
    ]);
    const img = join(outDir, 'rk64-rock64.img');
    expect(existsSync(img)).toBe(true);
    expect(readFileSync(join(outDir, 'layout.txt'), 'utf8')).toMatch(/boot-a/);
    const table = (await runOk('sgdisk', ['-p', img])).stdout;
    expect(table).toMatch(/\bboot-a\b/);
    expect(table).toMatch(/\brootfs-a\b/);
    const disk = readFileSync(img);
    const idb = readFileSync(join(UBOOT, 'idbloader.img'));
    const itb = readFileSync(join(UBOOT, 'u-boot.itb'));
    expect(disk.subarray(64 * 512, 64 * 512 + idb.length).equals(idb)).toBe(true);
    expect(disk.subarray(16384 * 512, 16384 * 512 + itb.length).equals(itb)).toBe(true);
  });

  it('rejects an unknown step and an unknown flag with one clear line', async () => {
    const a = await step(['flash']);
    expect(a.code).toBe(2);
    expect(a.stderr).toMatch(/unknown step 'flash'/);
    const b = await step(['boot-script', '--output', 'x']);
    expect(b.code).toBe(2);
    expect(b.stderr).toMatch(/unknown flag --output/);
  });
});
