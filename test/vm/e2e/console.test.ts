// Scenario 6, through the console: the real `rk64 tui` (the built CLI) in a real terminal (tmux,
// test/lib/console-tmux.ts) against one QEMU test gateway resumed from the booted snapshot.
// Every check reads the gateway itself, never the console's own idea of it. Over SSH: the
// dashboard shows what the gateway says (hostname, kernel, watchdog, fw_printenv); mark the other
// slot bad and good again (fw_printenv); SSH-on-WAN on and off, judged from the WAN side (a TCP
// connection through QEMU's user network onto eth0 gets sshd's banner only while it is on);
// install the signed v2 bundle (uploaded from this machine) with upload and install progress,
// then reboot from the console: U-Boot boots B. Over the serial console (QEMU's pty, the gateway's
// key-signed serial login, no break-glass, as an engineer with a cable gets it): in A,
// `rk64 status --json` logs in by itself and a human logs in by pasting an `ssh-keygen -Y sign`
// signature; after the reboot into B the dashboard logs in again by itself, shows the status and
// marks a slot bad and good again, then reboots back into A. The serial flight recorder follows
// both reboots (`rk64 capture` the one into B, the serial dashboard's own recorder the one back
// into A); each capture must hold every U-Boot and boot.scr line QEMU's serial log has of those
// boots, the first line after the reset included.
// Every `it` waits for the first frame (`live`) before it sends a key.
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openSerialPort } from '../../../src/core/transport/serial-port.js';
import type { GatewayStatus } from '../../../src/core/status/schema.js';
import { lineText, splitBoots, type Boot } from '../../../src/core/serial-capture/boots.js';
import { captureLines, parseCapture } from '../../../src/core/serial-capture/format.js';
import { ensureBuilt, runCli } from '../../lib/cli.js';
import { humanKeyLogin, SERIAL_LOGIN_USER, SerialLine } from '../../lib/serial-line.js';
import { startPane } from '../../lib/console-tmux.js';
import type { TmuxPane } from '../../lib/console-tmux.js';
import { bootAttempts } from '../../lib/e2e-gateway.js';
import { repoRoot } from '../../lib/exec.js';
import { recordMeasurement } from '../../lib/e2e-measure.js';
import { startScenario } from '../../lib/e2e-scenario.js';
import type { Scenario } from '../../lib/e2e-scenario.js';

const title = 'through the console';
let s: Scenario;
/** The SSH dashboard, shared by the SSH tests (opened once: its first frame costs a connection). */
let sshPane: TmuxPane | undefined;
const panes: TmuxPane[] = [];
const flat = (text: string): string => text.replace(/[ \t]+/g, ' ');
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** XDG_STATE_HOME for the recorders, so the test finds their capture files. */
let stateHome = '';

/** The one capture file under `root` (a recorder's XDG_STATE_HOME): its boots, and its lines as text. */
async function readCapture(root: string): Promise<{ boots: Boot[]; lines: string[] }> {
  const serialDir = join(root, 'rk64', 'serial');
  const [target] = await readdir(serialDir);
  const [name] = await readdir(join(serialDir, target ?? 'none'));
  const text = await readFile(join(serialDir, target ?? 'none', name ?? 'none'), 'utf8');
  const lines = captureLines(parseCapture(text).records);
  return { boots: splitBoots(lines), lines: lines.map((l) => lineText(l.bytes)) };
}

/**
 * QEMU's own log of the serial line (since `from`): its U-Boot and boot.scr lines must all be in
 * the capture, in order, the banner (the first line after the reset) first.
 */
function expectUbootLinesIn(serialLog: string, captured: string[]): void {
  const all = serialLog.split('\n').map((l) => lineText(Buffer.from(l, 'utf8')));
  // U-Boot's part of the boot: up to the kernel's start (the recorder may stop before what follows).
  const wanted = all
    .slice(0, all.findLastIndex((l) => l.startsWith('Starting kernel')) + 1)
    .filter((l) => /^U-Boot 20\d\d|^rk64: /.test(l));
  expect(wanted[0]).toMatch(/^U-Boot 20\d\d/);
  let at = 0;
  for (const line of wanted) {
    const found = captured.indexOf(line, at);
    expect(found, `not in the capture (in order): ${line}`).toBeGreaterThanOrEqual(0);
    at = found + 1;
  }
}

