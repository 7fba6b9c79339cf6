// End to end in a real terminal: `rk64 tui` (the built CLI) in a tmux pane against the loopback
// gateway: a real sshd running the real rk64-status and rk64-action, a real RAUC service with
// file-backed slots and U-Boot environment, and the real nftables ruleset in a private namespace.
// Waits for the first frame before sending any key.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { ensureBuilt } from '../../lib/cli.js';
import { startLoopbackGateway, type LoopbackGateway } from '../../lib/console-gateway.js';
import { startPane, type TmuxPane } from '../../lib/console-tmux.js';
import { repoRoot } from '../../lib/exec.js';
import { startRaucEnv, type RaucEnv } from '../../lib/rauc-env.js';

let rauc: RaucEnv;
let gw: LoopbackGateway;
let pane: TmuxPane;
const flat = (s: string) => s.replace(/[ \t]+/g, ' ');

async function wanSshRule(): Promise<boolean> {
  const r = await gw.inNetns('nft', ['list', 'chain', 'inet', 'rk64', 'input_wan']);
  expect(r.code, r.stderr).toBe(0);
  return r.stdout.includes('comment "rk64-ssh-wan"');
}

beforeAll(async () => {
  await ensureBuilt();
  rauc = await startRaucEnv({ booted: 'A' });
  const env = rauc.env;
  gw = await startLoopbackGateway({
    pathPrefix: [`${rauc.dir}/bin`],
    env: {
      DBUS_SYSTEM_BUS_ADDRESS: String(env.DBUS_SYSTEM_BUS_ADDRESS),
      RK64_DATA: String(env.RK64_DATA),
      RK64_CONFIG_DIR: `${String(env.RK64_DATA)}/config`,
      RK64_RAUC_CONF: String(env.RK64_RAUC_CONF),
      // The version the gateway runs: older than the bundle installed below, newer than the one
      // it then refuses as a downgrade.
      RK64_CURRENT_VERSION: '2026.11.0',
    },
  });
  const cli = [
    process.execPath,
    `${repoRoot}/bin/rk64.js`,
    'tui',
    gw.url,
    '--identity',
    gw.key.path,
    '--known-hosts',
    gw.knownHostsPath,
  ].join(' ');
  pane = await startPane(cli, {
    NO_COLOR: '1',
    SSH_AUTH_SOCK: '',
    RK64_UPLOAD_DIR: `${String(env.RK64_DATA)}/rk64/uploads`,
  });
  await pane.waitFor(/^live$/m, 30_000);
});

afterAll(async () => {
  await pane?.stop();
  await gw?.stop();
  await rauc?.stop();
});

