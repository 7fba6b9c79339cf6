// Where the dashboard's panels go on a terminal of a given size, React-free. The rules:
// - panels of one PANEL_LAYOUT row sit side by side only when each keeps a usable width; a panel
//   that cannot fit moves below instead of being squeezed to nothing;
// - every panel wraps its own text inside its own width (nothing runs into its neighbour);
// - when the panels are taller than the screen, the tallest ones give up rows first (a "… N more
//   lines" marker says so), so every panel's title stays on screen.
// The Ink components (src/ui/Dashboard.tsx) draw exactly these lines.
import { PANEL_LAYOUT, type Panel, type PanelRow } from './view.js';

/** Columns between panels side by side. */
export const PANEL_GAP = 2;
/** The narrowest a panel is squeezed to beside another; below it, the panel moves below instead. */
const MIN_SHARED_WIDTH = 40;

export interface PlacedPanel {
  panel: Panel;
  width: number;
  /** The title, wrapped to the width (normally one line). */
  title: string[];
  /** The rows wrapped to the width, cut to fit the height (the last one then says how much). */
  lines: PanelRow[];
}

export interface PlacedLine {
  panels: PlacedPanel[];
  /** A blank line below this row of panels. */
  gapBelow: boolean;
}

const length = (text: string) => [...text].length;

/** The text cut to at most `width` characters, its last one `…` when cut (Ink's truncate-end). */
export function truncateText(text: string, width: number): string {
  const chars = [...text];
  return chars.length <= width ? text : `${chars.slice(0, Math.max(0, width - 1)).join('')}…`;
}

/** Word-wrapped lines of at most `width` characters; a word longer than that is split. */
export function wrapText(text: string, width: number): string[] {
  const w = Math.max(1, width);
  const chars = [...text];
  if (chars.length <= w) return [text];
  const lines: string[] = [];
  let rest = chars;
  while (rest.length > w) {
    let cut = rest.lastIndexOf(' ', w);
    const head = cut > 0 ? rest.slice(0, cut) : rest.slice(0, w);
    lines.push(head.join('').trimEnd());
    rest = rest.slice(cut > 0 ? cut + 1 : w);
    // A new line never starts with the spaces of a break.
    cut = rest.findIndex((c) => c !== ' ');
    rest = cut < 0 ? [] : rest.slice(cut);
  }
  if (rest.length > 0) lines.push(rest.join(''));
  return lines;
}

function naturalWidth(panel: Panel, titleText: (title: string) => string): number {
  return Math.max(length(titleText(panel.title)), ...panel.rows.map((r) => length(r.text)));
}

/** Widths for panels side by side, or null when one of them would get less than it needs. */
function sideBySide(naturals: number[], columns: number): number[] | null {
  const total = naturals.reduce((a, b) => a + b, 0) + PANEL_GAP * (naturals.length - 1);
  if (total <= columns) return naturals;
  const widest = naturals.indexOf(Math.max(...naturals));
  const others = total - (naturals[widest] ?? 0);
  const left = columns - others;
  const needs = Math.min(naturals[widest] ?? 0, MIN_SHARED_WIDTH);
  return left >= needs ? naturals.map((n, i) => (i === widest ? left : n)) : null;
}

function place(panel: Panel, width: number, titleText: (title: string) => string): PlacedPanel {
  return {
    panel,
    width,
    title: wrapText(titleText(panel.title), width),
    lines: panel.rows.flatMap((r) => wrapText(r.text, width).map((text) => ({ text, tone: r.tone }))),
  };
}

const lineHeight = (line: PlacedLine, budget: Map<PlacedPanel, number>) =>
  Math.max(...line.panels.map((p) => p.title.length + (budget.get(p) ?? p.lines.length))) +
  (line.gapBelow ? 1 : 0);

/**
 * The panels (by id, in PANEL_LAYOUT order) placed on `columns` × `height` (the rows the panels
 * may use). `titleText` is how a title is drawn (the plain theme brackets it).
 */
export function layoutPanels(
  panels: readonly Panel[],
  columns: number,
  height: number,
  titleText: (title: string) => string = (t) => t,
): PlacedLine[] {
  const lines: PlacedLine[] = [];
  for (const ids of PANEL_LAYOUT) {
    const group = ids.map((id) => panels.find((p) => p.id === id)).filter((p): p is Panel => !!p);
    if (group.length === 0) continue;
    const naturals = group.map((p) => Math.min(naturalWidth(p, titleText), columns));
    const widths = sideBySide(naturals, columns);
    if (widths)
      lines.push({ panels: group.map((p, i) => place(p, widths[i] ?? columns, titleText)), gapBelow: true });
    else
      for (const [i, p] of group.entries())
        lines.push({ panels: [place(p, naturals[i] ?? columns, titleText)], gapBelow: true });
  }
  const last = lines.at(-1);
  if (last) last.gapBelow = false;

  // Too tall: drop the blank lines between rows of panels, then cut the tallest panel's rows, one
  // line at a time, down to one line each (the marker).
  const budget = new Map<PlacedPanel, number>();
  const total = () => lines.reduce((sum, line) => sum + lineHeight(line, budget), 0);
  for (const line of lines) if (total() > height) line.gapBelow = false;
  const all = lines.flatMap((l) => l.panels);
  while (total() > height) {
    const tallest = all
      .filter((p) => (budget.get(p) ?? p.lines.length) > 1)
      .sort((a, b) => (budget.get(b) ?? b.lines.length) - (budget.get(a) ?? a.lines.length))[0];
    if (!tallest) break;
    budget.set(tallest, (budget.get(tallest) ?? tallest.lines.length) - 1);
  }
  for (const [p, keep] of budget) {
    const hidden = p.lines.length - (keep - 1);
    const marker = wrapText(`… ${hidden} more line${hidden === 1 ? '' : 's'}`, p.width)[0] ?? '…';
    p.lines = [...p.lines.slice(0, keep - 1), { text: marker, tone: 'dim' }];
  }
  return lines;
}
