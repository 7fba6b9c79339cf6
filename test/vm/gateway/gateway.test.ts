// The test gateway end to end: built from Debian packages plus every file in device-scripts/,
// booted by Debian's qemu_arm64 U-Boot through our boot.scr, first boot through systemd-repart
// and first-boot, status over SSH and over the serial console, a real DHCP client on the LAN,
// and a second boot; last, a boot whose firewall cannot load (fail-closed). One gateway is shared
// by the whole file (boots are the expensive part). Its first boot is the booted snapshot's
// (test/lib/e2e-gateway.ts): the image flashed with keys and booted the first time, which the
// snapshot saves with that boot's serial console; this file resumes a copy and checks what that
// boot did. Its other boots are its own. A first boot without keys: first-boot-without-keys.test.ts.
import { spawn } from 'node:child_process';
import { copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GatewayStatus, LinkStatus } from '../../../src/core/status/schema.js';
import { repoRoot, run, runOk } from '../../lib/exec.js';
import { buildGateway, gatewayCommand, withoutEscapes } from '../../lib/gateway.js';
import type { Gateway, GatewayBuild, GatewayState } from '../../lib/gateway.js';
import { readBootFile, setBootFile } from '../../lib/boot-vm.js';
import { scanForCredentials } from '../../lib/gateway-credentials.js';
import { GUEST_HOST_ADDRESS } from '../../lib/e2e-server.js';
import { bootedSnapshot, startE2eGateway } from '../../lib/e2e-gateway.js';
import type { E2eGateway } from '../../lib/e2e-gateway.js';

let build: GatewayBuild & { dir: string };
let e2e: E2eGateway;
let gateway: Gateway;
/** The serial console of the image's first boot (the booted snapshot's), power-on to settled. */
let firstBootLog: string;

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
  const snapshot = await bootedSnapshot(build);
  firstBootLog = await readFile(snapshot.firstBootSerialLog, 'utf8');
  const waited = (Date.now() - started) / 1000;
  e2e = await startE2eGateway(snapshot, 'gateway');
  gateway = e2e.gateway;
  console.log(
    `gateway: image and booted snapshot ready after ${waited.toFixed(0)} s (base ${build.baseSeconds} s, image ${build.imageSeconds} s when built; ` +
      `first boot to SSH ${snapshot.bootSeconds === null ? 'cached' : `${snapshot.bootSeconds} s`}), ` +
      `restore to SSH ${(gateway.state.bootToSshMs / 1000).toFixed(1)} s`,
  );
});

afterAll(async () => {
  // Its disk (160 MB) would stay in the cache after every run.
  await e2e?.stop();
});

describe('test gateway', () => {
  it('boots slot A through U-Boot and boot.scr, read-only squashfs root, first boot partitions the disk', async () => {
    expect(firstBootLog).toContain('U-Boot');
    expect(firstBootLog).toMatch(/rk64: booting slot A from virtio 0/);
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
    expect(status.sshOnWan).toEqual({
      enabled: false,
      firewallAllows: false,
      expiresAt: null,
      wanInterface: 'eth0',
    });
    // The attempts a slot marked good gets: boot-attempts of the installed RAUC system.conf.
    expect(status.bootState?.maxAttempts).toBe(3);
    expect(status.firstBootCompleted).toBe(true);
    // And from the WAN side SSH really is closed (QEMU forwards the port to eth0:22).
    const wan = await run(
      'ssh',
      [
        ...gateway.sshArgs().slice(0, -3),
        '-p',
        String(gateway.state.wanSshPort),
        'operator@127.0.0.1',
        'true',
      ],
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

  it('a DHCP client on the LAN gets a lease from the gateway (dnsmasq from the shipped unit), and status lists it', async () => {
    const dnsmasq = await shippedDaemon('rk64-dnsmasq.service', 'dnsmasq.service');
    expect(dnsmasq.user).toBe('dnsmasq');
    expect(dnsmasq.argv).toContain('--conf-file=/etc/rk64/dnsmasq.conf');
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
    // Break-glass's drop-in won over the shipped key login's for this boot (systemd merges drop-ins
    // by file name: rk64-10-serial-login.conf before rk64-break-glass.conf): the serial getty is
    // the root autologin, and the console met a shell, not the key login.
    const getty = (await gateway.sshOk('systemctl show -p ExecStart serial-getty@ttyAMA0.service')).stdout;
    expect(getty).toContain('--autologin root');
    expect(getty).not.toContain('serial-login');
    expect((await gateway.sshOk('journalctl -b -t rk64-serial-login --no-pager -o cat')).stdout).not.toMatch(
      /challenge user=/,
    );
    expect(link(status, 'eth1')?.addresses).toContain('172.20.30.1/24');
  });
});

/** A free TCP/UDP port on the host's loopback (closed again before use). */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() =>
        typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port')),
      );
    });
  });
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * A daemon as the gateway runs it from a shipped unit (device-scripts/systemd, the unit NixOS runs
 * too): the unit is active from the installed file, the distribution's own unit for the same
 * daemon is masked, and its main process's command line and user are returned.
 */
