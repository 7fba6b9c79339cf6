// RAUC's install handlers (device-scripts/rootfs/rauc-pre-install and rauc-post-install, wired in
// rauc/system.conf) against the real rauc service: an install no rk64 program started — the way
// rauc-hawkbit-updater asks for one, InstallBundle over D-Bus, while the shipped hawkbit-updater
// wrapper runs — is in the lifecycle journal with who asked for it; an install rk64-action runs is
// there once, as the console's.
import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync, copyFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { run, runOk } from '../../lib/exec.js';
import { waitFor } from '../../lib/netns.js';
import type { RaucEnv } from '../../lib/rauc-env.js';
import { rootfsSlot, startRaucEnv } from '../../lib/rauc-env.js';
import { rootfsBin } from '../../lib/services-paths.js';

interface JournalEvent {
  event: string;
  slot?: string | null;
  version?: string | null;
  hash?: string | null;
  source?: string | null;
  by?: string;
}

let rauc: RaucEnv;
const bundles: Record<string, string> = {};
let hawkbit: ChildProcess | null = null;

const stateDir = () => join(rauc.dir, 'data', 'rk64');
const journalPath = () => join(stateDir(), 'lifecycle.jsonl');

function journal(): JournalEvent[] {
  let text = '';
  try {
    text = readFileSync(journalPath(), 'utf8');
  } catch {
    return [];
  }
  return text
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as JournalEvent);
}

/** The installs' events since `from` events, as [event, slot, version, by]. */
const installEvents = (from: number) =>
  journal()
    .slice(from)
    .map((e) => [e.event, e.slot ?? null, e.version ?? null, e.by ?? null]);

/** One method call on RAUC's object over the test's private system bus; its printed reply. */
async function raucCall(method: string, args: string[]): Promise<string> {
  const r = await runOk(
    'gdbus',
    ['call', '--system', '--dest', 'de.pengutronix.rauc', '--object-path', '/', '--method', method, ...args],
    { env: rauc.env },
  );
  return r.stdout.trim();
}

const raucProperty = (name: string): Promise<string> =>
  raucCall('org.freedesktop.DBus.Properties.Get', ['de.pengutronix.rauc.Installer', name]);

/** InstallBundle over D-Bus, as rauc-hawkbit-updater calls it; resolves when RAUC is idle again. */
async function installOverDbus(bundle: string): Promise<void> {
  await raucCall('de.pengutronix.rauc.Installer.InstallBundle', [bundle, '{}']);
  // The call only starts the install: wait until RAUC's operation is idle again.
  const idle = await waitFor(async () => (await raucProperty('Operation')).includes("'idle'"), 60_000);
  expect(idle, 'RAUC still busy with the install after 60 s').toBe(true);
  expect(await raucProperty('LastError')).toBe("(<''>,)");
}

/** The shipped wrapper, running a stand-in client (Debian has no rauc-hawkbit-updater package). */
async function startHawkbitUpdater(): Promise<ChildProcess> {
  const config = join(rauc.dir, 'data', 'config');
  mkdirSync(config, { recursive: true });
  writeFileSync(join(config, 'rauc-hawkbit-updater.conf'), '[client]\nhawkbit_server = 127.0.0.1:9\n');
  const client = join(rauc.dir, 'bin', 'hawkbit-client');
  // Like the real client it stays up; `exec` keeps the wrapper's PID, as the real one does.
  writeFileSync(client, '#!/bin/sh\nexec sleep 600\n');
  chmodSync(client, 0o755);
  const child = spawn(rootfsBin('hawkbit-updater'), [], {
    env: { ...rauc.env, RAUC_HAWKBIT_UPDATER: client },
    stdio: 'ignore',
  });
  const pidFile = join(rauc.dir, 'run', 'hawkbit-updater.pid');
  const started = await waitFor(() => {
    try {
      return readFileSync(pidFile, 'utf8').trim() === String(child.pid);
    } catch {
      return false;
    }
  }, 10_000);
  expect(started, `hawkbit-updater wrote no ${pidFile} with its PID`).toBe(true);
  return child;
}

beforeAll(async () => {
  rauc = await startRaucEnv();
  mkdirSync(join(rauc.dir, 'etc'), { recursive: true });
  writeFileSync(join(rauc.dir, 'etc', 'os-release'), 'ID=debian\nVERSION_ID="12"\nIMAGE_VERSION=1.5.0\n');
  for (const version of ['2.0.0', '3.0.0', '4.0.0', '5.0.0', '6.0.0'])
    bundles[version] = await rauc.bundle(version);
}, 120_000);

