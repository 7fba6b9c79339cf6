// Colours for tones; NO_COLOR (https://no-color.org) turns every colour and attribute off.
import type { Tone } from '../core/dashboard/view.js';

export interface Theme {
  colors: boolean;
}

export function themeFromEnv(env: NodeJS.ProcessEnv = process.env): Theme {
  const noColor = env.NO_COLOR !== undefined && env.NO_COLOR !== '';
  return { colors: !noColor && env.TERM !== 'dumb' };
}

export interface ToneStyle {
  color?: string;
  dimColor?: boolean;
  bold?: boolean;
}

export function toneStyle(theme: Theme, tone: Tone): ToneStyle {
  if (!theme.colors) return {};
  switch (tone) {
    case 'ok':
      return { color: 'green' };
    case 'warn':
      return { color: 'yellow' };
    case 'bad':
      return { color: 'red', bold: true };
    case 'dim':
      return { dimColor: true };
    case 'normal':
      return {};
  }
}
