// The help screen: every key the keybinding table offers in this mode (src/core/keybindings.ts).
import { Box, Text } from 'ink';

import type { KeyBinding } from '../core/keybindings.js';
import { toneStyle, type Theme } from './theme.js';

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
