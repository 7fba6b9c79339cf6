// The dialogs below the panels: confirming a dangerous action, asking for a bundle to install,
// and an action running with its progress.
import { Box, Text } from 'ink';

import { actionTitle, type ActionEvent, type GatewayAction } from '../core/actions.js';
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

export const INSTALL_PROMPT =
  'Bundle to install (local .raucb path or https URL), Enter to continue, Esc to cancel:';

export function InstallPrompt({ value, theme }: { value: string; theme: Theme }) {
  return (
    <Box flexDirection="column" borderStyle={theme.colors ? 'round' : 'classic'} paddingX={1}>
      <Text>{INSTALL_PROMPT}</Text>
      <Text bold={theme.colors}>{`> ${value}_`}</Text>
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
