// The shipped nftables ruleset, loaded by the real firewall-apply into a gateway namespace with
// eth0 (WAN), eth1 (LAN) and tun0 (VPN; a veth named tun0: the ruleset matches interface names, so
// a veth stands in for the OpenVPN tun device). Every probed port has a listener that answers, so a
// timeout means the packet was dropped, not that nothing listened.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NetnsLab } from '../../lib/netns.js';
import { deviceScripts, rootfsBin } from '../../lib/services-paths.js';

type Proto = 'tcp' | 'udp';
type From = 'wan' | 'lan' | 'vpn';
interface Expectation {
  from: From;
  proto: Proto;
  port: number;
  open: boolean;
  /** Gateway address probed; default: the gateway's address on the prober's side. */
  to?: string;
}

const GW = { wan: '192.0.2.1', lan: '172.20.30.1', vpn: '10.8.0.1' } as const;

// The one table of expectations (issue 4, "Firewall").
const EXPECTATIONS: Expectation[] = [
  { from: 'wan', proto: 'tcp', port: 443, open: true },
  { from: 'wan', proto: 'udp', port: 1194, open: true },
  { from: 'wan', proto: 'tcp', port: 22, open: false },
  { from: 'wan', proto: 'tcp', port: 80, open: false },
  { from: 'wan', proto: 'udp', port: 123, open: false },
  { from: 'wan', proto: 'udp', port: 67, open: false },
  { from: 'wan', proto: 'udp', port: 53, open: false },
  { from: 'wan', proto: 'tcp', port: 22, open: false, to: GW.lan },
  { from: 'wan', proto: 'udp', port: 123, open: false, to: GW.lan },
  { from: 'lan', proto: 'tcp', port: 22, open: true },
  { from: 'lan', proto: 'udp', port: 67, open: true },
  { from: 'lan', proto: 'udp', port: 68, open: true },
  { from: 'lan', proto: 'udp', port: 123, open: true },
  { from: 'lan', proto: 'tcp', port: 443, open: false },
  { from: 'lan', proto: 'udp', port: 1194, open: false },
  { from: 'lan', proto: 'udp', port: 53, open: false },
  { from: 'lan', proto: 'tcp', port: 80, open: false },
  { from: 'vpn', proto: 'tcp', port: 22, open: true },
  { from: 'vpn', proto: 'tcp', port: 443, open: false },
  { from: 'vpn', proto: 'udp', port: 123, open: false },
  { from: 'vpn', proto: 'udp', port: 1194, open: false },
];

const lab = new NetnsLab();
const ns = { gw: '', wan: '', lan: '', vpn: '' };
let dir = '';
let env: NodeJS.ProcessEnv = {};

const label = (e: Expectation) => `${e.from} -> ${e.proto}/${e.port} on ${e.to ?? GW[e.from]}`;

// A probe without an answer is tried again before it counts as dropped: on a loaded machine an
// answer can miss the probe's 2.5 s (seen with an image build beside the suite). A retry can only
// turn "no answer" into an answer that really came back, so it hides no open port.
const PROBE_TRIES = 3;

async function probeAnswered(e: Expectation): Promise<boolean> {
  for (let i = 0; i < PROBE_TRIES; i++)
    if (await lab.probe(ns[e.from], e.proto, e.to ?? GW[e.from], e.port)) return true;
  return false;
}

// Probes of the same port run one after another (a forking UDP responder may hand a second
// datagram to the child answering the first); different ports are probed in parallel.
async function probeAll(list: Expectation[]): Promise<Record<string, boolean>> {
  const byPort = new Map<string, Expectation[]>();
  for (const e of list)
    byPort.set(`${e.proto}/${e.port}`, [...(byPort.get(`${e.proto}/${e.port}`) ?? []), e]);
  const results: Record<string, boolean> = {};
  await Promise.all(
    [...byPort.values()].map(async (group) => {
      for (const e of group)
        results[label(e)] = e.open
          ? await probeAnswered(e)
          : await lab.probe(ns[e.from], e.proto, e.to ?? GW[e.from], e.port);
    }),
  );
  return results;
}

