// The gateway's LAN side with the real daemons in network namespaces: the shipped dnsmasq and
// chrony configurations serve the LAN and nobody else, and os-verification (against a real rauc
// service) commits the slot only after a sustained pass of every check.
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Daemon } from '../../lib/netns.js';
import { NetnsLab, waitFor } from '../../lib/netns.js';
import type { RaucEnv } from '../../lib/rauc-env.js';
import { startRaucEnv } from '../../lib/rauc-env.js';
import { deviceScripts, rootfsBin } from '../../lib/services-paths.js';
import { run } from '../../lib/exec.js';

const lab = new NetnsLab();
const ns = { gw: '', lan: '', wan: '' };
let dir = '';
let dnsmasq: Daemon;
let chronyd: Daemon;
let rauc: RaucEnv;

/** The shipped dnsmasq.conf; only the lease file moves into the test's directory. */
function dnsmasqConf(): string {
  const shipped = readFileSync(`${deviceScripts}/lan/dnsmasq.conf`, 'utf8');
  expect(shipped).toMatch(/^dhcp-leasefile=\/var\/lib\/dnsmasq\/dnsmasq\.leases$/m);
  return shipped.replace(/^dhcp-leasefile=.*$/m, `dhcp-leasefile=${join(dir, 'dnsmasq.leases')}`);
}

/**
 * The shipped chrony.conf with the test's paths; the WAN `pool`/`sourcedir` lines are dropped so
 * nothing ever leaves the namespaces (the server side, `allow` and `local`, stays as shipped).
 */
function chronyConf(): string {
  const shipped = readFileSync(`${deviceScripts}/lan/chrony.conf`, 'utf8');
  return (
    shipped
      .split('\n')
      .filter((l) => !/^(pool|server|sourcedir)\s/.test(l))
      .map((l) => l.replace(/^driftfile .*/, `driftfile ${join(dir, 'chrony.drift')}`))
      .join('\n') +
    `\npidfile ${join(dir, 'chronyd.pid')}\ncmdport 0\nbindcmdaddress ${join(dir, 'chronyd.sock')}\n`
  );
}

function startDnsmasq(): Daemon {
  return lab.daemon(ns.gw, 'dnsmasq', 'dnsmasq', [
    '--keep-in-foreground',
    `--conf-file=${join(dir, 'dnsmasq.conf')}`,
    `--pid-file=${join(dir, 'dnsmasq.pid')}`,
    '--user=root',
    '--log-facility=-',
  ]);
}

/** One DHCP exchange with the real dhclient; returns the options it was given, or null. */
async function dhcp(client: string, iface: string): Promise<Record<string, string> | null> {
  const work = mkdtempSync(join(dir, `dhclient-${iface}-`));
  const out = join(work, 'lease.env');
  const script = join(work, 'script');
  writeFileSync(
    script,
    `#!/bin/sh\ncase "$reason" in BOUND|RENEW|REBOOT) env | grep '^new_' > ${out};; esac\nexit 0\n`,
  );
  chmodSync(script, 0o755);
  writeFileSync(
    join(work, 'dhclient.conf'),
    'timeout 6;\nretry 1;\ninitial-interval 1;\nrequest subnet-mask, routers, ntp-servers;\n',
  );
  const pidFile = join(work, 'pid');
  const r = await lab.exec(
    client,
    'dhclient',
    [
      '-4',
      '-1',
      '-v',
      '-cf',
      join(work, 'dhclient.conf'),
      '-sf',
      script,
      '-lf',
      join(work, 'leases'),
      '-pf',
      pidFile,
      iface,
    ],
    { timeoutMs: 30_000 },
  );
  if (existsSync(pidFile)) await run('kill', [readFileSync(pidFile, 'utf8').trim()]);
  if (r.code !== 0 || !existsSync(out)) return null;
  return Object.fromEntries(
    readFileSync(out, 'utf8')
      .trim()
      .split('\n')
      .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1).replace(/^'|'$/g, '')]),
  );
}

/** One NTP query with chronyd -Q (never sets the clock); true when the server answered. */
async function ntpAnswers(client: string, server: string): Promise<boolean> {
  const r = await lab.exec(
    client,
    'chronyd',
    ['-Q', '-t', '4', '-u', 'root', `server ${server} iburst maxsamples 1`],
    {
      timeoutMs: 15_000,
    },
  );
  return r.code === 0 && /System clock wrong by/.test(r.stderr + r.stdout);
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'rk64-svc-lan-'));
  ns.gw = await lab.ns('gw');
  ns.lan = await lab.ns('lan');
  ns.wan = await lab.ns('wan');
  await lab.link(
    { ns: ns.gw, name: 'eth0', addr: '192.0.2.1/24' },
    { ns: ns.wan, name: 'w0', addr: '192.0.2.2/24' },
  );
  await lab.link({ ns: ns.gw, name: 'eth1', addr: '172.20.30.1/24' }, { ns: ns.lan, name: 'l0' });
  writeFileSync(join(dir, 'dnsmasq.conf'), dnsmasqConf());
  writeFileSync(join(dir, 'chrony.conf'), chronyConf());
  dnsmasq = startDnsmasq();
  chronyd = lab.daemon(ns.gw, 'chronyd', 'chronyd', [
    '-x',
    '-d',
    '-u',
    'root',
    '-f',
    join(dir, 'chrony.conf'),
  ]);
  rauc = await startRaucEnv();
  expect(await waitFor(() => dnsmasq.output().includes('DHCP, IP range'), 10_000)).toBe(true);
});

