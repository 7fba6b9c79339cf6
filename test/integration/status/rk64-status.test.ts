// device-scripts/rootfs/rk64-status against real programs: rauc 1.8 (`rauc service` on a private
// D-Bus system bus, file-backed slots, a custom boot-loader backend, a real slot status file),
// libubootenv's fw_printenv on environment images made by mkenvimage, `ip -j addr` and nft in a
// network namespace the test creates. Watchdog sysfs and the lease/health files are plain files
// in the formats the kernel / dnsmasq / os-verification write.
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { chmod, mkdir, mkdtemp, rm, symlink, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GatewayStatus } from '../../../src/core/status/schema.js';
import { validateStatus } from '../../../src/core/status/validate.js';
import { repoRoot, run, runOk } from '../../lib/exec.js';

const SCRIPT = join(repoRoot, 'device-scripts/rootfs/rk64-status');
const ns = `rk64core-st-${process.pid}`;
let dir: string;
let dbus: ChildProcess | undefined;
let rauc: ChildProcess | undefined;
let busAddress: string;

async function script(path: string, body: string): Promise<string> {
  await writeFile(path, `#!/usr/bin/env bash\nset -euo pipefail\n${body}\n`);
  await chmod(path, 0o755);
  return path;
}

async function envImage(name: string, vars: Record<string, string>): Promise<string> {
  const text = join(dir, `${name}.txt`);
  await writeFile(
    text,
    Object.entries(vars)
      .map(([k, v]) => `${k}=${v}\n`)
      .join(''),
  );
  await runOk('mkenvimage', ['-s', '0x4000', '-o', join(dir, `${name}.env`), text]);
  const config = join(dir, `${name}.config`);
  await writeFile(config, `${join(dir, `${name}.env`)} 0x0 0x4000\n`);
  return config;
}

/** The document as printed (with fields the console's validator does not know yet), and the raw text. */
async function rawStatus(
  env: Record<string, string>,
): Promise<{ raw: Record<string, unknown>; text: string }> {
  const result = await run(SCRIPT, [], { env: { PATH: process.env.PATH, ...env }, timeoutMs: 60_000 });
  expect(result.code, result.stderr).toBe(0);
  return { raw: JSON.parse(result.stdout) as Record<string, unknown>, text: result.stdout };
}

async function status(env: Record<string, string>): Promise<{ doc: GatewayStatus; stderr: string }> {
  const result = await run(SCRIPT, [], { env: { PATH: process.env.PATH, ...env }, timeoutMs: 60_000 });
  expect(result.code, result.stderr).toBe(0);
  return { doc: validateStatus(JSON.parse(result.stdout)), stderr: result.stderr };
}

