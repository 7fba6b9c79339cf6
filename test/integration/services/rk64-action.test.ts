// rk64-action, the device end of the console's actions, against a real rauc service and an HTTPS
// server with a CA the test makes (pinned in update.conf); the firewall actions run in a network
// namespace of their own (eth0 WAN, eth1 LAN, with a client namespace on each) so the host's
// ruleset is never touched.
import {
  existsSync,
  mkdirSync,
  readFileSync,
  readdirSync,
  renameSync,
  copyFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { spawn } from 'node:child_process';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NetnsLab, waitFor } from '../../lib/netns.js';
import type { RaucEnv } from '../../lib/rauc-env.js';
import { devPki, rootfsSlot, startRaucEnv } from '../../lib/rauc-env.js';
import { deviceScripts, rootfsBin } from '../../lib/services-paths.js';
import { run } from '../../lib/exec.js';
import { makeTestCa } from '../../lib/tls.js';

interface ActionLine {
  event: 'progress' | 'result';
  percent?: number;
  ok?: boolean;
  message: string;
}
interface LastAction {
  action: string;
  startedAt: string;
  finishedAt: string | null;
  percent: number;
  message: string;
  ok: boolean | null;
}

let rauc: RaucEnv;
let server: https.Server;
let plain: http.Server;
let plainRequests = 0;
let base = '';
let plainBase = '';
let bundleV2 = '';
let bundleV3 = '';
let bundleOld = '';
let bundleSame = '';
let foreign = '';
const lab = new NetnsLab();
let fwNs = '';
const ns = { wan: '', lan: '' };
const GW = { wan: '192.0.2.1', lan: '172.20.30.1' } as const;

const actionEnv = (): NodeJS.ProcessEnv => ({
  ...rauc.env,
  RK64_DETACH: 'setsid',
  RK64_REBOOT_CMD: `touch ${join(rauc.dir, 'rebooted')}`,
  RK64_FIREWALL_RULES: `${deviceScripts}/firewall/rk64.nft`,
  RK64_RAUC_CONF: join(rauc.dir, 'system.conf'),
  RK64_WAN_NETWORK: `${deviceScripts}/network/10-rk64-wan.network`,
});
const action = (args: string[]) =>
  run(rootfsBin('rk64-action'), args, { env: actionEnv(), timeoutMs: 60_000 });
const uploads = () => join(rauc.dir, 'data', 'rk64', 'uploads');
const downloads = () => join(rauc.dir, 'data', 'rk64', 'downloads');
const lines = (stdout: string) =>
  stdout
    .trim()
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as ActionLine);
const last = () =>
  JSON.parse(readFileSync(join(rauc.dir, 'data', 'rk64', 'last-action.json'), 'utf8')) as LastAction;

/** Put a bundle where the console uploads it: a .part name, renamed when complete. */
function upload(bundle: string): string {
  mkdirSync(uploads(), { recursive: true });
  const target = join(uploads(), bundle.split('/').pop() ?? 'bundle.raucb');
  copyFileSync(bundle, `${target}.part`);
  renameSync(`${target}.part`, target);
  return target;
}