function tui(target: string): string {
  const st = s.gw.gateway.state;
  return [
    process.execPath,
    `${repoRoot}/bin/rk64.js`,
    'tui',
    target,
    '--config',
    st.config,
    '--known-hosts',
    st.knownHosts,
    '--identity',
    st.identity,
    '--timeout',
    '120',
  ].join(' ');
}

async function open(target: string): Promise<TmuxPane> {
  const pane = await startPane(tui(target), { NO_COLOR: '1', SSH_AUTH_SOCK: '', XDG_STATE_HOME: stateHome });
  panes.push(pane);
  await pane.waitFor(/^live$/m, 180_000);
  return pane;
}

async function overSsh(): Promise<TmuxPane> {
  sshPane ??= await open(`gateway-${s.gw.gateway.name}`);
  // Back to the dashboard if a failed test before this one left a dialog open. (Only then: an
  // Escape followed at once by a key can reach the program as one Alt-key sequence.)
  if (/Press y to confirm|Bundle to install/.test(await sshPane.screen())) {
    await sshPane.send('Escape');
    await sshPane.waitFor('Cancelled; nothing changed.');
  }
  return sshPane;
}

/**
 * Confirm a dangerous key's dialog (which must name `what`) and wait for the outcome line; key ''
 * when the dialog is already open (after a question the key asked first).
 */
async function act(pane: TmuxPane, key: string, what: string | RegExp, outcome: string): Promise<void> {
  if (key !== '') await pane.send(key);
  await pane.waitFor('Press y to confirm');
  await pane.waitFor(what);
  await pane.send('y');
  await pane.waitFor(outcome, 120_000);
}

/**
 * The confirmation of marking the other slot. It names the slot when the last status held RAUC's
 * view; under load RAUC's D-Bus answer can miss rk64-status's time limit for one refresh (the slots
 * panel then says "unavailable") and the dialog says "the other slot".
 */
function otherSlot(slot: string, verdict: string, gateway: string): RegExp {
  return new RegExp(`Mark (slot ${slot} \\(other\\)|the other slot) ${verdict} on gateway-${gateway}:`);
}

/** A TCP connection to the gateway's SSH port from the WAN side: does sshd's banner come back? */
function wanProbe(port: number, timeoutMs = 8000): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = new Socket();
    const done = (answered: boolean): void => {
      socket.destroy();
      resolve(answered);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('data', (d: Buffer) => done(d.toString('utf8').startsWith('SSH-')));
    socket.once('error', () => done(false));
    socket.once('close', () => done(false));
    socket.connect(port, '127.0.0.1');
  });
}

beforeAll(async () => {
  await ensureBuilt();
  stateHome = await mkdtemp(join(tmpdir(), 'rk64-console-state-'));
  s = await startScenario('console', title);
});

afterAll(async () => {
  for (const pane of panes) await pane.stop();
  await s?.stop();
  if (stateHome) await rm(stateHome, { recursive: true, force: true });
});

