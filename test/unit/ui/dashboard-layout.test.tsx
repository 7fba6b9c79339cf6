// The dashboard's layout holds at the terminal sizes operators use: with every panel in its error
// state (long reasons), with 30 leases, and with one long error beside a short panel, every
// panel's title is on screen, no line is wider than the terminal and the frame is no taller.
import { renderToString } from 'ink';
import { describe, expect, it } from 'vitest';

import { panels } from '../../../src/core/dashboard/view.js';
import { shown } from '../../../src/core/printable.js';
import type { GatewayStatus } from '../../../src/core/status/schema.js';
import { DashboardView } from '../../../src/ui/Dashboard.js';
import { loadStatus, stateFor } from '../../lib/console-fixtures.js';

const SIZES: [number, number][] = [
  [80, 24],
  [100, 30],
  [120, 40],
];

const LONG =
  'the collector timed out after 10 s while the gateway was under load; the last thing it printed was ' +
  '"Failed to connect to bus: No such file or directory" and the service manager did not answer either';

function everyPanelFailing(): GatewayStatus {
  const s = loadStatus('healthy');
  const fields = ['rauc', 'bootState', 'watchdog', 'links', 'leases', 'sshOnWan', 'health'] as const;
  return {
    ...s,
    rauc: null,
    bootState: null,
    watchdog: null,
    links: null,
    leases: null,
    sshOnWan: null,
    health: null,
    firstBootCompleted: null,
    errors: fields.map((field) => ({ field, reason: `${field}: ${LONG}` })),
  };
}

function thirtyLeases(): GatewayStatus {
  const s = loadStatus('healthy');
  return {
    ...s,
    leases: Array.from({ length: 30 }, (_, i) => ({
      mac: `b8:27:eb:12:34:${i.toString(16).padStart(2, '0')}`,
      ip: `172.20.30.${100 + i}`,
      hostname: `plc-line${i}`,
      expiresAt: '2026-11-26T12:00:00Z',
    })),
  };
}

/** The case: RAUC's service is down, its long error beside the boot counters. */
function raucDown(): GatewayStatus {
  const s = loadStatus('healthy');
  return {
    ...s,
    rauc: null,
    errors: [{ field: 'rauc', reason: `rauc status failed: ${LONG}` }],
  };
}

const CASES: [string, () => GatewayStatus][] = [
  ['every panel failing with long reasons', everyPanelFailing],
  ['30 leases', thirtyLeases],
  ['the RAUC service down', raucDown],
];

function frame(status: GatewayStatus, columns: number, rows: number): string[] {
  const text = renderToString(
    <DashboardView state={stateFor(status)} theme={{ colors: false }} rows={rows - 1} columns={columns} />,
    { columns },
  );
  return text.split('\n');
}

describe('dashboard layout', () => {
  for (const [name, make] of CASES) {
    for (const [columns, rows] of SIZES) {
      it(`${name} at ${columns}×${rows}: every panel's title on screen, nothing wider or taller`, () => {
        const status = make();
        const lines = frame(status, columns, rows);
        const screen = lines.join('\n');
        for (const panel of panels(shown(status))) {
          expect(screen, `title "${panel.title}" missing:\n${screen}`).toContain(`[ ${panel.title} ]`);
        }
        for (const line of lines) expect([...line].length, `too wide:\n${line}`).toBeLessThanOrEqual(columns);
        expect(lines.length).toBeLessThanOrEqual(rows - 1);
      });
    }
  }

  it('a long reason wraps inside its own panel, beside the boot counters, none of it cut off', () => {
    const lines = frame(raucDown(), 120, 40);
    const top = lines.findIndex((l) => l.includes('[ Boot counters ]'));
    const column = lines[top]?.indexOf('[ Boot counters ]') ?? -1;
    expect(column).toBeGreaterThan(40);
    const panel = lines.slice(top, top + 8);
    const left = panel.map((l) => l.slice(0, column).trim()).join(' ');
    const right = panel.map((l) => l.slice(column).trim());
    expect(left).toContain(`unavailable: rauc status failed: ${LONG}`);
    expect(right).toEqual(expect.arrayContaining(['order      A B', 'next boot  A', 'break-glass off']));
  });
});
