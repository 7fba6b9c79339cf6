// `rk64 tui` connects and asks for the status before Ink loads (src/cli/head-start.ts); the
// dashboard's first refresh takes both over. The gateway must see what it saw without the head
// start: one connection and one rk64-status for the first frame with data, a connection nobody
// took over closed, a quit cancelling the early request.
import { describe, expect, it } from 'vitest';

import { headStart } from '../../../src/cli/head-start.js';
import { DashboardController } from '../../../src/core/dashboard/controller.js';
import { Rk64Error } from '../../../src/core/errors.js';
import { fetchStatus } from '../../../src/core/status/fetch.js';
import type { GatewayStatus } from '../../../src/core/status/schema.js';
import type { Transport } from '../../../src/core/transport/transport.js';
import { fetchStatusJson, loadStatus } from '../../lib/console-fixtures.js';
import { FakeTransport } from '../../lib/fake-transport.js';

/** A connect function that hands out the given transports in order and counts its calls. */
function connections(...transports: FakeTransport[]) {
  const made: FakeTransport[] = [];
  const connect = (): Promise<Transport> => {
    const next = transports[made.length];
    if (!next) return Promise.reject(new Error(`unexpected connection #${made.length + 1}`));
    made.push(next);
    return Promise.resolve(next);
  };
  return { connect, made };
}

const status = loadStatus('healthy');

describe('the head start of rk64 tui', () => {
  it('connects and requests the status at once, before the dashboard asks', async () => {
    const gateway = new FakeTransport().status(status);
    const { connect, made } = connections(gateway);
    const head = headStart(connect, (t) => fetchStatusJson(t));
    await new Promise((r) => setTimeout(r, 10));
    expect(made).toEqual([gateway]);
    expect(gateway.commands).toEqual(['rk64-status']);
    await head.discard();
  });

  it("the dashboard's first refresh takes over the connection and the status: one of each", async () => {
    const gateway = new FakeTransport().status(status);
    const { connect, made } = connections(gateway);
    const head = headStart(connect, (t) => fetchStatusJson(t));
    const controller = new DashboardController({
      gateway: 'gw',
      connect: head.connect,
      fetchStatus: head.fetchStatus,
      refreshIntervalMs: 60_000,
    });
    controller.start();
    await new Promise((r) => setTimeout(r, 10));
    await controller.settled();
    expect(controller.getState().connection).toBe('connected');
    expect(controller.getState().status?.hostname).toBe(status.hostname);
    expect(made).toHaveLength(1);
    expect(gateway.commands).toEqual(['rk64-status']);
    // The next refresh asks the gateway again, on the same connection.
    await controller.refreshNow();
    expect(gateway.commands).toEqual(['rk64-status', 'rk64-status']);
    await controller.stop();
    await head.discard();
    expect(made).toHaveLength(1);
  });

  it('after the first connection, connect() connects anew (a reconnect is a new connection)', async () => {
    const first = new FakeTransport();
    const second = new FakeTransport();
    const { connect, made } = connections(first, second);
    const head = headStart(connect, () => new Promise<GatewayStatus>(() => undefined));
    expect(await head.connect()).toBe(first);
    expect(await head.connect()).toBe(second);
    expect(made).toEqual([first, second]);
    await head.discard();
    expect(first.closed).toBe(false); // taken over: its closing is the dashboard's business
  });

  it('closes the early connection when the dashboard never took it over', async () => {
    const gateway = new FakeTransport().status(status);
    const { connect } = connections(gateway);
    const head = headStart(connect, (t) => fetchStatusJson(t));
    await head.discard();
    expect(gateway.closed).toBe(true);
  });

  it("a quit cancels the early status request through the dashboard's signal", async () => {
    const gateway = new FakeTransport();
    const { connect } = connections(gateway);
    let earlySignal: AbortSignal | undefined;
    const head = headStart(connect, (_t, signal) => {
      earlySignal = signal;
      return new Promise<GatewayStatus>((_resolve, reject) =>
        signal?.addEventListener('abort', () => reject(new Rk64Error('aborted', 'cancelled'))),
      );
    });
    const transport = await head.connect();
    const quit = new AbortController();
    const request = head.fetchStatus(transport, quit.signal);
    expect(earlySignal?.aborted).toBe(false);
    quit.abort();
    await expect(request).rejects.toThrow('cancelled');
    await head.discard();
  });

  it('an early failure reaches the dashboard as its own connect error, and is not unhandled before', async () => {
    const refused = new Rk64Error('refused', 'ssh://root@gw:22: connection refused');
    const head = headStart(
      () => Promise.reject(refused),
      () => Promise.reject(new Error('no status without a connection')),
    );
    // Left alone for a while: an unhandled rejection here would fail the test run.
    await new Promise((r) => setTimeout(r, 20));
    await expect(head.connect()).rejects.toBe(refused);
    await head.discard();
  });

  it('started: once the gateway runs the early rk64-status, not before; or once connecting failed', async () => {
    let answer = (_: GatewayStatus): void => undefined;
    const gateway = new FakeTransport().status(status);
    const { connect } = connections(gateway);
    let settledAt: string | null = null;
    const head = headStart(connect, (t, signal, onStarted) =>
      fetchStatus(t, { ...(signal ? { signal } : {}), ...(onStarted ? { onStarted } : {}) }).then(
        (s) => new Promise<GatewayStatus>((resolve) => (answer = () => resolve(s))),
      ),
    );
    void head.started.then(() => (settledAt = gateway.commands.join(',')));
    await new Promise((r) => setTimeout(r, 10));
    expect(settledAt).toBe('rk64-status');
    answer(status);
    await head.discard();

    const refused = new Rk64Error('auth', 'gw: permission denied');
    const failing = headStart(
      () => Promise.reject(refused),
      () => Promise.reject(new Error('never asked')),
    );
    await failing.started;
    await expect(failing.connect()).rejects.toBe(refused);
    await failing.discard();
  });
});
