// The dashboard's first connection and status request, started before its code (Ink, React) has
// loaded: loading takes a good part of a second on a slow machine, and the gateway can log the
// console in and run rk64-status meanwhile. The dashboard's first refresh takes both over, so the
// gateway sees the same connection and the same request as without a head start, only earlier.
import type { GatewayStatus } from '../core/status/schema.js';
import type { Transport } from '../core/transport/transport.js';

export type Connect = () => Promise<Transport>;
export type FetchStatus = (
  transport: Transport,
  signal?: AbortSignal,
  onStarted?: () => void,
) => Promise<GatewayStatus>;

export interface HeadStart {
  /** The first call returns the connection started early; later calls connect anew. */
  connect: Connect;
  /** The first request on the early connection returns the status requested early. */
  fetchStatus: FetchStatus;
  /** Closes the early connection if nobody took it over (the dashboard never started). */
  discard(): Promise<void>;
  /**
   * Resolves once the gateway runs the early rk64-status, or once connecting or the request has
   * failed: from then on the console only waits for the gateway, so loading code delays nothing.
   */
  started: Promise<void>;
}

export function headStart(connect: Connect, fetchStatus: FetchStatus): HeadStart {
  const abort = new AbortController();
  let early: Transport | null = null;
  let pendingConnection: Promise<Transport> | null = connect();
  let markStarted = (): void => undefined;
  const started = new Promise<void>((resolve) => {
    markStarted = resolve;
  });
  const requested = pendingConnection.then((transport) => {
    early = transport;
    return fetchStatus(transport, abort.signal, markStarted);
  });
  void requested.then(
    () => markStarted(),
    () => markStarted(),
  );
  let pendingStatus: Promise<GatewayStatus> | null = requested;
  // Whoever takes these over sees their failures; until then they are not unhandled.
  requested.catch(() => undefined);

  return {
    started,
    connect: () => {
      const connection = pendingConnection ?? connect();
      pendingConnection = null;
      return connection;
    },
    fetchStatus: (transport, signal) => {
      if (pendingStatus === null || transport !== early) return fetchStatus(transport, signal);
      const status = pendingStatus;
      pendingStatus = null;
      if (signal?.aborted) abort.abort();
      else signal?.addEventListener('abort', () => abort.abort(), { once: true });
      return status;
    },
    discard: async () => {
      if (pendingStatus !== null) abort.abort();
      pendingStatus = null;
      if (pendingConnection === null) return;
      const connection = pendingConnection;
      pendingConnection = null;
      const transport = await connection.catch(() => null);
      await transport?.close();
    },
  };
}