describe(title, () => {
  it('over SSH: the dashboard shows the gateway’s real status and boot state', async () => {
    const { gw } = s;
    const pane = await overSsh();
    // RAUC's view (the slots panel) can miss a refresh under load; wait for one that has it.
    await pane.waitFor(/A +good +booted +primary/, 300_000);
    // The facts from the gateway itself, not from rk64-status.
    const [hostname, kernel, watchdog] = (
      await gw.sshOk('hostname; uname -r; cat /sys/class/watchdog/watchdog0/identity')
    ).stdout.split('\n');
    const env = await gw.bootEnv();
    // The counters as the boot state holds them now (os-verification may have just reset A's).
    const counters = new RegExp(`A left +${env.BOOT_A_LEFT}\\n[\\s\\S]*B left +${env.BOOT_B_LEFT}\\n`);
    const screen = flat(await pane.waitFor(counters, 120_000));
    expect(screen.split('\n')[0]).toContain(`host ${hostname ?? '?'}`);
    expect(screen).toContain(`kernel ${kernel ?? '?'}`);
    expect(screen).toContain(`order ${env.BOOT_ORDER ?? '?'}`);
    expect(screen).toContain(`device /dev/watchdog0 (${watchdog ?? '?'})`);
    expect(screen).toContain('fed by systemd');
    expect(screen).toMatch(/eth0 wan \S+ 10\.0\.2\.15\/24/);
    expect(screen).toMatch(/eth1 lan \S+ 172\.20\.30\.1\/24/);
    expect(screen).toContain('ssh-wan off (firewall drops)');
  });

  it('over SSH: marks the other slot bad and good again, seen in the real boot state', async () => {
    const { gw } = s;
    const pane = await overSsh();
    expect((await gw.bootEnv()).BOOT_B_LEFT).toBe('3');
    await act(pane, 'B', otherSlot('B', 'bad', gw.gateway.name), 'Slot (other) marked bad.');
    const bad = await gw.bootEnv();
    expect(bad.BOOT_B_LEFT).toBe('0');
    expect(bad.BOOT_ORDER).toBe('A');
    await pane.waitFor(/B left +0/, 60_000);
    // rk64-action puts B back at the end of BOOT_ORDER (RAUC's mark-good only restores attempts).
    await act(pane, 'G', otherSlot('B', 'good', gw.gateway.name), 'Slot (other) marked good.');
    expect(await gw.bootEnv()).toMatchObject({ BOOT_ORDER: 'A B', BOOT_B_LEFT: '3' });
    await pane.waitFor(/B left +3/, 60_000);
    await pane.waitFor(/B +good/, 60_000);
  });

  it('over SSH: SSH-on-WAN toggled from the console is seen from the WAN side', async () => {
    const { gw } = s;
    const port = gw.gateway.state.wanSshPort;
    const pane = await overSsh();
    expect(await wanProbe(port)).toBe(false);

    await pane.send('w');
    await pane.waitFor('Keep SSH on the WAN port open for how long?');
    await pane.send('Enter'); // the default, 30m
    await act(pane, '', 'Turn SSH on the WAN port ON', 'SSH on the WAN port is now on');
    await pane.waitFor(/closes in (29|30) min/, 60_000);
    expect(await wanProbe(port)).toBe(true);
    await pane.waitFor(/ssh-wan +ON \(firewall allows\)/, 60_000);

    await act(pane, 'w', 'Turn SSH on the WAN port OFF', 'SSH on the WAN port is now off.');
    expect(await wanProbe(port)).toBe(false);
    await pane.waitFor(/ssh-wan +off \(firewall drops\)/, 60_000);
  });

  it('over the serial console without break-glass: rk64 status --json logs in by itself, a human by pasting a signature', async () => {
    const { gw } = s;
    const st = gw.gateway.state;
    const started = Date.now();
    const r = await runCli(
      [
        'status',
        '--json',
        `gateway-${gw.gateway.name}-serial`,
        '--config',
        st.config,
        '--identity',
        st.identity,
      ],
      { env: { ...process.env, SSH_AUTH_SOCK: '' }, timeoutMs: 180_000 },
    );
    expect(r.code, r.stderr).toBe(0);
    recordMeasurement(
      title,
      'rk64 status --json over serial, key-signed login included',
      (Date.now() - started) / 1000,
    );
    const { status } = JSON.parse(r.stdout) as { status: GatewayStatus };
    expect(status.rauc?.bootedSlot).toBe('A');
    expect(status.bootState?.breakGlass).toBe(false);
    expect((await gw.sshOk('hostname')).stdout.trim()).toBe(status.hostname);
    // The gateway's journal has the login, as the user the tests log in as.
    const journal = (await gw.sshOk('journalctl -b -t rk64-serial-login --no-pager -o cat')).stdout;
    expect(journal).toMatch(new RegExp(`accepted user=${SERIAL_LOGIN_USER} nonce=[0-9a-f]{32}`));

    // A human with a terminal program: the console logged out when it closed, so the line is at the
    // login prompt again; the printed ssh-keygen command, run as printed, logs in.
    const line = new SerialLine(await openSerialPort(st.serialPath, 115200));
    try {
      await humanKeyLogin(line, SERIAL_LOGIN_USER, st.identity);
      const from = line.text.length;
      await line.type('id -un; echo "rk64-serial-""whoami-done"\r');
      // Typed ahead of the first prompt, the answer may follow the prompt on its line (`$ operator`).
      const who = await line.expect(
        /(?:\n|[$#] )([a-z_][a-z0-9_-]*)\r?\nrk64-serial-whoami-done/,
        60_000,
        from,
      );
      expect(who[1]).toBe(SERIAL_LOGIN_USER);
      await line.type('exit\r');
      await line.expect(/rk64-login user: $/, 60_000, from);
    } finally {
      await line.close();
    }
  }, 600_000);

  it('over SSH: installs the signed v2 bundle with progress and reboots the gateway into it', async () => {
    const { gw } = s;
    const pane = await overSsh();
    const bundle = s.variants.bundles.v2;

    await pane.send('i');
    await pane.waitFor('Bundle to install');
    await pane.send(bundle.path, true);
    await pane.send('Enter');
    await pane.waitFor('Press y to confirm');
    expect((await pane.screen()).replace(/[\s|]+/g, ' ')).toMatch(/into (slot B|the other slot)/);
    const started = Date.now();
    await pane.send('y');
    const bars = new Set<string>();
    const deadline = Date.now() + 600_000;
    let screen = '';
    // The dialog wraps its text inside a box: judge the screen with the box and line breaks flattened.
    const reboot = /Reboot \S+ now:/;
    while (Date.now() < deadline && !reboot.test(screen)) {
      const raw = await pane.screen();
      screen = raw.replace(/[\s|]+/g, ' ');
      for (const m of raw.matchAll(/(upload|install) +\[[#.]+\] +\d+%[^|\n]*/g)) bars.add(m[0].trim());
      await sleep(250);
    }
    const seen = [...bars];
    expect(screen, seen.join('\n')).toMatch(reboot);
    const installed = Date.now();
    expect(
      seen.some((b) => b.startsWith('upload')),
      seen.join('\n'),
    ).toBe(true);
    expect(seen.filter((b) => b.startsWith('install')).length, seen.join('\n')).toBeGreaterThan(1);
    // RAUC wrote B and made it primary; the running slot A is untouched until the reboot.
    const before = await gw.status();
    expect(before.rauc?.bootedSlot).toBe('A');
    expect(before.rauc?.primarySlot).toBe('B');
    expect(before.rauc?.slots.find((slot) => slot.bootname === 'B')?.bundleVersion).toBe(bundle.version);

    const bootId = await gw.bootId();
    // The flight recorder on the serial line while the gateway reboots: `rk64 capture` until B's shell.
    const captureHome = await mkdtemp(join(tmpdir(), 'rk64-capture-'));
    const serialBefore = (await gw.serial()).length;
    const capture = spawn(
      process.execPath,
      [`${repoRoot}/bin/rk64.js`, 'capture', `serial:${gw.gateway.serialPath}@115200`, '--boots', '1'],
      { env: { ...process.env, XDG_STATE_HOME: captureHome }, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let captureErr = '';
    capture.stderr.on('data', (d: Buffer) => (captureErr += d.toString()));
    const captureExit = new Promise<number | null>((resolve) => capture.once('exit', resolve));
    for (let waited = 0; !captureErr.includes('rk64 capture: recording') && waited < 20_000; waited += 200)
      await sleep(200);
    expect(captureErr).toContain('rk64 capture: recording');
    await pane.send('y'); // reboot now
    await gw.waitForSlot('B', bootId, 600_000);
    const code = await Promise.race([captureExit, sleep(300_000).then(() => 'still running')]);
    if (code === 'still running') capture.kill('SIGINT');
    await captureExit;
    expect(code, captureErr).toBe(0);
    expect(captureErr).toMatch(/boot 1: kernel starting \(slot B, normal; attempts left 3 → 2\)/);
    const intoB = await readCapture(captureHome);
    expect(intoB.boots.map((b) => [b.slot, b.reached])).toEqual([['B', 'login']]);
    expectUbootLinesIn((await gw.serial()).slice(serialBefore), intoB.lines);
    await rm(captureHome, { recursive: true, force: true });
    const attempts = bootAttempts(await gw.serial());
    expect(attempts.at(-1)?.slot).toBe('B');
    const after = await gw.status();
    expect(after.rauc?.bootedSlot).toBe('B');
    expect(after.versions.os).toBe('2');
    // The console reconnected by itself and shows the new boot.
    await pane.waitFor(/B +\S+ +booted +primary +2/, 300_000);
    recordMeasurement(title, 'upload and install from the console', (installed - started) / 1000);
    recordMeasurement(title, 'reboot from the console to SSH on B', (Date.now() - installed) / 1000);
    await pane.send('q');
  }, 1_500_000);

  it('over the serial console: shows the status and marks a slot good', async () => {
    const { gw } = s;
    const pane = await open(`gateway-${gw.gateway.name}-serial`);
    const screen = flat(await pane.waitFor(/B +\S+ +booted +primary +2/, 120_000));
    expect(screen.split('\n')[0]).toContain(`gateway-${gw.gateway.name}-serial`);
    expect(screen).toMatch(/A good - - /);
    expect(screen).toContain('break-glass off');
    // It logged in again by itself after the reboot, with the key login of this boot.
    const journal = (await gw.sshOk('journalctl -b -t rk64-serial-login --no-pager -o cat')).stdout;
    expect(journal).toMatch(new RegExp(`accepted user=${SERIAL_LOGIN_USER} nonce=`));
    expect(screen).toContain('os 2');

    await act(pane, 'B', otherSlot('A', 'bad', `${gw.gateway.name}-serial`), 'Slot (other) marked bad.');
    expect((await gw.bootEnv()).BOOT_A_LEFT).toBe('0');
    await pane.waitFor(/A +bad/, 120_000);
    await pane.waitFor(/A left +0/, 120_000);

    // RAUC's U-Boot backend only restores the counter on mark-good; rk64-action also puts A back
    // into BOOT_ORDER (mark-bad took it out) after B, so A is good again and B stays first.
    await act(pane, 'G', otherSlot('A', 'good', `${gw.gateway.name}-serial`), 'Slot (other) marked good.');
    expect(await gw.bootEnv()).toMatchObject({ BOOT_ORDER: 'B A', BOOT_A_LEFT: '3' });
    await pane.waitFor(/A left +3/, 120_000);
    await pane.waitFor(/A +good/, 120_000);

    // Back into A, rebooted from this serial dashboard (A first again): it shows the reboot as it
    // happens, then logs in again with the key and refreshes by itself.
    await gw.sshOk('fw_setenv BOOT_ORDER "A B"');
    const bootId = await gw.bootId();
    const serialBefore = (await gw.serial()).length;
    await act(pane, 'R', /Reboot gateway-\S+-serial now/, 'The gateway reboots in about a second');
    await pane.waitFor(/serial boot 1: U-Boot 20\d\d/, 300_000);
    await pane.waitFor(/serial boot 1: kernel starting \(slot A, normal; attempts left 3 → 2\)/, 300_000);
    await gw.waitForSlot('A', bootId, 600_000);
    await pane.waitFor(/serial boot 1: login prompt: slot A is up/, 300_000);
    await pane.waitFor(/A +\S+ +booted +primary/, 300_000);
    expect(flat(await pane.screen())).toMatch(/^live$/m);
    await pane.send('q');
    await sleep(2000);
    const backToA = await readCapture(stateHome);
    expect(backToA.boots.map((b) => [b.slot, b.reached])).toEqual([['A', 'login']]);
    expectUbootLinesIn((await gw.serial()).slice(serialBefore), backToA.lines);
  }, 1_500_000);
});
