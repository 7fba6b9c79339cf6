// A real RAUC service for tests: a private D-Bus system bus (with the shipped D-Bus policy),
// `rauc service` on the shipped system.conf with the slot devices rewritten to files, and the
// U-Boot environment in a file read and written by the real fw_printenv/fw_setenv.
// Bundles are signed by the shipped build-bundle with keys from the shipped make-dev-ca.
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { createHash, randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Daemon } from './netns.js';
import { startDaemon, waitFor } from './netns.js';
import { deviceScripts } from './services-paths.js';
import { run, runOk } from './exec.js';

export const SLOTS = ['boot-a', 'boot-b', 'rootfs-a', 'rootfs-b'] as const;
export type SlotFile = (typeof SLOTS)[number];

export interface RaucEnv {
  dir: string;
  /** Environment for device scripts: the private bus, fw_* wrappers on PATH, RK64_* under dir. */
  env: NodeJS.ProcessEnv;
  pki: string;
  fwPrintenv(): Promise<Record<string, string>>;
  fwSetenv(name: string, value: string): Promise<void>;
  /** sha256 of every slot file. */
  slotSums(): Record<SlotFile, string>;
  raucStatus(): Promise<RaucStatusJson>;
  /** Build a plain-format bundle signed with the env's dev PKI (or another one). */
  bundle(version: string, options?: { pki?: string; fill?: string; compatible?: string }): Promise<string>;
  stop(): Promise<void>;
}

export interface RaucSlotJson {
  class: string;
  bootname: string | null;
  state: string;
  boot_status: string | null;
  slot_status?: {
    bundle?: { version?: string | null };
    installed?: { timestamp?: string };
    checksum?: { sha256?: string };
  };
}
export interface RaucStatusJson {
  booted: string;
  boot_primary: string | null;
  slots: Record<string, RaucSlotJson>[];
}

const DBUS_CONFIG = (
  socket: string,
) => `<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-BUS Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>system</type>
  <listen>unix:path=${socket}</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
  <include>${deviceScripts}/rauc/dbus/de.pengutronix.rauc.conf</include>
</busconfig>
`;

/**
 * The shipped system.conf with only the test's paths rewritten (slots, data, mounts, keyring,
 * formats); its install handlers are the repository's own, as device-scripts/install puts them.
 */
function testSystemConf(dir: string, pki: string): string {
  const shipped = readFileSync(`${deviceScripts}/rauc/system.conf`, 'utf8');
  return shipped
    .replaceAll('@libexecdir@', `${deviceScripts}/rootfs`)
    .replaceAll('/dev/disk/by-partlabel/', `${dir}/slots/`)
    .replace(/^bundle-formats=.*$/m, 'bundle-formats=plain') // no device-mapper on the host
    .replace(/^data-directory=.*$/m, `data-directory=${dir}/data/rauc`)
    .replace(/^mountprefix=.*$/m, `mountprefix=${dir}/mnt`)
    .replace(/^path=\/etc\/rauc\/keyring\.pem$/m, `path=${pki}/ca.cert.pem`);
}

/**
 * A dev PKI made by the shipped make-dev-ca, cached under /var/cache/rk64/services/ by the hash of
 * make-dev-ca (RSA key generation is the slow part); a cold cache makes it once, atomically.
 */
export async function devPki(name = 'main'): Promise<string> {
  const script = `${deviceScripts}/pki/make-dev-ca`;
  const hash = createHash('sha256').update(readFileSync(script)).digest('hex').slice(0, 16);
  const cache = `/var/cache/rk64/services/pki-${hash}`;
  const dir = join(cache, name);
  if (existsSync(join(dir, 'signing.key.pem'))) return dir;
  mkdirSync(cache, { recursive: true });
  const tmp = mkdtempSync(join(cache, `.${name}-`));
  await runOk(script, ['--out', join(tmp, 'pki'), '--name', `rk64 test ${name}`]);
  try {
    renameSync(join(tmp, 'pki'), dir);
  } catch {
    // Another test file made it first: use theirs.
  }
  rmSync(tmp, { recursive: true, force: true });
  return dir;
}

