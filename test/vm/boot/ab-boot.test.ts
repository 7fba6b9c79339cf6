// The A/B boot chain in real U-Boot (Debian's qemu_arm64) with the real Debian arm64
// kernel: slot choice, counters, exhaustion, torn/corrupt boot state, planted variables,
// break-glass, and Linux-side fw_setenv changes. One disk; each case rewrites the state.
import { mkdtempSync, rmSync, writeFileSync, copyFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runOk } from '../../lib/exec.js';
import {
  ENV_COPY_SIZE,
  SECTOR,
  partitions,
  envCopy,
  fwEnvConfigFor,
  fwPrintenv,
  fwSetenv,
  readEnvCopy,
  scripts,
  writeEnvCopy,
  zeroEnv,
} from '../../lib/boot-image.js';
import type { BootResult, TestDisk } from '../../lib/boot-vm.js';
import {
  TEST_KERNEL_PARAMS,
  boot,
  buildTestDisk,
  readBootFile,
  setBootB,
  setBootFile,
} from '../../lib/boot-vm.js';

let dir: string;
let t: TestDisk;
let cfg: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'rk64-boot-vm-'));
  t = await buildTestDisk(dir);
  cfg = await fwEnvConfigFor(t.disk, dir);
});

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

type Vars = Record<string, string>;

async function linuxSets(vars: Vars): Promise<void> {
  await zeroEnv(t.disk);
  await fwSetenv(cfg, vars);
}

async function ubootOnce(): Promise<BootResult> {
  const r = await boot(t.disk, { until: 'uboot', timeoutMs: 60_000 });
  expect(r.end, r.log).toBe('stopped');
  return r;
}

function pick(vars: Record<string, string> | null, ...names: string[]): Record<string, string | undefined> {
  return Object.fromEntries(names.map((n) => [n, vars?.[n]]));
}

const COUNTERS = ['BOOT_ORDER', 'BOOT_A_LEFT', 'BOOT_B_LEFT'] as const;

describe('slot choice and counters (state written by fw_setenv, as RAUC does)', () => {
  const cases: { name: string; state: Vars; slot: string; after: Vars; log?: RegExp; notLog?: RegExp }[] = [
    {
      name: 'empty state: defaults, A',
      state: {},
      slot: 'A',
      after: { BOOT_ORDER: 'A B', BOOT_A_LEFT: '2', BOOT_B_LEFT: '3' },
    },
    {
      name: 'B first with attempts',
      state: { BOOT_ORDER: 'B A', BOOT_A_LEFT: '3', BOOT_B_LEFT: '3' },
      slot: 'B',
      after: { BOOT_ORDER: 'B A', BOOT_A_LEFT: '3', BOOT_B_LEFT: '2' },
    },
    {
      name: 'B first but exhausted: A',
      state: { BOOT_ORDER: 'B A', BOOT_A_LEFT: '3', BOOT_B_LEFT: '0' },
      slot: 'A',
      after: { BOOT_ORDER: 'B A', BOOT_A_LEFT: '2', BOOT_B_LEFT: '0' },
    },
    {
      name: 'A exhausted, B last attempt',
      state: { BOOT_ORDER: 'A B', BOOT_A_LEFT: '0', BOOT_B_LEFT: '1' },
      slot: 'B',
      after: { BOOT_ORDER: 'A B', BOOT_A_LEFT: '0', BOOT_B_LEFT: '0' },
    },
    {
      name: 'unknown slot name in BOOT_ORDER is skipped',
      state: { BOOT_ORDER: 'C B A', BOOT_A_LEFT: '3', BOOT_B_LEFT: '2' },
      slot: 'B',
      after: { BOOT_ORDER: 'C B A', BOOT_A_LEFT: '3', BOOT_B_LEFT: '1' },
      log: /ignoring unknown slot name C in BOOT_ORDER/,
    },
    {
      name: 'shell syntax in BOOT_ORDER is data, not commands',
      state: { BOOT_ORDER: 'X;echo INJECTED;setenv BOOT_B_LEFT 9 B A', BOOT_A_LEFT: '3', BOOT_B_LEFT: '1' },
      slot: 'B',
      after: {
        BOOT_ORDER: 'X;echo INJECTED;setenv BOOT_B_LEFT 9 B A',
        BOOT_A_LEFT: '3',
        BOOT_B_LEFT: '0',
      },
      notLog: /^INJECTED/m,
    },
    {
      name: 'missing counter defaults to 3 and is persisted',
      state: { BOOT_ORDER: 'B A', BOOT_A_LEFT: '1' },
      slot: 'B',
      after: { BOOT_ORDER: 'B A', BOOT_A_LEFT: '1', BOOT_B_LEFT: '2' },
    },
    {
      name: 'non-numeric counter counts as 0',
      state: { BOOT_ORDER: 'A B', BOOT_A_LEFT: 'x', BOOT_B_LEFT: '3' },
      slot: 'B',
      after: { BOOT_ORDER: 'A B', BOOT_A_LEFT: 'x', BOOT_B_LEFT: '2' },
    },
    {
      name: 'counter above 9 counts as 10',
      state: { BOOT_ORDER: 'A B', BOOT_A_LEFT: '12', BOOT_B_LEFT: '3' },
      slot: 'A',
      after: { BOOT_ORDER: 'A B', BOOT_A_LEFT: '9', BOOT_B_LEFT: '3' },
    },
  ];
  it.each(cases)('$name', async (c) => {
    await linuxSets(c.state);
    const r = await ubootOnce();
    expect(r.attempts.map((a) => a.slot)).toEqual([c.slot]);
    expect(r.attempts[0]?.mode).toBe('normal');
    if (c.log) expect(r.log).toMatch(c.log);
    if (c.notLog) expect(r.log).not.toMatch(c.notLog);
    expect(pick(await fwPrintenv(cfg), ...COUNTERS)).toEqual(c.after);
  });

  it('counters persist across QEMU restarts: B, B, then A', async () => {
    await linuxSets({ BOOT_ORDER: 'B A', BOOT_A_LEFT: '3', BOOT_B_LEFT: '2' });
    const slots: string[] = [];
    for (let i = 0; i < 3; i++) slots.push((await ubootOnce()).attempts.map((a) => a.slot).join(''));
    expect(slots).toEqual(['B', 'B', 'A']);
    expect(pick(await fwPrintenv(cfg), ...COUNTERS)).toEqual({
      BOOT_ORDER: 'B A',
      BOOT_A_LEFT: '2',
      BOOT_B_LEFT: '0',
    });
  });
});