async function applyFirewall() {
  return lab.exec(ns.gw, rootfsBin('firewall-apply'), [], { env });
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'rk64-svc-fw-'));
  env = {
    ...process.env,
    RK64_DATA: join(dir, 'data'),
    RK64_FIREWALL_RULES: `${deviceScripts}/firewall/rk64.nft`,
  };
  ns.gw = await lab.ns('gw');
  ns.wan = await lab.ns('wan');
  ns.lan = await lab.ns('lan');
  ns.vpn = await lab.ns('vpn');
  await lab.link(
    { ns: ns.gw, name: 'eth0', addr: `${GW.wan}/24` },
    { ns: ns.wan, name: 'w0', addr: '192.0.2.2/24' },
  );
  await lab.link(
    { ns: ns.gw, name: 'eth1', addr: `${GW.lan}/24` },
    { ns: ns.lan, name: 'l0', addr: '172.20.30.50/24' },
  );
  await lab.link(
    { ns: ns.gw, name: 'tun0', addr: `${GW.vpn}/24` },
    { ns: ns.vpn, name: 'v0', addr: '10.8.0.2/24' },
  );
  await lab.execOk(ns.wan, 'ip', ['route', 'add', '172.20.30.0/24', 'via', GW.wan]);
  await lab.execOk(ns.lan, 'ip', ['route', 'add', 'default', 'via', GW.lan]);
  const tcp = [...new Set(EXPECTATIONS.filter((e) => e.proto === 'tcp').map((e) => e.port))];
  const udp = [...new Set(EXPECTATIONS.filter((e) => e.proto === 'udp').map((e) => e.port))];
  await lab.responder(ns.gw, Object.values(GW), tcp, udp);
  await lab.responder(ns.wan, ['192.0.2.2'], [8080], []); // a WAN host, for forwarding and outbound probes
});