export async function startRaucEnv(options: { booted?: 'A' | 'B' } = {}): Promise<RaucEnv> {
  const dir = mkdtempSync(join(tmpdir(), 'rk64-svc-rauc-'));
  const pki = await devPki();
  for (const sub of ['slots', 'data', 'mnt', 'bin', 'run', 'bundles'])
    mkdirSync(join(dir, sub), { recursive: true });
  for (const slot of SLOTS)
    writeFileSync(join(dir, 'slots', slot), Buffer.alloc(slot.startsWith('boot') ? 1 << 20 : 2 << 20));

  // U-Boot environment in a file, as the boot script leaves it after booting slot A the first time.
  writeFileSync(join(dir, 'env.txt'), 'BOOT_ORDER=A B\nBOOT_A_LEFT=2\nBOOT_B_LEFT=3\n');
  await runOk('mkenvimage', ['-s', '0x8000', '-o', join(dir, 'uboot.env'), join(dir, 'env.txt')]);
  writeFileSync(join(dir, 'fw_env.config'), `${join(dir, 'uboot.env')} 0x0 0x8000\n`);
  // rauc calls fw_printenv/fw_setenv by name with the default config; these point the real
  // tools at the test's environment file.
  for (const tool of ['fw_printenv', 'fw_setenv']) {
    const wrapper = join(dir, 'bin', tool);
    writeFileSync(wrapper, `#!/bin/sh\nexec /usr/bin/${tool} -c ${join(dir, 'fw_env.config')} "$@"\n`);
    chmodSync(wrapper, 0o755);
  }
  writeFileSync(join(dir, 'system.conf'), testSystemConf(dir, pki));
  const socket = join(dir, 'bus');
  writeFileSync(join(dir, 'dbus.conf'), DBUS_CONFIG(socket));

  const busAddress = `unix:path=${socket}`;
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    PATH: `${join(dir, 'bin')}:${process.env.PATH ?? '/usr/bin:/bin'}`,
    DBUS_SYSTEM_BUS_ADDRESS: busAddress,
    RK64_DATA: join(dir, 'data'),
    RK64_RUN_DIR: join(dir, 'run'),
    RK64_SYSCONFDIR: join(dir, 'etc'),
    // `rauc info` (the signed version of a bundle) reads this environment's system.conf and keyring.
    RK64_RAUC_CONF: join(dir, 'system.conf'),
  };
  const daemons: Daemon[] = [];
  const bus = startDaemon('dbus', 'dbus-daemon', [
    '--config-file',
    join(dir, 'dbus.conf'),
    '--nofork',
    '--nopidfile',
  ]);
  daemons.push(bus);
  await waitFor(
    async () =>
      (
        await run(
          'gdbus',
          ['introspect', '--system', '--dest', 'org.freedesktop.DBus', '--object-path', '/'],
          { env },
        )
      ).code === 0,
    10_000,
  );
  const rauc = startDaemon(
    'rauc',
    'rauc',
    [
      'service',
      `--conf=${join(dir, 'system.conf')}`,
      `--mount=${join(dir, 'mnt')}`,
      `--override-boot-slot=${options.booted ?? 'A'}`,
    ],
    env,
  );
  daemons.push(rauc);
  const up = await run('gdbus', ['wait', '--system', '--timeout', '20', 'de.pengutronix.rauc'], { env });
  if (up.code !== 0) {
    await Promise.all(daemons.map((d) => d.stop()));
    throw new Error(`rauc service did not appear on the bus: ${rauc.output()} ${bus.output()} ${up.stderr}`);
  }

  const self: RaucEnv = {
    dir,
    env,
    pki,
    async fwPrintenv() {
      const r = await runOk(join(dir, 'bin', 'fw_printenv'), []);
      return Object.fromEntries(
        r.stdout
          .split('\n')
          .filter((l) => l.includes('='))
          .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
      );
    },
    async fwSetenv(name, value) {
      await runOk(join(dir, 'bin', 'fw_setenv'), [name, value]);
    },
    slotSums() {
      return Object.fromEntries(
        SLOTS.map((s) => [
          s,
          createHash('sha256')
            .update(readFileSync(join(dir, 'slots', s)))
            .digest('hex'),
        ]),
      ) as Record<SlotFile, string>;
    },
    async raucStatus() {
      const r = await runOk('rauc', ['status', '--detailed', '--output-format=json'], { env });
      return JSON.parse(r.stdout) as RaucStatusJson;
    },
    async bundle(version, opts = {}) {
      const work = mkdtempSync(join(dir, 'bundles', `b-${version}-`));
      const fill = opts.fill ?? version;
      // The payload's format does not matter to rauc with file-backed slots: random bytes (so the
      // bundle does not compress to nothing), starting with the version so a test can tell which
      // bundle a slot holds.
      const payload = (marker: string, size: number) => {
        const data = randomBytes(size);
        data.write(marker);
        return data;
      };
      writeFileSync(join(work, 'boot.vfat'), payload(`boot ${fill};`, 256 << 10));
      writeFileSync(join(work, 'rootfs.img'), payload(`rootfs ${fill};`, 1 << 20));
      const out = join(work, `rk64-${version}.raucb`);
      const p = opts.pki ?? pki;
      await runOk(`${deviceScripts}/image/build-bundle`, [
        '--boot-image',
        join(work, 'boot.vfat'),
        '--rootfs-image',
        join(work, 'rootfs.img'),
        '--version',
        version,
        '--cert',
        `${p}/signing.cert.pem`,
        '--key',
        `${p}/signing.key.pem`,
        '--keyring',
        `${p}/ca.cert.pem`,
        '--format',
        'plain',
        '--compatible',
        opts.compatible ?? 'rock64',
        '--output',
        out,
      ]);
      return out;
    },
    async stop() {
      await Promise.all(daemons.reverse().map((d) => d.stop()));
      await run('umount', ['-R', join(dir, 'mnt')]);
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return self;
}

/** The rootfs slot with the given bootname from `rauc status --detailed --output-format=json`. */
export function rootfsSlot(status: RaucStatusJson, bootname: 'A' | 'B'): RaucSlotJson {
  for (const entry of status.slots) {
    for (const slot of Object.values(entry))
      if (slot.class === 'rootfs' && slot.bootname === bootname) return slot;
  }
  throw new Error(`no rootfs slot ${bootname} in rauc status`);
}
