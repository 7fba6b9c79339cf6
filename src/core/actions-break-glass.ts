// Break-glass from the serial console (`rk64 break-glass serial:/dev/ttyUSB0`): physical recovery
// when nobody can log in. It stops U-Boot's autoboot, sets `_RUT_OH_=1` in the boot state and
// boots; boot.scr then adds `rk64.breakglass=1` to the kernel command line and the gateway's
// break-glass unit starts a root autologin on the serial console (and clears the flag again).
//
// The boot state is not U-Boot's own environment: boot.scr (device-scripts/boot/boot.cmd, see
// docs/boot.md) forgets `_RUT_OH_` from U-Boot's environment and imports it from the `uboot-env`
// GPT partition at LBA 0x7000: two libubootenv copies (crc32 LE + flags byte + data, 16 KiB
// each, the newer one by flags wins). So this helper edits that partition exactly the way
// boot.scr itself saves the state: import the current copy, set `_RUT_OH_`, export it with a CRC
// and write it as the OTHER copy with flags+1 (a torn write leaves the current copy intact).
import { SerialPort } from 'serialport';

import { Rk64Error } from './errors.js';

/** LBA of the uboot-env partition that boot.scr requires (docs/boot.md). */
export const ENV_START_LBA = 0x7000;
/** One copy: 16 KiB = 0x20 blocks; copy B follows copy A. */
const COPY_BLOCKS = 0x20;
const STATE_VARS = 'BOOT_ORDER BOOT_A_LEFT BOOT_B_LEFT _RUT_OH_';
const PROMPT = /(^|\n)=> $/;

export interface BreakGlassOptions {
  path: string;
  baud: number;
  /** How long to wait for U-Boot (the operator power-cycles the gateway meanwhile). */
  waitForUbootMs?: number;
  /** Block devices to look for the uboot-env partition on, in order. */
  devices?: string[];
  /** Boot after setting the flag (default true). */
  boot?: boolean;
  /** After `boot`, wait until the console shows this (e.g. the root shell prompt). */
  waitAfterBoot?: { pattern: RegExp; timeoutMs: number; what: string };
  /** Progress lines for stderr. */
  log?: (line: string) => void;
}

export interface BreakGlassResult {
  device: string;
  /** The copy written (`a` or `b`) and its new flags byte. */
  copy: 'a' | 'b';
  flags: number;
  /** The boot state as written. */
  state: Record<string, string>;
  booted: boolean;
  /** What the console printed after `boot` (when `waitAfterBoot` was given). */
  bootOutput: string;
}

/** Talks to a U-Boot prompt: one command at a time, output up to the next `=> `. */
export class UbootConsole {
  private buffer = '';
  private waiter: (() => void) | null = null;

  constructor(private readonly port: SerialPort) {
    port.on('data', (chunk: Buffer) => {
      this.buffer += chunk.toString('latin1').replace(/\r/g, '');
      this.waiter?.();
    });
  }

  static async open(path: string, baud: number): Promise<UbootConsole> {
    const port = new SerialPort({ path, baudRate: baud, autoOpen: false });
    await new Promise<void>((resolve, reject) =>
      port.open((error) =>
        error
          ? reject(
              new Rk64Error(
                /busy|lock/i.test(error.message) ? 'serial-busy' : 'serial-missing',
                `Cannot open ${path}: ${error.message}`,
                'check the cable and that no other program (screen, minicom) holds the port',
              ),
            )
          : resolve(),
      ),
    );
    return new UbootConsole(port);
  }

  output(): string {
    return this.buffer;
  }

  private write(text: string): Promise<void> {
    return new Promise((resolve, reject) => this.port.write(text, (e) => (e ? reject(e) : resolve())));
  }