afterAll(async () => {
  await lab.destroy();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('firewall (shipped ruleset, real nft, namespaces)', () => {
  it('control: without the ruleset every probe is answered, so listeners are up', async () => {
    const results = await probeAll(EXPECTATIONS.map((e) => ({ ...e, open: true })));
    expect(Object.entries(results).filter(([, ok]) => !ok)).toEqual([]);
  });

  it('control: with forwarding on and no ruleset, LAN reaches a WAN host', async () => {
    await lab.execOk(ns.gw, 'sysctl', ['-qw', 'net.ipv4.ip_forward=1']);
    expect(await lab.probe(ns.lan, 'tcp', '192.0.2.2', 8080)).toBe(true);
  });

  it('firewall-apply loads table inet rk64 without the SSH-on-WAN rule', async () => {
    const r = await applyFirewall();
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain('SSH on WAN is closed');
    const listed = await lab.execOk(ns.gw, 'nft', ['list', 'chain', 'inet', 'rk64', 'input_wan']);
    expect(listed.stdout).not.toContain('rk64-ssh-wan');
  });

  it('every port behaves as the table of expectations says', async () => {
    const results = await probeAll(EXPECTATIONS);
    expect(results).toEqual(Object.fromEntries(EXPECTATIONS.map((e) => [label(e), e.open])));
  });

  it('forwarding LAN -> WAN is dropped even with ip_forward=1', async () => {
    expect(await lab.probe(ns.lan, 'tcp', '192.0.2.2', 8080)).toBe(false);
  });

  it('the gateway itself still reaches the WAN (replies come back as established)', async () => {
    expect(await lab.probe(ns.gw, 'tcp', '192.0.2.2', 8080)).toBe(true);
  });

  it('SSH on WAN opens while the flag exists and closes when it goes', async () => {
    const flagDir = join(dir, 'data', 'config');
    const flag = join(flagDir, 'ssh-wan-enabled');
    await lab.execOk(ns.gw, 'mkdir', ['-p', flagDir]);
    writeFileSync(flag, '');
    let r = await applyFirewall();
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain('OPEN');
    const listed = await lab.execOk(ns.gw, 'nft', ['list', 'chain', 'inet', 'rk64', 'input_wan']);
    expect(listed.stdout).toMatch(/tcp dport 22 accept comment "rk64-ssh-wan"/);
    expect(await lab.probe(ns.wan, 'tcp', GW.wan, 22)).toBe(true);
    expect(await lab.probe(ns.lan, 'tcp', GW.lan, 443)).toBe(false);

    rmSync(flag);
    r = await applyFirewall();
    expect(r.code, r.stderr).toBe(0);
    expect(await lab.probe(ns.wan, 'tcp', GW.wan, 22)).toBe(false);
    const after = await lab.execOk(ns.gw, 'nft', ['list', 'ruleset']);
    expect(after.stdout).not.toContain('rk64-ssh-wan');
    // Reloading replaces the table: exactly one inet rk64 table, one input chain.
    expect(after.stdout.match(/table inet rk64/g)).toHaveLength(1);
  });

  it('--check fails without table inet rk64 (what sshd and networkd run before starting)', async () => {
    let r = await lab.exec(ns.gw, rootfsBin('firewall-apply'), ['--check'], { env });
    expect(r.code, r.stderr).toBe(0);
    await lab.execOk(ns.gw, 'nft', ['delete', 'table', 'inet', 'rk64']);
    r = await lab.exec(ns.gw, rootfsBin('firewall-apply'), ['--check'], { env });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('table inet rk64 is not loaded: refusing to go on without the firewall');
  });

  it('--ensure (the periodic check) re-applies a missing table and reports it', async () => {
    expect(await lab.probe(ns.wan, 'tcp', GW.wan, 80)).toBe(true); // no table: open
    let r = await lab.exec(ns.gw, rootfsBin('firewall-apply'), ['--ensure'], { env });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('table inet rk64 was missing; re-applied it');
    expect(await lab.probe(ns.wan, 'tcp', GW.wan, 80)).toBe(false);
    expect(await lab.probe(ns.wan, 'tcp', GW.wan, 443)).toBe(true);
    r = await lab.exec(ns.gw, rootfsBin('firewall-apply'), ['--ensure'], { env });
    expect(r.code, r.stderr).toBe(0);
  });

  it('a broken ruleset is refused and the loaded one stays', async () => {
    const broken = join(dir, 'broken.nft');
    writeFileSync(
      broken,
      'table inet rk64\ndelete table inet rk64\ntable inet rk64 { chain input { nonsense } }\n',
    );
    const r = await lab.exec(ns.gw, rootfsBin('firewall-apply'), [], {
      env: { ...env, RK64_FIREWALL_RULES: broken },
    });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/nft refused the ruleset: .*; the previous rules stay loaded$/m);
    expect(await lab.probe(ns.wan, 'tcp', GW.wan, 443)).toBe(true);
    expect(await lab.probe(ns.wan, 'tcp', GW.wan, 80)).toBe(false);
  });

  it('a ruleset that fails to load with no table in place (a boot): the error says sshd and networkd stay down, on stderr and on the console', async () => {
    const broken = join(dir, 'broken.nft');
    const consoleFile = join(dir, 'console');
    writeFileSync(broken, 'table inet rk64 { chain input { nonsense } }\n');
    writeFileSync(consoleFile, '');
    await lab.execOk(ns.gw, 'nft', ['delete', 'table', 'inet', 'rk64']);
    const r = await lab.exec(ns.gw, rootfsBin('firewall-apply'), [], {
      env: { ...env, RK64_FIREWALL_RULES: broken, RK64_FIREWALL_CONSOLE: consoleFile },
    });
    expect(r.code).toBe(1);
    const why =
      /nft refused the ruleset: .*; no rk64 table is loaded, so sshd and systemd-networkd do not start/;
    expect(r.stderr).toMatch(why);
    expect(readFileSync(consoleFile, 'utf8')).toMatch(
      new RegExp(`^firewall-apply: FIREWALL NOT LOADED: ${why.source}.*\\n$`),
    );
    // A missing ruleset file is the same failure.
    const missing = await lab.exec(ns.gw, rootfsBin('firewall-apply'), [], {
      env: { ...env, RK64_FIREWALL_RULES: join(dir, 'no-such.nft'), RK64_FIREWALL_CONSOLE: consoleFile },
    });
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/no-such\.nft is missing .*; no rk64 table is loaded/);
    // A successful load writes nothing to the console (it also carries the serial transport).
    writeFileSync(consoleFile, '');
    const ok = await lab.exec(ns.gw, rootfsBin('firewall-apply'), [], {
      env: { ...env, RK64_FIREWALL_CONSOLE: consoleFile },
    });
    expect(ok.code, ok.stderr).toBe(0);
    expect(readFileSync(consoleFile, 'utf8')).toBe('');
  });
});
