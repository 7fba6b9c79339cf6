// Scenario 6, through the console: the real `rk64 tui` in a terminal (tmux, test/lib/console-tmux.ts)
// against the QEMU gateway.
//   over SSH      installs the signed v2 bundle (uploaded from this machine) with progress bars,
//                 then reboots the gateway into it (U-Boot boots B)
//   over serial   (the gateway's serial console, opened for this boot by break-glass) shows the
//                 status and marks a slot: A bad, then good again, seen in the real boot state
//   SSH-on-WAN    toggled from the console; a fresh TCP connection from the WAN side (the host,
//                 through QEMU's user network onto eth0) is answered while on and dropped while off
import { Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureBuilt } from '../../../lib/cli.js';
import { startPane } from '../../../lib/console-tmux.js';
import type { TmuxPane } from '../../../lib/console-tmux.js';
import { repoRoot } from '../../../lib/exec.js';
import { recordMeasurement } from '../../../lib/e2e-measure.js';
import { startScenario } from '../../../lib/e2e-scenario.js';
import type { Scenario } from '../../../lib/e2e-scenario.js';

const title = 'through the console';
let s: Scenario;
const panes: TmuxPane[] = [];
const flat = (text: string): string => text.replace(/[ \t]+/g, ' ');

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
  const pane = await startPane(tui(target), { NO_COLOR: '1', SSH_AUTH_SOCK: '' });
  panes.push(pane);
  await pane.waitFor(/^live$/m, 180_000);
  return pane;
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
  s = await startScenario('console', title);
  await ensureBuilt();
});

afterAll(async () => {
  for (const pane of panes) await pane.stop();
  await s?.stop();
});

describe(title, () => {
  it('over SSH: installs the v2 bundle with progress and reboots the gateway into it', async () => {
    const { gw } = s;
    const pane = await open(`gateway-${gw.gateway.name}`);
    expect(flat(await pane.screen())).toMatch(/A good booted primary/);

    await pane.send('i');
    await pane.waitFor('Bundle to install');
    await pane.send(s.variants.bundles.v2.path, true);
    await pane.send('Enter');
    await pane.waitFor('Press y to confirm');
    const started = Date.now();
    await pane.send('y');
    const bars = new Set<string>();
    const deadline = Date.now() + 1_200_000;
    let screen = '';
    while (Date.now() < deadline && !/Reboot .* now/.test(screen)) {
      screen = await pane.screen();
      for (const m of screen.matchAll(/(upload|install) +\[[#.]+\] +\d+%[^|\n]*/g)) bars.add(m[0].trim());
      await new Promise((r) => setTimeout(r, 200));
    }
    expect(screen).toMatch(/Reboot .* now/);
    const installed = Date.now();
    const seen = [...bars];
    expect(
      seen.some((b) => b.startsWith('upload')),
      seen.join('\n'),
    ).toBe(true);
    expect(seen.filter((b) => b.startsWith('install')).length, seen.join('\n')).toBeGreaterThan(1);

    // Break-glass for the next boot, so the serial console of B is open for the next test.
    await gw.sshOk('fw_setenv _RUT_OH_ 1');
    const bootId = await gw.bootId();
    await pane.send('y');
    await gw.waitForSlot('B', bootId, 900_000);
    const status = await gw.status();
    expect(status.rauc?.bootedSlot).toBe('B');
    expect(status.versions.os).toBe('2');
    recordMeasurement(title, 'upload and install from the console', (installed - started) / 1000);
    recordMeasurement(title, 'reboot from the console to SSH on B', (Date.now() - installed) / 1000);
    await pane.send('q');
  });

  it('over the serial console: shows the status and marks a slot good', async () => {
    const { gw } = s;
    const pane = await open(`gateway-${gw.gateway.name}-serial`);
    const screen = flat(await pane.screen());
    expect(screen).toMatch(/B \S+ booted primary/);
    expect(screen).toMatch(/A good/);

    await pane.send('B'); // mark the other slot (A) bad
    await pane.waitFor('Press y to confirm');
    await pane.send('y');
    await pane.waitFor('marked bad', 120_000);
    expect((await gw.bootEnv()).BOOT_A_LEFT).toBe('0');

    await pane.send('G'); // mark the other slot (A) good again
    await pane.waitFor('Press y to confirm');
    await pane.send('y');
    await pane.waitFor('marked good', 120_000);
    expect((await gw.bootEnv()).BOOT_A_LEFT).toBe('3');
    await pane.waitFor(/A +good/, 120_000);
    await pane.send('q');
  });

  it('SSH-on-WAN toggled from the console is seen in the firewall from the WAN side', async () => {
    const { gw } = s;
    const port = gw.gateway.state.wanSshPort;
    const pane = await open(`gateway-${gw.gateway.name}-serial`);
    expect(await wanProbe(port)).toBe(false);

    await pane.send('w');
    await pane.waitFor('Turn SSH on the WAN port ON');
    await pane.send('y');
    await pane.waitFor('SSH on the WAN port is now on.', 120_000);
    expect(await wanProbe(port)).toBe(true);

    await pane.send('w');
    await pane.waitFor('Turn SSH on the WAN port OFF');
    await pane.send('y');
    await pane.waitFor(/ssh-wan +off/, 120_000);
    expect(await wanProbe(port)).toBe(false);
    await pane.send('q');
  });
});
