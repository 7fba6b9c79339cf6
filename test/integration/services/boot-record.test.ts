// rk64-boot-record (device-scripts/rootfs/rk64-boot-record) on the host: the kernel command line,
// the watchdog's sysfs and the U-Boot environment (a real environment image read by the real
// fw_printenv) are files the test writes; every event goes to the real lifecycle journal. The VM
// tests see it at every boot of the test gateway; here each case of its own logic is one run.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { run, runOk } from '../../lib/exec.js';
import { deviceScripts, rootfsBin } from '../../lib/services-paths.js';

let dir = '';

type Event = Record<string, unknown>;

function env(): NodeJS.ProcessEnv {
  return {
    ...process.env,
    PROC_DIR: join(dir, 'proc'),
    SYS_CLASS_DIR: join(dir, 'sys'),
    FW_ENV_CONFIG: join(dir, 'fw_env.config'),
    RK64_RAUC_CONF: `${deviceScripts}/rauc/system.conf`,
    RK64_DATA: join(dir, 'data'),
    RK64_RUN_DIR: join(dir, 'run'),
    RK64_BOOT_ID_FILE: join(dir, 'boot_id'),
    RK64_WATCHDOG_WAIT: '0',
  };
}

const journalPath = () => join(dir, 'data', 'rk64', 'lifecycle.jsonl');

function journal(): Event[] {
  if (!existsSync(journalPath())) return [];
  return readFileSync(journalPath(), 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Event);
}

/** One boot as the boot script leaves it: the slot on the command line, the environment, the boot id. */
async function boot(slot: 'A' | 'B', uboot: string, bootId: string, bootstatus = '0'): Promise<void> {
  writeFileSync(
    join(dir, 'proc', 'cmdline'),
    `console=ttyS2,1500000 root=/dev/rk64-rootfs rauc.slot=${slot} ro\n`,
  );
  writeFileSync(join(dir, 'boot_id'), `${bootId}\n`);
  writeFileSync(join(dir, 'sys', 'watchdog', 'watchdog0', 'bootstatus'), `${bootstatus}\n`);
  writeFileSync(join(dir, 'env.txt'), uboot);
  await runOk('mkenvimage', ['-s', '0x8000', '-o', join(dir, 'uboot.env'), join(dir, 'env.txt')]);
}

const record = (what: string) => run(rootfsBin('rk64-boot-record'), [what], { env: env() });

/** The events without their time, which the test does not control. */
const withoutTime = (events: Event[]) => events.map(({ at: _at, ...rest }) => rest);

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'rk64-boot-record-'));
  for (const sub of ['proc', 'sys/watchdog/watchdog0', 'data', 'run'])
    mkdirSync(join(dir, sub), { recursive: true });
  writeFileSync(join(dir, 'fw_env.config'), `${join(dir, 'uboot.env')} 0x0 0x8000\n`);
});

afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('rk64-boot-record', () => {
  it('boot: the slot, its attempts left, the maximum from system.conf, the boot id; a first boot ended "unknown"', async () => {
    await boot('A', 'BOOT_ORDER=A B\nBOOT_A_LEFT=2\nBOOT_B_LEFT=3\n', 'id-1');
    expect((await record('boot')).code).toBe(0);
    expect(withoutTime(journal())).toEqual([
      {
        event: 'boot',
        bootId: 'id-1',
        slot: 'A',
        attemptsLeft: 2,
        maxAttempts: 3,
        previousBootEnded: 'unknown',
      },
    ]);
    expect(journal()[0]?.at).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
  });

  it('a shutdown in order is read at the next boot as "clean" (once); a watchdog card reset as "watchdog"', async () => {
    await boot('A', 'BOOT_ORDER=A B\nBOOT_A_LEFT=2\nBOOT_B_LEFT=3\n', 'id-1');
    await runOk(rootfsBin('rk64-boot-record'), ['shutdown'], { env: env() });
    await boot('A', 'BOOT_ORDER=A B\nBOOT_A_LEFT=2\nBOOT_B_LEFT=3\n', 'id-2');
    await runOk(rootfsBin('rk64-boot-record'), ['boot'], { env: env() });
    await boot('A', 'BOOT_ORDER=A B\nBOOT_A_LEFT=2\nBOOT_B_LEFT=3\n', 'id-3', '32');
    await runOk(rootfsBin('rk64-boot-record'), ['boot'], { env: env() });
    await boot('A', 'BOOT_ORDER=A B\nBOOT_A_LEFT=2\nBOOT_B_LEFT=3\n', 'id-4');
    await runOk(rootfsBin('rk64-boot-record'), ['boot'], { env: env() });
    expect(journal().map((e) => e.previousBootEnded)).toEqual(['clean', 'watchdog', 'unknown']);
  });

  it('up: one event naming the booted slot', async () => {
    await boot('B', 'BOOT_ORDER=B A\nBOOT_A_LEFT=3\nBOOT_B_LEFT=2\n', 'id-9');
    await runOk(rootfsBin('rk64-boot-record'), ['up'], { env: env() });
    expect(withoutTime(journal())).toEqual([{ event: 'up', bootId: 'id-9', slot: 'B' }]);
  });

  it('a fall-back: B first in BOOT_ORDER with no attempts left, A booted: recorded once, with B’s boots since its install and those that reached user space', async () => {
    mkdirSync(join(dir, 'data', 'rk64'), { recursive: true });
    const earlier = [
      { event: 'boot', slot: 'B', bootId: 'old' }, // before the install: not counted
      { event: 'install-finished', slot: 'B', version: '2', by: 'console' },
      { event: 'slot-activated', slot: 'B', by: 'console' },
      { event: 'boot', slot: 'B', bootId: 'b1' },
      { event: 'up', slot: 'B', bootId: 'b1' },
      { event: 'boot', slot: 'B', bootId: 'b2' },
      { event: 'boot', slot: 'B', bootId: 'b3' },
    ];
    writeFileSync(
      journalPath(),
      earlier.map((e) => JSON.stringify({ at: '2026-12-07T00:00:00Z', ...e })).join('\n') + '\n',
    );
    await boot('A', 'BOOT_ORDER=B A\nBOOT_A_LEFT=2\nBOOT_B_LEFT=0\n', 'a1');
    await runOk(rootfsBin('rk64-boot-record'), ['boot'], { env: env() });
    await boot('A', 'BOOT_ORDER=B A\nBOOT_A_LEFT=1\nBOOT_B_LEFT=0\n', 'a2');
    await runOk(rootfsBin('rk64-boot-record'), ['boot'], { env: env() });
    expect(withoutTime(journal().slice(earlier.length))).toEqual([
      {
        event: 'boot',
        bootId: 'a1',
        slot: 'A',
        attemptsLeft: 2,
        maxAttempts: 3,
        previousBootEnded: 'unknown',
      },
      {
        event: 'fell-back',
        bootId: 'a1',
        slot: 'B',
        to: 'A',
        maxAttempts: 3,
        boots: 3,
        bootsReachedUserSpace: 1,
      },
      {
        event: 'boot',
        bootId: 'a2',
        slot: 'A',
        attemptsLeft: 1,
        maxAttempts: 3,
        previousBootEnded: 'unknown',
      },
    ]);
  });

  it('an environment it cannot read or trust: counters that are not numbers count as 0, no environment as RAUC’s defaults', async () => {
    await boot('A', 'BOOT_ORDER=A B\nBOOT_A_LEFT=abc\nBOOT_B_LEFT=3\n', 'id-1');
    await runOk(rootfsBin('rk64-boot-record'), ['boot'], { env: env() });
    rmSync(join(dir, 'uboot.env'));
    writeFileSync(join(dir, 'boot_id'), 'id-2\n');
    await runOk(rootfsBin('rk64-boot-record'), ['boot'], { env: env() });
    expect(journal().map((e) => [e.bootId, e.attemptsLeft])).toEqual([
      ['id-1', 0],
      ['id-2', null],
    ]);
  });

  it('a boot without rauc.slot= is recorded with slot null and no fall-back check', async () => {
    await boot('A', 'BOOT_ORDER=B A\nBOOT_A_LEFT=3\nBOOT_B_LEFT=0\n', 'id-1');
    writeFileSync(join(dir, 'proc', 'cmdline'), 'console=ttyS2 ro\n');
    await runOk(rootfsBin('rk64-boot-record'), ['boot'], { env: env() });
    expect(withoutTime(journal())).toEqual([
      {
        event: 'boot',
        bootId: 'id-1',
        slot: null,
        attemptsLeft: null,
        maxAttempts: 3,
        previousBootEnded: 'unknown',
      },
    ]);
  });
});
