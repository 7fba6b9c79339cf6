// Scenario 4, power loss: the plug is pulled (QEMU quits at once; the disk keeps what reached it)
// at seeded points during `rauc install` of the v2 bundle, and once while RAUC writes the boot
// state. After every cut the gateway must boot a good slot by itself, /data must be intact, and
// in the end a retried install must succeed.
//   install cuts   five, one in each phase of RAUC's install (checking the bundle, choosing the
//                  target slots, writing the boot image, writing the root image) and a second
//                  one while the root image, the longest write, is written: each armed by the
//                  phase's progress line, in seeded order and with a seeded delay after it
//                  (RK64_E2E_SEED repeats a run; the seed is printed)
//   boot-state cut fw_setenv is wrapped (bind mount, this boot only) so that RAUC's write that
//                  switches BOOT_ORDER is announced on the serial console and repeated for a few
//                  seconds with the same values; the seeded cut then lands inside real writes of
//                  the two-copy environment, torn or not. The result must be either the old state
//                  (boots A) or the new one (boots B, whose images were complete before the switch).
import { spawn } from 'node:child_process';
import type { ChildProcessByStdio } from 'node:child_process';
import type { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { recordMeasurement } from '../../lib/e2e-measure.js';
import { GATEWAY_CA_FILE } from '../../lib/e2e-server.js';
import { startScenario } from '../../lib/e2e-scenario.js';
import type { Scenario } from '../../lib/e2e-scenario.js';
import { seededRandom } from '../../lib/seeded-random.js';

const title = 'power loss';
const seed = Number(process.env.RK64_E2E_SEED ?? Date.now() % 100_000);
let s: Scenario;
let markerSum: string;
/** The committed slot that runs while RAUC writes the other one (updated after every cut). */
let running: 'A' | 'B' = 'A';

const BUNDLE = '/data/e2e/v2.raucb';

interface InstallPhase {
  name: string;
  /** RAUC 1.8's progress line that starts the phase (`  85% Copying image to boot.1`). */
  line: RegExp;
  /** The cut comes a seeded 0..maxDelayMs after that line: inside the phase or just past it. */
  maxDelayMs: number;
}

const ROOT_IMAGE: InstallPhase = {
  name: 'writing the root image',
  line: /^\s*\d{1,3}%\s+Copying image to rootfs\.\d$/,
  maxDelayMs: 5000,
};

const INSTALL_PHASES: readonly InstallPhase[] = [
  { name: 'checking the bundle', line: /^\s*\d{1,3}%\s+Checking bundle$/, maxDelayMs: 1000 },
  {
    name: 'choosing the target slots',
    line: /^\s*\d{1,3}%\s+Determining target install group$/,
    maxDelayMs: 500,
  },
  { name: 'writing the boot image', line: /^\s*\d{1,3}%\s+Copying image to boot\.\d$/, maxDelayMs: 3000 },
  ROOT_IMAGE,
];

function seededShuffle<T>(items: T[], rand: () => number): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [items[i], items[j]] = [items[j] as T, items[i] as T];
  }
  return items;
}

// fw_setenv (libubootenv picks its mode from argv[0], so the real one is called by that name).
const WRAPPER = String.raw`#!/bin/sh
# e2e power-loss wrapper: announce RAUC's boot-state switch, then repeat the real write (same
# values) for 6 s so a power cut lands inside it.
real=/run/rk64-e2e/real/fw_setenv
script=
case "$1" in
  -s | --script)
    script=/run/rk64-e2e/script.$$
    if [ "$2" = "-" ]; then cat >"$script"; else cp "$2" "$script"; fi ;;
esac
write() { if [ -n "$script" ]; then "$real" "$@" <"$script"; else "$real" "$@"; fi; }
what="$* $(if [ -n "$script" ]; then tr '\n' ' ' <"$script"; fi)"
echo "rk64-e2e: fw_setenv $what" >/dev/kmsg
case "$what" in
  # Only the switch to the new slot (both slots again, the new one first), not RAUC's earlier
  # write that takes the target slot out of the order (one slot) before it writes the images.
  *"BOOT_ORDER B A"* | *"BOOT_ORDER A B"*)
    echo "rk64-e2e: boot state write starts" >/dev/kmsg
    end=$(($(date +%s) + 6))
    while [ "$(date +%s)" -lt "$end" ]; do write "$@" || exit $?; done ;;
esac
write "$@"
`;

