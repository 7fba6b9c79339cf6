// `rk64-action last`: how the gateway's last install ended, mirrored on the gateway to
// $RK64_DATA/rk64/last-action.json; re-read after a reconnect to learn how an interrupted install ended.
import { Rk64Error } from '../errors.js';
import { asGatewayRoot, sudoRefusal } from '../privilege.js';
import type { Transport } from '../transport/transport.js';
import { REMOTE, SHORT_ACTION_TIMEOUT_MS } from './catalogue.js';
import { lastLine, remoteFailure } from './remote-failure.js';

export interface LastAction {
  action: string;
  startedAt: string | null;
  finishedAt: string | null;
  percent: number | null;
  message: string | null;
  ok: boolean | null;
}

export async function readLastAction(transport: Transport, signal?: AbortSignal): Promise<LastAction | null> {
  const result = await transport.exec(asGatewayRoot(transport, `${REMOTE} last`), {
    timeoutMs: SHORT_ACTION_TIMEOUT_MS,
    ...(signal ? { signal } : {}),
  });
  if (result.exitCode !== 0) {
    const refused = sudoRefusal(transport, REMOTE, result);
    if (refused !== null) throw new Rk64Error('remote', refused);
    if (result.stdout.trim() === '' && result.exitCode === 3) return null;
    throw new Rk64Error(
      'remote',
      remoteFailure(`${REMOTE} last`, result.exitCode, result.stderr || result.stdout),
    );
  }
  return parseLastAction(result.stdout);
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function parseLastAction(stdout: string): LastAction | null {
  const text = stdout.trim();
  if (text === '' || text === 'null' || text === '{}') return null;
  let value: unknown;
  try {
    value = JSON.parse(text.slice(text.indexOf('{')));
  } catch {
    throw new Rk64Error('protocol', `rk64-action last printed something that is not JSON: ${lastLine(text)}`);
  }
  if (!isRecord(value) || typeof value.action !== 'string') {
    throw new Rk64Error('protocol', 'rk64-action last printed JSON without an "action" field');
  }
  const str = (v: unknown): string | null => (typeof v === 'string' ? v : null);
  return {
    action: value.action,
    startedAt: str(value.startedAt),
    finishedAt: str(value.finishedAt),
    percent: typeof value.percent === 'number' ? value.percent : null,
    message: str(value.message),
    ok: typeof value.ok === 'boolean' ? value.ok : null,
  };
}

export function describeLastAction(last: LastAction | null): string {
  if (last === null) return 'No install has run on this gateway yet.';
  if (last.finishedAt === null || last.ok === null) {
    return `${last.action} still running on the gateway (${last.percent ?? 0}%${last.message ? `: ${last.message}` : ''})`;
  }
  return `${last.action} ${last.ok ? 'succeeded' : 'FAILED'} at ${last.finishedAt}${last.message ? `: ${last.message}` : ''}`;
}