beforeAll(async () => {
  rauc = await startRaucEnv();
  // The running system's version (slot A came from the factory image, not from rauc).
  mkdirSync(join(rauc.dir, 'etc'), { recursive: true });
  writeFileSync(join(rauc.dir, 'etc', 'os-release'), 'ID=debian\nVERSION_ID="12"\nIMAGE_VERSION=1.5.0\n');
  bundleV2 = await rauc.bundle('2.0.0');
  bundleV3 = await rauc.bundle('3.0.0');
  bundleOld = await rauc.bundle('1.0.0');
  bundleSame = await rauc.bundle('1.5.0');
  foreign = await rauc.bundle('9.9.9', { pki: await devPki('foreign') });
  const ca = makeTestCa(rauc.dir, 'update-ca');
  mkdirSync(join(rauc.dir, 'data', 'config'), { recursive: true });
  writeFileSync(join(rauc.dir, 'data', 'config', 'update.conf'), `ca_file=${ca.caFile}\n`);
  plain = http.createServer((_req, res) => {
    plainRequests += 1;
    res.writeHead(200);
    res.end(readFileSync(bundleV3));
  });
  await new Promise<void>((r) => plain.listen(0, '127.0.0.1', r));
  plainBase = `http://127.0.0.1:${(plain.address() as AddressInfo).port}`;
  server = https.createServer({ key: ca.key, cert: ca.cert }, (req, res) => {
    if (req.url === '/rk64-3.0.0.raucb') {
      const data = readFileSync(bundleV3);
      res.writeHead(200, { 'content-length': data.length });
      res.end(data);
    } else {
      res.writeHead(404);
      res.end();
    }
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
  fwNs = await lab.ns('act');
  ns.wan = await lab.ns('wan');
  ns.lan = await lab.ns('lan');
  await lab.link(
    { ns: fwNs, name: 'eth0', addr: `${GW.wan}/24` },
    { ns: ns.wan, name: 'w0', addr: '192.0.2.2/24' },
  );
  await lab.link(
    { ns: fwNs, name: 'eth1', addr: `${GW.lan}/24` },
    { ns: ns.lan, name: 'l0', addr: '172.20.30.50/24' },
  );
});

afterAll(async () => {
  await new Promise((r) => server?.close(r));
  plain?.closeAllConnections();
  await new Promise((r) => plain?.close(r));
  await lab.destroy();
  await rauc?.stop();
});

describe('rk64-action argument checking', () => {
  const usage: string[][] = [
    [],
    ['frobnicate'],
    ['mark-good'],
    ['mark-good', 'A'],
    ['mark-bad', 'booted', 'now'],
    ['ssh-wan', 'maybe'],
    ['install'],
    ['install', '--force'],
    ['install', 'a', 'b'],
    ['reboot', 'now'],
    ['last', '-v'],
    ['ssh-wan', 'on', '--for'],
    ['ssh-wan', 'on', '--for', '0'],
    ['ssh-wan', 'on', '--for', 'soon'],
    ['ssh-wan', 'on', '--for', '8d'],
    ['ssh-wan', 'off', '--for', '5m'],
    ['install', '--allow-downgrade'],
    // Only https is fetched; a scheme in any case is a URL, never a file name (RFC 3986).
    ['install', 'http://127.0.0.1:9/rk64.raucb'],
    ['install', 'FILE:///etc/hostname'],
    ['install', 'gopher://127.0.0.1:9/_x'],
    ['install', 'https://'],
  ];
  for (const args of usage) {
    it(`exits 2 with a usage line for: ${args.join(' ') || '(nothing)'}`, async () => {
      const r = await action(args);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(/^rk64-action: error: .*; usage: rk64-action /);
      expect(r.stdout).toBe('');
    });
  }

  it('exits 4 when not root', async () => {
    const r = await run(
      'setpriv',
      ['--reuid=65534', '--regid=65534', '--clear-groups', rootfsBin('rk64-action'), 'last'],
      {
        env: actionEnv(),
      },
    );
    expect(r.code).toBe(4);
    expect(r.stderr).toContain('must run as root');
  });

  it('exits 3 for a bundle path that does not exist', async () => {
    const r = await action(['install', join(uploads(), 'nope.raucb')]);
    expect(r.code).toBe(3);
    expect(r.stderr).toContain('does not exist');
  });

  it('last prints null before any action', async () => {
    const r = await action(['last']);
    expect(r.code).toBe(0);
    expect(r.stdout.trim()).toBe('null');
  });
});

describe('rk64-action mark-good / mark-bad', () => {
  // RAUC's U-Boot backend calls a slot good when it is in BOOT_ORDER with attempts left; mark-bad
  // takes it out of BOOT_ORDER, and RAUC's own mark-good only restores the attempts.
  const slotB = async () => rootfsSlot(await rauc.raucStatus(), 'B');

  it('mark-bad other, then mark-good other: B is back in BOOT_ORDER after A, good, A still primary', async () => {
    const primaryBefore = (await rauc.raucStatus()).boot_primary;
    let r = await action(['mark-bad', 'other']);
    expect(r.code, r.stderr).toBe(0);
    expect(await rauc.fwPrintenv()).toMatchObject({ BOOT_ORDER: 'A', BOOT_B_LEFT: '0' });
    expect((await slotB()).boot_status).toBe('bad');
    r = await action(['mark-good', 'other']);
    expect(r.code, r.stderr).toBe(0);
    expect(await rauc.fwPrintenv()).toMatchObject({ BOOT_ORDER: 'A B', BOOT_B_LEFT: '3', BOOT_A_LEFT: '2' });
    expect((await slotB()).boot_status).toBe('good');
    expect((await rauc.raucStatus()).boot_primary).toBe(primaryBefore);
  });

  it('mark-good other on a slot already in BOOT_ORDER leaves the order as it is', async () => {
    const r = await action(['mark-good', 'other']);
    expect(r.code, r.stderr).toBe(0);
    expect((await rauc.fwPrintenv()).BOOT_ORDER).toBe('A B');
  });

  it('mark-good other fails with exit 3 and the fix when fw_setenv cannot write BOOT_ORDER', async () => {
    await action(['mark-bad', 'other']);
    const r = await run(rootfsBin('rk64-action'), ['mark-good', 'other'], {
      env: { ...actionEnv(), FW_SETENV: join(rauc.dir, 'bin', 'no-fw_setenv') },
    });
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/could not put it back in BOOT_ORDER \(A\): .*fw_setenv BOOT_ORDER 'A B'/);
    expect(await rauc.fwPrintenv()).toMatchObject({ BOOT_ORDER: 'A', BOOT_B_LEFT: '3' });
    expect((await action(['mark-good', 'other'])).code).toBe(0);
    expect((await rauc.fwPrintenv()).BOOT_ORDER).toBe('A B');
  });

  it('mark-bad booted, then mark-good booted: A is committed and back in BOOT_ORDER after B', async () => {
    let r = await action(['mark-bad', 'booted']);
    expect(r.code, r.stderr).toBe(0);
    expect(await rauc.fwPrintenv()).toMatchObject({ BOOT_ORDER: 'B', BOOT_A_LEFT: '0' });
    r = await action(['mark-good', 'booted']);
    expect(r.code, r.stderr).toBe(0);
    // mark-bad made B the first slot; mark-good puts A back without changing that.
    expect(await rauc.fwPrintenv()).toMatchObject({ BOOT_ORDER: 'B A', BOOT_A_LEFT: '3' });
    expect(rootfsSlot(await rauc.raucStatus(), 'A').boot_status).toBe('good');
    expect(readFileSync(join(rauc.dir, 'data', 'rk64', 'committed'), 'utf8')).toBe('A factory\n');
    await rauc.fwSetenv('BOOT_ORDER', 'A B'); // the state the later tests start from
  });
});

describe('rk64-action ssh-wan (own namespace, real nft)', () => {
  const inNs = (args: string[]) =>
    lab.exec(fwNs, rootfsBin('rk64-action'), args, { env: actionEnv(), timeoutMs: 30_000 });
  const flag = () => join(rauc.dir, 'data', 'config', 'ssh-wan-enabled');

  it('on: creates the flag and loads the SSH-on-WAN rule', async () => {
    const r = await inNs(['ssh-wan', 'on']);
    expect(r.code, r.stderr).toBe(0);
    expect(existsSync(flag())).toBe(true);
    const chain = await lab.execOk(fwNs, 'nft', ['list', 'chain', 'inet', 'rk64', 'input_wan']);
    expect(chain.stdout).toContain('comment "rk64-ssh-wan"');
  });

  it('off: removes the flag and the rule', async () => {
    const r = await inNs(['ssh-wan', 'off']);
    expect(r.code, r.stderr).toBe(0);
    expect(existsSync(flag())).toBe(false);
    const chain = await lab.execOk(fwNs, 'nft', ['list', 'chain', 'inet', 'rk64', 'input_wan']);
    expect(chain.stdout).not.toContain('rk64-ssh-wan');
  });
});

describe('rk64-action install', () => {
  it('installs an uploaded bundle with JSON progress lines and a result; mirrors last-action.json', async () => {
    const path = upload(bundleV2);
    const r = await action(['install', path]);
    expect(r.code, r.stderr).toBe(0);
    const events = lines(r.stdout);
    const progress = events.filter((e) => e.event === 'progress');
    expect(progress.length).toBeGreaterThan(5);
    const percents = progress.map((e) => e.percent ?? -1);
    expect(percents).toEqual([...percents].sort((a, b) => a - b));
    expect(percents.at(-1)).toBe(100);
    expect(events.at(-1)).toMatchObject({ event: 'result', ok: true });
    expect(events.filter((e) => e.event === 'result')).toHaveLength(1);
    expect(rootfsSlot(await rauc.raucStatus(), 'B').slot_status?.bundle?.version).toBe('2.0.0');
    expect(last()).toMatchObject({ action: 'install', ok: true, percent: 100 });
    expect(last().finishedAt).not.toBeNull();
    expect(existsSync(path)).toBe(false); // uploaded bundles are removed after the install
    const printed = await action(['last']);
    expect(JSON.parse(printed.stdout)).toEqual(last());
  });

  it('a worker that fails after RAUC wrote the slot still ends with a result naming the failure, at once', async () => {
    // jq failing only for the result's finish time: `set -e` stops the worker after RAUC's 100%.
    const jq = join(rauc.dir, 'jq-failing-json-str');
    writeFileSync(jq, '#!/bin/bash\nfor a; do [[ $a == \'$s\' ]] && exit 5; done\nexec jq "$@"\n', {
      mode: 0o755,
    });
    // When each event line arrived: the install itself may take long on a loaded machine; what
    // matters is the time from RAUC's 100 % to the result.
    const arrivals: { line: string; at: number }[] = [];
    let partial = '';
    const r = await run(rootfsBin('rk64-action'), ['install', upload(bundleV2)], {
      env: { ...actionEnv(), JQ: jq },
      timeoutMs: 60_000,
      onStdout: (chunk) => {
        const pieces = (partial + chunk).split('\n');
        partial = pieces.pop() ?? '';
        for (const line of pieces) arrivals.push({ line, at: Date.now() });
      },
    });
    expect(r.code, r.stderr).toBe(3);
    const events = lines(r.stdout);
    expect(events.filter((e) => e.event === 'result')).toEqual([
      expect.objectContaining({
        ok: false,
        message: expect.stringMatching(
          /^the install worker stopped \(exit 5\) before its result \(the last command that failed: finished=\$\(json_str/,
        ) as unknown,
      }),
    ]);
    // not the caller's "stopped without a result" fallback, 20 s after the last line
    const full = arrivals.find((a) => a.line.includes('"percent":100'));
    const result = arrivals.find((a) => a.line.includes('"event":"result"'));
    expect(full, r.stdout).toBeDefined();
    expect(result, r.stdout).toBeDefined();
    expect((result?.at ?? Infinity) - (full?.at ?? 0)).toBeLessThan(10_000);
  });

  it("installs from an https URL (scheme in capitals: case-insensitive), downloading into root's downloads/", async () => {
    const r = await action(['install', `${base.replace('https', 'HTTPS')}/rk64-3.0.0.raucb`]);
    expect(r.code, r.stderr).toBe(0);
    const events = lines(r.stdout);
    expect(events[0]?.message).toContain('starting install');
    expect(events.at(-1)).toMatchObject({ event: 'result', ok: true });
    expect(rootfsSlot(await rauc.raucStatus(), 'B').slot_status?.bundle?.version).toBe('3.0.0');
    expect(readdirSync(downloads())).toEqual([]);
    // the operator owns uploads/ (SFTP); root downloads only where the operator cannot write
    expect(statSync(downloads()).mode & 0o777).toBe(0o700);
  });

  it('a failed download ends with ok:false, exit 3, no partial file and slots unchanged', async () => {
    const before = rauc.slotSums();
    const r = await action(['install', `${base}/missing.raucb`]);
    expect(r.code).toBe(3);
    expect(lines(r.stdout).at(-1)).toMatchObject({ event: 'result', ok: false });
    expect(lines(r.stdout).at(-1)?.message).toMatch(/download failed: server answered HTTP 404/);
    expect(last()).toMatchObject({ ok: false });
    expect(readdirSync(downloads())).toEqual([]);
    expect(rauc.slotSums()).toEqual(before);
  });

  it('a bundle rauc rejects ends with ok:false and the slots unchanged', async () => {
    const before = rauc.slotSums();
    const r = await action(['install', upload(foreign)]);
    expect(r.code).toBe(3);
    const result = lines(r.stdout).at(-1);
    expect(result).toMatchObject({ event: 'result', ok: false });
    // The signature is checked when the signed version is read, before anything is installed;
    // the message is rauc's own reason, not an empty one or the script's fallback.
    expect(result?.message).toMatch(
      /^rauc info refused the bundle: .*signature verification failed: .*unable to get local issuer certificate/,
    );
    expect(rauc.slotSums()).toEqual(before);
  });

  it('keeps installing when the caller goes away (SSH disconnect)', async () => {
    const path = upload(bundleV2);
    const caller = spawn(rootfsBin('rk64-action'), ['install', path], { env: actionEnv(), stdio: 'ignore' });
    const exited = new Promise<NodeJS.Signals | null>((res) =>
      caller.on('exit', (_c, signal) => res(signal)),
    );
    // The caller is killed as soon as the worker has started, like a dropped SSH session.
    const log = join(rauc.dir, 'data', 'rk64', 'last-action.log');
    expect(
      await waitFor(
        () => existsSync(log) && readFileSync(log, 'utf8').includes(`starting install of ${path}`),
        20_000,
        50,
      ),
    ).toBe(true);
    caller.kill('SIGKILL');
    expect(await exited).toBe('SIGKILL');
    expect(await waitFor(() => last().ok !== null, 30_000, 200)).toBe(true);
    expect(last()).toMatchObject({ ok: true, percent: 100 });
    expect(rootfsSlot(await rauc.raucStatus(), 'B').slot_status?.bundle?.version).toBe('2.0.0');
  });
});

describe('rk64-action install: https only, no downgrade, one at a time', () => {
  it('refuses a plain-http URL without contacting the server (exit 2)', async () => {
    const r = await action(['install', `${plainBase}/rk64-3.0.0.raucb`]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('only https:// URLs are fetched');
    expect(plainRequests).toBe(0);
  });

  for (const [what, version] of [
    ['older than', '1.0.0'],
    ['equal to', '1.5.0'],
  ] as const) {
    it(`refuses a signed bundle ${what} the running version (1.5.0), slots unchanged, naming both versions in fields`, async () => {
      const before = rauc.slotSums();
      const path = upload(version === '1.0.0' ? bundleOld : bundleSame);
      const r = await action(['install', path]);
      expect(r.code, r.stdout).toBe(3);
      expect(lines(r.stdout).at(-1)).toMatchObject({
        event: 'result',
        ok: false,
        message: `the bundle is version ${version}, not newer than the running 1.5.0: refusing a downgrade (rk64-action install --allow-downgrade installs it anyway)`,
        refused: 'downgrade',
        bundleVersion: version,
        runningVersion: '1.5.0',
      });
      expect(rauc.slotSums()).toEqual(before);
      expect(existsSync(path)).toBe(false); // an uploaded bundle goes whatever the result
    });
  }

  it('installs an older signed bundle with --allow-downgrade, saying so', async () => {
    const r = await action(['install', '--allow-downgrade', upload(bundleOld)]);
    expect(r.code, r.stdout).toBe(0);
    expect(lines(r.stdout).map((e) => e.message)).toContain(
      'installing version 1.0.0 over the running 1.5.0: downgrade allowed',
    );
    expect(rootfsSlot(await rauc.raucStatus(), 'B').slot_status?.bundle?.version).toBe('1.0.0');
  });

  it('two installs at once: one runs, the other is refused without touching its log or result', async () => {
    const first = upload(bundleV2);
    const second = join(uploads(), 'second.raucb');
    copyFileSync(bundleV3, second);
    const [a, b] = await Promise.all([action(['install', first]), action(['install', second])]);
    const results = [a, b].map((r) => lines(r.stdout).filter((e) => e.event === 'result'));
    for (const r of results) expect(r).toHaveLength(1);
    const ok = results.filter((r) => r[0]?.ok === true);
    const refused = results.filter((r) => r[0]?.message === 'another install is running');
    expect(ok, JSON.stringify(results)).toHaveLength(1);
    expect(refused, JSON.stringify(results)).toHaveLength(1);
    // The log and the result are the winner's alone.
    const log = readFileSync(join(rauc.dir, 'data', 'rk64', 'last-action.log'), 'utf8');
    expect(log.split('\n').filter((l) => l.includes('"event":"result"'))).toHaveLength(1);
    expect(log.match(/starting install of/g)).toHaveLength(1);
    expect(last()).toMatchObject({ ok: true, percent: 100 });
    rmSync(second, { force: true });
  });
});

describe('rk64-action ssh-wan: dead-man switch, refused flags, WAN connections dropped', () => {
  const inNs = (args: string[]) =>
    lab.exec(fwNs, rootfsBin('rk64-action'), args, { env: actionEnv(), timeoutMs: 30_000 });
  const flag = () => join(rauc.dir, 'data', 'config', 'ssh-wan-enabled');
  const wanChain = async () =>
    (await lab.execOk(fwNs, 'nft', ['list', 'chain', 'inet', 'rk64', 'input_wan'])).stdout;

  it('on --for 3s: the rule carries the deadline, and SSH on WAN ends by itself unconfirmed', async () => {
    const r = await inNs(['ssh-wan', 'on', '--for', '3s']);
    expect(r.code, r.stderr).toBe(0);
    expect(readFileSync(flag(), 'utf8')).toMatch(/^expires=\d+\n$/);
    expect(await wanChain()).toMatch(/tcp dport 22 meta time < .* accept comment "rk64-ssh-wan"/);
    expect(await waitFor(() => !existsSync(flag()), 10_000, 200)).toBe(true);
    expect(await waitFor(async () => !(await wanChain()).includes('rk64-ssh-wan'), 5000, 200)).toBe(true);
  });

  it('on --for 8s then confirm: stays open past the deadline', async () => {
    const started = Date.now();
    expect((await inNs(['ssh-wan', 'on', '--for', '8s'])).code).toBe(0);
    const r = await inNs(['ssh-wan', 'confirm']);
    expect(r.code, r.stderr).toBe(0);
    expect(readFileSync(flag(), 'utf8')).toBe('');
    await new Promise((res) => setTimeout(res, started + 10_000 - Date.now()));
    expect(existsSync(flag())).toBe(true);
    expect(await wanChain()).toMatch(/tcp dport 22 accept comment "rk64-ssh-wan"/);
    expect((await inNs(['ssh-wan', 'off'])).code).toBe(0);
  });

  it('confirm with SSH on WAN closed fails (exit 3)', async () => {
    const r = await inNs(['ssh-wan', 'confirm']);
    expect(r.code).toBe(3);
    expect(r.stderr).toContain('nothing to confirm');
  });

  it('a flag that is a directory: refused with a clear error, treated as off; off removes it', async () => {
    mkdirSync(flag());
    let r = await lab.exec(fwNs, `${deviceScripts}/rootfs/firewall-apply`, [], { env: actionEnv() });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(
      /error: .*ssh-wan-enabled is not a regular file \(directory\): refused, SSH on WAN stays closed/,
    );
    expect(await wanChain()).not.toContain('rk64-ssh-wan');
    r = await inNs(['ssh-wan', 'on']);
    expect(r.code).toBe(3);
    expect(r.stderr).toContain('is not a regular file');
    r = await inNs(['ssh-wan', 'off']);
    expect(r.code, r.stderr).toBe(0);
    expect(existsSync(flag())).toBe(false);
  });

  it('a flag that is a symbolic link: refused, treated as off; off removes the link only', async () => {
    const target = join(rauc.dir, 'link-target');
    writeFileSync(target, '');
    symlinkSync(target, flag());
    const r = await lab.exec(fwNs, `${deviceScripts}/rootfs/firewall-apply`, [], { env: actionEnv() });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/error: .*ssh-wan-enabled is a symbolic link, not a regular file/);
    expect(await wanChain()).not.toContain('rk64-ssh-wan');
    expect((await inNs(['ssh-wan', 'off'])).code).toBe(0);
    expect(existsSync(target)).toBe(true);
  });

  it('off drops the open SSH connections that came in on the WAN, not those from the LAN', async () => {
    expect((await inNs(['ssh-wan', 'on'])).code).toBe(0);
    // A port-22 server forking one process per connection, as sshd does (EXEC:cat: idle echo).
    const sshd = lab.daemon(fwNs, 'port22', 'socat', ['TCP-LISTEN:22,fork,reuseaddr', 'EXEC:cat']);
    await waitFor(
      async () => (await lab.exec(fwNs, 'ss', ['-Htln', 'sport = :22'])).stdout.includes(':22'),
      5000,
    );
    const fromWan = lab.daemon(ns.wan, 'wan-client', 'socat', [`TCP4:${GW.wan}:22`, 'EXEC:cat']);
    const fromLan = lab.daemon(ns.lan, 'lan-client', 'socat', [`TCP4:${GW.lan}:22`, 'EXEC:cat']);
    const established = async () =>
      (await lab.exec(fwNs, 'ss', ['-Htn', 'state', 'established', '( sport = :22 )'])).stdout
        .trim()
        .split('\n')
        .filter(Boolean).length;
    expect(await waitFor(async () => (await established()) === 2, 5000)).toBe(true);
    const r = await inNs(['ssh-wan', 'off']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain('dropped 1 SSH connection(s) that came in on the WAN (eth0)');
    expect(await waitFor(() => !fromWan.alive(), 5000)).toBe(true);
    expect(fromLan.alive()).toBe(true);
    expect(sshd.alive()).toBe(true);
    await fromLan.stop();
    await sshd.stop();
  });
});

describe('rk64-action reboot', () => {
  it('returns 0 at once and reboots about a second later', async () => {
    const started = Date.now();
    const r = await action(['reboot']);
    const returned = Date.now();
    expect(r.code, r.stderr).toBe(0);
    expect(await waitFor(() => existsSync(join(rauc.dir, 'rebooted')), 5000)).toBe(true);
    const rebootedAt = statSync(join(rauc.dir, 'rebooted')).mtimeMs;
    expect(rebootedAt).toBeGreaterThan(returned - 50); // the command returned before the reboot
    expect(rebootedAt - started).toBeGreaterThanOrEqual(900);
  });
});