async function shippedDaemon(
  unit: string,
  distributionUnit: string,
): Promise<{ argv: string[]; user: string }> {
  const shown = (await gateway.sshOk(`systemctl show -p ActiveState -p FragmentPath -p MainPID ${unit}`))
    .stdout;
  expect(shown).toMatch(/^ActiveState=active$/m);
  // The installed file (Debian's systemd names /usr/lib/systemd/system by its merged-/usr alias /lib).
  expect(shown).toMatch(
    new RegExp(`^FragmentPath=(/usr)?/lib/systemd/system/${unit.replace(/\./g, '\\.')}$`, 'm'),
  );
  const pid = /^MainPID=([1-9]\d*)$/m.exec(shown)?.[1];
  expect(pid, shown).toBeDefined();
  const argv = (await gateway.sshOk(`cat /proc/${pid}/cmdline`)).stdout.split('\0').filter(Boolean);
  const user = (await gateway.sshOk(`ps -o user= -p ${pid}`)).stdout.trim();
  const distribution = await gateway.ssh(`systemctl is-enabled ${distributionUnit}`);
  expect(distribution.stdout.trim()).toBe('masked');
  return { argv, user };
}

/** HTTP body from URL (curl, optionally inside a network namespace), or null when nothing answers. */
async function httpBody(url: string, netns?: string): Promise<string | null> {
  const curl = ['curl', '-sS', '--max-time', '20', url];
  const r = netns
    ? await run('ip', ['netns', 'exec', netns, ...curl], { timeoutMs: 60_000 })
    : await run(curl[0] ?? 'curl', curl.slice(1), { timeoutMs: 60_000 });
  return r.code === 0 ? r.stdout : null;
}

async function checkWatchdog(): Promise<void> {
  const shown = (await gateway.sshOk('systemctl show -p RuntimeWatchdogUSec -p RebootWatchdogUSec')).stdout;
  expect(shown).toMatch(/^RuntimeWatchdogUSec=30s$/m);
  expect(shown).toMatch(/^RebootWatchdogUSec=10min$/m);
}

async function checkNoForwarding(): Promise<void> {
  expect((await gateway.sshOk('sysctl -n net.ipv4.ip_forward')).stdout.trim()).toBe('0');
  expect((await gateway.sshOk('sysctl -n net.ipv6.conf.all.forwarding')).stdout.trim()).toBe('0');
  expect((await gateway.sshOk('nft list chain inet rk64 forward')).stdout).toMatch(/policy drop;/);
}

async function checkRootfsLink(): Promise<void> {
  const link = (await gateway.sshOk('readlink -f /dev/rk64-rootfs')).stdout.trim();
  const slotA = (await gateway.sshOk('readlink -f /dev/disk/by-partlabel/rootfs-a')).stdout.trim();
  expect(link).toMatch(/^\/dev\/vd[a-z]\d+$/);
  expect(link).toBe(slotA);
}