describe('real kernel boots', () => {
  it('slot A: the kernel gets root=PARTLABEL=rootfs-a and rauc.slot=A', async () => {
    await zeroEnv(t.disk);
    const r = await boot(t.disk, { until: 'kernel', timeoutMs: 120_000 });
    expect(r.cmdline, r.log).not.toBeNull();
    const args = (r.cmdline ?? '').split(' ');
    expect(args).toEqual(
      expect.arrayContaining([
        'root=PARTLABEL=rootfs-a',
        'rootwait',
        'ro',
        'init=/sbin/init',
        'rauc.slot=A',
        'console=ttyAMA0',
      ]),
    );
  });

  it('a Linux-side switch to B boots B; planted bootargs and other variables never reach the kernel', async () => {
    await zeroEnv(t.disk);
    // what RAUC does after installing to B, plus variables someone planted
    await fwSetenv(cfg, {
      BOOT_ORDER: 'B A',
      BOOT_B_LEFT: '3',
      bootargs: 'init=/bin/sh rk64.planted=1',
      bootcmd: 'echo PLANTED-BOOTCMD',
      kernel_addr_r: '0x12345678',
    });
    const r = await boot(t.disk, { until: 'kernel', timeoutMs: 120_000 });
    const args = (r.cmdline ?? '').split(' ');
    expect(args, r.log).toEqual(expect.arrayContaining(['root=PARTLABEL=rootfs-b', 'rauc.slot=B']));
    expect(r.cmdline).not.toMatch(/planted|init=\/bin\/sh/);
    // the script's own init= (for NixOS's initrd) is the only one
    expect(args.filter((a) => a.startsWith('init='))).toEqual(['init=/sbin/init']);
    expect(r.log).not.toMatch(/PLANTED-BOOTCMD/);
    const after = await fwPrintenv(cfg);
    expect(after?.BOOT_B_LEFT).toBe('2');
    // U-Boot rewrites only the whitelist: the planted variables are gone from the new copy
    expect(Object.keys(after ?? {}).sort()).toEqual(['BOOT_A_LEFT', 'BOOT_B_LEFT', 'BOOT_ORDER']);
  });

  it('break-glass: _RUT_OH_=1 adds rk64.breakglass=1; the device script clears it; the next boot is normal', async () => {
    await linuxSets({ BOOT_ORDER: 'A B', _RUT_OH_: '1' });
    const r = await boot(t.disk, { until: 'kernel', timeoutMs: 120_000 });
    expect((r.cmdline ?? '').split(' '), r.log).toContain('rk64.breakglass=1');
    // the device side, fed the real /proc/cmdline the kernel printed
    const etc = join(dir, 'etc');
    const run = join(dir, 'run-systemd');
    await runOk('mkdir', ['-p', etc]);
    copyFileSync(cfg, join(etc, 'fw_env.config'));
    const cmdline = join(dir, 'cmdline');
    writeFileSync(cmdline, `${r.cmdline ?? ''}\n`);
    await runOk('bash', [scripts.breakGlass], {
      env: {
        ...process.env,
        PROC_CMDLINE: cmdline,
        RK64_SYSCONFDIR: etc,
        RK64_SYSTEMD_RUN_DIR: run,
        SYSTEMCTL: 'true',
        AGETTY: '/sbin/agetty',
      },
    });
    expect((await fwPrintenv(cfg))?._RUT_OH_).toBeUndefined();
    const next = await ubootOnce();
    expect(next.bootargs).not.toMatch(/breakglass/);
  });
});