function gatewayEnv(extra: Record<string, string> = {}): Record<string, string> {
  return {
    DBUS_SYSTEM_BUS_ADDRESS: busAddress,
    RK64_DATA: join(dir, 'data'),
    RK64_RUN_DIR: join(dir, 'run'),
    RK64_LEASES_FILE: join(dir, 'dnsmasq.leases'),
    RK64_VERSION_FILE: join(dir, 'VERSION'),
    RK64_OS_RELEASE: join(dir, 'os-release'),
    SYS_CLASS_DIR: join(dir, 'sys'),
    FW_ENV_CONFIG: join(dir, 'main.config'),
    IP: join(dir, 'bin', 'ip'),
    NFT: join(dir, 'bin', 'nft'),
    SYSTEMCTL: join(dir, 'bin', 'systemctl'),
    // The shipped files: the attempts and the WAN interface come from them.
    RK64_RAUC_CONF: join(repoRoot, 'device-scripts/rauc/system.conf'),
    RK64_WAN_NETWORK: join(repoRoot, 'device-scripts/network/10-rk64-wan.network'),
    ...extra,
  };
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'rk64-status-'));
  await mkdir(join(dir, 'bin'));
  // rauc: system.conf with file-backed A/B slots, a custom boot-loader backend keeping the
  // primary slot and good/bad marks in files, and a slot status file with bundle versions.
  for (const img of ['rootfs-a', 'rootfs-b', 'boot-a', 'boot-b']) {
    await writeFile(join(dir, `${img}.img`), '');
    await truncate(join(dir, `${img}.img`), 1 << 20);
  }
  await mkdir(join(dir, 'bootstate'));
  await writeFile(join(dir, 'bootstate', 'primary'), 'B\n');
  await writeFile(join(dir, 'bootstate', 'A'), 'good\n');
  await writeFile(join(dir, 'bootstate', 'B'), 'bad\n');
  const backend = await script(
    join(dir, 'bin', 'boot-backend'),
    `state=${join(dir, 'bootstate')}
case $1 in
  get-primary) cat "$state/primary" ;;
  set-primary) echo "$2" >"$state/primary" ;;
  get-state) cat "$state/$2" ;;
  set-state) echo "$3" >"$state/$2" ;;
  get-current) echo A ;;
esac`,
  );
  const slot = (name: string, img: string, extra: string): string =>
    `[slot.${name}]\ndevice=${join(dir, `${img}.img`)}\ntype=raw\n${extra}\n`;
  await writeFile(
    join(dir, 'system.conf'),
    `[system]\ncompatible=rock64\nbootloader=custom\nstatusfile=${join(dir, 'status.raucs')}\n\n` +
      `[handlers]\nbootloader-custom-backend=${backend}\n\n` +
      slot('rootfs.0', 'rootfs-a', 'bootname=A') +
      slot('rootfs.1', 'rootfs-b', 'bootname=B') +
      slot('boot.0', 'boot-a', 'parent=rootfs.0') +
      slot('boot.1', 'boot-b', 'parent=rootfs.1'),
  );
  await writeFile(
    join(dir, 'status.raucs'),
    '[slot.rootfs.0]\nbundle.compatible=rock64\nbundle.version=2026.11.2\nstatus=ok\n' +
      'installed.timestamp=2026-11-20T10:00:00Z\ninstalled.count=2\n\n' +
      '[slot.rootfs.1]\nbundle.compatible=rock64\nbundle.version=2026.12.0\nstatus=ok\n' +
      'installed.timestamp=2026-11-25T09:00:00Z\ninstalled.count=1\n',
  );
  const bus = join(dir, 'bus');
  busAddress = `unix:path=${bus}`;
  await writeFile(
    join(dir, 'bus.conf'),
    `<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig><type>system</type><listen>${busAddress}</listen><auth>EXTERNAL</auth>
<policy context="default"><allow user="*"/><allow own="*"/><allow send_destination="*"/><allow receive_sender="*"/></policy>
</busconfig>\n`,
  );
  dbus = spawn('dbus-daemon', ['--nofork', `--config-file=${join(dir, 'bus.conf')}`], { stdio: 'ignore' });
  const env = { ...process.env, DBUS_SYSTEM_BUS_ADDRESS: busAddress };
  for (let i = 0; i < 100; i++) {
    if (
      (
        await run(
          'gdbus',
          [
            'call',
            '--system',
            '--dest',
            'org.freedesktop.DBus',
            '--object-path',
            '/org/freedesktop/DBus',
            '--method',
            'org.freedesktop.DBus.GetId',
          ],
          { env },
        )
      ).code === 0
    )
      break;
    await new Promise((r) => setTimeout(r, 100));
  }
  rauc = spawn(
    'rauc',
    [
      'service',
      `--conf=${join(dir, 'system.conf')}`,
      '--override-boot-slot=A',
      `--mount=${join(dir, 'mnt')}`,
    ],
    {
      stdio: 'ignore',
      env,
    },
  );
  await runOk('gdbus', ['wait', '--system', '--timeout', '20', 'de.pengutronix.rauc'], { env });

  // fw_printenv: a real environment image
  await envImage('main', {
    BOOT_ORDER: 'B A',
    BOOT_A_LEFT: '3',
    BOOT_B_LEFT: '2',
    bootcmd: 'run distro_bootcmd',
  });

  // links and firewall: a network namespace with the gateway's interface names
  await runOk('ip', ['netns', 'add', ns]);
  await runOk('ip', ['-n', ns, 'link', 'add', 'eth0', 'type', 'veth', 'peer', 'name', 'eth1']);
  await runOk('ip', ['-n', ns, 'link', 'set', 'eth0', 'address', '02:00:00:00:00:10']);
  await runOk('ip', ['-n', ns, 'addr', 'add', '172.20.30.1/24', 'dev', 'eth1']);
  await runOk('ip', ['-n', ns, 'link', 'set', 'eth0', 'up']);
  await runOk('ip', ['-n', ns, 'link', 'set', 'eth1', 'up']);
  await runOk('ip', ['-n', ns, 'tuntap', 'add', 'tun0', 'mode', 'tun']);
  await runOk('ip', ['-n', ns, 'addr', 'add', '10.8.0.17/24', 'dev', 'tun0']);
  await runOk('ip', [
    'netns',
    'exec',
    ns,
    'nft',
    'add table inet rk64; add chain inet rk64 input_wan; add rule inet rk64 input_wan tcp dport 22 accept comment "rk64-ssh-wan"',
  ]);
  await script(join(dir, 'bin', 'ip'), `exec ip -n ${ns} "$@"`);
  await script(join(dir, 'bin', 'nft'), `exec ip netns exec ${ns} nft "$@"`);
  // systemd is not PID 1 here: replay the value systemd prints for RuntimeWatchdogUSec=30s
  await script(
    join(dir, 'bin', 'systemctl'),
    '[[ "$*" == "show -p RuntimeWatchdogUSec --value" ]] && echo 30s',
  );

  await mkdir(join(dir, 'sys', 'watchdog', 'watchdog0'), { recursive: true });
  await writeFile(join(dir, 'sys', 'watchdog', 'watchdog0', 'identity'), 'dw_wdt\n');
  await writeFile(join(dir, 'sys', 'watchdog', 'watchdog0', 'timeout'), '60\n');
  await mkdir(join(dir, 'data', 'config'), { recursive: true });
  await writeFile(join(dir, 'data', 'config', 'ssh-wan-enabled'), '');
  await mkdir(join(dir, 'run'));
  await writeFile(
    join(dir, 'run', 'health.json'),
    '{"state":"failed","updatedAt":"2026-11-26T01:00:00Z","detail":"dnsmasq not running"}\n',
  );
  await writeFile(
    join(dir, 'dnsmasq.leases'),
    '1764150000 3c:22:fb:11:22:33 172.20.30.57 laptop 01:3c:22:fb:11:22:33\n0 02:00:00:aa:bb:cc 172.20.30.10 * *\n',
  );
  await writeFile(join(dir, 'VERSION'), '0.1.0\n');
  await writeFile(
    join(dir, 'os-release'),
    'NAME=rk64\nID=nixos\nVERSION_ID="25.05"\nIMAGE_VERSION=2026.11.2\n',
  );
});

