// Break-glass from the serial console (`rk64 break-glass serial:/dev/ttyUSB0`): physical recovery
// when nobody can log in. It stops U-Boot's autoboot, sets `_RUT_OH_=1` at the U-Boot prompt and
// boots. The boot script (device-scripts/boot/boot.cmd, docs/boot.md "Break-glass") takes a
// `_RUT_OH_=1` set at the prompt as a request for this boot only (it is never stored in the boot
// state), adds `rk64.breakglass=1` to the kernel command line, and the gateway's break-glass unit
// starts a root autologin on the serial console for that boot.
import { Rk64Error } from './errors.js';
import { UbootConsole } from './transport/uboot-console.js';

export interface BreakGlassOptions {
  path: string;
  baud: number;
  /** How long to wait for U-Boot (the operator power-cycles the gateway meanwhile). */
  waitForUbootMs?: number;
  /** Boot after setting the flag (default true). */
  boot?: boolean;
  /** After `boot`, wait until the console shows this (e.g. the root shell prompt). */
  waitAfterBoot?: { pattern: RegExp; timeoutMs: number; what: string };
  /** Progress lines for stderr. */
  log?: (line: string) => void;
}

export interface BreakGlassResult {
  /** U-Boot's version line, naming the boot loader that took the request. */
  uboot: string;
  booted: boolean;
  /** What the console printed after `boot` (when `waitAfterBoot` was given). */
  bootOutput: string;
}

function parseEnvLines(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const m = /^([A-Za-z_][A-Za-z0-9_]*)=(.*)$/.exec(line.trim());
    if (m?.[1] !== undefined) out[m[1]] = m[2] ?? '';
  }
  return out;
}

export async function breakGlass(options: BreakGlassOptions): Promise<BreakGlassResult> {
  const log = options.log ?? (() => undefined);
  const uboot = await UbootConsole.open(options.path, options.baud);
  try {
    log(`waiting for U-Boot on ${options.path}: power-cycle or reset the gateway now`);
    await uboot.interruptAutoboot(options.waitForUbootMs ?? 120_000);
    const version = (await uboot.run('version')).trim().split('\n')[0] ?? 'U-Boot';
    log(`U-Boot prompt reached, autoboot stopped (${version})`);
    await uboot.run('setenv _RUT_OH_ 1');
    if (parseEnvLines(await uboot.run('printenv _RUT_OH_'))._RUT_OH_ !== '1') {
      throw new Rk64Error(
        'remote',
        'U-Boot did not keep _RUT_OH_=1; nothing was booted',
        'retry, or type it by hand',
      );
    }
    log('_RUT_OH_=1 set at the prompt (this boot only; never stored)');
    const boot = options.boot ?? true;
    let bootOutput = '';
    if (boot) {
      await uboot.send('boot');
      log('booting: the serial console comes up with a root autologin for this boot only');
      const wait = options.waitAfterBoot;
      if (wait) {
        await uboot.waitFor(wait.pattern, wait.timeoutMs, wait.what);
        bootOutput = uboot.output();
      }
    }
    return { uboot: version, booted: boot, bootOutput };
  } finally {
    await uboot.close();
  }
}