describe('kernel parameters from kernel-params.txt on the boot slot', () => {
  const PARAMS = 'kernel-params.txt';
  const OWN_A = 'root=PARTLABEL=rootfs-a rootwait ro init=/sbin/init rauc.slot=A panic=10 console=ttyAMA0';
  const fileWith = (words: string): string => `# planted by the test\nrk64_kernel_params=${words}\n`;
  let built: string | null = null;
  beforeAll(async () => {
    built = await readBootFile(t.disk, 'boot-a', PARAMS);
  });
  const restore = async (): Promise<void> => setBootFile(t.disk, 'boot-a', PARAMS, built, dir);

  it("the build's parameters reach the kernel, after boot.cmd's own", async () => {
    expect(built).toContain(`rk64_kernel_params=${TEST_KERNEL_PARAMS}\n`);
    await zeroEnv(t.disk);
    const r = await boot(t.disk, { until: 'kernel', timeoutMs: 120_000 });
    expect(r.cmdline, r.log).toBe(`${OWN_A} ${TEST_KERNEL_PARAMS}`);
  });

  it("boot.cmd's own keys planted in the file never reach the kernel; the other words do", async () => {
    await zeroEnv(t.disk);
    const planted = [
      'rk64.planted=1',
      'root=/dev/evil',
      'rauc.slot=B',
      'console=ttyS9',
      'init=/bin/sh',
      'panic=0',
      'rk64.breakglass=1',
      'rk64.breakglass',
      'root',
      'root=',
      'rk64.boot=exhausted',
      'quiet',
    ];
    try {
      await setBootFile(t.disk, 'boot-a', PARAMS, fileWith(planted.join(' ')), dir);
      const r = await boot(t.disk, { until: 'kernel', timeoutMs: 120_000 });
      expect(r.cmdline, r.log).toBe(`${OWN_A} rk64.planted=1 quiet`);
      expect(r.log).toMatch(/rk64: kernel-params\.txt: root=\/dev\/evil is set by boot\.scr itself; ignored/);
    } finally {
      await restore();
    }
  });

  const garbage = Buffer.alloc(900);
  for (let i = 0, x = 7; i < garbage.length; i++) {
    x = (x * 1103515245 + 12345) & 0x7fffffff;
    garbage[i] = x >> 16;
  }
  const cases: { name: string; content: Buffer | string | null; log: RegExp }[] = [
    { name: 'missing', content: null, log: /rk64: no kernel-params\.txt on boot-a; no parameters from it/ },
    { name: 'empty', content: '', log: /rk64: kernel-params\.txt is empty; no parameters from it/ },
    {
      name: 'oversized',
      content: fileWith(`root=/dev/evil ${'x'.repeat(1100)}`),
      log: /rk64: kernel-params\.txt is larger than 1024 bytes; ignored/,
    },
    {
      name: 'garbage',
      content: garbage,
      log: /rk64: kernel-params\.txt has a byte boot\.scr does not accept/,
    },
    {
      name: 'a quoted key (the kernel would unquote it)',
      content: fileWith('rk64.x=1 "root=/dev/evil"'),
      log: /rk64: kernel-params\.txt has a byte boot\.scr does not accept at offset 0x032;/,
    },
    {
      name: 'a backslash (systemd would drop it)',
      content: fileWith('rk64.break\\glass=1'),
      log: /rk64: kernel-params\.txt has a byte boot\.scr does not accept/,
    },
    {
      name: 'no rk64_kernel_params line',
      content: '# nothing here\nbootargs=init=/bin/sh\n',
      log: /rk64: parameters from kernel-params\.txt:\n/,
    },
  ];
  it.each(cases)("$name: boots with boot.cmd's own parameters and says so", async (c) => {
    await zeroEnv(t.disk);
    try {
      await setBootFile(t.disk, 'boot-a', PARAMS, c.content, dir);
      const r = await boot(t.disk, { until: 'uboot', timeoutMs: 60_000 });
      expect(r.bootargs, r.log).toBe(OWN_A);
      expect(r.log).toMatch(c.log);
    } finally {
      await restore();
    }
  });

  it('more than 32 parameters: the first 32 are taken', async () => {
    await zeroEnv(t.disk);
    const words = Array.from({ length: 34 }, (_, i) => `rk64.p${i}=${i}`);
    try {
      await setBootFile(t.disk, 'boot-a', PARAMS, fileWith(words.join(' ')), dir);
      const r = await boot(t.disk, { until: 'uboot', timeoutMs: 60_000 });
      expect(r.bootargs, r.log).toBe(`${OWN_A} ${words.slice(0, 32).join(' ')}`);
      expect(r.log).toMatch(/more than 32 parameters; rk64\.p32=32 ignored/);
    } finally {
      await restore();
    }
  });
});

