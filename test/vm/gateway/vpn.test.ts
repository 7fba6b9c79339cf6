// The OpenVPN recovery tunnel on a real test gateway (QEMU), as NOC staff use it: one gateway
// resumed from the booted snapshot for the whole file. Without configuration the server does not
// run and says why; `gateway vpn-setup` (what `up --vpn` does) provisions the bundle made by
// device-scripts/pki/make-vpn; a real openvpn client in a namespace of its own (`gateway vpn-exec`)
// then reaches the gateway only through udp/1194 of its WAN. Through it: `rk64 status`, the
// dashboard in tmux and a signed bundle install work; only tcp/22 of 10.8.0.1 answers; the LAN
// address and LAN clients are not reachable. A revoked client and a client of another CA are
// refused.
import { copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureBuilt } from '../../lib/cli.js';
import { startPane, type TmuxPane } from '../../lib/console-tmux.js';
import { bootedSnapshot, gatewayDown, instanceDir } from '../../lib/e2e-gateway.js';
import { recordMeasurement } from '../../lib/e2e-measure.js';
import { e2eVariants } from '../../lib/e2e-variants.js';
import { repoRoot, run, runOk } from '../../lib/exec.js';
import { buildGateway, startGateway, type Gateway } from '../../lib/gateway.js';
import {
  openTunnel,
  rk64In,
  tunnelKnownHosts,
  VPN_GATEWAY_ADDRESS,
  vpnClientProfile,
  vpnExec,
  vpnRevoke,
  vpnSetup,
  type Tunnel,
  type VpnState,
} from '../../lib/vpn.js';
import type { GatewayStatus } from '../../../src/core/status/schema.js';

/** The one login the tests use on the gateway (first-contact, #14, makes it `operator`). */
const LOGIN_USER = 'operator';
const TITLE = 'recovery VPN';
const makeVpn = join(repoRoot, 'device-scripts/pki/make-vpn');

let gateway: Gateway;
let vpn: VpnState;
let tunnel: Tunnel | undefined;
let knownHosts = '';
const panes: TmuxPane[] = [];

const target = (): string => `ssh://${LOGIN_USER}@${VPN_GATEWAY_ADDRESS}`;
const cliAuth = (): string[] => ['--identity', gateway.state.identity, '--known-hosts', knownHosts];

/** The last 200 lines of the gateway's openvpn server. */
async function serverLog(): Promise<string> {
  return (await gateway.sshOk('journalctl -u openvpn-recovery.service --no-pager -o cat | tail -n 200'))
    .stdout;
}

async function gatewayStatus(): Promise<GatewayStatus> {
  return JSON.parse((await gateway.sshOk('rk64-status')).stdout) as GatewayStatus;
}

beforeAll(async () => {
  await ensureBuilt();
  const snapshot = await bootedSnapshot(await buildGateway());
  const name = `vpn-${Math.random().toString(36).slice(2, 7)}`;
  const dir = instanceDir(name);
  await mkdir(dir, { recursive: true });
  await runOk('cp', ['--sparse=always', snapshot.disk, join(dir, 'disk.img')]);
  for (const f of ['host_keys', 'id_ed25519', 'id_ed25519.pub'])
    await copyFile(join(snapshot.dir, f), join(dir, f));
  gateway = await startGateway({ name, restore: snapshot.state }).catch(async (error: unknown) => {
    await gatewayDown(name);
    await rm(dir, { recursive: true, force: true });
    throw error;
  });
}, 3_600_000);

afterAll(async () => {
  for (const pane of panes) await pane.stop();
  await tunnel?.close().catch(() => undefined);
  if (gateway) {
    await gateway.stop().catch(() => undefined);
    await rm(instanceDir(gateway.name), { recursive: true, force: true });
  }
}, 120_000);

