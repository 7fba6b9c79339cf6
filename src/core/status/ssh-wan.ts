// SSH on the WAN with a deadline (`rk64-action ssh-wan on --for`): the time left, judged by the
// gateway's own clock (its collectedAt), never the console's, so a skewed laptop clock cannot
// make a deadline look later or earlier than the gateway will act on it.
import { formatDuration } from '../format.js';
import type { GatewayStatus } from './schema.js';

/** "closes in 29 min 58 s", "deadline passed", or null when there is no (readable) deadline. */
export function sshWanDeadline(status: Pick<GatewayStatus, 'collectedAt' | 'sshOnWan'>): string | null {
  const expiresAt = status.sshOnWan?.expiresAt;
  if (!status.sshOnWan?.enabled || !expiresAt) return null;
  const left = (Date.parse(expiresAt) - Date.parse(status.collectedAt)) / 1000;
  if (!Number.isFinite(left)) return null;
  return left > 0 ? `closes in ${formatDuration(left)}` : 'deadline passed';
}