afterAll(async () => {
  rauc?.kill('SIGTERM');
  dbus?.kill('SIGTERM');
  await run('ip', ['netns', 'del', ns]);
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('rk64-status', () => {
  it('reports a gateway-like system completely', async () => {
    const { doc } = await status(gatewayEnv());
    expect(doc.errors).toEqual([]);
    expect(doc.rauc).toEqual({
      compatible: 'rock64',
      bootedSlot: 'A',
      primarySlot: 'B',
      slots: [
        {
          bootname: 'A',
          booted: true,
          primary: false,
          bootStatus: 'good',
          bundleVersion: '2026.11.2',
          installedAt: '2026-11-20T10:00:00Z',
          devices: { 'rootfs.0': join(dir, 'rootfs-a.img'), 'boot.0': join(dir, 'boot-a.img') },
          // No lifecycle journal: RAUC's verdict, saying so.
          lifecycle: {
            state: 'good',
            reason: 'RAUC reports it good; the journal has no entry for it',
            since: null,
            attempt: null,
            maxAttempts: null,
          },
        },
        {
          bootname: 'B',
          booted: false,
          primary: true,
          bootStatus: 'bad',
          bundleVersion: '2026.12.0',
          installedAt: '2026-11-25T09:00:00Z',
          devices: { 'rootfs.1': join(dir, 'rootfs-b.img'), 'boot.1': join(dir, 'boot-b.img') },
          lifecycle: {
            state: 'bad',
            reason: 'RAUC reports it bad; the journal has no entry for it',
            since: null,
            attempt: null,
            maxAttempts: null,
          },
        },
      ],
    });
    expect(doc.versions).toMatchObject({ os: '2026.11.2', bundle: '2026.11.2', rk64: '0.1.0' });
    expect(doc.bootState).toEqual({
      order: ['B', 'A'],
      attemptsLeft: { A: 3, B: 2 },
      nextBootSlot: 'B',
      breakGlass: false,
      maxAttempts: 3,
    });
    expect(doc.watchdog).toEqual({
      device: '/dev/watchdog0',
      identity: 'dw_wdt',
      timeoutSeconds: 60,
      runtimeWatchdogSeconds: 30,
      active: true,
    });
    expect(doc.links).toEqual([
      expect.objectContaining({
        name: 'eth1',
        role: 'lan',
        addresses: expect.arrayContaining(['172.20.30.1/24']) as unknown,
      }),
      expect.objectContaining({ name: 'eth0', role: 'wan', mac: '02:00:00:00:00:10', state: 'up' }),
      { name: 'tun0', role: 'vpn', state: 'down', mac: null, addresses: ['10.8.0.17/24'] },
    ]);
    expect(doc.leases).toEqual([
      { mac: '3c:22:fb:11:22:33', ip: '172.20.30.57', hostname: 'laptop', expiresAt: '2025-11-26T09:40:00Z' },
      { mac: '02:00:00:aa:bb:cc', ip: '172.20.30.10', hostname: null, expiresAt: null },
    ]);
    expect(doc.sshOnWan).toEqual({
      enabled: true,
      expiresAt: null,
      firewallAllows: true,
      wanInterface: 'eth0',
    });
    expect(doc.health).toEqual({
      state: 'failed',
      updatedAt: '2026-11-26T01:00:00Z',
      detail: 'dnsmasq not running',
    });
    expect(doc.firstBootCompleted).toBe(false);
  });

  it('lifecycle and --history from the journal; a torn last line is skipped; --history needs a count', async () => {
    const state = join(dir, 'data-journal', 'rk64');
    await mkdir(state, { recursive: true });
    const line = (o: object) => `${JSON.stringify(o)}\n`;
    await writeFile(
      join(state, 'lifecycle.jsonl'),
      line({
        at: '2026-11-25T09:00:00Z',
        event: 'install-finished',
        slot: 'B',
        version: '2026.12.0',
        by: 'console',
      }) +
        line({
          at: '2026-11-25T09:01:00Z',
          event: 'boot',
          slot: 'B',
          attemptsLeft: 2,
          maxAttempts: 3,
          bootId: 'b1',
        }) +
        line({ at: '2026-11-25T09:02:00Z', event: 'up', slot: 'B', bootId: 'b1' }) +
        line({ at: '2026-11-25T09:03:00Z', event: 'health', slot: 'B', verdict: 'running' }) +
        '{"at":"2026-11-25T09:04:00Z","event":"hea',
    );
    const env = gatewayEnv({ RK64_DATA: join(dir, 'data-journal') });
    const run3 = await run(SCRIPT, ['--history', '3'], {
      env: { PATH: process.env.PATH, ...env },
      timeoutMs: 60_000,
    });
    expect(run3.code, run3.stderr).toBe(0);
    const doc = validateStatus(JSON.parse(run3.stdout));
    expect(doc.rauc?.slots.find((x) => x.bootname === 'B')?.lifecycle).toEqual({
      state: 'health-checking',
      reason: 'os-verification is checking it',
      since: '2026-11-25T09:03:00Z',
      attempt: 1,
      maxAttempts: 3,
    });
    expect(doc.history.map((e) => e.event)).toEqual(['boot', 'up', 'health']);
    expect(doc.history[0]).toMatchObject({
      slot: 'B',
      attemptsLeft: 2,
      maxAttempts: 3,
      bootId: 'b1',
      by: null,
    });
    // Without --history the document has no history (the console then notes it as not reported).
    expect((await rawStatus(env)).raw).not.toHaveProperty('history');
    const bad = await run(SCRIPT, ['--history', '0'], {
      env: { PATH: process.env.PATH, ...env },
      timeoutMs: 60_000,
    });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--history takes 1-99999 or all/);
  });

  it('computes the next boot slot the way the boot script does', async () => {
    const cases: [Record<string, string>, string | null, (number | null)[]][] = [
      [{ BOOT_ORDER: 'A B', BOOT_A_LEFT: '0', BOOT_B_LEFT: '1' }, 'B', [0, 1]],
      [{ BOOT_ORDER: 'X B A', BOOT_A_LEFT: '2', BOOT_B_LEFT: '0' }, 'A', [2, 0]],
      [{ BOOT_ORDER: 'A B', BOOT_A_LEFT: '0', BOOT_B_LEFT: '0' }, null, [0, 0]],
      [{ BOOT_A_LEFT: 'x' }, 'B', [null, null]],
      [{ BOOT_ORDER: 'B', BOOT_B_LEFT: '1', _RUT_OH_: '1' }, 'B', [null, 1]],
    ];
    for (const [index, [vars, next, left]] of cases.entries()) {
      const config = await envImage(`case${index}`, vars);
      const { doc } = await status({ RAUC: 'false', FW_ENV_CONFIG: config, RK64_DATA: join(dir, 'data') });
      expect(doc.bootState?.nextBootSlot, JSON.stringify(vars)).toBe(next);
      expect([doc.bootState?.attemptsLeft.A, doc.bootState?.attemptsLeft.B]).toEqual(left);
    }
    const { doc } = await status({ RAUC: 'false', FW_ENV_CONFIG: join(dir, 'case4.config') });
    expect(doc.bootState?.breakGlass).toBe(true);
  });

  it("maxAttempts is RAUC's boot-attempts of [system]; wanInterface the WAN .network's Name=; null with a reason when absent", async () => {
    const conf = join(dir, 'limits.conf');
    await writeFile(
      conf,
      '[system]\ncompatible=rock64\nboot-attempts = 7\n\n[slot.rootfs.0]\nboot-attempts=9\n',
    );
    const network = join(dir, 'wan.network');
    await writeFile(network, '[Match]\nName=wan0\n\n[Network]\nDHCP=ipv4\n');
    let { doc } = await status(gatewayEnv({ RK64_RAUC_CONF: conf, RK64_WAN_NETWORK: network }));
    expect(doc.bootState?.maxAttempts).toBe(7);
    expect(doc.sshOnWan?.wanInterface).toBe('wan0');
    await writeFile(conf, '[system]\ncompatible=rock64\n\n[slot.rootfs.0]\nboot-attempts=9\n');
    await writeFile(network, '[Match]\nMACAddress=02:00:00:00:00:10\n');
    ({ doc } = await status(gatewayEnv({ RK64_RAUC_CONF: conf, RK64_WAN_NETWORK: network })));
    expect(doc.bootState?.maxAttempts).toBeNull();
    expect(doc.sshOnWan?.wanInterface).toBeNull();
    expect(doc.errors).toEqual(
      expect.arrayContaining([
        { field: 'bootState.maxAttempts', reason: `no boot-attempts in the [system] section of ${conf}` },
        { field: 'sshOnWan.wanInterface', reason: `no Name= in ${network}` },
      ]),
    );
  });

  it('notices a firewall without the ssh rule, a bad health file, and a completed first boot', async () => {
    await runOk('ip', ['netns', 'exec', ns, 'nft', 'flush chain inet rk64 input_wan']);
    await writeFile(join(dir, 'run', 'health.json'), 'not json');
    await writeFile(join(dir, 'data', '.completed_first_boot'), '');
    const { doc } = await status(gatewayEnv());
    expect(doc.sshOnWan).toEqual({
      enabled: true,
      expiresAt: null,
      firewallAllows: false,
      wanInterface: 'eth0',
    });
    expect(doc.health).toBeNull();
    expect(doc.errors).toEqual([
      { field: 'health', reason: `${join(dir, 'run', 'health.json')} is not a valid health state` },
    ]);
    expect(doc.firstBootCompleted).toBe(true);
  });

  it('on a plain Linux host: every unreadable field null with a reason', async () => {
    const missing = join(dir, 'nothing-here');
    const { doc } = await status({
      RAUC: join(missing, 'rauc'),
      FW_PRINTENV: join(missing, 'fw_printenv'),
      RK64_DATA: missing,
      RK64_RUN_DIR: missing,
      RK64_LEASES_FILE: join(missing, 'leases'),
      RK64_VERSION_FILE: join(missing, 'VERSION'),
      SYS_CLASS_DIR: missing,
      NFT: join(missing, 'nft'),
      SYSTEMCTL: join(missing, 'systemctl'),
      RK64_SYSCONFDIR: missing,
    });
    expect(doc.rauc).toBeNull();
    expect(doc.bootState).toBeNull();
    expect(doc.leases).toBeNull();
    expect(doc.firstBootCompleted).toBeNull();
    expect(doc.watchdog).toMatchObject({ device: null, active: false });
    expect(doc.sshOnWan).toEqual({
      enabled: false,
      expiresAt: null,
      firewallAllows: null,
      wanInterface: null,
    });
    expect(doc.health?.state).toBe('not-run');
    expect(doc.errors.map((e) => e.field).sort()).toEqual(
      [
        'bootState',
        'firstBootCompleted',
        'leases',
        'rauc',
        'sshOnWan.firewallAllows',
        'sshOnWan.wanInterface',
        'versions.rk64',
        'watchdog.device',
        'watchdog.runtimeWatchdogSeconds',
      ].sort(),
    );
  });

  it('one malformed lease line, a huge expiry or a hostile host name costs only that piece', async () => {
    const leases = join(dir, 'hostile.leases');
    await writeFile(
      leases,
      [
        '1764150000 3c:22:fb:11:22:33 172.20.30.57 laptop 01:3c:22:fb:11:22:33',
        'this is not a lease',
        '99999999999999999999 02:00:00:aa:bb:01 172.20.30.11 far-future *',
        '1764150000 02:00:00:aa:bb:02 172.20.30.12 \u001b]0;pwned\u0007 *',
        '1764150000 02:00:00:aa:bb:03 172.20.30.13 under_score.example *',
        '',
      ].join('\n'),
    );
    const { raw, text } = await rawStatus(gatewayEnv({ RK64_LEASES_FILE: leases }));
    // Only newlines between JSON tokens: no raw control byte anywhere in the document.
    // eslint-disable-next-line no-control-regex -- the point of the check
    expect(text.replaceAll('\n', '')).not.toMatch(/[\u0000-\u001f\u007f]/);
    const doc = validateStatus(raw);
    expect(doc.rauc).not.toBeNull();
    expect(doc.leases).toEqual([
      { mac: '3c:22:fb:11:22:33', ip: '172.20.30.57', hostname: 'laptop', expiresAt: '2025-11-26T09:40:00Z' },
      { mac: '02:00:00:aa:bb:01', ip: '172.20.30.11', hostname: 'far-future', expiresAt: null },
      { mac: '02:00:00:aa:bb:02', ip: '172.20.30.12', hostname: null, expiresAt: '2025-11-26T09:40:00Z' },
      { mac: '02:00:00:aa:bb:03', ip: '172.20.30.13', hostname: null, expiresAt: '2025-11-26T09:40:00Z' },
    ]);
    expect(doc.errors).toEqual(
      expect.arrayContaining([
        { field: 'leases', reason: `line 2 of ${leases} is not a dnsmasq lease: skipped` },
        { field: 'leases[1].expiresAt', reason: 'the lease expiry is not a usable time' },
        { field: 'leases[2].hostname', reason: 'the DHCP client sent something that is not a host name' },
        { field: 'leases[3].hostname', reason: 'the DHCP client sent something that is not a host name' },
      ]),
    );
  });

  it('a collector printing something that is not JSON makes only its field null, with a reason', async () => {
    const ip = await script(join(dir, 'bin', 'ip-garbage'), 'echo "not json at all"');
    const { doc } = await status(gatewayEnv({ IP: ip }));
    expect(doc.links).toBeNull();
    expect(doc.rauc).not.toBeNull();
    expect(doc.leases).not.toBeNull();
    expect(doc.errors).toContainEqual({
      field: 'links',
      reason: 'rk64-status could not read it (its collector failed)',
    });
  });

  it('sshOnWan.expiresAt: the deadline of ssh-wan on --for, null without one', async () => {
    const flag = join(dir, 'data', 'config', 'ssh-wan-enabled');
    const deadline = Math.floor(Date.now() / 1000) + 600;
    await writeFile(flag, `expires=${deadline}\n`);
    let { raw } = await rawStatus(gatewayEnv());
    expect(raw.sshOnWan).toMatchObject({
      enabled: true,
      expiresAt: new Date(deadline * 1000).toISOString().replace('.000Z', 'Z'),
    });
    await writeFile(flag, `expires=${deadline - 1200}\n`); // passed: closed
    ({ raw } = await rawStatus(gatewayEnv()));
    expect(raw.sshOnWan).toMatchObject({ enabled: false, expiresAt: null });
    await writeFile(flag, '');
    ({ raw } = await rawStatus(gatewayEnv()));
    expect(raw.sshOnWan).toMatchObject({ enabled: true, expiresAt: null });
  });

  it('an SSH-on-WAN flag that is a directory or a symbolic link counts as off, with the reason', async () => {
    const flag = join(dir, 'data', 'config', 'ssh-wan-enabled');
    await rm(flag, { force: true });
    await mkdir(flag);
    let { raw } = await rawStatus(gatewayEnv());
    expect(raw.sshOnWan).toMatchObject({ enabled: false });
    expect(raw.errors).toContainEqual({
      field: 'sshOnWan.enabled',
      reason: `${flag} is not a regular file (directory): refused, SSH on WAN stays closed (remove it)`,
    });
    await rm(flag, { recursive: true });
    await symlink(join(dir, 'VERSION'), flag);
    ({ raw } = await rawStatus(gatewayEnv()));
    expect(raw.sshOnWan).toMatchObject({ enabled: false });
    await rm(flag);
    await writeFile(flag, '');
  });

  it('the recovery VPN: not configured, a failed unit, a running server with its clients, an unreadable status file', async () => {
    const conf = join(dir, 'data', 'config', 'openvpn');
    const vpnRun = join(dir, 'vpn-run');
    await mkdir(vpnRun, { recursive: true });
    // systemctl as systemd prints these properties; the unit's state comes from a file the test sets.
    const unitState = join(dir, 'vpn-unit-state');
    const systemctl = await script(
      join(dir, 'bin', 'systemctl-vpn'),
      `case "$*" in
  "show -p RuntimeWatchdogUSec --value") echo 30s ;;
  "show openvpn-recovery.service -p ActiveState -p SubState -p Result") cat ${JSON.stringify(unitState)} ;;
  *) echo "unexpected systemctl $*" >&2; exit 1 ;;
esac`,
    );
    const env = gatewayEnv({ SYSTEMCTL: systemctl, RK64_VPN_RUN_DIR: vpnRun });
    await rm(conf, { recursive: true, force: true });
    let { raw } = await rawStatus(env);
    expect(raw.vpn).toEqual({
      state: 'not-configured',
      reason: `no ${join(conf, 'server.conf')}: the recovery VPN is not provisioned`,
      clients: [],
    });
    await mkdir(conf, { recursive: true });
    await writeFile(join(conf, 'server.conf'), 'dev tun0\n');
    await writeFile(unitState, 'ActiveState=failed\nSubState=failed\nResult=exit-code\n');
    ({ raw } = await rawStatus(env));
    expect(raw.vpn).toEqual({
      state: 'failed',
      reason: 'openvpn-recovery.service failed (exit-code); see journalctl -u openvpn-recovery.service',
      clients: [],
    });
    await writeFile(unitState, 'ActiveState=active\nSubState=running\nResult=success\n');
    // openvpn --status-version 3: tab-separated, the columns named by the HEADER line.
    await writeFile(
      join(vpnRun, 'status'),
      [
        'TITLE\tOpenVPN 2.6.3',
        'HEADER\tCLIENT_LIST\tCommon Name\tReal Address\tVirtual Address\tConnected Since (time_t)',
        'CLIENT_LIST\tnoc\t192.0.2.7:51820\t10.8.0.6\t1764150000',
        'CLIENT_LIST\t\u001b[31mevil\t198.51.100.1:1\t10.8.0.10\tsoon',
        'END',
        '',
      ].join('\n'),
    );
    ({ raw } = await rawStatus(env));
    expect(raw.vpn).toEqual({
      state: 'running',
      reason: null,
      clients: [
        { commonName: 'noc', realAddress: '192.0.2.7:51820', connectedSince: '2025-11-26T09:40:00Z' },
        // The peer's name as sent (the console makes it printable); a time that is not one is null.
        { commonName: '\u001b[31mevil', realAddress: '198.51.100.1:1', connectedSince: null },
      ],
    });
    // A status file that cannot be read: the server's state stays, its clients are null with the reason.
    await rm(join(vpnRun, 'status'));
    await mkdir(join(vpnRun, 'status'));
    ({ raw } = await rawStatus(env));
    expect(raw.vpn).toEqual({ state: 'running', reason: null, clients: null });
    expect(raw.errors).toContainEqual({
      field: 'vpn.clients',
      reason: `cannot read ${join(vpnRun, 'status')} (root only)`,
    });
    await rm(conf, { recursive: true, force: true });
  });

  it('a health file or a lease file that is a directory costs only its own field', async () => {
    const run = join(dir, 'run-hostile');
    await mkdir(join(run, 'health.json'), { recursive: true });
    const leases = join(dir, 'leases-dir');
    await mkdir(leases, { recursive: true });
    const { raw } = await rawStatus(gatewayEnv({ RK64_RUN_DIR: run, RK64_LEASES_FILE: leases }));
    expect(raw.health).toBeNull();
    expect(raw.leases).toBeNull();
    expect(raw.rauc).not.toBeNull();
    expect(raw.errors).toEqual(
      expect.arrayContaining([
        { field: 'health', reason: `${join(run, 'health.json')} is not a valid health state` },
        { field: 'leases', reason: `lease file ${leases} is missing (is dnsmasq running?)` },
      ]),
    );
  });
});