beforeAll(async () => {
  console.log(`power loss: seed ${seed} (RK64_E2E_SEED=${seed} repeats this run)`);
  s = await startScenario('power', title);
  const { gw, server, variants } = s;
  server.serveFile('v2.raucb', variants.bundles.v2.path);
  await gw.sshOk(server.gatewaySetup());
  await gw.sshOk(
    `mkdir -p /data/e2e && curl -sSf --cacert ${GATEWAY_CA_FILE} -o ${BUNDLE} '${server.guestUrl('v2.raucb')}'`,
    {
      timeoutMs: 600_000,
    },
  );
  // Data that must survive every cut.
  markerSum =
    (
      await gw.sshOk('head -c 1048576 /dev/urandom >/data/e2e/marker && sync && sha256sum /data/e2e/marker')
    ).stdout.split(' ')[0] ?? '';
});

afterAll(async () => {
  await s?.stop();
});

/** `rauc install` of the v2 bundle on the gateway, its output piped back (both cut paths use it). */
function startInstall(): ChildProcessByStdio<null, Readable, Readable> {
  return spawn('ssh', [...s.gw.gateway.sshArgs(), `rauc install ${BUNDLE}`], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

/** Start `rauc install`, cut the power `delayMs` after `ready(line)`; resolves with the lines seen. */
function installUntilCut(
  ready: (line: string) => boolean,
  delayMs: number,
): Promise<{ lines: string[]; cutAfterExit: boolean }> {
  const { gw } = s;
  return new Promise((resolve, reject) => {
    const lines: string[] = [];
    const child = startInstall();
    let armed = false;
    let exited = false;
    let buffer = '';
    const cut = (): void => {
      gw.gateway.powerCut().then(
        () => {
          // The SSH session does not end by itself with the machine gone (the port relay keeps it open).
          child.kill();
          resolve({ lines, cutAfterExit: exited });
        },
        (error: unknown) => reject(error instanceof Error ? error : new Error(String(error))),
      );
    };
    const onData = (d: Buffer): void => {
      buffer += d.toString('utf8');
      const parts = buffer.split('\n');
      buffer = parts.pop() ?? '';
      for (const line of parts) {
        lines.push(line);
        if (!armed && ready(line)) {
          armed = true;
          setTimeout(cut, delayMs);
        }
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.on('close', () => {
      exited = true;
      if (!armed) reject(new Error(`rauc install ended before the cut point:\n${lines.join('\n')}`));
    });
  });
}

async function expectGoodAfterCut(label: string): Promise<'A' | 'B'> {
  const { gw } = s;
  const started = Date.now();
  await gw.gateway.boot();
  const status = await gw.status();
  const booted = status.rauc?.bootedSlot;
  expect(booted === 'A' || booted === 'B', `${label}: booted slot ${String(booted)}`).toBe(true);
  // /data is mounted read-write and the marker is intact.
  const data = await gw.sshOk('findmnt -no FSTYPE,OPTIONS /data; sha256sum /data/e2e/marker');
  expect(data.stdout).toMatch(/^f2fs\s+rw,/);
  expect(data.stdout).toContain(markerSum);
  const health = await gw.waitForHealth(600_000);
  const after = await gw.status();
  if (booted === running) {
    // The slot that ran before the cut was committed: marked good again at once.
    expect(health, `${label}: os-verification on ${booted}`).toBe('skipped');
  } else {
    // The other slot can only have been chosen if the switch reached the disk, after its images
    // were complete: it is on trial and must pass.
    expect(health, `${label}: os-verification on ${booted}`).toBe('passed');
  }
  // A holds the image it was built with; only B receives v2 (no cut here lets a full install into
  // A complete).
  expect(after.versions.os).toBe(booted === 'A' ? '1' : '2');
  expect(after.rauc?.slots.find((x) => x.bootname === booted)?.bootStatus).toBe('good');
  recordMeasurement(title, 'power on to SSH after a cut', (gw.gateway.state.bootToSshMs ?? 0) / 1000);
  console.log(
    `power loss: ${label}: booted ${booted} (health ${health}) ${Math.round((Date.now() - started) / 1000)} s after power-on`,
  );
  running = booted as 'A' | 'B';
  return running;
}

describe(title, () => {
  // Each cut costs an install up to the cut, a boot to SSH and os-verification's verdict: 2.5 to
  // 5 min under emulation with another gateway running beside it, so five of them need their
  // own timeout (the vm project's default is 15 min).
  it('boots a good slot with /data intact after a cut in each phase of rauc install', async () => {
    const rand = seededRandom(seed);
    const cuts = seededShuffle([...INSTALL_PHASES, ROOT_IMAGE], rand);
    for (const [i, phase] of cuts.entries()) {
      const delayMs = Math.floor(rand() * phase.maxDelayMs);
      const { lines, cutAfterExit } = await installUntilCut((line) => phase.line.test(line), delayMs);
      const progress = lines.filter((l) => /^\s*\d{1,3}%/.test(l));
      console.log(
        `power loss: cut ${i + 1}: ${delayMs} ms into ${phase.name}; last progress: ${progress.at(-1)?.trim()}${cutAfterExit ? ' (rauc had finished)' : ''}`,
      );
      const before = running;
      const booted = await expectGoodAfterCut(`cut ${i + 1} (${phase.name})`);
      // A cut after rauc had already finished would rightly boot the complete new slot.
      if (!cutAfterExit)
        expect(booted, `cut ${i + 1} (during the install) must leave ${before} booted`).toBe(before);
    }
  }, 2_700_000);

  it('boots a good slot after a cut while RAUC writes the boot state', async () => {
    const { gw } = s;
    const rand = seededRandom(seed + 1);
    await gw.sshOk(
      `mkdir -p /run/rk64-e2e/real && f=$(command -v fw_setenv) && cp "$f" /run/rk64-e2e/real/fw_setenv && cat >/run/rk64-e2e/fw_setenv <<'EOF'\n${WRAPPER}EOF\nchmod +x /run/rk64-e2e/fw_setenv && mount --bind /run/rk64-e2e/fw_setenv "$f"`,
    );
    const delayMs = Math.floor(rand() * 5000);
    const serialStart = (await gw.serial()).length;
    let timer: NodeJS.Timeout | undefined;
    const announced = new Promise<'announced'>((resolve) => {
      timer = setInterval(() => {
        void gw.serial().then((text) => {
          if (text.slice(serialStart).includes('rk64-e2e: boot state write starts')) resolve('announced');
        });
      }, 100);
    });
    const install = startInstall();
    let output = '';
    install.stdout.on('data', (d: Buffer) => (output += d.toString('utf8')));
    install.stderr.on('data', (d: Buffer) => (output += d.toString('utf8')));
    const ended = new Promise<'ended'>((resolve) => install.once('close', () => resolve('ended')));
    const first = await Promise.race([announced, ended]).finally(() => clearInterval(timer));
    if (first !== 'announced')
      throw new Error(`rauc install ended before writing the boot state:\n${output}`);
    await new Promise((resolve) => setTimeout(resolve, delayMs));
    await gw.gateway.powerCut();
    // The SSH session does not end by itself with the machine gone (the port relay keeps it open).
    install.kill();
    console.log(`power loss: boot-state cut ${delayMs} ms into the announced write`);
    await expectGoodAfterCut('boot-state cut');
  }, 1_200_000);

  it('a retried install succeeds', async () => {
    const { gw } = s;
    const r = await gw.ssh(`rauc install ${BUNDLE}`, { timeoutMs: 900_000 });
    expect(r.code, r.stdout + r.stderr).toBe(0);
    const status = await gw.status();
    const booted = status.rauc?.bootedSlot;
    const other = booted === 'A' ? 'B' : 'A';
    expect(status.rauc?.primarySlot).toBe(other);
    expect(status.rauc?.slots.find((x) => x.bootname === other)).toMatchObject({ bundleVersion: '2' });
  });
});
