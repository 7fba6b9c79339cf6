// The dialogs below the panels: confirming a dangerous action, asking a question (a bundle to
// install, how long SSH stays open on the WAN) and an action running with its progress.
import { Box, Text } from 'ink';

import { actionTitle, type GatewayAction } from '../core/actions/catalogue.js';
import type { ActionEvent } from '../core/actions/run.js';
import { formatBytes } from '../core/format.js';
import { toneStyle, type Theme } from './theme.js';

export function ConfirmDialog({ text, theme }: { text: string; theme: Theme }) {
  return (
    <Box flexDirection="column" borderStyle={theme.colors ? 'double' : 'classic'} paddingX={1}>
      <Text {...toneStyle(theme, 'warn')}>{text}</Text>
      <Text bold={theme.colors}>Press y to confirm, n or Esc to cancel.</Text>
    </Box>
  );
}

/** A question with the answer being typed, and why the last answer was refused. */
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
