// `rk64 status` and `rk64 tui --batch` as text: the dashboard's panels (src/core/dashboard/view.ts)
// printed plainly, one after another, nothing wrapped or cut. No React, no Ink: this runs in
// scripts and over dumb terminals. Colour only when asked for (a TTY and NO_COLOR unset), and the
// text reads the same without it.
import { panels, versionsText, type PanelRow, type Tone } from '../core/dashboard/view.js';
import type { Shown } from '../core/printable.js';
import type { GatewayStatus } from '../core/status/schema.js';

export interface RenderOptions {
  color: boolean;
}

export function useColor(stream: { isTTY?: boolean }, env: NodeJS.ProcessEnv): boolean {
  return Boolean(stream.isTTY) && env.NO_COLOR === undefined && env.TERM !== 'dumb';
}

/** SGR codes per tone, the dashboard's colours (src/ui/theme.ts). */
const SGR: Record<Tone, string | null> = { normal: null, ok: '32', warn: '33', bad: '1;31', dim: '2' };

function paint(options: RenderOptions, code: string | null, text: string): string {
  return options.color && code !== null ? `\x1b[${code}m${text}\x1b[0m` : text;
}

const line = (o: RenderOptions, row: PanelRow) => `  ${paint(o, SGR[row.tone], row.text)}`;

/** `s` is Shown: every gateway string in it is printable (src/core/printable.ts). */
export function renderStatusText(name: string, s: Shown<GatewayStatus>, o: RenderOptions): string {
  const out: string[] = [`${paint(o, '1', name)}  (${s.hostname ?? '-'}, collected ${s.collectedAt})`];
  const versions = versionsText(s);
  if (versions) out.push(`  ${versions}`);
  for (const panel of panels(s)) {
    out.push('', paint(o, '1', panel.title), ...panel.rows.map((row) => line(o, row)));
  }
  return `${out.join('\n')}\n`;
}
