// One refresh = one round trip: run `rk64-status` by name from the gateway's PATH.
import { Rk64Error } from '../errors.js';
import { asGatewayRoot, sudoRefusal } from '../privilege.js';
import type { Transport } from '../transport/transport.js';
import { parseStatus } from './validate.js';
import type { GatewayStatus } from './schema.js';

export const STATUS_COMMAND = 'rk64-status';

/** The status command asking for the lifecycle journal's last `history` events too (`all`: every one). */
export function statusCommandLine(history?: number | 'all'): string {
  return history === undefined ? STATUS_COMMAND : `${STATUS_COMMAND} --history ${history}`;
}

export async function fetchStatus(
  transport: Transport,
  options: {
    timeoutMs?: number;
    signal?: AbortSignal;
    history?: number | 'all';
    /** Called once the gateway runs rk64-status (ExecOptions.onStarted). */
    onStarted?: () => void;
  } = {},
): Promise<GatewayStatus> {
  const result = await transport.exec(asGatewayRoot(transport, statusCommandLine(options.history)), {
    timeoutMs: options.timeoutMs ?? 30_000,
    ...(options.signal ? { signal: options.signal } : {}),
    ...(options.onStarted ? { onStarted: options.onStarted } : {}),
  });
  const refused = sudoRefusal(transport, STATUS_COMMAND, result);
  if (refused !== null) throw new Rk64Error('remote', refused);
  if (result.exitCode === 127) {
    throw new Rk64Error(
      'remote',
      `${transport.description}: rk64-status is not on the gateway's PATH`,
      'is this an rk64 gateway? the device scripts install it to /usr/bin (test gateway) or the system profile (NixOS)',
    );
  }
  if (result.exitCode !== 0) {
    const why = (result.stderr || result.stdout).trim().split('\n').at(-1) ?? '';
    throw new Rk64Error('remote', `${transport.description}: rk64-status exited ${result.exitCode}: ${why}`);
  }
  return parseStatus(result.stdout, transport.description);
}
