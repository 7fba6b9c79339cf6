// The fleet view's controller and screen with scripted transports: rows from real recorded status
// documents, the lifecycle read from the document when reported, the summary, `/` filtering,
// sorting, a gateway that cannot be reached beside the others, and 80 columns.
import { cleanup, render } from 'ink-testing-library';
import { afterEach, describe, expect, it, vi } from 'vitest';

import { Rk64Error } from '../../../src/core/errors.js';
import { FleetController, fleetTable, visibleRows } from '../../../src/core/fleet-view.js';
import { validateStatus } from '../../../src/core/status/validate.js';
import type { GatewayStatus } from '../../../src/core/status/schema.js';
import { FleetView } from '../../../src/ui/Fleet.js';
import { loadStatus } from '../../lib/console-fixtures.js';
import { FakeTransport } from '../../lib/fake-transport.js';

const controllers: FleetController[] = [];
afterEach(async () => {
  cleanup();
  await Promise.all(controllers.splice(0).map((c) => c.stop()));
});

function fleetOf(gateways: Record<string, GatewayStatus | Rk64Error>): FleetController {
  const c = new FleetController({
    targets: Object.entries(gateways).map(([name, doc]) => ({
      name,
      connect: () =>
        doc instanceof Rk64Error
          ? Promise.reject(doc)
          : Promise.resolve(new FakeTransport('ssh', `ssh://root@${name}:22`).status(() => doc)),
    })),
    fetchStatus: async (t) => validateStatus(JSON.parse((await t.exec('rk64-status')).stdout)),
    parallel: 2,
    refreshIntervalMs: 60_000,
  });
  controllers.push(c);
  return c;
}

const withLifecycle = (doc: GatewayStatus, state: string, extra: Record<string, unknown> = {}) => {
  const copy = structuredClone(doc) as unknown as { rauc: { slots: Record<string, unknown>[] } };
  for (const s of copy.rauc.slots) if (s.booted) s.lifecycle = { state, reason: null, since: null, ...extra };
  return copy as unknown as GatewayStatus;
};

describe('fleet view', () => {
  it('one row per gateway; the unreachable one named with its reason, the others live', async () => {
    const c = fleetOf({
      'shop-1': loadStatus('healthy'),
      'shop-2': new Rk64Error('refused', 'ssh://root@shop-2:22: connection refused'),
      'shop-3': withLifecycle(loadStatus('updated-unconfirmed'), 'trying', { attempt: 1, maxAttempts: 3 }),
    });
    await c.refreshNow();
    const rows = c.getState().rows;
    expect(rows.map((r) => [r.name, r.reach])).toEqual([
      ['shop-1', 'live'],
      ['shop-2', 'unreachable'],
      ['shop-3', 'live'],
    ]);
    expect(rows[1]?.reason).toContain('connection refused');
    expect(rows[2]?.lifecycle).toBe('trying 1/3');
    const table = fleetTable(c.getState(), 80, 20);
    for (const line of table) expect([...line].length).toBeLessThanOrEqual(80);
    expect(table.join('\n')).toMatch(/shop-2 .* unreachable\n {4}ssh:\/\/root@shop-2:22: connection refused/);
  });

  it('/ filters on any column, Enter keeps it, Esc clears it; s sorts', async () => {
    const c = fleetOf({
      'north-2': loadStatus('healthy'),
      'south-1': loadStatus('rolled-back'),
      'north-3': loadStatus('healthy'),
    });
    await c.refreshNow();
    const app = render(<FleetView state={c.getState()} theme={{ colors: false }} rows={23} columns={80} />);
    c.subscribe((s) =>
      app.rerender(<FleetView state={s} theme={{ colors: false }} rows={23} columns={80} />),
    );
    c.handleKey({ input: '/' });
    for (const ch of 'south') c.handleKey({ input: ch });
    expect(app.lastFrame()).toContain('/south_');
    c.handleKey({ input: '', return: true });
    expect(visibleRows(c.getState()).map((r) => r.name)).toEqual(['south-1']);
    expect(app.lastFrame()).toContain('filter: south (1 shown)');
    c.handleKey({ input: '', escape: true });
    expect(visibleRows(c.getState()).map((r) => r.name)).toEqual(['north-2', 'north-3', 'south-1']);
    c.handleKey({ input: 's' });
    expect(c.getState().sort).toBe('state');
  });

  it('Enter opens the selected gateway; the lent connection is the fleet’s and survives close()', async () => {
    const c = fleetOf({ one: loadStatus('healthy'), two: loadStatus('healthy') });
    await c.refreshNow();
    c.handleKey({ input: 'j' });
    c.handleKey({ input: '', return: true });
    expect(c.getState().opened).toBe('two');
    const lent = await c.lend('two')();
    await lent.close();
    await vi.waitFor(async () => expect((await lent.exec('rk64-status')).exitCode).toBe(0));
    c.back();
    expect(c.getState().opened).toBeNull();
  });
});