describe('break-glass typed at the U-Boot prompt', () => {
  it('adds rk64.breakglass=1 for that boot only and never stores _RUT_OH_', async () => {
    await linuxSets({ BOOT_ORDER: 'A B' });
    const r = await boot(t.disk, { until: 'uboot', atPrompt: 'setenv _RUT_OH_ 1', timeoutMs: 60_000 });
    expect(r.bootargs, r.log).toMatch(/rk64\.breakglass=1/);
    expect((await fwPrintenv(cfg))?._RUT_OH_).toBeUndefined();
    expect((await ubootOnce()).bootargs).not.toMatch(/breakglass/);
  });
});

describe('board detection', () => {
  it('on a Rock64 (soc=rk3328) uses UART2 at 1500000 baud and moves the initrd to 0x08000000', async () => {
    await linuxSets({ BOOT_ORDER: 'A B' });
    // the Rock64's U-Boot sets soc=rk3328; here it is typed at the prompt, and the run
    // stops before loading (0x08000000 is not RAM on QEMU virt)
    const r = await boot(t.disk, { until: 'uboot', atPrompt: 'setenv soc rk3328', timeoutMs: 60_000 });
    expect(r.bootargs, r.log).toMatch(/ console=ttyS2,1500000( |$)/);
    expect(r.bootargs).not.toMatch(/ttyAMA0/);
    expect(r.log).toMatch(/rk64: load addresses kernel=\S+ initrd=0x08000000 /);
  });
});

describe('broken kernel in B', () => {
  it('falls back to A after exactly three attempts on B, across real resets in one machine', async () => {
    await setBootB(t.disk, t.bootBroken);
    try {
      await linuxSets({ BOOT_ORDER: 'B A', BOOT_A_LEFT: '3', BOOT_B_LEFT: '3' });
      const r = await boot(t.disk, { until: 'kernel', followResets: true, timeoutMs: 240_000 });
      expect(
        r.attempts.map((a) => a.slot),
        r.log,
      ).toEqual(['B', 'B', 'B', 'A']);
      expect(r.resets).toBe(3);
      expect(r.cmdline).toMatch(/rauc\.slot=A/);
      expect(pick(await fwPrintenv(cfg), ...COUNTERS)).toEqual({
        BOOT_ORDER: 'B A',
        BOOT_A_LEFT: '2',
        BOOT_B_LEFT: '0',
      });
    } finally {
      await setBootB(t.disk, t.bootGood);
    }
  });
});

