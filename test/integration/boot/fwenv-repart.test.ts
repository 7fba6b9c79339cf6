// The Linux side of the boot state (real fw_printenv/fw_setenv with the shipped
// fw_env.config and u-boot-initial-env) and first-boot repartitioning (real systemd-repart
// with the shipped definitions) on images from build-image.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { run, runOk } from '../../lib/exec.js';
import {
  SECTOR,
  compileBootScript,
  envCopy,
  fwEnvConfigFor,
  fwPrintenv,
  fwSetenv,
  kernelPath,
  partitions,
  readAt,
  readEnvCopy,
  rock64,
  scripts,
  tinySquashfs,
  writeEnvCopy,
} from '../../lib/boot-image.js';

let dir: string;
let bootScr: string;
let rootfs: string;

async function build(out: string, extra: string[] = []): Promise<void> {
  await runOk('bash', [
    scripts.buildImage,
    '--idbloader',
    rock64.idbloader,
    '--uboot-itb',
    rock64.ubootItb,
    '--kernel',
    kernelPath(),
    '--dtb',
    rock64.dtb(),
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
  dir = mkdtempSync(join(tmpdir(), 'rk64-boot-fwenv-'));
  bootScr = join(dir, 'boot.scr');
  await compileBootScript(bootScr);
  rootfs = await tinySquashfs(dir);
});

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('fw_printenv / fw_setenv on the shipped fw_env.config', () => {
  let img: string;
  let cfg: string;
  beforeAll(async () => {
    img = join(dir, 'env.img');
    await build(img, ['--boot-size', '48M', '--rootfs-size', '4M']);
    cfg = await fwEnvConfigFor(img, dir);
  });

  it('a fresh image has no valid copy; the shipped initial env gives the RAUC defaults', async () => {
    expect(await fwPrintenv(cfg)).toBeNull();
    const r = await runOk('fw_printenv', ['-c', cfg, '-f', scripts.initialEnv]);
    expect(r.stdout.trim().split('\n').sort()).toEqual(['BOOT_A_LEFT=3', 'BOOT_B_LEFT=3', 'BOOT_ORDER=A B']);
  });

  it('round-trips, alternating copies with increasing flags (the redundant layout boot.scr reads)', async () => {
    await fwSetenv(cfg, { BOOT_ORDER: 'B A' });
    const first = [await readEnvCopy(img, 0), await readEnvCopy(img, 1)];
    await fwSetenv(cfg, { BOOT_B_LEFT: '1' });
    const second = [await readEnvCopy(img, 0), await readEnvCopy(img, 1)];
    expect(await fwPrintenv(cfg)).toEqual({ BOOT_ORDER: 'B A', BOOT_A_LEFT: '3', BOOT_B_LEFT: '1' });
    // each write went to the copy that was not current, with flags one higher
    const flags = (c: Buffer[]): number[] => c.map((b) => b[4] ?? -1);
    const written = first[0]?.equals(second[0] ?? Buffer.alloc(0)) ? 1 : 0;
    expect(flags(second)[written]).toBe((flags(first)[1 - written] ?? 0) + 1);
    // the copy boot.scr would pick is byte-identical to what we compute for that content
    const current = second[written] ?? Buffer.alloc(0);
    expect(
      current.equals(envCopy({ BOOT_A_LEFT: '3', BOOT_B_LEFT: '1', BOOT_ORDER: 'B A' }, current[4] ?? 0)),
    ).toBe(true);
  });

  it('reads copies in the layout boot.scr writes, choosing the newer flags', async () => {
    await writeEnvCopy(img, 0, envCopy({ BOOT_ORDER: 'A B', BOOT_A_LEFT: '2' }, 9));
    await writeEnvCopy(img, 1, envCopy({ BOOT_ORDER: 'B A', BOOT_A_LEFT: '1' }, 10));
    expect(await fwPrintenv(cfg)).toEqual({ BOOT_ORDER: 'B A', BOOT_A_LEFT: '1' });
    const bad = envCopy({ BOOT_ORDER: 'B A', BOOT_A_LEFT: '1' }, 10);
    bad[7] = 0x20;
    await writeEnvCopy(img, 1, bad);
    expect(await fwPrintenv(cfg)).toEqual({ BOOT_ORDER: 'A B', BOOT_A_LEFT: '2' });
  });
});

describe('systemd-repart with the shipped definitions (first boot)', () => {
  it('adds boot-b, rootfs-b and an f2fs data partition and keeps U-Boot, slot A and the boot state', async () => {
    const img = join(dir, 'repart.img');
    await build(img);
    const cfg = await fwEnvConfigFor(img, dir);
    await fwSetenv(cfg, { BOOT_ORDER: 'A B' });
    const before = await partitions(img);
    const keep = async (): Promise<Buffer[]> =>
      Promise.all([
        readAt(img, 64 * SECTOR, 28672 * SECTOR - 64 * SECTOR),
        readAt(img, 28672 * SECTOR, 2048 * SECTOR),
        readAt(img, 32768 * SECTOR, 4 * 1024 * 1024),
        readAt(img, (32768 + 262144) * SECTOR, 4096),
      ]);
    const kept = await keep();
    await runOk('truncate', ['-s', '3G', img]);
    const r = await run('systemd-repart', [
      '--dry-run=no',
      `--definitions=${scripts.repartDir}`,
      '--no-pager',
      img,
    ]);
    expect(r.code, r.stderr).toBe(0);
    const after = await partitions(img);
    // existing partitions: same place, same size
    for (const p of before) expect(after.find((a) => a.name === p.name)).toEqual(p);
    const byName = Object.fromEntries(after.map((p) => [p.name, p]));
    expect(byName['boot-b']?.size).toBe((128 * 1024 * 1024) / SECTOR);
    expect(byName['rootfs-b']?.size).toBe((1024 * 1024 * 1024) / SECTOR);
    const data = byName.data;
    expect(data).toBeDefined();
    expect((data?.start ?? 0) + (data?.size ?? 0)).toBeGreaterThan((3 * 1024 * 1024 * 1024) / SECTOR - 4096);
    // f2fs superblock magic 0xF2F52010 at 1 KiB into the partition
    expect((await readAt(img, (data?.start ?? 0) * SECTOR + 1024, 4)).readUInt32LE(0)).toBe(0xf2f52010);
    // raw U-Boot, boot state, boot-a and rootfs-a are untouched (repart discards free gaps)
    const now = await keep();
    kept.forEach((k, i) => expect(now[i]?.equals(k), `region ${i}`).toBe(true));
    expect((await fwPrintenv(cfg))?.BOOT_ORDER).toBe('A B');
    // a second run (every later boot) changes nothing
    const again = await run('systemd-repart', ['--dry-run=no', `--definitions=${scripts.repartDir}`, img]);
    expect(again.code, again.stderr).toBe(0);
    expect(await partitions(img)).toEqual(after);
  });
});

describe('break-glass device side', () => {
  let img: string;
  let etc: string;
  let runDir: string;
  let calls: string;
  let systemctl: string;
  beforeAll(async () => {
    img = join(dir, 'bg.img');
    await build(img, ['--boot-size', '48M', '--rootfs-size', '4M']);
    etc = join(dir, 'bg-etc');
    runDir = join(dir, 'bg-run');
    calls = join(dir, 'systemctl-calls');
    systemctl = join(dir, 'systemctl-record');
    await runOk('mkdir', ['-p', etc]);
    writeFileSync(join(etc, 'fw_env.config'), readFileSync(await fwEnvConfigFor(img, dir)));
    // records what would be asked of systemd (the unit restart itself is covered on the gateway);
    // `systemctl cat` prints the getty unit named by GETTY_UNIT, as a NixOS system would have it
    writeFileSync(
      systemctl,
      `#!/bin/sh\necho "$*" >> "${calls}"\nif [ "$1" = cat ] && [ -n "\${GETTY_UNIT:-}" ]; then cat "$GETTY_UNIT"; fi\n`,
      { mode: 0o755 },
    );
  });

  const runBreakGlass = (cmdline: string, gettyUnit = ''): ReturnType<typeof run> => {
    const file = join(dir, 'cmdline');
    writeFileSync(file, cmdline + '\n');
    return run('bash', [scripts.breakGlass], {
      env: {
        ...process.env,
        GETTY_UNIT: gettyUnit,
        PROC_CMDLINE: file,
        RK64_SYSCONFDIR: etc,
        RK64_SYSTEMD_RUN_DIR: runDir,
        SYSTEMCTL: systemctl,
        AGETTY: '/sbin/agetty',
      },
    });
  };

  it('does nothing without rk64.breakglass=1 on the command line', async () => {
    await fwSetenv(join(etc, 'fw_env.config'), { _RUT_OH_: '1' });
    const r = await runBreakGlass('root=PARTLABEL=rootfs-a rootwait ro rauc.slot=A console=ttyS2,1500000');
    expect(r.code).toBe(0);
    expect((await fwPrintenv(join(etc, 'fw_env.config')))?._RUT_OH_).toBe('1');
    expect((await run('ls', [runDir])).code).not.toBe(0);
  });

  it('clears _RUT_OH_ and puts a root autologin on the Rock64 console for this boot', async () => {
    const r = await runBreakGlass(
      'root=PARTLABEL=rootfs-a rootwait ro rauc.slot=A panic=10 console=ttyS2,1500000 rk64.breakglass=1',
    );
    expect(r.code, r.stderr).toBe(0);
    expect((await fwPrintenv(join(etc, 'fw_env.config')))?._RUT_OH_).toBeUndefined();
    const dropin = readFileSync(join(runDir, 'serial-getty@ttyS2.service.d/rk64-break-glass.conf'), 'utf8');
    expect(dropin).toMatch(/^ExecStart=$/m);
    expect(dropin).toMatch(
      /^ExecStart=-\/sbin\/agetty --autologin root --keep-baud 1500000,115200 %I \$TERM$/m,
    );
    expect(readFileSync(calls, 'utf8').trim().split('\n')).toEqual([
      'cat serial-getty@ttyS2.service',
      'daemon-reload',
      'restart serial-getty@ttyS2.service',
    ]);
  });

  it('fails closed: when _RUT_OH_ cannot be cleared there is no autologin, and the console says why', async () => {
    await fwSetenv(join(etc, 'fw_env.config'), { _RUT_OH_: '1' });
    // the boot state is not writable: fw_setenv fails (a real one, against a real env copy), as
    // does any later boot's attempt; a flag that stays must not give root at every boot
    const failing = join(dir, 'fw_setenv-failing');
    writeFileSync(failing, '#!/bin/sh\necho "Cannot write the environment" >&2\nexit 1\n', { mode: 0o755 });
    const cmdline = join(dir, 'cmdline-fail');
    writeFileSync(cmdline, 'root=PARTLABEL=rootfs-a rauc.slot=A console=ttyS2,1500000 rk64.breakglass=1\n');
    const failRun = join(dir, 'bg-run-fail');
    const r = await run('bash', [scripts.breakGlass], {
      env: {
        ...process.env,
        PROC_CMDLINE: cmdline,
        RK64_SYSCONFDIR: etc,
        RK64_SYSTEMD_RUN_DIR: failRun,
        SYSTEMCTL: systemctl,
        FW_SETENV: failing,
        AGETTY: '/sbin/agetty',
      },
    });
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/REFUSED: could not clear _RUT_OH_ .*so no root autologin/);
    expect((await run('ls', [failRun])).code).not.toBe(0);
    expect((await fwPrintenv(join(etc, 'fw_env.config')))?._RUT_OH_).toBe('1');
    await fwSetenv(join(etc, 'fw_env.config'), { _RUT_OH_: null });
  });

  it("keeps the login program of the system's own getty (NixOS has no /bin/login)", async () => {
    await fwSetenv(join(etc, 'fw_env.config'), { _RUT_OH_: '1' });
    const unit = join(dir, 'serial-getty@.service');
    // the ExecStart NixOS's getty module writes (nixos/modules/services/ttys/getty.nix)
    writeFileSync(
      unit,
      '[Service]\nExecStart=@/nix/store/aaa-util-linux/sbin/agetty agetty --login-program /nix/store/bbb-shadow/bin/login --noclear --keep-baud %I 115200,38400,9600 $TERM\n',
    );
    const r = await runBreakGlass(
      'root=PARTLABEL=rootfs-b rauc.slot=B console=ttyS2,1500000 rk64.breakglass=1',
      unit,
    );
    expect(r.code, r.stderr).toBe(0);
    const dropin = readFileSync(join(runDir, 'serial-getty@ttyS2.service.d/rk64-break-glass.conf'), 'utf8');
    expect(dropin).toMatch(
      /^ExecStart=-\/sbin\/agetty --login-program \/nix\/store\/bbb-shadow\/bin\/login --autologin root --keep-baud 1500000,115200 %I \$TERM$/m,
    );
  });
});
