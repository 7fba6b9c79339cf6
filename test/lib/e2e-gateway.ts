// The test gateway as the end-to-end scenarios use it (on top of test/lib/gateway.ts, which owns
// building and booting): every scenario resumes its own copy of one cached booted snapshot (the
// image's first boot, settled and frozen: slot B and /data created by systemd-repart, operator key
// imported, host keys generated, slot A committed), so no scenario pays for a boot it is not about
// and no scenario sees another's leftovers. Also: reading the status and the boot state, following
// reboots the gateway does by itself (watchdog, U-Boot resets, `systemctl reboot`) through the
// serial log and the kernel's boot_id, and the U-Boot attempts the boot script logged.
import { createHash } from 'node:crypto';
import { copyFile, mkdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { GatewayStatus, SlotName } from '../../src/core/status/schema.js';
import { BOOTED_SNAPSHOT_FORMAT, bootedSnapshotKey, staleReason } from './booted-snapshot-key.js';
import type { BootedSnapshotIdentity } from './booted-snapshot-key.js';
import { repoRoot, run, runOk } from './exec.js';
import type { RunOptions, RunResult } from './exec.js';
import { withFileLock } from './file-lock.js';
import { gatewayCommand, startGateway } from './gateway.js';
import type { Gateway, GatewayBuild } from './gateway.js';

const cache = process.env.RK64_CACHE ?? '/var/cache/rk64';
const instances = process.env.GATEWAY_STATE ?? join(cache, 'gateway', 'instances');
export interface BootAttempt {
  slot: SlotName;
  /** `normal` or `exhausted` (every counter at 0). */
  mode: string;
  /** Counters the boot script saved for this attempt (null when it did not save). */
  left: { A: number; B: number } | null;
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}

export function instanceDir(name: string): string {
  return join(instances, name);
}

async function qemuPid(name: string): Promise<number | null> {
  const text = await readFile(join(instanceDir(name), 'qemu.pid'), 'utf8').catch(() => '');
  const pid = Number.parseInt(text.trim(), 10);
  return Number.isFinite(pid) && pid > 0 ? pid : null;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

export async function gatewayDown(name: string): Promise<void> {
  await run('bash', [gatewayCommand, 'down', '--name', name], { timeoutMs: 60_000 });
}

/**
 * A running gateway frozen once per image: the image's first boot (flashed with the instance key,
 * slot B and /data made by systemd-repart, host keys generated, slot A committed by first-boot, so
 * os-verification skips its window), settled (systemd finished starting, os-verification done,
 * RAUC answering) and saved by `gateway save` (RAM and device state, with the disk of that moment
 * and the host keys that boot printed). Scenarios whose subject is not that boot start from it with
 * `gateway up --restore` (seconds) instead of a boot to SSH (a minute or two under emulation);
 * every boot they cause afterwards (reboots, power cuts, resets) is real.
 */
export interface BootedSnapshot {
  dir: string;
  disk: string;
  /** The machine state file (`gateway save --out`). */
  state: string;
  identity: BootedSnapshotIdentity;
  /** Seconds the boot to SSH took when the snapshot was made; null when it was cached. */
  bootSeconds: number | null;
  /**
   * The serial console of the image's first boot, from power-on to the save: U-Boot, the boot
   * script, the kernel, first-boot. Tests about that boot read it here (test/vm/gateway).
   */
  firstBootSerialLog: string;
}

const machineDefinition = gatewayCommand;

/** What a booted snapshot of this build must have been made from (test/lib/booted-snapshot-key.ts). */
export async function bootedSnapshotIdentity(build: GatewayBuild): Promise<BootedSnapshotIdentity> {
  const qemu = process.env.QEMU ?? 'qemu-system-aarch64';
  return {
    image: build.key,
    machine: createHash('sha256')
      .update(await readFile(machineDefinition))
      .digest('hex'),
    qemu: (await runOk(qemu, ['--version'])).stdout.split('\n')[0] ?? '',
    smp: process.env.GATEWAY_SMP ?? '',
    memory: process.env.GATEWAY_MEMORY ?? '',
    format: BOOTED_SNAPSHOT_FORMAT,
  };
}

/** The booted snapshot for this build, made on first use (under a lock; see BootedSnapshot). */
export async function bootedSnapshot(build: GatewayBuild): Promise<BootedSnapshot> {
  const identity = await bootedSnapshotIdentity(build);
  const dir = join(cache, 'e2e', `booted-${bootedSnapshotKey(identity)}`);
  const cached = async (): Promise<BootedSnapshot | null> => {
    if (!(await exists(join(dir, 'done')))) return null;
    const saved = JSON.parse(await readFile(join(dir, 'snapshot.json'), 'utf8')) as {
      identity: BootedSnapshotIdentity;
    };
    // Whatever the directory is called, a snapshot of another image or machine is never resumed.
    const stale = staleReason(saved.identity, identity);
    if (stale !== null) throw new Error(`booted snapshot ${dir} was made for another gateway: ${stale}`);
    return snapshotIn(dir, identity, null);
  };
  const found = await cached();
  if (found) return found;
  // Another test file may be making the same snapshot right now: wait for it, then use its result.
  return withFileLock(`${dir}.lock`, async () => {
    return (await cached()) ?? makeBootedSnapshot(dir, identity);
  });
}

async function makeBootedSnapshot(dir: string, identity: BootedSnapshotIdentity): Promise<BootedSnapshot> {
  const name = `e2e-save-${process.pid}`;
  const from = instanceDir(name);
  await rm(from, { recursive: true, force: true });
  const tmp = `${dir}.tmp-${process.pid}`;
  let bootSeconds: number;
  try {
    const gateway = await startGateway({ name, fresh: true });
    bootSeconds = Math.round(gateway.state.bootToSshMs / 1000);
    // Settled: the first boot done (its sentinel is written last), systemd done starting,
    // os-verification done with A (committed by first-boot, so skipped) and RAUC started (D-Bus
    // activated by rk64-status), so no scenario pays for these either.
    await gateway.sshOk(
      'systemctl is-system-running --wait >/dev/null; test -e /data/.completed_first_boot && until jq -r .state /run/rk64/health.json 2>/dev/null | grep -qx skipped; do sleep 1; done && rk64-status >/dev/null',
      { timeoutMs: 600_000 },
    );
    await rm(tmp, { recursive: true, force: true });
    await mkdir(tmp, { recursive: true });
    await gateway.save(join(tmp, 'machine.state'));
  } catch (error) {
    await gatewayDown(name);
    await rm(from, { recursive: true, force: true });
    await rm(tmp, { recursive: true, force: true });
    throw error;
  }
  await gatewayDown(name);
  await runOk('mv', [join(from, 'disk.img'), join(tmp, 'disk.img')]);
  for (const f of ['host_keys', 'id_ed25519', 'id_ed25519.pub']) await copyFile(join(from, f), join(tmp, f));
  await copyFile(join(from, 'serial.log'), join(tmp, firstBootSerialLog));
  await writeFile(
    join(tmp, 'snapshot.json'),
    `${JSON.stringify({ identity, bootSeconds, savedAt: new Date().toISOString() }, null, 2)}\n`,
  );
  await runOk('touch', [join(tmp, 'done')]);
  await rm(dir, { recursive: true, force: true });
  await rename(tmp, dir);
  await rm(from, { recursive: true, force: true });
  return snapshotIn(dir, identity, bootSeconds);
}

const firstBootSerialLog = 'first-boot-serial.log';

function snapshotIn(
  dir: string,
  identity: BootedSnapshotIdentity,
  bootSeconds: number | null,
): BootedSnapshot {
  return {
    dir,
    disk: join(dir, 'disk.img'),
    state: join(dir, 'machine.state'),
    identity,
    bootSeconds,
    firstBootSerialLog: join(dir, firstBootSerialLog),
  };
}

export async function waitFor(
  check: () => boolean | Promise<boolean>,
  timeoutMs: number,
  what: string,
  everyMs = 2000,
) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return;
    if (Date.now() > deadline)
      throw new Error(`timed out after ${Math.round(timeoutMs / 1000)} s waiting for ${what}`);
    await sleep(everyMs);
  }
}