describe('kernel missing in B', () => {
  it('a kernel that fails to load resets the board; the spent attempt sends the next boot to A', async () => {
    const copy = join(dir, 'no-kernel-b.img');
    await runOk('cp', ['--sparse=always', t.disk, copy]);
    try {
      const bootB = (await partitions(copy)).find((p) => p.name === 'boot-b');
      await runOk('mdel', ['-i', `${copy}@@${(bootB?.start ?? 0) * SECTOR}`, '::Image']);
      const copyCfg = await fwEnvConfigFor(copy, dir);
      await zeroEnv(copy);
      await fwSetenv(copyCfg, { BOOT_ORDER: 'B A', BOOT_B_LEFT: '1' });
      const r = await boot(copy, { until: 'kernel', timeoutMs: 60_000 });
      expect(r.log).toMatch(/rk64: cannot load Image from boot-b; resetting/);
      expect(r.resets).toBe(1);
      expect(r.end).toBe('exit');
      expect((await fwPrintenv(copyCfg))?.BOOT_B_LEFT).toBe('0');
      const next = await boot(copy, { until: 'uboot', timeoutMs: 60_000 });
      expect(next.attempts.map((a) => a.slot)).toEqual(['A']);
    } finally {
      rmSync(copy, { force: true });
    }
  });
});

describe('all counters 0: exhaustion', () => {
  it.each([
    { order: 'A B', slot: 'A' },
    { order: 'B A', slot: 'B' },
    { order: 'X', slot: 'A' },
  ])('BOOT_ORDER="$order": loud message, boots $slot marked exhausted, state untouched', async (c) => {
    await linuxSets({ BOOT_ORDER: c.order, BOOT_A_LEFT: '0', BOOT_B_LEFT: '0' });
    const before = Buffer.concat([await readEnvCopy(t.disk, 0), await readEnvCopy(t.disk, 1)]);
    const r = await ubootOnce();
    expect(r.log).toMatch(/BOOT ATTEMPTS EXHAUSTED/);
    expect(r.attempts).toEqual([{ slot: c.slot, mode: 'exhausted' }]);
    expect(r.bootargs).toMatch(new RegExp(`rauc\\.slot=${c.slot} .*rk64\\.boot=exhausted`));
    const after = Buffer.concat([await readEnvCopy(t.disk, 0), await readEnvCopy(t.disk, 1)]);
    expect(after.equals(before)).toBe(true);
  });
});