describe('rk64 tui against the loopback gateway', () => {
  it('shows the real data from rk64-status', async () => {
    const screen = flat(await pane.screen());
    expect(screen.split('\n')[0]).toMatch(new RegExp(`^${gw.url} · host \\S+$`));
    expect(screen).toMatch(/A good booted primary/);
    expect(screen).toContain('B left 3');
    expect(screen).toContain('A left 2');
    expect(screen).toContain('slot A runs but is not confirmed');
    expect(screen).toContain('eth1 lan');
    expect(screen).toContain('172.20.30.1/24');
    expect(screen).toContain('02:00:00:aa:bb:01 172.20.30.101 plc-line1');
    expect(screen).toContain('ssh-wan off (firewall drops)');
  });

  it('mark good: confirms, runs rk64-action, RAUC resets the boot counter', async () => {
    await pane.send('g');
    await pane.waitFor('Press y to confirm');
    const dialog = (await pane.screen()).replace(/[\s|]+/g, ' ');
    expect(dialog).toContain(`Mark slot A (booted) good on ${gw.url}`);
    // The attempts come from the gateway's RAUC system.conf (the shipped boot-attempts).
    expect(dialog).toContain('its boot attempts go back to 3 and');
    await pane.send('y');
    await pane.waitFor('marked good');
    await pane.waitFor(/A left +3/);
    expect(await pane.screen()).not.toContain('not confirmed');
    expect((await rauc.fwPrintenv()).BOOT_A_LEFT).toBe('3');
  });

  it('SSH-on-WAN toggle asks for the duration, shows up in the gateway’s firewall and on screen', async () => {
    expect(await wanSshRule()).toBe(false);
    await pane.send('w');
    await pane.waitFor('Keep SSH on the WAN port open for how long?');
    await pane.waitFor('> 30m_');
    await pane.send('Enter');
    await pane.waitFor('Press y to confirm');
    expect((await pane.screen()).replace(/[\s|]+/g, ' ')).toContain(
      `Turn SSH on the WAN port ON on ${gw.url} for 30 min: the firewall will accept SSH on the WAN port (eth0) from anywhere`,
    );
    await pane.send('y');
    await pane.waitFor('SSH on the WAN port is now on');
    await pane.waitFor(/ssh-wan +ON \(firewall allows\)/);
    await pane.waitFor(/closes in (29|30) min/);
    expect(await wanSshRule()).toBe(true);
    const rule = await gw.inNetns('nft', ['list', 'chain', 'inet', 'rk64', 'input_wan']);
    expect(rule.stdout).toMatch(/meta time < .*accept comment "rk64-ssh-wan"/);
    await pane.send('w');
    await pane.waitFor('Turn SSH on the WAN port OFF');
    await pane.send('n');
    await pane.waitFor('Cancelled; nothing changed.');
    expect(await wanSshRule()).toBe(true);
    await pane.send('w');
    await pane.waitFor('Turn SSH on the WAN port OFF');
    await pane.send('y');
    await pane.waitFor(/ssh-wan +off \(firewall drops\)/);
    expect(await wanSshRule()).toBe(false);
  });

  it('installs a small signed bundle with progress, then offers a reboot', async () => {
    const bundle = await rauc.bundle('2026.11.26');
    await pane.send('i');
    await pane.waitFor('Bundle to install');
    await pane.send(bundle, true);
    await pane.send('Enter');
    await pane.waitFor('Press y to confirm');
    expect((await pane.screen()).replace(/[\s|]+/g, ' ')).toContain(
      `Install ${bundle} on ${gw.url} into slot B`,
    );
    await pane.send('y');
    // Watch the progress bars go by until the reboot is offered.
    const bars = new Set<string>();
    const deadline = Date.now() + 120_000;
    let screen = '';
    while (Date.now() < deadline && !/Reboot .* now/.test(screen)) {
      screen = await pane.screen();
      for (const m of screen.matchAll(/(upload|install) +\[[#.]+\] +\d+%[^|\n]*/g)) bars.add(m[0].trim());
      await new Promise((r) => setTimeout(r, 30));
    }
    expect(screen).toMatch(/Reboot .* now/);
    expect(
      [...bars].some((b) => b.startsWith('install')),
      [...bars].join('\n'),
    ).toBe(true);
    expect(flat(screen)).toMatch(/reboot to start the new slot/);
    await pane.send('n');
    await pane.waitFor(/B +good +- +- +2026\.11\.26|B +\S+ +- +(primary|-) +2026\.11\.26/);
    const status = await rauc.raucStatus();
    expect(JSON.stringify(status)).toContain('2026.11.26');
  });

  it('a bundle older than the running version: refused, then installed only after a downgrade confirmation', async () => {
    const bundle = await rauc.bundle('2026.10.1');
    await pane.send('i');
    await pane.waitFor('Bundle to install');
    await pane.send(bundle, true);
    await pane.send('Enter');
    await pane.waitFor('Press y to confirm');
    await pane.send('y');
    await pane.waitFor('DOWNGRADE', 120_000);
    const dialog = (await pane.screen()).replace(/[\s|]+/g, ' ');
    expect(dialog).toContain(
      `Install ${bundle} on ${gw.url} into slot B although it is a DOWNGRADE from 2026.11.0 (running) to 2026.10.1 (the bundle).`,
    );
    expect(JSON.stringify(await rauc.raucStatus())).not.toContain('2026.10.1');
    await pane.send('y');
    await pane.waitFor(/Reboot .* now/, 120_000);
    await pane.send('n');
    await pane.waitFor(/B +\S+ +- +(primary|-) +2026\.10\.1/);
    expect(JSON.stringify(await rauc.raucStatus())).toContain('2026.10.1');
  });

  it('q quits with exit code 0', async () => {
    await pane.send('q');
    for (let i = 0; i < 50 && (await pane.exitStatus()) === null; i++)
      await new Promise((r) => setTimeout(r, 100));
    expect(await pane.exitStatus()).toBe(0);
  });
});
