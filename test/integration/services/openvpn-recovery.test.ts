// The recovery VPN on this machine, without QEMU (faster than test/vm/gateway/vpn.test.ts, which
// proves it on the gateway): the shipped openvpn-recovery wrapper runs a real openvpn server in a
// namespace, with keys from device-scripts/pki/make-vpn in a temporary /data/config/openvpn; real
// openvpn clients connect from another namespace. rk64-action vpn-config refuses bad archives
// before it touches the configuration.
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { run, runOk } from '../../lib/exec.js';
import { NetnsLab, waitFor, type Daemon } from '../../lib/netns.js';
import { deviceScripts, rootfsBin } from '../../lib/services-paths.js';

const makeVpn = join(deviceScripts, 'pki/make-vpn');
const SERVER_ADDR = '192.0.2.1';
const VPN_FILES = ['server.conf', 'ca.crt', 'server.crt', 'server.key', 'tls-crypt.key', 'crl.pem'];

const lab = new NetnsLab();
const ns = { gw: '', noc: '' };
let dir = '';
let ca = '';
let config = '';
let runDir = '';
let server: Daemon;

const vpn = (...args: string[]) => runOk('bash', [makeVpn, ...args], { timeoutMs: 60_000 });

/** Debian's libfaketime (package libfaketime, multiarch path). */
function libfaketime(): string {
  const lib = readdirSync('/usr/lib')
    .map((d) => join('/usr/lib', d, 'faketime/libfaketime.so.1'))
    .find((f) => existsSync(f));
  if (lib === undefined)
    throw new Error('libfaketime.so.1 is missing: run scripts/setup (package libfaketime)');
  return lib;
}

/** A real openvpn client in the NOC namespace: resolves to whether the tunnel came up. */
async function connect(profile: string): Promise<{ up: boolean; log: string }> {
  const client = lab.daemon(ns.noc, 'openvpn-client', 'openvpn', [
    '--config',
    profile,
    '--hand-window',
    '8',
    '--connect-retry-max',
    '1',
  ]);
  const up = await waitFor(() => client.output().includes('Initialization Sequence Completed'), 15_000);
  const log = client.output();
  await client.stop();
  return { up, log };
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'rk64-vpn-'));
  ca = join(dir, 'ca');
  config = join(dir, 'data/config');
  runDir = join(dir, 'run');
  await vpn('init', '--dir', ca);
  await vpn('server', '--dir', ca, '--gateway', 'gw1', '--out', join(config, 'openvpn'));
  ns.gw = await lab.ns('gw');
  ns.noc = await lab.ns('noc');
  await lab.link(
    { ns: ns.gw, name: 'eth0', addr: `${SERVER_ADDR}/24` },
    { ns: ns.noc, name: 'v0', addr: '192.0.2.2/24' },
  );
  server = lab.daemon(ns.gw, 'openvpn-recovery', 'bash', [rootfsBin('openvpn-recovery')], {
    ...process.env,
    RK64_CONFIG_DIR: config,
    RK64_VPN_RUN_DIR: runDir,
  });
  expect(
    await waitFor(() => server.output().includes('Initialization Sequence Completed'), 20_000),
    server.output(),
  ).toBe(true);
}, 120_000);

afterAll(async () => {
  await server?.stop();
  await lab.destroy();
  rmSync(dir, { recursive: true, force: true });
});

