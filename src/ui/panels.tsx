// Presentational components: each renders rows the view-model (src/core/dashboard/view.ts) made.
// Panels are memoised on their content, so a refresh that changes one panel re-renders only it,
// and Ink's incremental rendering then rewrites only the lines that changed.
import { Box, Text } from 'ink';
import { memo } from 'react';

import { actionTitle, type GatewayAction } from '../core/actions/catalogue.js';
import type { ActionEvent } from '../core/actions/run.js';
import { formatBytes } from '../core/format.js';
import type { Panel, PanelRow } from '../core/dashboard/view.js';
import type { KeyBinding } from '../core/keybindings.js';
import { toneStyle, type Theme } from './theme.js';

export function RowText({ row, theme }: { row: PanelRow; theme: Theme }) {
  return (
    // Warnings and reasons wrap so nothing of them is lost; table rows keep their columns.
    <Text
      {...toneStyle(theme, row.tone)}
      wrap={row.tone === 'warn' || row.tone === 'bad' ? 'wrap' : 'truncate-end'}
    >
      {row.text}
    </Text>
  );
}

function PanelViewInner({ panel, theme }: { panel: Panel; theme: Theme }) {
  return (
    <Box flexDirection="column" marginRight={2} marginBottom={1} flexShrink={0}>
      <Text bold={theme.colors} underline={theme.colors}>
        {theme.colors ? panel.title : `[ ${panel.title} ]`}
      </Text>
      {panel.rows.map((row, i) => (
        <RowText key={i} row={row} theme={theme} />
      ))}
    </Box>
  );
}

export const PanelView = memo(
  PanelViewInner,
  (a, b) => a.theme.colors === b.theme.colors && JSON.stringify(a.panel) === JSON.stringify(b.panel),
);

export const Line = memo(
  function Line({ row, theme }: { row: PanelRow; theme: Theme }) {
    return <RowText row={row} theme={theme} />;
  },
  (a, b) => a.theme.colors === b.theme.colors && a.row.text === b.row.text && a.row.tone === b.row.tone,
);

export function HelpScreen({ bindings, theme }: { bindings: KeyBinding[]; theme: Theme }) {
  const width = Math.max(...bindings.map((b) => b.label.length));
  return (
    <Box flexDirection="column" borderStyle={theme.colors ? 'round' : 'classic'} paddingX={1}>
      <Text bold={theme.colors}>Keys (? or Esc closes)</Text>
      {bindings.map((b) => (
        <Text key={b.id} {...(b.dangerous ? toneStyle(theme, 'warn') : {})}>
          {`${b.label.padEnd(width)}  ${b.description}${b.dangerous ? ' [asks to confirm]' : ''}${
            b.scope === 'dialog' ? ' (in a dialog)' : ''
          }`}
        </Text>
      ))}
    </Box>
  );
}

export function ConfirmDialog({ text, theme }: { text: string; theme: Theme }) {
  return (
    <Box flexDirection="column" borderStyle={theme.colors ? 'double' : 'classic'} paddingX={1}>
      <Text {...toneStyle(theme, 'warn')}>{text}</Text>
      <Text bold={theme.colors}>Press y to confirm, n or Esc to cancel.</Text>
    </Box>
  );
}

export function PromptDialog({
  question,
  value,
  error,
  theme,
}: {
  question: string;
  value: string;
  error: string | null;
  theme: Theme;
}) {
  return (
    <Box flexDirection="column" borderStyle={theme.colors ? 'round' : 'classic'} paddingX={1}>
      <Text>{question}</Text>
      <Text bold={theme.colors}>{`> ${value}_`}</Text>
      {error !== null && <Text {...toneStyle(theme, 'bad')}>{error}</Text>}
    </Box>
  );
}

export function progressBar(fraction: number, width = 30): string {
  const f = Math.min(1, Math.max(0, fraction));
  const filled = Math.round(f * width);
  return `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${Math.floor(f * 100)
    .toString()
    .padStart(3)}%`;
}

export function progressText(event: ActionEvent | null): string {
  if (event === null) return 'starting…';
  if (event.phase === 'upload') {
    const fraction = event.totalBytes === 0 ? 1 : event.bytesSent / event.totalBytes;
    return `upload  ${progressBar(fraction)}  ${formatBytes(event.bytesSent)} / ${formatBytes(
      event.totalBytes,
    )}  ${formatBytes(Math.round(event.bytesPerSecond))}/s`;
  }
  return `install ${progressBar(event.percent / 100)}  ${event.message}`;
}

export function RunningAction({
  action,
  text,
  event,
  theme,
}: {
  action: GatewayAction;
  text: string;
  event: ActionEvent | null;
  theme: Theme;
}) {
  return (
    <Box flexDirection="column" borderStyle={theme.colors ? 'round' : 'classic'} paddingX={1}>
      <Text bold={theme.colors}>{`Running: ${actionTitle(action)} (keys are blocked until it ends)`}</Text>
      <Text>{text}</Text>
      <Text {...toneStyle(theme, 'ok')}>{progressText(event)}</Text>
    </Box>
  );
}