async function checkChronySync(): Promise<void> {
  const timesyncd = (await gateway.sshOk('systemctl show -p ActiveState systemd-timesyncd')).stdout.trim();
  expect(timesyncd).not.toBe('ActiveState=active');
  const chronyd = await shippedDaemon('rk64-chronyd.service', 'chrony.service');
  expect(chronyd.user).toBe('_chrony');
  expect(chronyd.argv.slice(-2)).toEqual(['-f', '/etc/rk64/chrony.conf']);
  // Its run-time directory (the command socket `chronyc add server` needs) belongs to that user.
  expect((await gateway.sshOk('stat -c %U /run/chrony')).stdout.trim()).toBe('_chrony');
  // A real chronyd on the host, serving its clock (-x: it never sets the host's clock) on a
  // loopback port that the gateway reaches as 10.0.2.2 through QEMU's user networking.
  const dir = await mkdtemp(join(tmpdir(), 'rk64-gw-ntp-'));
  const port = await freePort();
  await writeFile(
    join(dir, 'chrony.conf'),
    [
      `port ${port}`,
      'bindaddress 127.0.0.1',
      'local stratum 3',
      'allow 127.0.0.0/8',
      'cmdport 0',
      'bindcmdaddress /',
      `pidfile ${join(dir, 'chronyd.pid')}`,
      '',
    ].join('\n'),
  );
  const server = spawn('chronyd', ['-d', '-x', '-f', join(dir, 'chrony.conf')], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let serverLog = '';
  server.stderr.on('data', (d: Buffer) => (serverLog += d.toString()));
  try {
    // `add server` is a privileged chronyc command: it only works over chronyd's Unix socket in
    // its run-time directory, which must belong to the user chronyd drops to.
    await gateway.sshOk(`chronyc add server ${GUEST_HOST_ADDRESS} port ${port} iburst minpoll 0 maxpoll 2`);
    // Synced = the source list shows 10.0.2.2 selected now (`^*`) and tracking has taken it as
    // its reference (a moment later). Tracking alone could still name a reference chronyd selected
    // earlier in this boot; sources alone runs ahead of the clock update.
    const selected = /^\^\* 10\.0\.2\.2\b/m;
    const reference = /^Reference ID\s*:\s*0A000202 \(10\.0\.2\.2\)/m;
    let sources = '';
    let tracking = '';
    for (let i = 0; i < 36; i++) {
      sources = (await gateway.ssh('chronyc -n sources')).stdout;
      tracking = (await gateway.ssh('chronyc -n tracking')).stdout;
      if (selected.test(sources) && reference.test(tracking)) break;
      await sleep(5000);
    }
    expect(sources, `${sources}\nhost chronyd: ${serverLog}`).toMatch(selected);
    expect(tracking).toMatch(reference);
    expect(tracking).toMatch(/^Leap status\s*:\s*Normal/m);
  } finally {
    await gateway.ssh(`chronyc delete ${GUEST_HOST_ADDRESS}`);
    server.kill();
    await rm(dir, { recursive: true, force: true });
  }
}

async function checkPodman(): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'rk64-gw-podman-'));
  const token = `rk64-container-${Date.now()}`;
  try {
    // The image: the static arm64 busybox scripts/setup unpacks, and one page to serve.
    const root = join(dir, 'root');
    await mkdir(join(root, 'bin'), { recursive: true });
    await mkdir(join(root, 'www'));
    await copyFile(
      join(process.env.RK64_CACHE ?? '/var/cache/rk64', 'arm64/bin/busybox'),
      join(root, 'bin/busybox'),
    );
    await writeFile(join(root, 'www/index.html'), token);
    await runOk('tar', ['-C', root, '--owner=0', '--group=0', '-cf', join(dir, 'image.tar'), '.']);
    await gateway.sshOk('cat > /data/rk64-test-image.tar', {
      input: await readFile(join(dir, 'image.tar')),
      timeoutMs: 120_000,
    });
    await gateway.sshOk('podman import /data/rk64-test-image.tar localhost/rk64-test-web:1', {
      timeoutMs: 300_000,
    });
    const store = (
      await gateway.sshOk("podman info --format '{{.Store.GraphRoot}} {{.Store.GraphDriverName}}'")
    ).stdout.trim();
    expect(store).toBe('/data/containers/storage overlay');
    expect((await gateway.sshOk('findmnt -no FSTYPE --target /data/containers/storage')).stdout.trim()).toBe(
      'f2fs',
    );
    // No --network: the shipped containers.conf decides. One httpd on 8080, one on 443.
    await gateway.sshOk(
      "podman run -d --name rk64-test-web localhost/rk64-test-web:1 /bin/busybox sh -c '/bin/busybox httpd -p 8080 -h /www; exec /bin/busybox httpd -f -p 443 -h /www'",
      { timeoutMs: 300_000 },
    );
    expect(
      (await gateway.sshOk("podman inspect -f '{{.HostConfig.NetworkMode}}' rk64-test-web")).stdout.trim(),
    ).toBe('host');
    let listening = '';
    for (let i = 0; i < 24 && !/:8080\b/.test(listening); i++) {
      listening = (await gateway.sshOk('ss -Hltn')).stdout;
      if (!/:8080\b/.test(listening)) await sleep(5000);
    }
    expect(listening).toMatch(/:8080\b/);

    const { netns } = gateway.state;
    // LAN: the container's ports are the gateway's own; rk64.nft admits 22, 67-68, 123 only.
    expect(await httpBody('http://172.20.30.1:8080/', netns)).toBeNull();
    // An application that serves the LAN admits its port in input_lan (here for this boot).
    await gateway.sshOk('nft add rule inet rk64 input_lan tcp dport 8080 accept');
    expect(await httpBody('http://172.20.30.1:8080/', netns)).toBe(token);

    // WAN (QEMU user networking forwards host ports to eth0): tcp/443 is admitted, 8080 is not
    // (even while the LAN admits it).
    const wan443 = await freePort();
    const wan8080 = await freePort();
    await gateway.qmp('human-monitor-command', {
      'command-line': `hostfwd_add wan tcp:127.0.0.1:${wan443}-:443`,
    });
    await gateway.qmp('human-monitor-command', {
      'command-line': `hostfwd_add wan tcp:127.0.0.1:${wan8080}-:8080`,
    });
    expect(await httpBody(`http://127.0.0.1:${wan443}/`)).toBe(token);
    expect(await httpBody(`http://127.0.0.1:${wan8080}/`)).toBeNull();
    await gateway.qmp('human-monitor-command', {
      'command-line': `hostfwd_remove wan tcp:127.0.0.1:${wan443}`,
    });
    await gateway.qmp('human-monitor-command', {
      'command-line': `hostfwd_remove wan tcp:127.0.0.1:${wan8080}`,
    });
  } finally {
    await gateway.ssh(
      'podman rm -f rk64-test-web; rm -f /data/rk64-test-image.tar; systemctl restart rk64-firewall.service',
      {
        timeoutMs: 300_000,
      },
    );
    await rm(dir, { recursive: true, force: true });
  }
}

