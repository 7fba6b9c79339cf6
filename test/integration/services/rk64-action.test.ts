// rk64-action, the device end of the console's actions, against a real rauc service; the firewall
// actions run in a network namespace of their own so the host's ruleset is never touched.
import {
  existsSync,
  mkdirSync,
  readFileSync,
  readdirSync,
  renameSync,
  copyFileSync,
  statSync,
} from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NetnsLab, waitFor } from '../../lib/netns.js';
import type { RaucEnv } from '../../lib/rauc-env.js';
import { devPki, rootfsSlot, startRaucEnv } from '../../lib/rauc-env.js';
import { deviceScripts, rootfsBin } from '../../lib/services-paths.js';
import { run } from '../../lib/exec.js';

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
let server: http.Server;
let base = '';
let bundleV2 = '';
let bundleV3 = '';
let foreign = '';
const lab = new NetnsLab();
let fwNs = '';

const actionEnv = (): NodeJS.ProcessEnv => ({
  ...rauc.env,
  RK64_DETACH: 'setsid',
  RK64_REBOOT_CMD: `touch ${join(rauc.dir, 'rebooted')}`,
  RK64_FIREWALL_RULES: `${deviceScripts}/firewall/rk64.nft`,
});
const action = (args: string[]) =>
  run(rootfsBin('rk64-action'), args, { env: actionEnv(), timeoutMs: 60_000 });
const uploads = () => join(rauc.dir, 'data', 'rk64', 'uploads');
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
  bundleV2 = await rauc.bundle('2.0.0');
  bundleV3 = await rauc.bundle('3.0.0');
  foreign = await rauc.bundle('9.9.9', { pki: await devPki('foreign') });
  server = http.createServer((req, res) => {
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
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  fwNs = await lab.ns('act');
});

afterAll(async () => {
  await new Promise((r) => server?.close(r));
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

  it('installs from an http URL, downloading into uploads/', async () => {
    const r = await action(['install', `${base}/rk64-3.0.0.raucb`]);
    expect(r.code, r.stderr).toBe(0);
    const events = lines(r.stdout);
    expect(events[0]?.message).toContain('starting install');
    expect(events.at(-1)).toMatchObject({ event: 'result', ok: true });
    expect(rootfsSlot(await rauc.raucStatus(), 'B').slot_status?.bundle?.version).toBe('3.0.0');
    expect(readdirSync(uploads())).toEqual([]);
  });

  it('a failed download ends with ok:false, exit 3, no partial file and slots unchanged', async () => {
    const before = rauc.slotSums();
    const r = await action(['install', `${base}/missing.raucb`]);
    expect(r.code).toBe(3);
    expect(lines(r.stdout).at(-1)).toMatchObject({ event: 'result', ok: false });
    expect(lines(r.stdout).at(-1)?.message).toMatch(/download failed: server answered HTTP 404/);
    expect(last()).toMatchObject({ ok: false });
    expect(readdirSync(uploads())).toEqual([]);
    expect(rauc.slotSums()).toEqual(before);
  });

  it('a bundle rauc rejects ends with ok:false and the slots unchanged', async () => {
    const before = rauc.slotSums();
    const r = await action(['install', upload(foreign)]);
    expect(r.code).toBe(3);
    const result = lines(r.stdout).at(-1);
    expect(result).toMatchObject({ event: 'result', ok: false });
    // rauc's own reason, not an empty one or the script's fallback.
    expect(result?.message).toMatch(
      /^rauc install failed: signature verification failed: .*unable to get local issuer certificate$/,
    );
    expect(rauc.slotSums()).toEqual(before);
  });

  it('keeps installing when the caller goes away (SSH disconnect)', async () => {
    const path = upload(bundleV2);
    const child = run('bash', ['-c', 'exec "$0" install "$1"', rootfsBin('rk64-action'), path], {
      env: actionEnv(),
      timeoutMs: 400, // the caller is killed early, like a dropped SSH session
    });
    const r = await child;
    expect(r.signal).toBe('SIGKILL');
    expect(await waitFor(() => last().ok !== null, 30_000, 200)).toBe(true);
    expect(last()).toMatchObject({ ok: true, percent: 100 });
    expect(rootfsSlot(await rauc.raucStatus(), 'B').slot_status?.bundle?.version).toBe('2.0.0');
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