afterEach(() => {
  hawkbit?.kill('SIGKILL');
  hawkbit = null;
});

afterAll(async () => {
  await rauc?.stop();
});

describe('RAUC install handlers', () => {
  it('an install rauc-hawkbit-updater asks for over D-Bus is journaled as hawkBit’s: started, finished with version and image hash, activated', async () => {
    hawkbit = await startHawkbitUpdater();
    const from = journal().length;
    await installOverDbus(bundles['2.0.0'] ?? '');
    const slotB = rootfsSlot(await rauc.raucStatus(), 'B');
    expect(slotB.slot_status?.bundle?.version).toBe('2.0.0');
    expect(installEvents(from)).toEqual([
      ['install-started', 'B', '2.0.0', 'hawkbit'],
      ['install-finished', 'B', '2.0.0', 'hawkbit'],
      ['slot-activated', 'B', null, 'hawkbit'],
    ]);
    const finished = journal()[from + 1];
    expect(finished?.hash).toMatch(/^[0-9a-f]{64}$/);
    expect(finished?.hash).toBe(slotB.slot_status?.checksum?.sha256);
    expect(journal()[from]?.source).toBeNull();
  });

  it('an install typed as `rauc install` with no hawkBit client running is journaled as by rauc', async () => {
    const from = journal().length;
    const r = await run('rauc', ['install', bundles['3.0.0'] ?? ''], { env: rauc.env, timeoutMs: 60_000 });
    expect(r.code, r.stderr).toBe(0);
    expect(installEvents(from)).toEqual([
      ['install-started', 'B', '3.0.0', 'rauc'],
      ['install-finished', 'B', '3.0.0', 'rauc'],
      ['slot-activated', 'B', null, 'rauc'],
    ]);
  });

  it('an install rk64-action runs is journaled once, as the console’s, also while hawkBit’s client runs', async () => {
    hawkbit = await startHawkbitUpdater();
    const uploads = join(stateDir(), 'uploads');
    mkdirSync(uploads, { recursive: true });
    const path = join(uploads, 'v4.raucb');
    copyFileSync(bundles['4.0.0'] ?? '', `${path}.part`);
    renameSync(`${path}.part`, path);
    const from = journal().length;
    const r = await run(rootfsBin('rk64-action'), ['install', path], {
      env: { ...rauc.env, RK64_DETACH: 'setsid', RK64_RAUC_CONF: join(rauc.dir, 'system.conf') },
      timeoutMs: 60_000,
    });
    expect(r.code, r.stderr).toBe(0);
    expect(installEvents(from)).toEqual([
      ['install-started', 'B', '4.0.0', 'console'],
      ['install-finished', 'B', '4.0.0', 'console'],
      ['slot-activated', 'B', null, 'console'],
    ]);
    // The claim is gone once the install is over.
    expect(() => readFileSync(join(rauc.dir, 'run', 'install-claim'))).toThrow();
  });

  it('a claim left behind by a process that has gone does not hide the next install', async () => {
    // A PID that is certainly not running: a child that has exited.
    const gone = spawn('true');
    await new Promise((r) => gone.on('exit', r));
    writeFileSync(join(rauc.dir, 'run', 'install-claim'), `${gone.pid ?? 999999} console\n`);
    const from = journal().length;
    await installOverDbus(bundles['5.0.0'] ?? '');
    expect(installEvents(from)).toEqual([
      ['install-started', 'B', '5.0.0', 'rauc'],
      ['install-finished', 'B', '5.0.0', 'rauc'],
      ['slot-activated', 'B', null, 'rauc'],
    ]);
    rmSync(join(rauc.dir, 'run', 'install-claim'), { force: true });
  });

  it('a journal that cannot be written costs a log line, never the install', async () => {
    // The journal's path taken by a directory: every append fails.
    const saved = `${journalPath()}.saved`;
    renameSync(journalPath(), saved);
    mkdirSync(journalPath());
    try {
      await installOverDbus(bundles['6.0.0'] ?? '');
      expect(rootfsSlot(await rauc.raucStatus(), 'B').slot_status?.bundle?.version).toBe('6.0.0');
    } finally {
      rmSync(journalPath(), { recursive: true, force: true });
      renameSync(saved, journalPath());
    }
  });
});