/** OpenSSH as `user` (the instance key, strict host keys), with extra options before the destination. */
function sshAs(user: string, options: string[], command: string[], timeoutMs = 60_000) {
  return run('ssh', [...gateway.sshArgs().slice(0, -1), ...options, `${user}@127.0.0.1`, ...command], {
    timeoutMs,
  });
}

/** `rk64 <args>` with the profiles and known_hosts `gateway up` wrote (the operator's profile). */
function rk64(args: string[], timeoutMs = 300_000) {
  return run(
    'node',
    [
      join(repoRoot, 'bin/rk64.js'),
      '--config',
      gateway.state.config,
      '--known-hosts',
      gateway.state.knownHosts,
      '--timeout',
      '180',
      ...args,
    ],
    { timeoutMs, env: { ...process.env, SSH_AUTH_SOCK: '' } },
  );
}

describe('test gateway: first contact (keys from flash, least-privileged operator, hardened sshd)', () => {
  it('flash --authorized-keys put the keys on boot-a; first boot imported them and erased the provisioning copy', async () => {
    const publicKey = (await readFile(`${gateway.state.identity}.pub`, 'utf8')).trim();
    const imported = await gateway.sshOk(
      'cat /data/config/ssh-authorized-keys/operator; echo ---; cat /data/config/ssh-authorized-keys/rk64-test',
    );
    const [operatorKeys, testKeys] = imported.stdout.split('---\n');
    expect(operatorKeys).toContain(publicKey);
    expect(testKeys?.trim()).toBe(publicKey);
    const bootA = await gateway.sshOk(
      'd=$(mktemp -d); mount -o ro /dev/disk/by-partlabel/boot-a "$d"; ls -A "$d"; umount "$d"; rmdir "$d"',
    );
    expect(bootA.stdout.split('\n')).toContain('boot.scr');
    expect(bootA.stdout.split('\n')).not.toContain('provisioning');
    // first-boot writes to the console too (StandardError=journal+console); the journal is
    // volatile and earlier tests of this file reboot the gateway, so the serial log is the record.
    expect(firstBootLog).toMatch(/first-boot: erased the provisioning copy/);
  });

  it('the operator runs the console: status and actions through sudo -n, as the profile `gateway up` wrote (user operator)', async () => {
    const config = JSON.parse(await readFile(gateway.state.config, 'utf8')) as {
      profiles: Record<string, { user?: string }>;
    };
    expect(config.profiles[`gateway-${gateway.name}`]?.user).toBe('operator');
    expect(gateway.state.sshTarget).toMatch(/^ssh:\/\/operator@127\.0\.0\.1:\d+$/);
    // The profile (not the bare URL): it names the instance key, as for an operator's laptop.
    const target = `gateway-${gateway.name}`;
    const status = await rk64(['status', '--json', target]);
    expect(status.code, status.stderr).toBe(0);
    for (const words of [
      ['ssh-wan', 'on', '--for', '10m'],
      ['ssh-wan', 'off'],
      ['mark-good', 'booted'],
    ]) {
      const r = await rk64(['action', target, ...words]);
      expect(r.code, `rk64 action ${words.join(' ')}: ${r.stderr}${r.stdout}`).toBe(0);
    }
    // what ran as root: the actions' own journal lines name the operator through sudo
    const sudoLog = await gateway.sshOk('journalctl -b -o cat _COMM=sudo');
    expect(sudoLog.stdout).toMatch(/operator : .*COMMAND=\/usr\/bin\/rk64-action ssh-wan on --for 10m/);
    expect(sudoLog.stdout).toMatch(/operator : .*COMMAND=\/usr\/bin\/rk64-status/);
  });

  it('as operator: sudo -n refuses anything but rk64-status and rk64-action; rk64-action without sudo refuses', async () => {
    for (const command of [
      'sudo -n id',
      'sudo -n rauc status',
      'sudo -n /bin/sh -c id',
      'sudo -n fw_printenv',
    ]) {
      const r = await sshAs('operator', [], [command]);
      expect(r.code, command).not.toBe(0);
      expect(r.stderr, command).toMatch(/sudo: a password is required|not allowed/);
    }
    const allowed = await sshAs('operator', [], ['sudo -n rk64-action last >/dev/null; echo $?']);
    expect(allowed.stdout.trim()).toMatch(/^[03]$/);
    const bare = await sshAs('operator', [], ['rk64-action ssh-wan off']);
    expect(bare.code).toBe(4);
  });

  it('root has no SSH login (PermitRootLogin no, AllowUsers), even with a key in its authorized keys file', async () => {
    await gateway.sshOk(`cp /data/config/ssh-authorized-keys/operator /data/config/ssh-authorized-keys/root`);
    try {
      const r = await sshAs('root', [], ['true']);
      expect(r.code).toBe(255);
      expect(r.stderr).toMatch(/Permission denied/);
    } finally {
      await gateway.sshOk('rm -f /data/config/ssh-authorized-keys/root');
    }
    const journal = await gateway.sshOk('journalctl -b -o cat _COMM=sshd | grep -i "root" | tail -n 5');
    expect(journal.stdout).toMatch(
      /User root from .* not allowed|ROOT LOGIN REFUSED|Invalid user|not allowed because/i,
    );
  });

  it('no forwarding through the gateway: ssh -W / -L / -D (direct-tcpip) and -R (tcpip-forward) are refused', async () => {
    // -W opens the same direct-tcpip channel -L and -D open for each connection they relay.
    const direct = await sshAs('operator', ['-W', '172.20.30.1:22'], [], 60_000);
    expect(direct.code).not.toBe(0);
    expect(direct.stderr).toMatch(/administratively prohibited|open failed|stdio forwarding failed/);
    const remote = await sshAs(
      'operator',
      ['-o', 'ExitOnForwardFailure=yes', '-N', '-R', '127.0.0.1:2222:127.0.0.1:22'],
      [],
      60_000,
    );
    expect(remote.code).not.toBe(0);
    expect(remote.stderr).toMatch(/remote port forwarding failed/i);
  });

  it('sshd -T shows the shipped hardening; AllowUsers is the shipped operator plus the test account', async () => {
    const r = await gateway.sshOk('sshd -T -C user=operator,host=lan,addr=172.20.30.2');
    const settings = new Map(
      r.stdout
        .trim()
        .split('\n')
        .map((line) => [line.split(' ')[0] ?? '', line.slice(line.indexOf(' ') + 1)] as const),
    );
    expect(settings.get('permitrootlogin')).toBe('no');
    expect(settings.get('disableforwarding')).toBe('yes');
    expect(settings.get('authenticationmethods')).toBe('publickey');
    expect(settings.get('maxauthtries')).toBe('3');
    expect(settings.get('logingracetime')).toBe('20');
    expect(settings.get('passwordauthentication')).toBe('no');
    expect(r.stdout.match(/^allowusers .*$/gm)).toEqual(['allowusers operator', 'allowusers rk64-test']);
  });
});

