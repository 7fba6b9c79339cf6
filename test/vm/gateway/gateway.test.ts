// The test gateway end to end: built from Debian packages plus every file in device-scripts/,
// booted by Debian's qemu_arm64 U-Boot through our boot.scr, first boot through systemd-repart
// and first-boot, status over SSH and over the serial console, a real DHCP client on the LAN,
// and a second boot. One gateway is shared by the whole file (boots are the expensive part).
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GatewayStatus, LinkStatus } from '../../../src/core/status/schema.js';
import { repoRoot, run, runOk } from '../../lib/exec.js';
import { buildGateway, startGateway } from '../../lib/gateway.js';
import type { Gateway, GatewayBuild } from '../../lib/gateway.js';
import { scanForCredentials } from '../../lib/gateway-credentials.js';

let build: GatewayBuild & { dir: string };
let buildSeconds: number;
let gateway: Gateway;

function link(status: GatewayStatus, name: string): LinkStatus | undefined {
  return status.links?.find((l) => l.name === name);
}

/**
 * `rk64 status --json <profile>` as the operator runs it, with the profiles `gateway up` wrote:
 * gateway-NAME (SSH through the LAN, host key read from the serial console) and
 * gateway-NAME-serial (the serial console). Needs the compiled CLI (npm run build).
 */
async function rk64Status(profile: string): Promise<GatewayStatus> {
  const result = await run(
    'node',
    [
      join(repoRoot, 'bin/rk64.js'),
      '--config',
      gateway.state.config,
      '--known-hosts',
      gateway.state.knownHosts,
      '--timeout',
      '180',
      'status',
      '--json',
      profile,
    ],
    { timeoutMs: 300_000, env: { ...process.env, SSH_AUTH_SOCK: '' } },
  );
  expect(result.code, `rk64 status ${profile}: ${result.stderr}${result.stdout}`).toBe(0);
  const line = JSON.parse(result.stdout.trim().split('\n').pop() ?? '') as {
    target: string;
    status: GatewayStatus;
  };
  expect(line.target).toBe(profile);
  return line.status;
}

const statusOverSsh = (): Promise<GatewayStatus> => rk64Status(`gateway-${gateway.name}`);

beforeAll(async () => {
  const started = Date.now();
  build = await buildGateway();
  buildSeconds = (Date.now() - started) / 1000;
  gateway = await startGateway();
  console.log(
    `gateway: build ${buildSeconds.toFixed(0)} s (base ${build.baseSeconds} s, image ${build.imageSeconds} s when built), ` +
      `boot-to-SSH ${(gateway.state.bootToSshMs / 1000).toFixed(1)} s (first boot)`,
  );
});

afterAll(async () => {
  await gateway?.stop();
});