describe('torn and corrupt boot state', () => {
  const older = (): Buffer => envCopy({ BOOT_A_LEFT: '3', BOOT_B_LEFT: '3', BOOT_ORDER: 'A B' }, 5);
  const newer = (): Buffer => envCopy({ BOOT_A_LEFT: '3', BOOT_B_LEFT: '3', BOOT_ORDER: 'B A' }, 6);
  const flip = (b: Buffer, at: number): Buffer => {
    const c = Buffer.from(b);
    c[at] = (c[at] ?? 0) ^ 0x01;
    return c;
  };
  const garbage = (seed: number): Buffer => {
    const b = Buffer.alloc(ENV_COPY_SIZE);
    let x = seed;
    for (let i = 0; i < b.length; i++) {
      x = (x * 1103515245 + 12345) & 0x7fffffff;
      b[i] = x >> 16;
    }
    return b;
  };
  const torn = (fresh: Buffer, stale: Buffer): Buffer =>
    Buffer.concat([fresh.subarray(0, ENV_COPY_SIZE / 2), stale.subarray(ENV_COPY_SIZE / 2)]);
  const tornData = (): Buffer => {
    // a long variable so the torn half really cuts data
    const fresh = envCopy(
      { BOOT_ORDER: 'B A', BOOT_A_LEFT: '3', BOOT_B_LEFT: '3', pad: 'p'.repeat(12000) },
      6,
    );
    return torn(fresh, Buffer.alloc(ENV_COPY_SIZE));
  };

  const cases: { name: string; a: () => Buffer; b: () => Buffer; slot: string; order: string }[] = [
    { name: 'both valid: the newer copy wins', a: older, b: newer, slot: 'B', order: 'B A' },
    {
      name: 'newer copy crc bad: the older copy',
      a: older,
      b: () => flip(newer(), 20),
      slot: 'A',
      order: 'A B',
    },
    { name: 'newer copy half written: the older copy', a: older, b: tornData, slot: 'A', order: 'A B' },
    {
      name: 'newer copy flags byte torn: still valid',
      a: older,
      b: () => flip(newer(), 4),
      slot: 'B',
      order: 'B A',
    },
    {
      name: 'both crc bad: defaults, A',
      a: () => flip(older(), 9),
      b: () => flip(newer(), 9),
      slot: 'A',
      order: 'A B',
    },
    {
      name: 'zeroed: defaults, A',
      a: () => Buffer.alloc(ENV_COPY_SIZE),
      b: () => Buffer.alloc(ENV_COPY_SIZE),
      slot: 'A',
      order: 'A B',
    },
    {
      name: 'erased (0xff): defaults, A',
      a: () => Buffer.alloc(ENV_COPY_SIZE, 0xff),
      b: () => Buffer.alloc(ENV_COPY_SIZE, 0xff),
      slot: 'A',
      order: 'A B',
    },
    {
      name: 'garbage in both: defaults, A',
      a: () => garbage(1),
      b: () => garbage(2),
      slot: 'A',
      order: 'A B',
    },
    { name: 'garbage in one copy: the other', a: () => garbage(3), b: newer, slot: 'B', order: 'B A' },
    {
      name: 'flags wrap 0xff -> 0x00: the 0x00 copy is newer',
      a: () => envCopy({ BOOT_ORDER: 'A B' }, 0xff),
      b: () => envCopy({ BOOT_ORDER: 'B A' }, 0x00),
      slot: 'B',
      order: 'B A',
    },
    {
      name: 'flags wrap, other way round',
      a: () => envCopy({ BOOT_ORDER: 'B A' }, 0x00),
      b: () => envCopy({ BOOT_ORDER: 'A B' }, 0xff),
      slot: 'B',
      order: 'B A',
    },
    {
      name: 'equal flags: copy A, as libubootenv and U-Boot decide',
      a: () => envCopy({ BOOT_ORDER: 'B A' }, 7),
      b: () => envCopy({ BOOT_ORDER: 'A B' }, 7),
      slot: 'B',
      order: 'B A',
    },
  ];
  it.each(cases)('$name', async (c) => {
    await zeroEnv(t.disk);
    await writeEnvCopy(t.disk, 0, c.a());
    await writeEnvCopy(t.disk, 1, c.b());
    const linux = await fwPrintenv(cfg);
    const r = await ubootOnce();
    expect(
      r.attempts.map((a) => a.slot),
      r.log,
    ).toEqual([c.slot]);
    expect(r.seen?.order).toBe(c.order);
    // U-Boot and libubootenv agree on which copy is current
    if (linux) expect(linux.BOOT_ORDER).toBe(c.order);
    // the decrement landed where libubootenv will find it
    const after = await fwPrintenv(cfg);
    expect(after?.BOOT_ORDER).toBe(c.order);
    expect(after?.[`BOOT_${c.slot}_LEFT`]).toBe('2');
  });

  it("U-Boot's own write torn: the previous copy is used and the slot still boots", async () => {
    await zeroEnv(t.disk);
    await writeEnvCopy(t.disk, 0, envCopy({ BOOT_ORDER: 'B A', BOOT_A_LEFT: '3', BOOT_B_LEFT: '3' }, 1));
    // an older copy whose data spans many sectors, so a partial overwrite leaves old bytes behind
    await writeEnvCopy(t.disk, 1, envCopy({ BOOT_ORDER: 'A B', pad: 'p'.repeat(12000) }, 0));
    const staleB = await readEnvCopy(t.disk, 1);
    expect((await ubootOnce()).attempts[0]?.slot).toBe('B');
    const written = await readEnvCopy(t.disk, 1);
    expect(written[4]).toBe(2); // flags + 1 in the other copy
    expect((await fwPrintenv(cfg))?.BOOT_B_LEFT).toBe('2');
    // power lost after the first sector of that write reached the disk
    await writeEnvCopy(t.disk, 1, Buffer.concat([written.subarray(0, 512), staleB.subarray(512)]));
    expect((await fwPrintenv(cfg))?.BOOT_B_LEFT).toBe('3');
    const r = await ubootOnce();
    expect(r.seen).toEqual({ order: 'B A', a: '3', b: '3' });
    expect(r.attempts[0]?.slot).toBe('B');
  });

  it('missing uboot-env partition: boots A with defaults and writes nothing', async () => {
    const copy = join(dir, 'no-env.img');
    await runOk('cp', ['--sparse=always', t.disk, copy]);
    await runOk('sgdisk', ['--delete=3', copy]);
    try {
      const r = await boot(copy, { until: 'uboot', timeoutMs: 60_000 });
      expect(r.log).toMatch(/no uboot-env partition; boot state ignored/);
      expect(r.attempts.map((a) => a.slot)).toEqual(['A']);
      expect(r.log).not.toMatch(/state saved/);
    } finally {
      rmSync(copy, { force: true });
    }
  });
});