/** U-Boot attempts the boot script logged in a piece of serial output, in order. */
export function bootAttempts(serial: string): BootAttempt[] {
  const attempts: BootAttempt[] = [];
  let saved: { A: number; B: number } | null = null;
  for (const raw of serial.split('\n')) {
    const line = raw.replace(/\r/g, '');
    const save = /rk64: state saved \(block \S+\) BOOT_A_LEFT=(\d+) BOOT_B_LEFT=(\d+)/.exec(line);
    if (save) saved = { A: Number(save[1]), B: Number(save[2]) };
    const booting = /rk64: booting slot ([AB]) from \S+ \S+ \((\w+)\)/.exec(line);
    if (booting) {
      attempts.push({ slot: booting[1] as SlotName, mode: booting[2] ?? 'normal', left: saved });
      saved = null;
    }
  }
  return attempts;
}

export interface E2eGateway {
  readonly gateway: Gateway;
  readonly name: string;
  ssh(command: string, options?: RunOptions): Promise<RunResult>;
  sshOk(command: string, options?: RunOptions): Promise<RunResult>;
  status(): Promise<GatewayStatus>;
  /** fw_printenv of the real boot state on the disk. */
  bootEnv(): Promise<Record<string, string>>;
  bootId(): Promise<string>;
  /** Serial output so far in this QEMU run (the log starts afresh at every `boot()`). */
  serial(): Promise<string>;
  /** Wait until SSH answers from a boot other than `previousBootId`; resolves with the new boot id. */
  waitForNewBoot(previousBootId: string, timeoutMs: number): Promise<string>;
  /**
   * Like waitForNewBoot, but only a boot of `slot` (rauc.slot= on the kernel command line) counts.
   * `giveUp` reads the serial output while waiting and names what makes that boot impossible.
   */
  waitForSlot(slot: SlotName, previousBootId: string, timeoutMs: number, giveUp?: GiveUp): Promise<string>;
  /** Start noting when each new U-Boot attempt appears on the serial console; stop() returns them. */
  watchAttempts(): Promise<AttemptWatch>;
  /** Wait until os-verification has finished in this boot (passed, failed or skipped). */
  waitForHealth(timeoutMs: number): Promise<string>;
  /** sha256 of a partition's bytes, read from the disk image on the host (after a sync in the guest). */
  partitionHash(label: string): Promise<string>;
  /** `rk64-action install SOURCE` (the console's device end): its JSON events and exit code. */
  install(source: string): Promise<{ code: number | null; events: InstallEvent[]; stderr: string }>;
  stop(): Promise<void>;
}