  /** Waits until `test` holds on the buffer, re-checking on every chunk, or times out. */
  private until(test: () => boolean, timeoutMs: number, what: string): Promise<void> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiter = null;
        const last = this.buffer.trim().split('\n').slice(-3).join(' | ');
        reject(
          new Rk64Error(
            'serial-silent',
            `No ${what} within ${Math.round(timeoutMs / 1000)} s${last ? ` (last output: ${last})` : ''}`,
          ),
        );
      }, timeoutMs);
      this.waiter = () => {
        if (test()) {
          clearTimeout(timer);
          this.waiter = null;
          resolve();
        }
      };
      this.waiter();
    });
  }

  /**
   * Presses Ctrl+C every 50 ms until U-Boot's prompt shows: stops the autoboot countdown (any
   * key does) and clears a half-typed line.
   */
  async interruptAutoboot(timeoutMs: number): Promise<void> {
    const keys = setInterval(() => void this.write('\u0003').catch(() => undefined), 50);
    try {
      await this.until(() => PROMPT.test(this.buffer), timeoutMs, 'U-Boot prompt (=>)');
      // Let the last presses arrive, then start from a clean prompt.
      clearInterval(keys);
      await new Promise((r) => setTimeout(r, 300));
      this.buffer = '';
      await this.write('\u0003');
      await this.until(() => PROMPT.test(this.buffer), 5000, 'U-Boot prompt (=>)');
    } finally {
      clearInterval(keys);
    }
  }

  /** Runs one command line; returns what it printed (without the echo and the prompt). */
  async run(line: string, timeoutMs = 10_000): Promise<string> {
    this.buffer = '';
    await this.write(`${line}\r`);
    await this.until(
      () => this.buffer.length > line.length && PROMPT.test(this.buffer),
      timeoutMs,
      `answer to '${line}'`,
    );
    const out = this.buffer.replace(PROMPT, '');
    const echo = out.indexOf('\n');
    return echo >= 0 ? out.slice(echo + 1) : '';
  }

  /** Sends a line without waiting for a prompt (e.g. `boot`). */
  async send(line: string): Promise<void> {
    this.buffer = '';
    await this.write(`${line}\r`);
  }

  async waitFor(pattern: RegExp, timeoutMs: number, what: string): Promise<void> {
    await this.until(() => pattern.test(this.buffer), timeoutMs, what);
  }

  close(): Promise<void> {
    return new Promise((resolve) => (this.port.isOpen ? this.port.close(() => resolve()) : resolve()));
  }
}

const hex = (n: number) => `0x${n.toString(16)}`;

/** The copy libubootenv (and boot.scr) treats as current: valid CRC, newer flags (0xff wraps). */
export function currentCopy(
  validA: boolean,
  validB: boolean,
  flagsA: number,
  flagsB: number,
): 'a' | 'b' | null {
  if (validA && validB) {
    if (flagsA === 0xff && flagsB === 0) return 'b';
    if (flagsB === 0xff && flagsA === 0) return 'a';
    return flagsA > flagsB ? 'a' : 'b';
  }
  if (validA) return 'a';
  if (validB) return 'b';
  return null;
}

/** A 16 MiB aligned scratch area above kernel_addr_r (RAM on every board), as boot.scr uses. */
export function scratchBase(kernelAddr: number): number {
  return (Math.floor(kernelAddr / 0x1000000) + 1) * 0x1000000;
}

function parseEnvLines(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const m = /^([A-Za-z_][A-Za-z0-9_]*)=(.*)$/.exec(line.trim());
    if (m?.[1] !== undefined) out[m[1]] = m[2] ?? '';
  }
  return out;
}

/** Start LBA of the partition named `name` in a `part list` listing, or null. */
export function partitionStart(listing: string, name: string): number | null {
  for (const line of listing.split('\n')) {
    const m = /^\s*\d+\s+0x([0-9a-fA-F]+)\s+0x[0-9a-fA-F]+\s+"([^"]*)"/.exec(line);
    if (m?.[1] !== undefined && m[2] === name) return parseInt(m[1], 16);
  }
  return null;
}

async function findEnvDevice(uboot: UbootConsole, devices: string[]): Promise<string> {
  for (const device of devices) {
    if (device.startsWith('virtio')) await uboot.run('virtio scan', 20_000);
    // `part list`, not `part start DEV NAME`: this U-Boot (2023.01) looks partitions up by number only.
    const start = partitionStart(await uboot.run(`part list ${device}`, 20_000), 'uboot-env');
    if (start === ENV_START_LBA) return device;
  }
  throw new Rk64Error(
    'remote',
    `No uboot-env partition at block ${hex(ENV_START_LBA)} on ${devices.join(', ')}`,
    'is this an rk64 eMMC? pass --device "mmc N" to name the boot device',
  );
}