describe('recovery VPN on the test gateway', () => {
  it('without configuration: not configured, the unit inactive, and the journal says why', async () => {
    const status = await gatewayStatus();
    expect(status.vpn).toEqual({
      state: 'not-configured',
      reason: 'no /data/config/openvpn/server.conf: the recovery VPN is not provisioned',
      clients: [],
    });
    const active = await gateway.ssh('systemctl is-active openvpn-recovery.service');
    expect(active.stdout.trim()).toBe('inactive');
    const journal = await gateway.sshOk('journalctl -b -u openvpn-recovery.service --no-pager -o cat');
    expect(journal.stdout).toContain('ConditionPathExists=/data/config/openvpn/server.conf');
  });

  it('vpn-setup installs the server bundle (rk64-action vpn-config install) and the server runs', async () => {
    vpn = await vpnSetup(gateway.name);
    recordMeasurement(TITLE, 'make keys + install the server bundle over SSH', vpn.vpnSetupMs / 1000);
    expect(vpn.vpnGatewayAddress).toBe('10.8.0.1');
    expect(await readFile(vpn.vpnClientProfile, 'utf8')).toMatch(/^remote 127\.0\.0\.1 \d+$/m);
    const shown = JSON.parse(
      (
        await runOk('bash', [
          join(repoRoot, 'test/gateway/gateway'),
          'status',
          '--name',
          gateway.name,
          '--json',
        ])
      ).stdout,
    ) as VpnState;
    expect(shown.vpnClientProfile).toBe(vpn.vpnClientProfile);
    expect(shown.vpnGatewayAddress).toBe('10.8.0.1');
    const files = await gateway.sshOk(
      'stat -c "%a %n" /data/config/openvpn/* && ip -4 -o addr show dev tun0',
    );
    expect(files.stdout).toMatch(/^600 \/data\/config\/openvpn\/server\.key$/m);
    expect(files.stdout).toContain('inet 10.8.0.1/24');
    expect((await gatewayStatus()).vpn?.state).toBe('running');
    knownHosts = await tunnelKnownHosts(gateway.state);
  });

  describe('through the tunnel', () => {
    beforeAll(async () => {
      tunnel = await openTunnel(gateway.name);
      recordMeasurement(
        TITLE,
        'tunnel up (openvpn client start to Initialization Sequence Completed)',
        tunnel.upMs / 1000,
      );
    }, 600_000);

    it('the namespace reaches nothing but the tunnel: its routes are the /30 to the host and tun0', async () => {
      const routes = (await tunnel!.exec(['ip', '-4', 'route'])).stdout;
      expect(routes).toMatch(/^10\.8\.0\.0\/24 dev tun0/m);
      expect(routes).not.toMatch(/^default/m);
    });

    it('rk64 status --json over the tunnel shows the gateway and this client', async () => {
      const started = Date.now();
      const r = await rk64In(tunnel!, ['status', '--json', target(), ...cliAuth()], repoRoot);
      recordMeasurement(TITLE, 'rk64 status --json over the tunnel', (Date.now() - started) / 1000);
      expect(r.code, r.stderr).toBe(0);
      // rk64 status --json prints one line per target: {"target": …, "status": the document}.
      const { status } = JSON.parse(r.stdout) as { status: GatewayStatus };
      expect(status.vpn?.state).toBe('running');
      expect(status.vpn?.clients?.map((c) => c.commonName)).toContain('noc');
      expect(status.vpn?.clients?.[0]?.realAddress).toMatch(/^\d+\.\d+\.\d+\.\d+:\d+$/);
      const lan = Date.now();
      const overLan = await run(
        process.execPath,
        [
          join(repoRoot, 'bin/rk64.js'),
          'status',
          '--json',
          `gateway-${gateway.name}`,
          '--config',
          gateway.state.config,
          // an --isolated gateway's host keys are in its own known_hosts, not the user's
          '--known-hosts',
          gateway.state.knownHosts,
        ],
        { timeoutMs: 300_000 },
      );
      recordMeasurement(TITLE, 'rk64 status --json over the LAN (same gateway)', (Date.now() - lan) / 1000);
      expect(overLan.code, overLan.stderr).toBe(0);
    });

    it('the dashboard (rk64 tui in tmux) lists the client', async () => {
      const command = [
        'ip netns exec',
        tunnel!.netns,
        process.execPath,
        join(repoRoot, 'bin/rk64.js'),
        'tui',
        target(),
        ...cliAuth(),
        '--timeout',
        '120',
      ].join(' ');
      const pane = await startPane(command, { NO_COLOR: '1', SSH_AUTH_SOCK: '' });
      panes.push(pane);
      await pane.waitFor(/^live$/m, 180_000);
      await pane.waitFor(/vpn +running, 1 client/, 60_000);
      await pane.waitFor(/noc from [\d.]+:\d+ since/, 10_000);
    });

    it('only tcp/22 of 10.8.0.1 answers; DNS, NTP, 443 and the rest are dropped', async () => {
      const r = await tunnel!.exec([
        'python3',
        probeScript,
        VPN_GATEWAY_ADDRESS,
        'tcp:22',
        'tcp:53',
        'tcp:80',
        'tcp:443',
        'tcp:1194',
        'tcp:8080',
        'udp:53',
        'udp:123',
        'udp:1194',
        'udp:67',
      ]);
      expect(r.code, r.stderr).toBe(0);
      expect(JSON.parse(r.stdout)).toEqual({
        'tcp:22': 'ssh',
        'tcp:53': 'dropped',
        'tcp:80': 'dropped',
        'tcp:443': 'dropped',
        'tcp:1194': 'dropped',
        'tcp:8080': 'dropped',
        'udp:53': 'dropped',
        'udp:123': 'dropped',
        'udp:1194': 'dropped',
        'udp:67': 'dropped',
      });
    });

    it('the LAN address 172.20.30.1 and a LAN client are not reachable through the tunnel', async () => {
      // Route the LAN into the tunnel on the client side, as a NOC laptop could: the gateway
      // must still refuse it.
      await tunnel!.exec(['ip', 'route', 'add', '172.20.30.0/24', 'dev', 'tun0']);
      const lanNs = gateway.state.netns;
      await runOk('ip', ['netns', 'exec', lanNs, 'nft', '-f', '-'], {
        // nft needs a `;` or a newline after the last statement of a chain
        input:
          'table ip vpnprobe {\n  chain input {\n    type filter hook prerouting priority raw;\n' +
          '    ip saddr 10.8.0.0/24 counter\n  }\n}\n',
      });
      const r = await tunnel!.exec(['python3', probeScript, '172.20.30.1', 'tcp:22', 'tcp:53', 'udp:53']);
      expect(JSON.parse(r.stdout)).toEqual({ 'tcp:22': 'dropped', 'tcp:53': 'dropped', 'udp:53': 'dropped' });
      const lanClient = await tunnel!.exec(['python3', probeScript, '172.20.30.2', 'tcp:22', 'udp:40000']);
      expect(JSON.parse(lanClient.stdout)).toEqual({ 'tcp:22': 'dropped', 'udp:40000': 'dropped' });
      const counted = await runOk('ip', ['netns', 'exec', lanNs, 'nft', 'list', 'table', 'ip', 'vpnprobe']);
      expect(counted.stdout).toMatch(/counter packets 0 bytes 0/);
      const forward = await gateway.sshOk('sysctl -n net.ipv4.ip_forward');
      expect(forward.stdout.trim()).toBe('0');
    });

    it('installs a signed bundle over the tunnel (rk64 action install)', async () => {
      const variants = await e2eVariants();
      const bundle = variants.bundles.tiny;
      const started = Date.now();
      const r = await rk64In(tunnel!, ['action', target(), 'install', bundle.path, ...cliAuth()], repoRoot);
      recordMeasurement(
        TITLE,
        `install of the ${Math.round(bundle.size / 1024)} KiB bundle over the tunnel`,
        (Date.now() - started) / 1000,
      );
      expect(r.code, `${r.stdout}\n${r.stderr}`).toBe(0);
      const status = await gatewayStatus();
      expect(status.rauc?.slots.find((s) => s.bootname === 'B')?.bundleVersion).toBe(bundle.version);
    }, 1_800_000);

    it('closing vpn-exec removes its namespace', async () => {
      const netns = tunnel!.netns;
      await tunnel!.close();
      tunnel = undefined;
      const list = await runOk('ip', ['netns', 'list']);
      expect(list.stdout).not.toContain(netns);
    });
  });

  it('a client of another CA (with the tls-crypt key, trusting the gateway CA) is refused', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'rk64-other-ca-'));
    try {
      await runOk('bash', [makeVpn, 'init', '--dir', join(dir, 'ca'), '--name', 'someone else']);
      // The other CA's client knows the gateway's tls-crypt key: only the certificate check can refuse it.
      const pki = join(gateway.state.disk, '..', 'vpn', 'server');
      await copyFile(join(pki, 'tls-crypt.key'), join(dir, 'ca', 'tls-crypt.key'));
      const profile = join(dir, 'mallory.ovpn');
      const mallory = [
        'client',
        '--dir',
        join(dir, 'ca'),
        '--user',
        'mallory',
        '--remote',
        '127.0.0.1',
        '--out',
        profile,
      ];
      await runOk('bash', [makeVpn, ...mallory]);
      // The gateway's CA certificate is public: the profile trusts it, so only the gateway's check
      // of mallory's certificate can refuse the connection.
      await copyFile(join(pki, 'ca.crt'), join(dir, 'ca', 'ca.crt'));
      await runOk('bash', [makeVpn, ...mallory]);
      const r = await vpnExec(gateway.name, ['true'], { profile });
      expect(r.code, r.stderr).toBe(3);
      expect(await serverLog()).toMatch(
        /VERIFY ERROR: depth=0, error=unable to get local issuer certificate: .*CN=mallory/,
      );
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }, 600_000);

  it('a revoked client is refused, without restarting the server', async () => {
    const user = `revoked-${Math.random().toString(36).slice(2, 7)}`;
    const dir = await mkdtemp(join(tmpdir(), 'rk64-revoked-'));
    try {
      // The profile stays on the NOC laptop after the revocation: the same certificate tries again.
      const profile = join(dir, `${user}.ovpn`);
      await vpnClientProfile(user, vpn.vpnPort, profile);
      const before = await vpnExec(gateway.name, ['true'], { profile });
      if (before.code !== 0) {
        expect.fail(`${before.stderr}\nthe gateway's openvpn said:\n${await serverLog()}`);
      }
      const pid = (
        await gateway.sshOk('systemctl show -p MainPID --value openvpn-recovery.service')
      ).stdout.trim();
      await vpnRevoke(gateway.name, user);
      const after = await vpnExec(gateway.name, ['true'], { profile });
      expect(after.code, after.stderr).toBe(3);
      expect(await serverLog()).toMatch(
        new RegExp(`VERIFY ERROR: depth=0, error=certificate revoked: CN=${user}`),
      );
      expect(
        (await gateway.sshOk('systemctl show -p MainPID --value openvpn-recovery.service')).stdout.trim(),
      ).toBe(pid);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }, 900_000);
});

