// `rk64 history TARGET` and `rk64 why TARGET`: the gateway's lifecycle journal (status field
// `history`, src/core/lifecycle.ts) as text, as JSON, or as one sentence.
import { explain, historyLines } from '../core/lifecycle.js';
import { shown } from '../core/printable.js';
import type { GatewayStatus } from '../core/status/schema.js';
import { statusJson } from '../core/status/validate.js';

export function historyCommandOutput(status: GatewayStatus, json: boolean): string {
  if (json) {
    const doc = statusJson(status) as { history?: unknown };
    return `${JSON.stringify(doc.history ?? [])}\n`;
  }
  const { why, events } = historyLines(shown(status).history);
  if (events.length === 0) return 'the lifecycle journal is empty (or this gateway does not keep one)\n';
  return [...(why ? [`why: ${why}`, ''] : []), ...events].map((line) => `${line}\n`).join('');
}

export function whyCommandOutput(status: GatewayStatus): string {
  return `${explain(shown(status).history)}\n`;
}