export async function breakGlass(options: BreakGlassOptions): Promise<BreakGlassResult> {
  const log = options.log ?? (() => undefined);
  const uboot = await UbootConsole.open(options.path, options.baud);
  try {
    log(`waiting for U-Boot on ${options.path}: power-cycle or reset the gateway now`);
    await uboot.interruptAutoboot(options.waitForUbootMs ?? 120_000);
    log('U-Boot prompt reached; autoboot stopped');
    const addr = parseEnvLines(await uboot.run('printenv kernel_addr_r')).kernel_addr_r;
    if (addr === undefined)
      throw new Rk64Error('remote', 'U-Boot has no kernel_addr_r; this is not an rk64 boot loader');
    const s = scratchBase(parseInt(addr, 16));
    const raw = hex(s);
    const copyA = hex(s + 0x200000);
    const copyB = hex(s + 0x300000);
    const exported = hex(s + 0x400000);
    const assembled = hex(s + 0x600000);
    const device = await findEnvDevice(uboot, options.devices ?? ['mmc 0', 'mmc 1', 'virtio 0', 'scsi 0']);
    const [type, num] = device.split(' ');
    log(`boot state partition found on ${device}`);

    await uboot.run(`${type} dev ${num}`);
    await uboot.run(`${type} read ${raw} ${hex(ENV_START_LBA)} ${hex(2 * COPY_BLOCKS)}`, 30_000);
    // Re-join crc and data (U-Boot's env has no flags byte) so `env import -c` checks the CRC.
    await uboot.run(`cp.b ${raw} ${copyA} 4; cp.b ${hex(s + 5)} ${hex(s + 0x200004)} 0x3ffb`);
    await uboot.run(
      `cp.b ${hex(s + 0x4000)} ${copyB} 4; cp.b ${hex(s + 0x4005)} ${hex(s + 0x300004)} 0x3ffb`,
    );
    const probe = (copy: string) =>
      uboot.run(
        `if env import -c ${copy} 0x3fff rk64_crc_probe_only; then echo RK64_VALID=1; else echo RK64_VALID=0; fi`,
      );
    const validA = /RK64_VALID=1/.test(await probe(copyA));
    const validB = /RK64_VALID=1/.test(await probe(copyB));
    const flag = async (at: number) => {
      const m = /^[0-9a-f]+:\s+([0-9a-f]{2})/im.exec(await uboot.run(`md.b ${hex(at)} 1`));
      return m?.[1] === undefined ? 0 : parseInt(m[1], 16);
    };
    const flagsA = await flag(s + 4);
    const flagsB = await flag(s + 0x4004);
    const current = currentCopy(validA, validB, flagsA, flagsB);
    log(
      `boot state: copy a ${validA ? 'valid' : 'invalid'} (flags ${flagsA}), copy b ${validB ? 'valid' : 'invalid'} (flags ${flagsB})`,
    );

    await uboot.run('setenv BOOT_ORDER; setenv BOOT_A_LEFT; setenv BOOT_B_LEFT; setenv _RUT_OH_');
    if (current !== null) {
      await uboot.run(`env import -c ${current === 'a' ? copyA : copyB} 0x3fff ${STATE_VARS}`);
    }
    // boot.scr's defaults for missing variables, so the written copy is complete.
    await uboot.run('if test -z "${BOOT_ORDER}"; then setenv BOOT_ORDER "A B"; fi');
    await uboot.run('if env exists BOOT_A_LEFT; then true; else setenv BOOT_A_LEFT 3; fi');
    await uboot.run('if env exists BOOT_B_LEFT; then true; else setenv BOOT_B_LEFT 3; fi');
    await uboot.run('setenv _RUT_OH_ 1');
    await uboot.run(`env export -c -s 0x3fff ${exported} ${STATE_VARS}`);
    const target: 'a' | 'b' = current === 'a' ? 'b' : 'a';
    const flags = current === null ? 1 : ((current === 'a' ? flagsA : flagsB) + 1) & 0xff;
    await uboot.run(`cp.b ${exported} ${assembled} 4; cp.b ${hex(s + 0x400004)} ${hex(s + 0x600005)} 0x3ffb`);
    await uboot.run(`mw.b ${hex(s + 0x600004)} ${hex(flags)} 1`);
    const block = ENV_START_LBA + (target === 'a' ? 0 : COPY_BLOCKS);
    const written = await uboot.run(`${type} write ${assembled} ${hex(block)} ${hex(COPY_BLOCKS)}`, 30_000);
    if (!/written:\s*OK|blocks written:\s*OK/i.test(written)) {
      throw new Rk64Error(
        'remote',
        `Writing the boot state failed: ${written.trim().split('\n').at(-1) ?? ''}`,
      );
    }
    // Read it back through the CRC check before booting.
    await uboot.run(`${type} read ${raw} ${hex(block)} ${hex(COPY_BLOCKS)}`, 30_000);
    await uboot.run(`cp.b ${raw} ${copyA} 4; cp.b ${hex(s + 5)} ${hex(s + 0x200004)} 0x3ffb`);
    await uboot.run('setenv BOOT_ORDER; setenv BOOT_A_LEFT; setenv BOOT_B_LEFT; setenv _RUT_OH_');
    await uboot.run(`env import -c ${copyA} 0x3fff ${STATE_VARS}`);
    const state = parseEnvLines(await uboot.run(`printenv ${STATE_VARS}`));
    if (state._RUT_OH_ !== '1') {
      throw new Rk64Error(
        'remote',
        'The boot state read back without _RUT_OH_=1; nothing was booted',
        'retry',
      );
    }
    log(
      `_RUT_OH_=1 written to copy ${target} (flags ${flags}); BOOT_ORDER=${state.BOOT_ORDER ?? '?'} BOOT_A_LEFT=${
        state.BOOT_A_LEFT ?? '?'
      } BOOT_B_LEFT=${state.BOOT_B_LEFT ?? '?'}`,
    );
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
    return { device, copy: target, flags, state, booted: boot, bootOutput };
  } finally {
    await uboot.close();
  }
}
