// Open the right transport for a target.
import type { Target } from './target.js';
import type { Transport } from './transport/transport.js';
import type { SshOptions } from './transport/ssh.js';
import type { SerialOptions } from './transport/serial.js';

export interface ConnectOptions {
  ssh?: SshOptions;
  serial?: SerialOptions;
}

export async function openTransport(target: Target, options: ConnectOptions = {}): Promise<Transport> {
  if (target.kind === 'ssh') {
    const { connectSsh } = await import('./transport/ssh.js');
    return connectSsh(target, options.ssh);
  }
  const { connectSerial } = await import('./transport/serial.js');
  return connectSerial(target, { ...(target.user ? { user: target.user } : {}), ...options.serial });
}
