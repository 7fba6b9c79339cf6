// build-image with the real Rock64 U-Boot and device tree from Debian: GPT layout, raw
// U-Boot bytes, vfat contents (mtools), squashfs magic, zeroed boot state, bad input.
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { run, runOk } from '../../lib/exec.js';
import type { Partition } from '../../lib/boot-image.js';
import {
  SECTOR,
  compileBootScript,
  kernelPath,
  partitions,
  readAt,
  rock64,
  scripts,
  testInitrd,
  tinySquashfs,
} from '../../lib/boot-image.js';

const MiB = 1024 * 1024;
let dir: string;
let img: string;
let bootScr: string;
let rootfs: string;
let initrd: string;
let layout: string;
let parts: Partition[];

function part(name: string): Partition {
  const p = parts.find((x) => x.name === name);
  if (!p) throw new Error(`no ${name}`);
  return p;
}

async function buildImage(extra: string[], out: string): Promise<ReturnType<typeof run>> {
  return run('bash', [
    scripts.buildImage,
    '--idbloader',
    rock64.idbloader,
    '--uboot-itb',
    rock64.ubootItb,
    '--kernel',
    kernelPath(),
    '--dtb',
    rock64.dtb(),
    '--initrd',
    initrd,
    '--boot-script',
    bootScr,
    '--rootfs',
    rootfs,
    '--out',
    out,
    ...extra,
  ]);
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'rk64-boot-image-'));
  bootScr = join(dir, 'boot.scr');
  await compileBootScript(bootScr);
  rootfs = await tinySquashfs(dir);
  initrd = await testInitrd();
  img = join(dir, 'rock64.img');
  const r = await buildImage([], img);
  expect(r.code, r.stderr).toBe(0);
  layout = r.stdout;
  parts = await partitions(img);
});

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('build-image: Rock64 layout', () => {
  it('writes the GPT the boot chain and repart expect', () => {
    const summary = Object.fromEntries(parts.map((p) => [p.name, [p.number, p.start, p.size]]));
    expect(summary).toEqual({
      'boot-a': [1, 32768, (128 * MiB) / SECTOR],
      'rootfs-a': [2, 32768 + (128 * MiB) / SECTOR, (1024 * MiB) / SECTOR],
      'uboot-env': [3, 0x7000, 2048],
      firmware: [4, 64, 28672 - 64],
    });
    expect(part('boot-a').type).toBe('0FC63DAF-8483-4772-8E79-3D69D8477DE4');
    expect(part('rootfs-a').type).toBe('B921B045-1DF0-41C3-AF44-4C6F280D3FAE');
    expect(statSync(img).size).toBe((32768 + (1152 * MiB) / SECTOR) * SECTOR + MiB);
  });

  it('prints the layout it wrote', () => {
    expect(layout).toMatch(/sector 64\s+idbloader\.img/);
    expect(layout).toMatch(/sector 16384\s+u-boot\.itb/);
    for (const name of ['boot-a', 'rootfs-a', 'uboot-env', 'firmware']) expect(layout).toContain(name);
  });

  it('has the real U-Boot bytes at sectors 64 and 16384', async () => {
    for (const [file, sector] of [
      [rock64.idbloader, 64],
      [rock64.ubootItb, 16384],
    ] as const) {
      const want = readFileSync(file);
      const got = await readAt(img, sector * SECTOR, want.length);
      expect(got.equals(want), `${file} at sector ${sector}`).toBe(true);
    }
  });

  it('boot-a is vfat with Image, board.dtb, initrd and boot.scr, byte for byte', async () => {
    const at = `${img}@@${part('boot-a').start * SECTOR}`;
    const { stdout } = await runOk('mdir', ['-b', '-i', at, '::']);
    expect(
      stdout
        .split('\n')
        .filter(Boolean)
        .map((l) => l.replace('::/', ''))
        .sort(),
    ).toEqual(['Image', 'board.dtb', 'boot.scr', 'initrd']);
    for (const [name, source] of [
      ['Image', kernelPath()],
      ['board.dtb', rock64.dtb()],
      ['initrd', initrd],
      ['boot.scr', bootScr],
    ] as const) {
      const out = join(dir, `extract-${name}`);
      await runOk('mcopy', ['-n', '-i', at, `::${name}`, out]);
      expect(readFileSync(out).equals(readFileSync(source)), name).toBe(true);
    }
    const info = await runOk('mkimage', ['-l', bootScr]);
    expect(info.stdout).toMatch(/AArch64 Linux Script/);
  });

  it('rootfs-a starts with the squashfs (hsqs magic) and the boot state is zeroed', async () => {
    expect((await readAt(img, part('rootfs-a').start * SECTOR, 4)).toString('latin1')).toBe('hsqs');
    const env = await readAt(img, part('uboot-env').start * SECTOR, part('uboot-env').size * SECTOR);
    expect(env.every((b) => b === 0)).toBe(true);
  });

  it('is reproducible: the same inputs give the same bytes', async () => {
    const small = ['--boot-size', '48M', '--rootfs-size', '4M'];
    const [one, two] = [join(dir, 'one.img'), join(dir, 'two.img')];
    expect((await buildImage(small, one)).code).toBe(0);
    expect((await buildImage(small, two)).code).toBe(0);
    const r = await run('cmp', [one, two]);
    expect(r.code, r.stdout).toBe(0);
    rmSync(one);
    rmSync(two);
  });
});