describe('test gateway: the production wiring (device-scripts) at run time', () => {
  it('systemd feeds the watchdog with the production timings of device-scripts/system.conf.d', async () => {
    await checkWatchdog();
  });

  it('never forwards: ip_forward reads 0 and the forward chain drops', async () => {
    await checkNoForwarding();
  });

  it('the rootfs udev rule names the booted slot: /dev/rk64-rootfs is rootfs-a', async () => {
    await checkRootfsLink();
  });

  it('chronyd (not timesyncd) from the shipped unit keeps the time: its client syncs from a time server on the WAN side', async () => {
    await checkChronySync();
  });

  it('podman runs a container imported from a tarball, storage on /data, host networking; the firewall decides who reaches it', async () => {
    await checkPodman();
  });
});

/** What an SSH server on HOST:PORT (through NETNS if given) sends first; '' when nothing answers. */
async function sshBanner(host: string, port: number, netns?: string): Promise<string> {
  const socat = ['socat', '-T', '8', '-u', `TCP:${host}:${port},connect-timeout=8`, 'STDOUT'];
  const r = netns
    ? await run('ip', ['netns', 'exec', netns, ...socat], { timeoutMs: 30_000 })
    : await run('socat', socat.slice(1), { timeoutMs: 30_000 });
  return r.stdout;
}

