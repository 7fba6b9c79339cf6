// The break-glass helper against real U-Boot in QEMU and the real boot.scr: it stops the autoboot,
// writes _RUT_OH_=1 into the uboot-env partition the way boot.scr keeps its state, and boots;
// boot.scr must then see the flag (it prints "break-glass requested" and puts rk64.breakglass=1 on
// the kernel command line), and the real fw_printenv must read the flag from the disk.
import { spawn } from 'node:child_process';

import { afterEach, describe, expect, it, vi } from 'vitest';

import { breakGlass } from '../../src/core/actions-break-glass.js';
import { ensureBuilt, runCli } from '../lib/cli.js';
import { makeRkDisk, startUbootVm, type RkDisk, type UbootVm } from '../lib/console-uboot.js';

let vm: UbootVm | undefined;
let disk: RkDisk | undefined;

afterEach(async () => {
  await vm?.stop();
  disk?.cleanup();
  vm = undefined;
  disk = undefined;
});

describe('rk64 break-glass', () => {
  it('sets _RUT_OH_=1 in the boot state and boots: boot.scr requests the root console', async () => {
    disk = await makeRkDisk();
    vm = await startUbootVm(disk.image);
    const lines: string[] = [];
    const result = await breakGlass({
      path: vm.pty,
      baud: 115200,
      waitForUbootMs: 60_000,
      log: (l) => lines.push(l),
      waitAfterBoot: { pattern: /rk64: bootargs: .*|resetting/, timeoutMs: 60_000, what: 'boot.scr output' },
    });
    expect(result).toMatchObject({
      device: 'virtio 0',
      copy: 'b',
      flags: 2,
      state: { BOOT_ORDER: 'A B', BOOT_A_LEFT: '3', BOOT_B_LEFT: '3', _RUT_OH_: '1' },
      booted: true,
    });
    expect(result.bootOutput).toContain(
      'rk64: break-glass requested (_RUT_OH_=1): serial root console for this boot',
    );
    expect(lines.join('\n')).toContain('_RUT_OH_=1 written to copy b (flags 2)');
    await vm.stop();
    // boot.scr saved its state again on that boot (attempt counted), keeping the flag for Linux.
    expect(await disk.fwPrintenv()).toEqual({
      BOOT_ORDER: 'A B',
      BOOT_A_LEFT: '2',
      BOOT_B_LEFT: '3',
      _RUT_OH_: '1',
    });
  });

  it('rk64 break-glass (the CLI) does the same from the command line', async () => {
    await ensureBuilt();
    disk = await makeRkDisk();
    vm = await startUbootVm(disk.image);
    const r = await runCli(['break-glass', `serial:${vm.pty}@115200`, '--wait', '60']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^_RUT_OH_=1 set in the boot state on virtio 0 \(copy b\)/);
    expect(r.stderr).toContain('rk64 break-glass: U-Boot prompt reached; autoboot stopped');
    await vm.stop();
    expect((await disk.fwPrintenv())._RUT_OH_).toBe('1');
  });

  it('refuses a disk without the uboot-env partition and boots nothing', async () => {
    disk = await makeRkDisk({ withEnvPartition: false });
    vm = await startUbootVm(disk.image);
    await expect(
      breakGlass({ path: vm.pty, baud: 115200, waitForUbootMs: 60_000, devices: ['virtio 0'] }),
    ).rejects.toThrow(/No uboot-env partition at block 0x7000 on virtio 0/);
  });

  it('a missing serial device is one clear error', async () => {
    await expect(breakGlass({ path: '/dev/rk64-no-such-tty', baud: 115200 })).rejects.toThrow(
      /Cannot open \/dev\/rk64-no-such-tty/,
    );
  });

  it('a line where no U-Boot answers times out with a clear error', async () => {
    // A real pty pair with nobody at the other end.
    const socat = spawn('socat', ['-d', '-d', 'pty,raw,echo=0', 'pty,raw,echo=0'], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    try {
      let err = '';
      socat.stderr.on('data', (d: Buffer) => (err += d.toString()));
      await vi.waitFor(() => expect(err.match(/\/dev\/pts\/\d+/g)?.length).toBe(2), { timeout: 5000 });
      const pty = err.match(/\/dev\/pts\/\d+/g)?.[0] ?? '';
      await expect(breakGlass({ path: pty, baud: 115200, waitForUbootMs: 1500 })).rejects.toThrow(
        /No U-Boot prompt \(=>\) within 2 s/,
      );
    } finally {
      socat.kill();
    }
  });
});
