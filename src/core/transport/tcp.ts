// The TCP connection under an SSH session, opened before the SSH client is even loaded: the
// server accepts, forks and sends its greeting while this process still compiles ssh2, so the
// handshake starts without that wait (bench/console-bench). Kept apart from ssh.ts, whose chunk
// is the one being loaded meanwhile.
import { connect, type Socket } from 'node:net';
import type { SshEndpoint } from '../target.js';

export interface TcpDial {
  socket: Socket;
  /** Why the socket failed if it failed before the SSH client took it over. */
  readonly failure: (Error & { code?: string }) | undefined;
}

/** Starts connecting to the endpoint's host and port (the SSH client takes the socket over). */
export function dialTcp(endpoint: SshEndpoint): TcpDial {
  const socket = connect({ host: endpoint.host, port: endpoint.port });
  // As ssh2 sets up the sockets it opens itself.
  socket.setMaxListeners(0);
  const dial: { socket: Socket; failure: (Error & { code?: string }) | undefined } = {
    socket,
    failure: undefined,
  };
  // Remembered for the SSH client, which may start listening only after the socket failed; and
  // an 'error' nobody listens to would end the process.
  socket.on('error', (error) => {
    dial.failure ??= error;
  });
  return dial;
}
