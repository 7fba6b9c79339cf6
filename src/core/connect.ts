// Open the right transport for a target.
import type { Target } from './target.js';
import type { Transport } from './transport/transport.js';
import type { SshOptions } from './transport/ssh.js';
import type { SerialOptions } from './transport/serial.js';
import { dialTcp } from './transport/tcp.js';

export interface ConnectOptions {
  ssh?: SshOptions;
  serial?: SerialOptions;
}

export async function openTransport(target: Target, options: ConnectOptions = {}): Promise<Transport> {
  if (target.kind === 'ssh') {
    // The first hop is dialled before ssh2 loads: its server gets going meanwhile (tcp.ts).
    const dial = dialTcp(target.jump ?? target);
    const ssh = await import('./transport/ssh.js').catch((error: unknown) => {
      dial.socket.destroy();
      throw error;
    });
    return ssh.connectSsh(target, options.ssh, dial);
  }
  const { connectSerial } = await import('./transport/serial.js');
  return connectSerial(target, { ...(target.user ? { user: target.user } : {}), ...options.serial });
}