/** Reads the serial output (of this QEMU run); returns why the awaited boot cannot come, or null. */
export type GiveUp = (serial: string) => string | null;

/**
 * How long the serial console may stay silent while a reboot is awaited. Every boot prints
 * without pause (U-Boot, the kernel, systemd) until SSH answers, and the watchdog resets a hung
 * system within 30-60 s; five minutes of silence means nothing will reset the gateway.
 */
export const SILENT_CONSOLE_MS = 300_000;

// eslint-disable-next-line no-control-regex -- systemd's colour codes on the console
const COLOUR = /\x1b\[[0-9;]*m/g;

/** A GiveUp-like check: the console has printed nothing for SILENT_CONSOLE_MS. */
function silenceWatch(): GiveUp {
  let length = -1;
  let changedAt = Date.now();
  return (serial) => {
    // The log starts afresh with each QEMU run, so any change of length counts as output.
    if (serial.length !== length) {
      length = serial.length;
      changedAt = Date.now();
      return null;
    }
    const silent = Date.now() - changedAt;
    if (silent < SILENT_CONSOLE_MS) return null;
    const last = serial.replace(COLOUR, '').trimEnd().split('\n').slice(-3).join(' | ');
    return `its serial console has printed nothing for ${Math.round(silent / 1000)} s, so it hangs and nothing resets it (last lines: ${last})`;
  };
}

export interface TimedAttempt extends BootAttempt {
  /** Date.now() when the attempt was first seen on the serial console (polled every 0.5 s). */
  seenAt: number;
}

export interface AttemptWatch {
  stop(): Promise<TimedAttempt[]>;
}

export type InstallEvent =
  { event: 'progress'; percent: number; message: string } | { event: 'result'; ok: boolean; message: string };

/** A gateway resumed from a copy of the booted snapshot (its own disk, its own QEMU). */
export async function startE2eGateway(snapshot: BootedSnapshot, label: string): Promise<E2eGateway> {
  const name = `e2e-${label}-${Math.random().toString(36).slice(2, 7)}`.slice(0, 32);
  const dir = instanceDir(name);
  await mkdir(dir, { recursive: true });
  await runOk('cp', ['--sparse=always', snapshot.disk, join(dir, 'disk.img')]);
  for (const f of ['host_keys', 'id_ed25519', 'id_ed25519.pub'])
    await copyFile(join(snapshot.dir, f), join(dir, f));
  const gateway = await startGateway({ name, restore: snapshot.state }).catch(async (error: unknown) => {
    await gatewayDown(name);
    await rm(dir, { recursive: true, force: true });
    throw error;
  });

  const bootId = async (): Promise<string> =>
    (await gateway.sshOk('cat /proc/sys/kernel/random/boot_id')).stdout.trim();

  const serialText = (): Promise<string> => gateway.serialLog().then((text) => text.replace(/\r/g, ''));

  const waitForBoot = async (
    previous: string,
    timeoutMs: number,
    slot: SlotName | null,
    giveUp?: GiveUp,
  ): Promise<string> => {
    let current = previous;
    const silence = silenceWatch();
    await waitFor(
      async () => {
        const pid = await qemuPid(name);
        if (pid === null || !alive(pid)) throw new Error(`QEMU of gateway ${name} exited`);
        const serial = await serialText().catch(() => '');
        const reason = silence(serial) ?? giveUp?.(serial) ?? null;
        if (reason !== null)
          throw new Error(`gateway ${name} will not come back${slot ? ` on slot ${slot}` : ''}: ${reason}`);
        const r = await gateway.ssh('cat /proc/sys/kernel/random/boot_id /proc/cmdline', {
          timeoutMs: 30_000,
        });
        if (r.code !== 0) return false;
        const [id = '', cmdline = ''] = r.stdout.split('\n');
        current = id.trim();
        if (current === '' || current === previous) return false;
        return slot === null || cmdline.split(' ').includes(`rauc.slot=${slot}`);
      },
      timeoutMs,
      `gateway ${name} to come back on SSH after a reboot${slot ? ` on slot ${slot}` : ''}`,
      3000,
    );
    return current;
  };

  const e2e: E2eGateway = {
    gateway,
    name,
    ssh: (c, o) => gateway.ssh(c, o),
    sshOk: (c, o) => gateway.sshOk(c, o),
    status: async () => {
      // Right after boot RAUC is D-Bus activated on first use and may not answer rk64-status's
      // first query in time under emulation; the status then says so in errors. Ask again.
      let status: GatewayStatus | null = null;
      for (let i = 0; i < 6; i++) {
        status = JSON.parse((await gateway.sshOk('rk64-status')).stdout) as GatewayStatus;
        if (status.rauc !== null && status.bootState !== null) return status;
        await sleep(5000);
      }
      throw new Error(`rk64-status kept reporting errors: ${JSON.stringify(status?.errors)}`);
    },
    bootEnv: async () => {
      const out = (await gateway.sshOk('fw_printenv')).stdout;
      const env: Record<string, string> = {};
      for (const line of out.split('\n')) {
        const eq = line.indexOf('=');
        if (eq > 0) env[line.slice(0, eq)] = line.slice(eq + 1);
      }
      return env;
    },
    bootId,
    serial: serialText,
    waitForNewBoot: (previous, timeoutMs) => waitForBoot(previous, timeoutMs, null),
    waitForSlot: (slot, previous, timeoutMs, giveUp) => waitForBoot(previous, timeoutMs, slot, giveUp),
    watchAttempts: async () => {
      const seen: TimedAttempt[] = [];
      const skip = bootAttempts(await gateway.serialLog().catch(() => '')).length;
      let busy = false;
      const poll = async (): Promise<void> => {
        if (busy) return;
        busy = true;
        try {
          const attempts = bootAttempts(await gateway.serialLog().catch(() => '')).slice(skip);
          for (const a of attempts.slice(seen.length)) seen.push({ ...a, seenAt: Date.now() });
        } finally {
          busy = false;
        }
      };
      const timer = setInterval(() => void poll(), 500);
      return {
        stop: async () => {
          clearInterval(timer);
          await poll();
          return seen;
        },
      };
    },
    waitForHealth: async (timeoutMs) => {
      let state = '';
      await waitFor(
        async () => {
          const r = await gateway.ssh(
            'systemctl is-active os-verification.service >/dev/null || systemctl is-failed os-verification.service >/dev/null || exit 1; jq -r .state /run/rk64/health.json',
          );
          state = r.stdout.trim();
          return r.code === 0 && ['passed', 'failed', 'skipped'].includes(state);
        },
        timeoutMs,
        'os-verification to finish',
      );
      return state;
    },
    partitionHash: async (label) => {
      await gateway.ssh('sync');
      const table = (await runOk('sgdisk', ['-p', join(dir, 'disk.img')])).stdout;
      const row = table.split('\n').find((l) => new RegExp(`\\s${label}\\s*$`).test(l));
      const fields = row?.trim().split(/\s+/) ?? [];
      if (!row || fields.length < 3) throw new Error(`no partition ${label} on ${dir}/disk.img:\n${table}`);
      const [start, end] = [Number(fields[1]), Number(fields[2])];
      const r = await runOk('bash', [
        '-c',
        'dd if="$1" bs=4M skip="$2" count="$3" iflag=count_bytes,skip_bytes status=none | sha256sum',
        '_',
        join(dir, 'disk.img'),
        String(start * 512),
        String((end - start + 1) * 512),
      ]);
      return r.stdout.split(' ')[0] ?? '';
    },
    install: async (source) => {
      const r = await gateway.ssh(`rk64-action install '${source}'`, { timeoutMs: 1_200_000 });
      const events = r.stdout
        .split('\n')
        .filter((l) => l.startsWith('{'))
        .map((l) => JSON.parse(l) as InstallEvent);
      return { code: r.code, events, stderr: r.stderr };
    },
    stop: async () => {
      await gatewayDown(name);
      await rm(dir, { recursive: true, force: true });
    },
  };
  return e2e;
}

export const e2eFiles = join(repoRoot, 'test/vm/e2e');