/**
 * Probes ports from inside the namespace: tcp `ssh` (sshd's banner), `refused` (RST: the packet
 * reached the gateway's stack), `dropped` (no answer within 5 s: the firewall); udp `answered`,
 * `refused` (ICMP port unreachable) or `dropped`; anything else (no route, …) as `error: …`, so a
 * probe that never left the namespace does not pass for one the gateway dropped.
 */
const probeScript = join(tmpdir(), `rk64-vpn-probe-${process.pid}.py`);
await writeFile(
  probeScript,
  `import json, socket, sys
host = sys.argv[1]
out = {}
for spec in sys.argv[2:]:
    proto, port = spec.split(':')
    port = int(port)
    if proto == 'tcp':
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.settimeout(5)
        try:
            s.connect((host, port))
            s.settimeout(20)
            out[spec] = 'ssh' if s.recv(4).startswith(b'SSH-') else 'open'
        except ConnectionRefusedError:
            out[spec] = 'refused'
        except socket.timeout:
            out[spec] = 'dropped'
        except OSError as e:
            out[spec] = 'error: ' + str(e)
    else:
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.settimeout(5)
        s.connect((host, port))
        payload = b'\\x12\\x34\\x01\\x00\\x00\\x01\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x01\\x00\\x01' if port == 53 else b'\\x1b' + b'\\x00' * 47
        try:
            s.send(payload)
            s.recv(512)
            out[spec] = 'answered'
        except ConnectionRefusedError:
            out[spec] = 'refused'
        except socket.timeout:
            out[spec] = 'dropped'
        except OSError as e:
            out[spec] = 'error: ' + str(e)
    s.close()
print(json.dumps(out))
`,
);
