// `rk64 history TARGET` and `rk64 why TARGET`: the gateway's lifecycle journal (status field
// `history`, src/core/lifecycle.ts) as text, as JSON, or as one sentence.
import { explain, historyLines } from '../core/lifecycle.js';
import { printable, shown } from '../core/printable.js';
import { fallBackEvidence, type SavedCapture } from '../core/serial-capture/saved.js';
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

/** The journal's sentence, sharpened by the serial capture when there is one, and the capture's own. */
export function whyCommandOutput(status: GatewayStatus, capture?: SavedCapture): string {
  const evidence = capture ? fallBackEvidence(capture.boots) : undefined;
  return `${explain(shown(status).history, evidence)}\n${capture ? captureLine(capture) : ''}`;
}

/** What the newest serial capture of the target says, as one line (its text came off the wire). */
export function captureLine(capture: SavedCapture): string {
  const at = capture.summary.last?.at.toISOString().replace(/\.\d+Z$/, 'Z');
  return `serial capture${at ? ` (last boot ${at})` : ''}: ${printable(capture.summary.sentence)}\n`;
}