describe('test gateway', () => {
  it('boots slot A through U-Boot and boot.scr, read-only squashfs root, first boot partitions the disk', async () => {
    const log = await gateway.serialLog();
    expect(log).toContain('U-Boot');
    expect(log).toMatch(/rk64: booting slot A from virtio 0/);
    const cmdline = (await gateway.sshOk('cat /proc/cmdline')).stdout;
    expect(cmdline).toContain('root=PARTLABEL=rootfs-a');
    expect(cmdline).toContain('rauc.slot=A');
    const root = (await gateway.sshOk('findmnt -no FSTYPE,OPTIONS /')).stdout;
    expect(root).toMatch(/^squashfs\s+ro/);
    const labels = (await gateway.sshOk('ls /dev/disk/by-partlabel')).stdout.split('\n');
    expect(labels).toEqual(
      expect.arrayContaining(['boot-a', 'rootfs-a', 'boot-b', 'rootfs-b', 'data', 'uboot-env']),
    );
    expect((await gateway.sshOk('findmnt -no FSTYPE /data')).stdout.trim()).toBe('f2fs');
    // Host keys came from first-boot on /data, not from the image.
    expect((await gateway.sshOk('ls /data/ssh')).stdout).toContain('ssh_host_ed25519_key.pub');
    expect((await gateway.ssh('ls /etc/ssh/ssh_host_ed25519_key')).code).not.toBe(0);
  });

  it('rk64 status --json over SSH: slot A booted and good, real boot counters, watchdog, eth0/eth1, SSH-on-WAN off', async () => {
    const status = await statusOverSsh();
    expect(status.schema).toBe('rk64.status/1');
    expect(status.rauc?.bootedSlot).toBe('A');
    const slotA = status.rauc?.slots.find((s) => s.bootname === 'A');
    expect(slotA?.booted).toBe(true);
    expect(slotA?.bootStatus).toBe('good');
    // The counters are the ones U-Boot and fw_setenv share on the uboot-env partition.
    const env = (await gateway.sshOk('fw_printenv')).stdout;
    const counter = (name: string): number | null => {
      const m = new RegExp(`^${name}=(\\d+)$`, 'm').exec(env);
      return m?.[1] === undefined ? null : Number(m[1]);
    };
    expect(counter('BOOT_A_LEFT')).not.toBeNull();
    expect(status.bootState?.attemptsLeft.A).toBe(counter('BOOT_A_LEFT'));
    expect(status.bootState?.attemptsLeft.B).toBe(counter('BOOT_B_LEFT'));
    expect(status.bootState?.order).toEqual(['A', 'B']);
    expect(status.watchdog?.active).toBe(true);
    expect(link(status, 'eth0')?.role).toBe('wan');
    expect(link(status, 'eth0')?.addresses).toContain('10.0.2.15/24');
    expect(link(status, 'eth1')?.role).toBe('lan');
    expect(link(status, 'eth1')?.addresses).toContain('172.20.30.1/24');
    expect(status.sshOnWan).toEqual({ enabled: false, firewallAllows: false });
    expect(status.firstBootCompleted).toBe(true);
    // And from the WAN side SSH really is closed (QEMU forwards the port to eth0:22).
    const wan = await run(
      'ssh',
      [...gateway.sshArgs().slice(0, -3), '-p', String(gateway.state.wanSshPort), 'root@127.0.0.1', 'true'],
      { timeoutMs: 60_000 },
    );
    expect(wan.code).not.toBe(0);
  });

  it('kernel parameters from the image (kernel-params.txt) reach the kernel: net.ifnames=0, and the .link files still name eth0/eth1', async () => {
    const args = (await gateway.sshOk('cat /proc/cmdline')).stdout.trim().split(/\s+/);
    expect(args).toContain('net.ifnames=0');
    // appended after boot.scr's own, which stay the only ones of their kind
    expect(args.indexOf('net.ifnames=0')).toBeGreaterThan(args.findIndex((a) => a.startsWith('console=')));
    expect(args.filter((a) => a.startsWith('root='))).toEqual(['root=PARTLABEL=rootfs-a']);
    for (const [name, mac, file] of [
      ['eth0', gateway.state.wanMac, '05-rk64-qemu-wan.link'],
      ['eth1', gateway.state.lanMac, '05-rk64-qemu-lan.link'],
    ] as const) {
      expect((await gateway.sshOk(`cat /sys/class/net/${name}/address`)).stdout.trim()).toBe(mac);
      const udev = (await gateway.sshOk(`udevadm info --query=property /sys/class/net/${name}`)).stdout;
      expect(udev).toMatch(new RegExp(`^ID_NET_LINK_FILE=\\S*/${file.replace(/\./g, '\\.')}$`, 'm'));
    }
  });

  it('a DHCP client on the LAN gets a lease from the gateway, and status lists it', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'rk64-gw-dhcp-'));
    try {
      const { netns, lanInterface, lanMac } = gateway.state;
      // -sf /bin/true: the lease is obtained and recorded, the namespace is not reconfigured.
      const dhclient = await run(
        'ip',
        [
          'netns',
          'exec',
          netns,
          'dhclient',
          '-4',
          '-1',
          '-v',
          '-sf',
          '/bin/true',
          '-lf',
          join(dir, 'leases'),
          '-pf',
          join(dir, 'pid'),
          lanInterface,
        ],
        { timeoutMs: 120_000 },
      );
      expect(dhclient.code, dhclient.stderr).toBe(0);
      const leases = await readFile(join(dir, 'leases'), 'utf8');
      const ip = /fixed-address (172\.20\.30\.\d+);/.exec(leases)?.[1];
      expect(ip, leases).toBeDefined();
      const clientMac = (await runOk('ip', ['-n', netns, '-br', 'link', 'show', lanInterface])).stdout.split(
        /\s+/,
      )[2];
      expect(clientMac).not.toBe(lanMac);
      const status = await statusOverSsh();
      expect(status.leases).toEqual(
        expect.arrayContaining([expect.objectContaining({ ip, mac: clientMac })]),
      );
      await run(
        'ip',
        [
          'netns',
          'exec',
          netns,
          'dhclient',
          '-r',
          '-sf',
          '/bin/true',
          '-lf',
          join(dir, 'leases'),
          '-pf',
          join(dir, 'pid'),
          lanInterface,
        ],
        { timeoutMs: 30_000 },
      );
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('the built root image holds no credentials', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'rk64-gw-root-'));
    try {
      await runOk(
        'unsquashfs',
        ['-q', '-n', '-f', '-d', join(dir, 'root'), join(build.dir, 'rootfs.squashfs')],
        {
          timeoutMs: 600_000,
        },
      );
      expect(await scanForCredentials(join(dir, 'root'))).toEqual([]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('second boot: /data survives, first-boot does not run again, os-verification runs; status over the serial console', async () => {
    const marker = `survives-${Date.now()}`;
    await gateway.sshOk(`echo ${marker} > /data/rk64-gateway-test-marker && sync`);
    const sentinel = (await gateway.sshOk('cat /data/.completed_first_boot')).stdout;
    const hostKey = (await gateway.sshOk('cat /data/ssh/ssh_host_ed25519_key.pub')).stdout;
    /** os-verification's final state in this boot (passed, failed, skipped), waiting while it runs. */
    const finalHealth = async (): Promise<string> => {
      let seen = '';
      for (let i = 0; i < 60; i++) {
        // The unit is a oneshot that stays active when done; "activating" means it is still checking.
        const r = await gateway.ssh(
          'systemctl is-active os-verification >/dev/null || systemctl is-failed os-verification >/dev/null || exit 1; cat /run/rk64/health.json',
        );
        seen = r.stdout.trim();
        const state = r.code === 0 ? /"state":"([a-z]+)"/.exec(seen)?.[1] : undefined;
        if (state === 'passed' || state === 'failed' || state === 'skipped') return `${state}: ${seen}`;
        await new Promise((done) => setTimeout(done, 5000));
      }
      throw new Error(`os-verification did not finish within 5 minutes; last health: ${seen}`);
    };
    // first-boot committed the factory slot A before os-verification ran (it is ordered first), so
    // os-verification had nothing to verify in this boot either; it is done before the reboot.
    expect(await finalHealth()).toMatch(/^skipped: .*slot A \(factory\) was committed earlier/);
    // Break-glass (production path): the next boot gets a root console on the serial port.
    await gateway.sshOk('fw_setenv _RUT_OH_ 1');
    await gateway.reboot();

    expect((await gateway.sshOk('cat /data/rk64-gateway-test-marker')).stdout.trim()).toBe(marker);
    expect((await gateway.sshOk('cat /data/.completed_first_boot')).stdout).toBe(sentinel);
    expect((await gateway.sshOk('cat /data/ssh/ssh_host_ed25519_key.pub')).stdout).toBe(hostKey);
    const firstBoot = (
      await gateway.sshOk('systemctl show -p ConditionResult -p ExecMainStartTimestampMonotonic first-boot')
    ).stdout;
    expect(firstBoot).toContain('ConditionResult=no');
    expect(firstBoot).toContain('ExecMainStartTimestampMonotonic=0');
    // os-verification ran in this boot and recorded "skipped" for rk64-status: slot A was committed
    // in an earlier boot, so it is marked good again at once, without the window.
    expect(await finalHealth()).toMatch(/^skipped: .*slot A .* was committed earlier/);
    const verification = (
      await gateway.sshOk('systemctl show -p ExecMainStartTimestampMonotonic os-verification')
    ).stdout;
    expect(verification).not.toContain('ExecMainStartTimestampMonotonic=0');

    // The same status through the console's serial transport (profile gateway-NAME-serial).
    const status = await rk64Status(`gateway-${gateway.name}-serial`);
    expect(status.rauc?.bootedSlot).toBe('A');
    expect(status.bootState?.breakGlass).toBe(false);
    expect(status.firstBootCompleted).toBe(true);
    expect(link(status, 'eth1')?.addresses).toContain('172.20.30.1/24');
  });
});
