// Every dashboard panel rendered by Ink from recorded statuses.
import { render } from 'ink-testing-library';
import { afterEach, describe, expect, it } from 'vitest';
import { cleanup } from 'ink-testing-library';

import type { DashboardState } from '../../../src/core/dashboard/controller.js';
import { panels, type PanelId } from '../../../src/core/dashboard/view.js';
import { shown } from '../../../src/core/printable.js';
import { DashboardView } from '../../../src/ui/Dashboard.js';
import { layoutPanels } from '../../../src/core/dashboard/layout.js';
import { PanelView } from '../../../src/ui/panel.js';
import { themeFromEnv, type Theme } from '../../../src/ui/theme.js';
import { loadStatus, stateFor, type FixtureName } from '../../lib/console-fixtures.js';

const plain: Theme = { colors: false };

function frame(state: DashboardState, theme: Theme = plain): string {
  const { lastFrame } = render(<DashboardView state={state} theme={theme} />);
  return lastFrame() ?? '';
}

/** One panel rendered on its own, as the dashboard renders it. */
function panelFrame(name: FixtureName, id: PanelId): string {
  const panel = panels(shown(loadStatus(name))).find((p) => p.id === id);
  if (!panel) throw new Error(`no panel ${id}`);
  const placed = layoutPanels([panel], 100, Number.POSITIVE_INFINITY, (t) => `[ ${t} ]`)[0]?.panels[0];
  if (!placed) throw new Error(`panel ${id} not placed`);
  const { lastFrame } = render(<PanelView placed={placed} marginRight={0} marginBottom={0} theme={plain} />);
  return lastFrame() ?? '';
}

/** The line of the frame that contains `needle`, whitespace collapsed. */
function lineWith(text: string, needle: string): string {
  const lines = text.split('\n').map((l) => l.replace(/\s+/g, ' ').trim());
  return lines.find((l) => l.includes(needle)) ?? '';
}

afterEach(() => cleanup());