describe('openvpn-recovery server', () => {
  it('a client of the CA connects, gets 10.8.0.x, and the status file names it', async () => {
    const profile = join(dir, 'alice.ovpn');
    await vpn('client', '--dir', ca, '--user', 'alice', '--remote', SERVER_ADDR, '--out', profile);
    const client = lab.daemon(ns.noc, 'alice', 'openvpn', ['--config', profile]);
    try {
      expect(await waitFor(() => client.output().includes('Initialization Sequence Completed'), 15_000)).toBe(
        true,
      );
      const addr = await lab.execOk(ns.noc, 'ip', ['-4', '-o', 'addr', 'show', 'dev', 'tun0']);
      expect(addr.stdout).toMatch(/inet 10\.8\.0\.\d+\/24/);
      const gwAddr = await lab.execOk(ns.gw, 'ip', ['-4', '-o', 'addr', 'show', 'dev', 'tun0']);
      expect(gwAddr.stdout).toContain('inet 10.8.0.1/24');
      expect(
        await waitFor(
          () => /^CLIENT_LIST\talice\t192\.0\.2\.2:\d+/m.test(readFileSync(join(runDir, 'status'), 'utf8')),
          10_000,
        ),
      ).toBe(true);
    } finally {
      await client.stop();
    }
  });

  it('refuses a client of another CA that knows the tls-crypt key and trusts the real CA', async () => {
    const other = join(dir, 'other');
    await vpn('init', '--dir', other, '--name', 'someone else');
    copyFileSync(join(ca, 'tls-crypt.key'), join(other, 'tls-crypt.key'));
    const profile = join(dir, 'mallory.ovpn');
    await vpn('client', '--dir', other, '--user', 'mallory', '--remote', SERVER_ADDR, '--out', profile);
    // The gateway's CA certificate is public: the profile trusts it, so only the server's check
    // of mallory's certificate can refuse the connection.
    copyFileSync(join(ca, 'ca.crt'), join(other, 'ca.crt'));
    await vpn('client', '--dir', other, '--user', 'mallory', '--remote', SERVER_ADDR, '--out', profile);
    const r = await connect(profile);
    expect(r.up, r.log).toBe(false);
    expect(server.output()).toMatch(
      /VERIFY ERROR: depth=0, error=unable to get local issuer certificate.*CN=mallory/,
    );
  }, 60_000);

  it('refuses a revoked client once the new CRL is in place, without a restart', async () => {
    const profile = join(dir, 'bob.ovpn');
    await vpn('client', '--dir', ca, '--user', 'bob', '--remote', SERVER_ADDR, '--out', profile);
    expect((await connect(profile)).up).toBe(true);
    await vpn('revoke', '--dir', ca, '--user', 'bob');
    copyFileSync(join(ca, 'crl.pem'), join(config, 'openvpn/crl.pem'));
    const r = await connect(profile);
    expect(r.up, r.log).toBe(false);
    expect(server.output()).toMatch(/VERIFY ERROR: depth=0, error=certificate revoked: CN=bob/);
    expect(server.alive()).toBe(true);
  }, 60_000);
});

// A gateway's clock can be behind the NOC's: booted without NTP yet, or (the test gateway) set
// from a one-second RTC. make-vpn backdates what it issues, so a profile and a CRL made a moment
// ago are valid on such a gateway. This server runs 30 minutes in the past (libfaketime).
describe('a gateway whose clock is 30 minutes behind', () => {
  const LATE_ADDR = '198.51.100.1';
  let lateCa = '';
  let lateConfig = '';
  let late: Daemon;

  beforeAll(async () => {
    lateCa = join(dir, 'late-ca');
    lateConfig = join(dir, 'late/config');
    await vpn('init', '--dir', lateCa);
    await vpn('server', '--dir', lateCa, '--gateway', 'gw-late', '--out', join(lateConfig, 'openvpn'));
    const gw = await lab.ns('gwlate');
    await lab.link(
      { ns: gw, name: 'eth0', addr: `${LATE_ADDR}/24` },
      { ns: ns.noc, name: 'v1', addr: '198.51.100.2/24' },
    );
    // libfaketime preloaded rather than its `faketime` wrapper, which forks: stopping the daemon
    // would leave the server running. bash execs openvpn, so the preload reaches it.
    late = lab.daemon(gw, 'openvpn-recovery-late', 'bash', [rootfsBin('openvpn-recovery')], {
      ...process.env,
      LD_PRELOAD: libfaketime(),
      FAKETIME: '-30m',
      RK64_CONFIG_DIR: lateConfig,
      RK64_VPN_RUN_DIR: join(dir, 'late/run'),
    });
    expect(
      await waitFor(() => late.output().includes('Initialization Sequence Completed'), 20_000),
      late.output(),
    ).toBe(true);
  }, 120_000);

  it('accepts a profile issued a moment ago, and refuses it as revoked by a CRL written a moment ago', async () => {
    const profile = join(dir, 'carol.ovpn');
    await vpn('client', '--dir', lateCa, '--user', 'carol', '--remote', LATE_ADDR, '--out', profile);
    const before = await connect(profile);
    expect(before.up, late.output()).toBe(true);
    await vpn('revoke', '--dir', lateCa, '--user', 'carol');
    copyFileSync(join(lateCa, 'crl.pem'), join(lateConfig, 'openvpn/crl.pem'));
    const after = await connect(profile);
    expect(after.up, after.log).toBe(false);
    expect(late.output()).toMatch(/VERIFY ERROR: depth=0, error=certificate revoked: CN=carol/);
  }, 60_000);
});