/** A DHCP lease for a real client in the LAN namespace within `seconds`, or null. */
async function dhcpLease(state: GatewayState, seconds: number): Promise<string | null> {
  const dir = await mkdtemp(join(tmpdir(), 'rk64-gw-dhcp-'));
  try {
    await writeFile(join(dir, 'dhclient.conf'), `timeout ${seconds};\n`);
    const files = ['-cf', join(dir, 'dhclient.conf'), '-lf', join(dir, 'leases'), '-pf', join(dir, 'pid')];
    // -1: one attempt; -sf /bin/true: the lease is recorded, the namespace is not reconfigured.
    await run(
      'ip',
      [
        'netns',
        'exec',
        state.netns,
        'dhclient',
        '-4',
        '-1',
        '-v',
        '-sf',
        '/bin/true',
        ...files,
        state.lanInterface,
      ],
      { timeoutMs: (seconds + 60) * 1000 },
    );
    const leases = await readFile(join(dir, 'leases'), 'utf8').catch(() => '');
    return /fixed-address (172\.20\.30\.\d+);/.exec(leases)?.[1] ?? null;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

// Last in the file: the final boot leaves the gateway without SSH.
describe('test gateway: the firewall fails closed (device-scripts/systemd/*.service.d/rk64-firewall.conf)', () => {
  it('re-applying the firewall (systemctl restart rk64-firewall.service) restarts neither sshd nor networkd', async () => {
    // Control for the probe below: sshd answers on the LAN.
    expect(await sshBanner('172.20.30.1', 22, gateway.state.netns)).toMatch(/^SSH-2\.0-/);
    const invocations = async (): Promise<string[]> =>
      (
        await gateway.sshOk('systemctl show -p InvocationID --value ssh.service systemd-networkd.service')
      ).stdout
        .split('\n')
        .filter((line) => line !== '');
    const before = await invocations();
    expect(before).toHaveLength(2);
    for (const id of before) expect(id).toMatch(/^[0-9a-f]{32}$/);
    await gateway.sshOk('systemctl restart rk64-firewall.service');
    // Had sshd been restarted with the firewall, it would take a moment to answer again: wait for
    // it, so the comparison below is what fails.
    for (let i = 0; i < 20 && (await gateway.ssh('true', { timeoutMs: 30_000 })).code !== 0; i++)
      await sleep(3000);
    expect(
      (await gateway.sshOk('systemctl show -p Result --value rk64-firewall.service')).stdout.trim(),
    ).toBe('success');
    expect(await invocations()).toEqual(before);
    await gateway.sshOk('nft list table inet rk64 >/dev/null');
  });

  it('rk64-firewall-check.timer is armed, and its service puts back a table that has gone and fails loudly', async () => {
    expect(
      (await gateway.sshOk('systemctl show -p ActiveState rk64-firewall-check.timer')).stdout.trim(),
    ).toBe('ActiveState=active');
    // The timer stops meanwhile, so its own run cannot put the table back before the one started here.
    await gateway.sshOk('systemctl stop rk64-firewall-check.timer');
    try {
      await gateway.sshOk('nft delete table inet rk64');
      const check = await gateway.ssh('systemctl start rk64-firewall-check.service');
      expect(check.code).not.toBe(0);
      await gateway.sshOk('nft list table inet rk64 >/dev/null');
      const journal = (await gateway.sshOk('journalctl -b -u rk64-firewall-check.service --no-pager -o cat'))
        .stdout;
      expect(journal).toContain('table inet rk64 was missing; re-applied it');
    } finally {
      await gateway.ssh('systemctl start rk64-firewall-check.timer');
    }
  });

  it('a boot whose ruleset cannot load (nf_tables refused by the kernel): no SSH on the LAN or the WAN, no DHCP on the LAN, and the serial console says why', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'rk64-gw-fw-'));
    try {
      // The kernel refuses the nf_tables module (module_blacklist=), so every nft transaction fails:
      // the shipped image and ruleset, with a kernel that cannot load them. Set through the boot
      // slot's kernel-params.txt, as the image build writes it.
      const disk = gateway.state.disk;
      await gateway.sshOk('sync');
      await gateway.stop();
      const params = await readBootFile(disk, 'boot-a', 'kernel-params.txt');
      expect(params).toMatch(/^rk64_kernel_params=/m);
      await setBootFile(
        disk,
        'boot-a',
        'kernel-params.txt',
        (params ?? '').replace(/^(rk64_kernel_params=.*)$/m, '$1 module_blacklist=nf_tables'),
        dir,
      );
      // Returns once the host keys are on the serial console, printed after sshd's start was tried.
      const up = await runOk(
        'bash',
        [gatewayCommand, 'up', '--name', gateway.name, '--json', '--isolated', '--no-wait-ssh'],
        { timeoutMs: 900_000 },
      );
      const state = JSON.parse(up.stdout) as GatewayState;

      const [lanSsh, wanSsh, lease] = await Promise.all([
        sshBanner('172.20.30.1', 22, state.netns),
        sshBanner('127.0.0.1', state.wanSshPort),
        dhcpLease(state, 20),
      ]);
      const log = withoutEscapes(await readFile(state.serialLog, 'utf8'));
      expect(log).toMatch(/rk64: bootargs: .* module_blacklist=nf_tables/);
      expect({ lanSsh, wanSsh, lease }).toEqual({ lanSsh: '', wanSsh: '', lease: null });
      expect(log).toMatch(
        /firewall-apply: FIREWALL NOT LOADED: nft refused the ruleset: .*; no rk64 table is loaded, so sshd and systemd-networkd do not start/,
      );
      // systemd's status line for networkd (its unit name may be shortened, the description stays).
      // sshd starts later, once the serial getty holds the console, and systemd prints no status
      // lines then: the probes above show it is not listening.
      expect(log).toMatch(/Failed to start .*Network Configuration/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