describe('dashboard panels', () => {
  it('healthy: both slots good, A booted and primary, watchdog fed, LAN served, SSH on WAN off', () => {
    const text = frame(stateFor(loadStatus('healthy')));
    expect(text).toContain('lab-gw · ssh://root@gw.test:22 · host rk64-lab-01');
    expect(text).toContain('os 24.11.20261120 · bundle 2026.11.20 · kernel 6.6.63');
    expect(text).toContain('up 3 d 4 h');
    expect(lineWith(text, 'A good')).toContain('A good booted primary 2026.11.20');
    expect(lineWith(text, 'B good')).toContain('B good - - 2026.11.02');
    expect(text).toContain('[ RAUC slots (rock64) ]');
    expect(lineWith(text, 'order')).toContain('order A B');
    expect(lineWith(text, 'next boot')).toContain('next boot A');
    expect(text).toContain('device /dev/watchdog0 (dw_wdt)'.replace(' ', '   '));
    expect(text).toContain('fed by systemd (RuntimeWatchdog 20s)');
    expect(text).toContain('health   passed: all checks passed');
    expect(text).toContain('ssh-wan  off (firewall drops)');
    expect(lineWith(text, 'eth1')).toBe('eth1 lan up 172.20.30.1/24');
    expect(lineWith(text, 'tun0')).toBe('tun0 vpn unknown 10.8.0.5/24');
    expect(text).toContain('DHCP leases (2)');
    expect(lineWith(text, 'plc-line1')).toBe('b8:27:eb:12:34:56 172.20.30.101 plc-line1 in 11 h');
    expect(lineWith(text, '172.20.30.102')).toBe('00:1b:21:aa:bb:cc 172.20.30.102 * in 30 min');
    expect(text).toContain('live');
    expect(text).not.toContain('not confirmed');
    expect(text).not.toContain('STALE');
  });

  it('just updated: B booted but not confirmed, one attempt used, health check running', () => {
    const slots = panelFrame('updated-unconfirmed', 'slots');
    // The lifecycle column: B's trial boot reached multi-user.target; A stays good.
    expect(lineWith(slots, 'B unknown')).toBe('B unknown booted primary 2026.11.26 booted');
    expect(lineWith(slots, 'A good')).toBe('A good - - 2026.11.20 good');
    expect(slots.replace(/\s+/g, ' ')).toContain('slot B runs but is not confirmed: press g once it works');
    const boot = panelFrame('updated-unconfirmed', 'boot');
    expect(lineWith(boot, 'B left')).toBe('B left 2');
    expect(lineWith(boot, 'order')).toBe('order B A');
    expect(lineWith(boot, 'next boot')).toBe('next boot B');
    expect(panelFrame('updated-unconfirmed', 'health')).toContain(
      'health   running: waiting for eth1 carrier',
    );
    expect(frame(stateFor(loadStatus('updated-unconfirmed')))).toContain('bundle 2026.11.26');
  });

  it("a good slot below the gateway's own maximum is unconfirmed; without the maximum RAUC's state decides", () => {
    const status = loadStatus('healthy');
    const booted = status.rauc?.slots.find((s) => s.booted)?.bootname;
    if (!status.bootState || !booted) throw new Error('fixture lacks bootState or a booted slot');
    const withCounters = (max: number | null, left: number) => ({
      ...status,
      bootState: {
        ...status.bootState!,
        maxAttempts: max,
        attemptsLeft: { ...status.bootState!.attemptsLeft, [booted]: left },
      },
    });
    const slotsText = (s: typeof status) =>
      (panels(shown(s)).find((p) => p.id === 'slots')?.rows ?? []).map((r) => r.text).join('\n');
    const tones = (s: typeof status) =>
      panels(shown(s))
        .find((p) => p.id === 'boot')
        ?.rows.map((r) => r.tone);
    expect(slotsText(withCounters(5, 3))).toContain(`slot ${booted} runs but is not confirmed`);
    expect(slotsText(withCounters(5, 5))).not.toContain('not confirmed');
    expect(slotsText(withCounters(null, 1))).not.toContain('not confirmed');
    expect(tones(withCounters(5, 3))).toContain('warn');
    expect(tones(withCounters(null, 1))).not.toContain('warn');
  });

  it('rolled back: slot B bad with no attempts left, A booted and good', () => {
    const slots = panelFrame('rolled-back', 'slots');
    expect(lineWith(slots, 'B bad')).toBe('B bad - - 2026.11.26 fell back');
    expect(lineWith(slots, 'A good')).toBe('A good booted primary 2026.11.20 good');
    expect(slots).not.toContain('not confirmed');
    // The why line, from the journal the dashboard asked for.
    expect(slots.replace(/\s+/g, ' ')).toContain(
      'why: slot B fell back to A at 00:40 UTC: the watchdog reset a hung system three times',
    );
    const boot = panelFrame('rolled-back', 'boot');
    expect(lineWith(boot, 'B left')).toBe('B left 0');
    expect(lineWith(boot, 'next boot')).toBe('next boot A');
  });

  it('history (h): the last fall-back explained on top, then the events newest first', () => {
    const status = shown(loadStatus('rolled-back'));
    expect(panels(status).map((p) => p.id)).not.toContain('history');
    const history = panels(status, { history: true }).find((p) => p.id === 'history');
    const rows = history?.rows.map((r) => r.text) ?? [];
    expect(history?.title).toBe('Lifecycle history (12, newest first)');
    expect(rows[0]).toBe(
      'why: slot B fell back to A at 00:40 UTC: the watchdog reset a hung system three times',
    );
    expect(rows[1]).toBe('2026-11-26 00:41:00  slot A marked good by os-verification');
    expect(rows.at(-1)).toBe(
      '2026-11-20 09:10:00  booted slot A, 2 of 3 attempts left; the previous boot ended: clean shutdown',
    );
    expect(rows).toContain('2026-11-26 00:40:00  slot B FELL BACK to A: its 3 attempts ran out');
  });

  it('watchdog off: says systemd does not feed it', () => {
    const text = panelFrame('watchdog-off', 'watchdog');
    expect(text).toContain('OFF: systemd does not feed it');
    expect(text).toContain('timeout  22s');
    expect(text).not.toContain('fed by systemd');
  });

  it('no leases: an empty lease table and the LAN link down', () => {
    const leases = panelFrame('no-leases', 'leases');
    expect(leases).toContain('DHCP leases (0)');
    expect(leases).toContain('no leases');
    expect(lineWith(panelFrame('no-leases', 'links'), 'eth1')).toBe('eth1 lan down -');
  });

  it('fields the gateway could not read show their reason', () => {
    const flat = (id: PanelId) => panelFrame('plain-linux', id).replace(/\s+/g, ' ');
    expect(flat('slots')).toContain('unavailable: rauc status failed: rauc: command not found');
    expect(flat('boot')).toContain('unavailable: fw_printenv: command not found');
    expect(flat('watchdog')).toContain('unavailable: no /dev/watchdog*');
    expect(flat('leases')).toContain('unavailable: /var/lib/dnsmasq/dnsmasq.leases: no such file');
    expect(flat('health')).toContain('ssh-wan off (firewall unknown)');
  });

  it('unreachable: keeps the last data, marked STALE with its age and the next retry', () => {
    const status = loadStatus('healthy');
    const now = Date.parse('2026-11-26T01:01:00Z');
    const text = frame(
      stateFor(status, {
        stale: true,
        connection: 'reconnecting',
        lastUpdateAt: now - 42_000,
        now,
        retryAt: now + 8000,
        error: 'connect ECONNREFUSED 127.0.0.1:2222',
      }),
    );
    expect(text).toContain(
      'STALE: data from 42 s ago; reconnecting; retry in 8 s: connect ECONNREFUSED 127.0.0.1:2222',
    );
    expect(lineWith(text, 'A good')).toContain('A good booted primary');
    expect(text).not.toMatch(/^live/m);
  });

  it('before the first answer: says it is connecting, and why it failed', () => {
    const text = frame(
      stateFor(null, { connection: 'connecting', error: 'connection refused', retryAt: null }),
    );
    expect(text).toContain('connecting to lab-gw…: connection refused');
    expect(text).not.toContain('RAUC slots');
  });

  it('NO_COLOR: no escape codes at all', () => {
    expect(themeFromEnv({ NO_COLOR: '1', TERM: 'xterm' }).colors).toBe(false);
    expect(themeFromEnv({ TERM: 'xterm' }).colors).toBe(true);
    const text = frame(stateFor(loadStatus('rolled-back')), themeFromEnv({ NO_COLOR: '1' }));
    expect(text).not.toContain('\u001b[');
  });
});
