// One refresh = one round trip: run `rk64-status` by name from the gateway's PATH.
import { Rk64Error } from '../errors.js';
import { asGatewayRoot, sudoRefusal } from '../privilege.js';
import type { Transport } from '../transport/transport.js';
import { parseStatus } from './validate.js';
import type { GatewayStatus } from './schema.js';

export const STATUS_COMMAND = 'rk64-status';

export async function fetchStatus(
  transport: Transport,
  options: { timeoutMs?: number; signal?: AbortSignal } = {},
): Promise<GatewayStatus> {
  const result = await transport.exec(asGatewayRoot(transport, STATUS_COMMAND), {
    timeoutMs: options.timeoutMs ?? 30_000,
    ...(options.signal ? { signal: options.signal } : {}),
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
