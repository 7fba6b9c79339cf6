// The break-glass helper against real U-Boot in QEMU and the real boot.scr: it stops the autoboot,
// sets _RUT_OH_=1 at the prompt and boots; boot.scr must then see the request (it prints
// "break-glass requested" and puts rk64.breakglass=1 on the kernel command line), and, as
// docs/boot.md says, the request is for this boot only: the stored boot state never holds it.
import { spawn } from 'node:child_process';

import { afterEach, describe, expect, it, vi } from 'vitest';

import { breakGlass } from '../../src/core/break-glass.js';
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
  it('sets _RUT_OH_=1 at the prompt and boots: boot.scr requests the root console, nothing is stored', async () => {
    disk = await makeRkDisk();
    vm = await startUbootVm(disk.image);
    const lines: string[] = [];
    const result = await breakGlass({
      path: vm.pty,
      baud: 115200,
      waitForUbootMs: 60_000,
      log: (l) => lines.push(l),
      waitAfterBoot: { pattern: /rk64: bootargs: .*\n/, timeoutMs: 60_000, what: 'boot.scr output' },
    });
    expect(result.booted).toBe(true);
    expect(result.uboot).toMatch(/^U-Boot 20\d\d/);
    expect(result.bootOutput).toContain(
      'rk64: break-glass requested (_RUT_OH_=1): serial root console for this boot',
    );
    expect(result.bootOutput).toMatch(/rk64: bootargs: .*rk64\.breakglass=1/);
    expect(lines.join('\n')).toContain('_RUT_OH_=1 set at the prompt');
    await vm.stop();
    // The attempt was counted in the stored state, the request was not stored.
    expect(await disk.fwPrintenv()).toEqual({ BOOT_ORDER: 'A B', BOOT_A_LEFT: '2', BOOT_B_LEFT: '3' });
  });

  it('rk64 break-glass (the CLI) does the same from the command line', async () => {
    await ensureBuilt();
    disk = await makeRkDisk();
    vm = await startUbootVm(disk.image);
    const r = await runCli(['break-glass', `serial:${vm.pty}@115200`, '--wait', '60']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^_RUT_OH_=1 set at the U-Boot prompt \(U-Boot 20\d\d[^)]*\)\) and booted/);
    expect(r.stderr).toContain('rk64 break-glass: U-Boot prompt reached, autoboot stopped');
    // boot.scr took the request: its state write counted the attempt (exactly one: this disk has
    // no kernel, so boot.scr resets after it, and with -no-reboot the reset ends QEMU). Waiting for
    // that end, not a fixed time: on a loaded machine boot.scr took longer than 3 s.
    expect(await vm.exitedWithin(60_000), `QEMU did not reset after boot.scr:\n${vm.log()}`).toBe(true);
    expect((await disk.fwPrintenv()).BOOT_A_LEFT).toBe('2');
  });

  it('a missing serial device is one clear error', async () => {
    await expect(breakGlass({ path: '/dev/rk64-no-such-tty', baud: 115200 })).rejects.toThrow(
      /^serial device \/dev\/rk64-no-such-tty does not exist$/,
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