describe('build-image: bad input', () => {
  it('names a missing required flag', async () => {
    const r = await run('bash', [scripts.buildImage, '--kernel', kernelPath(), '--out', join(dir, 'x.img')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--rootfs.*required/);
  });

  it('refuses a root image larger than the rootfs slot, and leaves no output', async () => {
    const out = join(dir, 'too-big.img');
    const big = join(dir, 'big.squashfs');
    writeFileSync(big, Buffer.alloc(3 * MiB, 1));
    const r = await run('bash', [
      scripts.buildImage,
      '--kernel',
      kernelPath(),
      '--boot-script',
      bootScr,
      '--rootfs',
      big,
      '--rootfs-size',
      '2M',
      '--out',
      out,
    ]);
    expect(r.code).toBe(4);
    expect(r.stderr).toMatch(/root image.*more than the 2097152 bytes/);
    expect(() => statSync(out)).toThrow();
  });

  it('refuses a u-boot.itb that would run into the boot state partition', async () => {
    const itb = join(dir, 'huge.itb');
    writeFileSync(itb, Buffer.alloc(7 * MiB, 1));
    const r = await run('bash', [
      scripts.buildImage,
      '--idbloader',
      rock64.idbloader,
      '--uboot-itb',
      itb,
      '--kernel',
      kernelPath(),
      '--boot-script',
      bootScr,
      '--rootfs',
      rootfs,
      '--out',
      join(dir, 'x.img'),
    ]);
    expect(r.code).toBe(4);
    expect(r.stderr).toMatch(/u-boot\.itb/);
  });
});

describe('make-squashfs size gate', () => {
  it('passes under the limit and fails above it with a clear message, writing nothing', async () => {
    const root = join(dir, 'gate-root');
    await runOk('mkdir', ['-p', root]);
    // incompressible content so the image really is large
    await runOk('sh', ['-c', `head -c ${2 * MiB} /dev/urandom > "${root}/blob"`]);
    const ok = await run('bash', [
      scripts.makeSquashfs,
      '--root',
      root,
      '--out',
      join(dir, 'ok.sq'),
      '--limit',
      '3M',
    ]);
    expect(ok.code, ok.stderr).toBe(0);
    expect((await readAt(join(dir, 'ok.sq'), 0, 4)).toString('latin1')).toBe('hsqs');
    const out = join(dir, 'big.sq');
    const r = await run('bash', [scripts.makeSquashfs, '--root', root, '--out', out, '--limit', '1M']);
    expect(r.code).toBe(4);
    expect(r.stderr).toMatch(/above the 1M limit/);
    expect(() => statSync(out)).toThrow();
    const check = await run('bash', [scripts.makeSquashfs, '--check', join(dir, 'ok.sq'), '--limit', '1M']);
    expect(check.code).toBe(4);
  });

  it('is reproducible: timestamps come from SOURCE_DATE_EPOCH, not the files', async () => {
    const root = join(dir, 'repro-root');
    await runOk('mkdir', ['-p', join(root, 'etc')]);
    writeFileSync(join(root, 'etc/a'), 'a\n');
    const one = join(dir, 'one.sq');
    const two = join(dir, 'two.sq');
    await runOk('bash', [scripts.makeSquashfs, '--root', root, '--out', one]);
    await runOk('touch', ['-d', '2001-02-03', join(root, 'etc/a'), root]);
    await runOk('bash', [scripts.makeSquashfs, '--root', root, '--out', two]);
    expect(readFileSync(one).equals(readFileSync(two))).toBe(true);
  });

  it('defaults to a 1 GiB limit', async () => {
    const r = await run('bash', [scripts.makeSquashfs, '--check', rootfs]);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/limit 1G/);
  });
});
