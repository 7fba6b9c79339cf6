// The RK3328 kernel fragment against a real kernel tree: Debian's linux-source-6.1, arm64,
// allnoconfig + fragment + olddefconfig (flake/kernel/make-config, the script the flake's
// kernel-config derivation runs). Every requested =y/=m must survive; a fragment missing a
// dependency must fail, naming the dropped symbols.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { createReadStream, existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { repoRoot, run, runOk } from '../../lib/exec.js';

const TARBALL = '/usr/src/linux-source-6.1.tar.xz';
const CACHE = process.env.RK64_CACHE ?? '/var/cache/rk64';
const makeConfig = join(repoRoot, 'flake/kernel/make-config');
const fragmentPath = join(repoRoot, 'flake/kernel/rk3328.config');

let source = '';
let work = '';

async function sha256(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** Unpacked linux-source-6.1, cached under $RK64_CACHE/linux-source/<hash of the tarball>. */
async function kernelSource(): Promise<string> {
  const dir = join(CACHE, 'linux-source', (await sha256(TARBALL)).slice(0, 16));
  if (existsSync(join(dir, 'Makefile'))) return dir;
  const partial = `${dir}.tmp-${process.pid}`;
  rmSync(partial, { recursive: true, force: true });
  mkdirSync(partial, { recursive: true });
  await runOk('tar', ['-xJf', TARBALL, '-C', partial, '--strip-components=1'], { timeoutMs: 600_000 });
  // Another run may have finished first: keep its tree and drop ours.
  if (existsSync(join(dir, 'Makefile'))) rmSync(partial, { recursive: true, force: true });
  else renameSync(partial, dir);
  return dir;
}

beforeAll(async () => {
  expect(existsSync(TARBALL), `${TARBALL} missing: run scripts/setup (package linux-source-6.1)`).toBe(true);
  source = await kernelSource();
  work = mkdtempSync(join(tmpdir(), 'rk64-kconfig-'));
}, 900_000);
afterAll(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

function requested(fragment: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const m of fragment.matchAll(/^(CONFIG_\w+)=([ym])$/gm)) if (m[1] && m[2]) out.set(m[1], m[2]);
  return out;
}

describe('RK3328 kernel configuration', () => {
  it('keeps every requested symbol through allnoconfig + olddefconfig', async () => {
    const out = join(work, 'full');
    const r = await run('bash', [makeConfig, source, fragmentPath, out], { timeoutMs: 170_000 });
    expect(r.stderr).not.toMatch(/did not survive/);
    expect(r.code).toBe(0);
    const config = readFileSync(join(out, '.config'), 'utf8');
    const wanted = requested(readFileSync(fragmentPath, 'utf8'));
    // What the issue asks for, checked directly in the final .config too.
    const required: Record<string, string> = {
      CONFIG_ARCH_ROCKCHIP: 'y',
      CONFIG_MMC_DW_ROCKCHIP: 'y',
      CONFIG_DWMAC_ROCKCHIP: 'y',
      CONFIG_USB_DWC2: 'y',
      CONFIG_USB_XHCI_HCD: 'y',
      CONFIG_USB_EHCI_HCD: 'y',
      CONFIG_USB_OHCI_HCD: 'y',
      CONFIG_DW_WATCHDOG: 'y',
      CONFIG_SQUASHFS: 'y',
      CONFIG_F2FS_FS: 'y',
      CONFIG_RTLWIFI: 'm',
      CONFIG_ATH9K_HTC: 'm',
      CONFIG_MT76x2U: 'm',
      CONFIG_BT_HCIBTUSB: 'm',
      CONFIG_USB_SERIAL_FTDI_SIO: 'm',
      CONFIG_USB_SERIAL_CP210X: 'm',
    };
    const dropped: string[] = [];
    for (const [symbol, value] of [...wanted, ...Object.entries(required)]) {
      if (!config.includes(`\n${symbol}=${value}\n`)) dropped.push(`${symbol}=${value}`);
    }
    expect(dropped).toEqual([]);
    expect(wanted.size).toBeGreaterThan(150);
    // The device tree the boot slot carries is built from this tree for ARCH_ROCKCHIP.
    expect(existsSync(join(source, 'arch/arm64/boot/dts/rockchip/rk3328-rock64.dts'))).toBe(true);
  });

  it('fails, naming the dropped symbols, when a dependency is missing', async () => {
    const broken = readFileSync(fragmentPath, 'utf8')
      .replace(/^CONFIG_EXTCON=y$/m, '')
      .replace(/^CONFIG_WATCHDOG=y$/m, '')
      .replace(/^CONFIG_MISC_FILESYSTEMS=y$/m, '');
    const brokenPath = join(work, 'broken.config');
    writeFileSync(brokenPath, broken);
    const r = await run('bash', [makeConfig, source, brokenPath, join(work, 'broken')], { timeoutMs: 170_000 });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/CONFIG_PHY_ROCKCHIP_INNO_USB2: requested y, got not set/);
    expect(r.stderr).toMatch(/CONFIG_DW_WATCHDOG: requested y, got not set/);
    expect(r.stderr).toMatch(/CONFIG_SQUASHFS: requested y, got not set/);
  });
});
