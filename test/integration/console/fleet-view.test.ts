// The fleet view end to end in a real terminal (tmux, 80×24): `rk64 tui --group site` (the built
// CLI) over five loopback gateways, each a real sshd running the real rk64-status against its own
// real RAUC service. It lists all five, filters with /, opens one gateway's dashboard on the
// fleet's own connection and comes back with Esc, and shows a gateway whose sshd was killed as
// unreachable while the others stay live.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { ensureBuilt } from '../../lib/cli.js';
import { startLoopbackGateway, type LoopbackGateway } from '../../lib/console-gateway.js';
import { startPane, type TmuxPane } from '../../lib/console-tmux.js';
import { repoRoot } from '../../lib/exec.js';
import { startRaucEnv, type RaucEnv } from '../../lib/rauc-env.js';
import { makeKey } from '../../lib/sshd.js';

const COUNT = 5;
let dir: string;
let raucs: RaucEnv[] = [];
let gws: LoopbackGateway[] = [];
let pane: TmuxPane;
const flat = (s: string) => s.replace(/[ \t]+/g, ' ');
const name = (i: number) => `gw${i + 1}`;

/** TCP connections from the console to a gateway's sshd (ESTABLISHED, on loopback). */
function connectionsTo(port: number): number {
  const out = execFileSync('ss', ['-Htn', 'state', 'established', `( dport = :${port} )`], {
    encoding: 'utf8',
  });
  return out.split('\n').filter((l) => l.trim() !== '').length;
}

/** The table row of a gateway (the line starting with its name after the selection mark). */
function rowOf(screen: string, gateway: string): string | undefined {
  return flat(screen)
    .split('\n')
    .find((l) => new RegExp(`^[ >] ?${gateway} `).test(l));
}

beforeAll(async () => {
  await ensureBuilt();
  dir = mkdtempSync(join(tmpdir(), 'rk64-fleet-view-'));
  const key = await makeKey(dir, 'id_ed25519');
  raucs = await Promise.all(Array.from({ length: COUNT }, () => startRaucEnv({ booted: 'A' })));
  gws = await Promise.all(
    raucs.map((rauc) =>
      startLoopbackGateway({
        key,
        pathPrefix: [`${rauc.dir}/bin`],
        env: {
          DBUS_SYSTEM_BUS_ADDRESS: String(rauc.env.DBUS_SYSTEM_BUS_ADDRESS),
          RK64_DATA: String(rauc.env.RK64_DATA),
          RK64_CONFIG_DIR: `${String(rauc.env.RK64_DATA)}/config`,
          RK64_RAUC_CONF: String(rauc.env.RK64_RAUC_CONF),
          RK64_CURRENT_VERSION: '2026.11.0',
        },
      }),
    ),
  );
  const knownHosts = join(dir, 'known_hosts');
  writeFileSync(knownHosts, gws.map((g) => `${g.sshd.knownHostsLine}\n`).join(''));
  const profiles = Object.fromEntries(
    gws.map((g, i) => [
      name(i),
      { type: 'ssh', host: '127.0.0.1', port: g.sshd.port, user: 'root', identity: key.path },
    ]),
  );
  const config = join(dir, 'config.json');
  writeFileSync(config, JSON.stringify({ profiles, groups: { site: gws.map((_, i) => name(i)) } }));
  const cli = [
    process.execPath,
    `${repoRoot}/bin/rk64.js`,
    'tui',
    '--group',
    'site',
    '--config',
    config,
    '--known-hosts',
    knownHosts,
    '--timeout',
    '30',
  ].join(' ');
  pane = await startPane(
    cli,
    { NO_COLOR: '1', SSH_AUTH_SOCK: '', XDG_STATE_HOME: join(dir, 'state') },
    { columns: 80, rows: 24 },
  );
  await pane.waitFor(/5 gateways/, 30_000);
}, 180_000);

afterAll(async () => {
  await pane?.stop();
  await Promise.all(gws.map((g) => g.stop().catch(() => undefined)));
  await Promise.all(raucs.map((r) => r.stop()));
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('rk64 tui --group: the fleet view', () => {
  it('lists the five gateways with the real slot, lifecycle and health, in 80 columns', async () => {
    const screen = await pane.waitFor(/(^. gw\d +ssh A .*live\n?){5}/m, 30_000);
    for (let i = 0; i < COUNT; i++) {
      const row = rowOf(screen, name(i));
      expect(row, screen).toMatch(/ ssh A \S+ \S+ \S+ off .*live$/);
    }
    expect(screen).toMatch(/5 gateways · \d+ good · 0 trying · 0 fell back · 0 bad · 0 unreachable/);
    for (const line of screen.split('\n')) expect([...line].length).toBeLessThanOrEqual(80);
  });

  it('/ filters the rows; Esc clears the filter', async () => {
    await pane.send('/');
    await pane.send('gw3', true);
    await pane.waitFor('/gw3_');
    await pane.send('Enter');
    const filtered = await pane.waitFor('filter: gw3 (1 shown)');
    expect(rowOf(filtered, 'gw3')).toBeDefined();
    for (const other of [0, 1, 3, 4]) expect(rowOf(filtered, name(other)), filtered).toBeUndefined();
  });

  it('Enter opens the dashboard on the fleet connection; Esc returns to the table', async () => {
    const gw3 = gws[2] as LoopbackGateway;
    expect(connectionsTo(gw3.sshd.port)).toBe(1);
    await pane.send('Enter');
    const dashboard = await pane.waitFor(/^gw3 · ssh:\/\/root@127\.0\.0\.1:\d+ · host \S+/m);
    expect(flat(dashboard)).toContain('02:00:00:aa:bb:01 172.20.30.101 plc-line1');
    // The dashboard borrowed the fleet's connection: still one.
    expect(connectionsTo(gw3.sshd.port)).toBe(1);
    await pane.send('Escape');
    await pane.waitFor('filter: gw3 (1 shown)');
    expect(connectionsTo(gw3.sshd.port)).toBe(1);
    await pane.send('Escape');
    const all = await pane.waitFor(/(^. gw\d .*\n?){5}/m);
    expect(rowOf(all, 'gw1')).toBeDefined();
  });

  it('a killed gateway shows as unreachable with the reason; the others stay live', async () => {
    await (gws[1] as LoopbackGateway).sshd.stop();
    await pane.send('r');
    const screen = await pane.waitFor(/^ ?.? ?gw2 .*unreachable/m, 30_000);
    expect(screen).toMatch(/refused|closed|lost/i);
    for (const i of [0, 2, 3, 4]) expect(rowOf(screen, name(i)), screen).toMatch(/live$/);
    expect(screen).toMatch(/5 gateways · .* 1 unreachable/);
  });

  it('q quits with exit 0', async () => {
    await pane.send('q');
    await expect.poll(() => pane.exitStatus(), { timeout: 10_000 }).toBe(0);
  });
});