afterAll(async () => {
  await lab.destroy();
  await rauc?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('dnsmasq (shipped config)', () => {
  it('gives a LAN client an address in the pool, router and NTP server 172.20.30.1', async () => {
    const lease = await dhcp(ns.lan, 'l0');
    expect(lease, dnsmasq.output()).not.toBeNull();
    const ip = lease?.new_ip_address ?? '';
    const last = Number(ip.split('.')[3]);
    expect(ip.startsWith('172.20.30.')).toBe(true);
    expect(last).toBeGreaterThanOrEqual(10);
    expect(last).toBeLessThanOrEqual(254);
    expect(lease?.new_subnet_mask).toBe('255.255.255.0');
    expect(lease?.new_routers).toBe('172.20.30.1');
    expect(lease?.new_ntp_servers).toBe('172.20.30.1');
    // The lease is recorded where rk64-status reads it (path rewritten for the test only).
    expect(readFileSync(join(dir, 'dnsmasq.leases'), 'utf8')).toContain(ip);
  });

  it('gives a WAN client nothing', async () => {
    expect(await dhcp(ns.wan, 'w0')).toBeNull();
    // Not even considered: dnsmasq never handles a request arriving on eth0 (it would log
    // "no address range available for DHCP request via eth0" if it listened there).
    expect(dnsmasq.output()).toMatch(/DHCPACK\(eth1\)/);
    expect(dnsmasq.output()).not.toMatch(/via eth0|\(eth0\)/);
    expect(readFileSync(join(dir, 'dnsmasq.leases'), 'utf8')).not.toMatch(/192\.0\.2\./);
  });
});

describe('chrony (shipped config)', () => {
  it('answers a LAN client', async () => {
    await lab.execOk(ns.lan, 'ip', ['addr', 'add', '172.20.30.77/24', 'dev', 'l0']);
    expect(await ntpAnswers(ns.lan, '172.20.30.1')).toBe(true);
  });

  it('does not answer a WAN client (no firewall loaded: chrony itself refuses)', async () => {
    expect(await ntpAnswers(ns.wan, '192.0.2.1')).toBe(false);
  });

  it('still answers the LAN with the shipped firewall loaded', async () => {
    const r = await lab.exec(ns.gw, rootfsBin('firewall-apply'), [], {
      env: {
        ...process.env,
        RK64_DATA: join(dir, 'data'),
        RK64_FIREWALL_RULES: `${deviceScripts}/firewall/rk64.nft`,
      },
    });
    expect(r.code, r.stderr).toBe(0);
    expect(await ntpAnswers(ns.lan, '172.20.30.1')).toBe(true);
  });
});

describe('os-verification (real daemons, real rauc)', () => {
  const verifyEnv = (extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv => ({
    ...rauc.env,
    RK64_VERIFY_INTERVAL: '1',
    RK64_VERIFY_WINDOW: '3',
    RK64_CHECK_DNSMASQ: `kill -0 ${dnsmasq.child.pid ?? 0}`,
    RK64_CHECK_CHRONYD: `kill -0 ${chronyd.child.pid ?? 0}`,
    RK64_REBOOT_CMD: `touch ${rebootMarker()}`,
    ...extra,
  });
  // Where the stand-in reboot command leaves its mark: a failed check must reboot, a pass must not.
  const rebootMarker = () => join(rauc.dir, 'rebooted-by-os-verification');
  const verify = (extra?: NodeJS.ProcessEnv) =>
    lab.exec(ns.gw, rootfsBin('os-verification'), [], { env: verifyEnv(extra), timeoutMs: 60_000 });
  const health = () =>
    JSON.parse(readFileSync(join(rauc.dir, 'run', 'health.json'), 'utf8')) as {
      state: string;
      detail: string;
    };
  const commitFile = () => join(rauc.dir, 'data', 'rk64', 'committed');

  it('marks the booted slot good after a sustained pass', async () => {
    expect((await rauc.fwPrintenv()).BOOT_A_LEFT).toBe('2'); // as the boot script left it
    const started = Date.now();
    const r = await verify();
    expect(r.code, r.stderr).toBe(0);
    expect(Date.now() - started).toBeGreaterThanOrEqual(3000); // the whole window
    expect(r.stderr).toMatch(
      /round 1\/4: wan-address ok \(eth0 192\.0\.2\.1\/24\); lan-address ok \(eth1 172\.20\.30\.1\/24\); dnsmasq ok \(dnsmasq running\); chronyd ok \(chronyd running\); firewall ok \(inet rk64 loaded\)/,
    );
    expect(r.stderr).toContain('round 4/4');
    expect((await rauc.fwPrintenv()).BOOT_A_LEFT).toBe('3');
    expect(health().state).toBe('passed');
    expect(readFileSync(commitFile(), 'utf8')).toBe('A factory\n');
    expect(existsSync(rebootMarker())).toBe(false);
  });

  it('exits at once when the booted installation is already committed', async () => {
    await rauc.fwSetenv('BOOT_A_LEFT', '2'); // next boot of the committed slot
    const started = Date.now();
    const r = await verify({ RK64_VERIFY_WINDOW: '30' });
    expect(r.code, r.stderr).toBe(0);
    expect(Date.now() - started).toBeLessThan(15_000); // not the 30 s window
    expect(r.stderr).toContain('already committed');
    expect(r.stderr).not.toContain('round 1/');
    expect(health().state).toBe('skipped');
    expect((await rauc.fwPrintenv()).BOOT_A_LEFT).toBe('3');
  });

  it('fails at once, uncommitted, when the firewall is not loaded', async () => {
    rmSync(commitFile());
    await rauc.fwSetenv('BOOT_A_LEFT', '2');
    await lab.execOk(ns.gw, 'nft', ['delete', 'table', 'inet', 'rk64']);
    try {
      const r = await verify();
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/round 1\/4: .*firewall FAILED \(table inet rk64 not loaded\)/);
      expect((await rauc.fwPrintenv()).BOOT_A_LEFT).toBe('2');
      expect(health().state).toBe('failed');
      expect(existsSync(commitFile())).toBe(false);
      expect(r.stderr).toContain('rebooting: the boot counter decides');
      expect(existsSync(rebootMarker())).toBe(true);
    } finally {
      rmSync(rebootMarker(), { force: true });
      await lab.exec(ns.gw, rootfsBin('firewall-apply'), [], {
        env: {
          ...process.env,
          RK64_DATA: join(dir, 'data'),
          RK64_FIREWALL_RULES: `${deviceScripts}/firewall/rk64.nft`,
        },
      });
    }
  });

  it('does not mark good when dnsmasq dies inside the window', async () => {
    await rauc.fwSetenv('BOOT_A_LEFT', '2');
    const running = verify({ RK64_VERIFY_WINDOW: '8' });
    await new Promise((r) => setTimeout(r, 2500));
    await dnsmasq.stop('SIGKILL');
    const r = await running;
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/round 1\/9: .*dnsmasq ok/);
    expect(r.stderr).toMatch(/round [2-9]\/9: .*dnsmasq FAILED \(dnsmasq not running\)/);
    expect(r.stderr).toContain('health check FAILED, slot A stays uncommitted');
    expect((await rauc.fwPrintenv()).BOOT_A_LEFT).toBe('2');
    expect(health()).toMatchObject({ state: 'failed' });
    expect(health().detail).toContain('dnsmasq');
    expect(existsSync(commitFile())).toBe(false);
    expect(existsSync(rebootMarker())).toBe(true);
    rmSync(rebootMarker(), { force: true });
  });
});

describe('rk64-status (core) reads what the services wrote', () => {
  it('reports the health check, the DHCP lease, SSH-on-WAN and the slots', async () => {
    const r = await lab.exec(ns.gw, rootfsBin('rk64-status'), [], {
      env: {
        ...rauc.env,
        RK64_LEASES_FILE: join(dir, 'dnsmasq.leases'),
        FW_PRINTENV: join(rauc.dir, 'bin', 'fw_printenv'),
        RK64_WAN_NETWORK: join(deviceScripts, 'network/10-rk64-wan.network'),
      },
      timeoutMs: 60_000,
    });
    expect(r.code, r.stderr).toBe(0);
    const status = JSON.parse(r.stdout) as {
      health: { state: string; detail: string | null } | null;
      leases: { ip: string }[] | null;
      sshOnWan: { enabled: boolean; firewallAllows: boolean | null } | null;
      rauc: { bootedSlot: string | null } | null;
      bootState: { attemptsLeft: Record<string, number | null> } | null;
      firstBootCompleted: boolean | null;
    };
    expect(status.health).toMatchObject({ state: 'failed' });
    expect(status.health?.detail).toContain('dnsmasq');
    expect(status.leases?.map((l) => l.ip).some((ip) => ip.startsWith('172.20.30.'))).toBe(true);
    expect(status.sshOnWan).toEqual({
      enabled: false,
      expiresAt: null,
      firewallAllows: false,
      wanInterface: 'eth0',
    });
    expect(status.rauc?.bootedSlot).toBe('A');
    expect(status.bootState?.attemptsLeft.A).toBe(2);
  });
});