describe('rk64-action vpn-config install refuses before it replaces anything', () => {
  let state = '';
  let target = '';
  const before = (): string =>
    VPN_FILES.map((f) => readFileSync(join(target, 'openvpn', f), 'utf8')).join('');

  beforeAll(async () => {
    state = join(dir, 'state');
    target = join(dir, 'target');
    mkdirSync(join(state, 'uploads'), { recursive: true });
    await vpn('server', '--dir', ca, '--gateway', 'gw1', '--out', join(target, 'openvpn'));
  });

  async function install(files: Record<string, string>): Promise<{ code: number | null; stderr: string }> {
    const src = mkdtempSync(join(dir, 'archive-'));
    for (const [name, from] of Object.entries(files)) copyFileSync(from, join(src, name));
    const archive = join(state, 'uploads', 'vpn.tar');
    await runOk('tar', ['-C', src, '-cf', archive, ...Object.keys(files)]);
    const r = await run('bash', [rootfsBin('rk64-action'), 'vpn-config', 'install', archive], {
      env: { ...process.env, RK64_CONFIG_DIR: target, RK64_STATE_DIR: state, SYSTEMCTL: '/bin/false' },
    });
    return { code: r.code, stderr: r.stderr };
  }

  const good = (): Record<string, string> =>
    Object.fromEntries(VPN_FILES.map((f) => [f, join(config, 'openvpn', f)]));

  it('an archive with a file it does not know', async () => {
    const was = before();
    writeFileSync(join(dir, 'extra'), 'x');
    const r = await install({ ...good(), 'up.sh': join(dir, 'extra') });
    expect(r.code).toBe(3);
    expect(r.stderr).toContain("the VPN configuration archive holds 'up.sh'");
    expect(before()).toBe(was);
  });

  it('a server certificate of another CA', async () => {
    const was = before();
    await vpn('init', '--dir', join(dir, 'foreign'), '--name', 'foreign');
    await vpn(
      'server',
      '--dir',
      join(dir, 'foreign'),
      '--gateway',
      'gw1',
      '--out',
      join(dir, 'other-bundle'),
    );
    const r = await install({ ...good(), 'server.crt': join(dir, 'other-bundle/server.crt') });
    expect(r.code).toBe(3);
    expect(r.stderr).toContain('server.crt does not verify against ca.crt');
    expect(before()).toBe(was);
  });

  it('a key that is not the certificate’s', async () => {
    const was = before();
    const r = await install({ ...good(), 'server.key': join(dir, 'other-bundle/server.key') });
    expect(r.code).toBe(3);
    expect(r.stderr).toContain('server.key does not belong to server.crt');
    expect(before()).toBe(was);
  });

  it('a CRL alone is replaced without a restart (SYSTEMCTL would fail)', async () => {
    const profile = join(dir, 'carol.ovpn');
    await vpn('client', '--dir', ca, '--user', 'carol', '--remote', SERVER_ADDR, '--out', profile);
    await vpn('revoke', '--dir', ca, '--user', 'carol');
    const r = await install({ ...good(), 'crl.pem': join(ca, 'crl.pem') });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain('only the CRL changed');
    expect(readFileSync(join(target, 'openvpn/crl.pem'), 'utf8')).toBe(
      readFileSync(join(ca, 'crl.pem'), 'utf8'),
    );
  });
});
