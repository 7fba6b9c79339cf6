// The dashboard's screen before Ink has loaded: the alternate screen, the frame sink Ink will write
// into, the controller, and a first frame of the controller's first state ("connecting to …")
// drawn at once. Ink, React and Yoga take a good part of a second to load on a slow machine; the
// operator sees the dashboard meanwhile. No React here: this module runs before that chunk loads.
// Ink's own first frame of the same state has the same lines, so the sink then writes nothing new
// (test/unit/ui/dashboard-screen.test.tsx compares the two).
import {
  DashboardController,
  type DashboardOptions,
  type DashboardState,
} from '../core/dashboard/controller.js';
import { connectionLine, identityLine, versionsLine } from '../core/dashboard/view.js';
import { truncateText, wrapText } from '../core/dashboard/layout.js';
import { footerHints } from '../core/keybindings.js';
import { FrameSink, SCREEN } from './frame-writer.js';
import { themeFromEnv, toneStyle, type Theme, type ToneStyle } from './theme.js';

export interface DashboardScreenOptions extends DashboardOptions {
  /**
   * The gateway is reached over a serial line (or the operator's terminal is slow): a low frame
   * rate, a slower refresh and a slow stale-age tick, so each refresh redraws few bytes.
   */
  lowBandwidth?: boolean;
  stdout?: NodeJS.WriteStream;
  stdin?: NodeJS.ReadStream;
  stderr?: NodeJS.WriteStream;
}

/** Frame limits: the dashboard changes at most once per refresh, so a few frames a second suffice. */
export const FRAME_RATE = { normal: 10, lowBandwidth: 2 } as const;

export interface DashboardScreen {
  controller: DashboardController;
  sink: FrameSink;
  theme: Theme;
  stdin: NodeJS.ReadStream;
  stdout: NodeJS.WriteStream;
  stderr: NodeJS.WriteStream;
  /** Leaves the alternate screen and gives the terminal back (once; later calls do nothing). */
  close(): void;
}

/**
 * Enters the alternate screen and draws the first frame; null (with the reason on stderr) when
 * stdin is no terminal.
 */
export function openDashboardScreen(options: DashboardScreenOptions): DashboardScreen | null {
  const stdin = options.stdin ?? process.stdin;
  const stderr = options.stderr ?? process.stderr;
  const stdout = options.stdout ?? process.stdout;
  if (!stdin.isTTY) {
    stderr.write('rk64 tui: the dashboard needs a terminal; use --batch or --json in scripts\n');
    return null;
  }
  const controller = new DashboardController({
    ...options,
    staleTickMs: options.staleTickMs ?? (options.lowBandwidth ? 5000 : 1000),
    refreshIntervalMs: options.refreshIntervalMs ?? (options.lowBandwidth ? 10_000 : 5000),
  });
  const sink = new FrameSink(stdout, options.lowBandwidth ? FRAME_RATE.lowBandwidth : FRAME_RATE.normal);
  const theme = themeFromEnv();
  // Keys typed before Ink reads the terminal wait in it, unechoed, until Ink takes them.
  stdin.setRawMode(true);
  // Full screen like k9s: the alternate screen keeps the operator's scrollback intact.
  stdout.write(SCREEN.enter);
  sink.write(firstFrame(controller.getState(), theme, sink.rows - 1, sink.columns).join('\n'));
  sink.flush();
  let open = true;
  return {
    controller,
    sink,
    theme,
    stdin,
    stdout,
    stderr,
    close: () => {
      if (!open) return;
      open = false;
      sink.detach();
      stdout.write(SCREEN.leave);
      stdin.setRawMode(false);
    },
  };
}

/** Ink's SGR codes for the attributes this frame uses; a colour is left to Ink's first frame. */
function styled(text: string, style: ToneStyle): string {
  if (text === '') return text;
  if (style.bold) return `\u001b[1m${text}\u001b[22m`;
  if (style.dimColor) return `\u001b[2m${text}\u001b[22m`;
  return text;
}

/**
 * The lines of DashboardView (Dashboard.tsx) for a state without a status, a dialog or a notice:
 * the identity, the versions line (none yet), the connection line, a blank line, and the key hints
 * on the frame's last line. `rows` is the frame's height, as DashboardView gets it.
 */
export function firstFrame(state: DashboardState, theme: Theme, rows: number, columns: number): string[] {
  const connection = connectionLine(state);
  const top = [
    styled(truncateText(identityLine(state), columns), { bold: theme.colors }),
    // Ink gives a line with no text no row at all.
    ...[versionsLine(state)].filter((line) => line !== ''),
    ...wrapText(connection.text, columns).map((line) => styled(line, toneStyle(theme, connection.tone))),
    '',
  ];
  const footer = styled(truncateText(footerHints(state.readOnly), columns), toneStyle(theme, 'dim'));
  const lines = top.slice(0, Math.max(0, rows - 1));
  while (lines.length < rows - 1) lines.push('');
  return [...lines, footer];
}
