// The dashboard screen: subscribes to the DashboardController (src/core/dashboard/controller.ts),
// forwards key presses to it and renders its state. No decisions are made here.
import { Box, Text, useApp, useInput, useStdout } from 'ink';
import { useEffect, useState, useSyncExternalStore } from 'react';

import type { DashboardController, DashboardState } from '../core/dashboard/controller.js';
import { layoutPanels, PANEL_GAP, wrapText } from '../core/dashboard/layout.js';
import {
  bootLine,
  connectionLine,
  identityLine,
  panels,
  versionsLine,
  type PanelRow,
} from '../core/dashboard/view.js';
import { footerHints, visibleBindings } from '../core/keybindings.js';
import { ConfirmDialog, PromptDialog, RunningAction } from './dialogs.js';
import { HelpScreen } from './help.js';
import { Line, PanelView, RowText, titleText } from './panel.js';
import type { Theme } from './theme.js';

export interface DashboardProps {
  controller: DashboardController;
  theme: Theme;
}

export function Dashboard({ controller, theme }: DashboardProps) {
  const state = useSyncExternalStore(controller.subscribe, controller.getState);
  const { exit } = useApp();

  useInput((input, key) =>
    controller.handleKey({
      input,
      escape: key.escape,
      return: key.return,
      backspace: key.backspace || key.delete,
      ctrl: key.ctrl,
    }),
  );

  useEffect(() => {
    if (state.quit) exit();
  }, [state.quit, exit]);

  // The frame never grows past the terminal: a frame taller than the screen scrolls, and the
  // lines that scrolled off can no longer be redrawn in place.
  const { stdout } = useStdout();
  const [size, setSize] = useState({ rows: stdout.rows, columns: stdout.columns });
  useEffect(() => {
    const onResize = () => setSize({ rows: stdout.rows, columns: stdout.columns });
    stdout.on('resize', onResize);
    return () => void stdout.off('resize', onResize);
  }, [stdout]);

  return (
    <DashboardView
      state={state}
      theme={theme}
      {...(size.rows ? { rows: size.rows - 1 } : {})}
      {...(size.columns ? { columns: size.columns } : {})}
    />
  );
}

/**
 * A row wrapped by the core's wrapText, the one the frame's height is counted with (and the first
 * frame before Ink, dashboard-screen.ts), not by Ink's own wrapping, which breaks long words
 * differently.
 */
function WrappedRow({ row, columns, theme }: { row: PanelRow; columns: number; theme: Theme }) {
  return (
    <>
      {wrapText(row.text, columns).map((text, i) => (
        <RowText key={i} row={{ text, tone: row.tone }} theme={theme} />
      ))}
    </>
  );
}

/** The command line at the bottom: the exact remote command of the last action (already printable). */
export function commandLine(command: string): string {
  return `$ ${command}`;
}

/** Lines a dialog takes: its border, its text wrapped inside border and padding, its fixed lines. */
function dialogHeight(state: DashboardState, columns: number): number {
  const inner = Math.max(1, columns - 4);
  const wrapped = (text: string) => wrapText(text, inner).length;
  switch (state.overlay.kind) {
    case 'confirm':
      return 2 + wrapped(state.overlay.text) + 1;
    case 'prompt':
      return (
        2 +
        wrapped(state.overlay.prompt.question) +
        wrapped(`> ${state.overlay.value}_`) +
        (state.overlay.error === null ? 0 : wrapped(state.overlay.error))
      );
    case 'running':
      return 2 + 1 + wrapped(state.overlay.text) + 1;
    case 'help':
    case 'none':
      return 0;
  }
}

/**
 * The whole screen for one state; also used for docs/console.md's capture. With `rows`, the
 * frame is at most that tall: the panels give up rows (layout.ts) so every title, the dialogs and
 * the footer stay visible. With `columns`, no line is wider.
 */
export function DashboardView({
  state,
  theme,
  rows,
  columns = 100,
}: {
  state: DashboardState;
  theme: Theme;
  rows?: number;
  columns?: number;
}) {
  const connection = connectionLine(state);
  const boot = bootLine(state);
  const notice: PanelRow | null = state.notice && {
    text: state.notice.text,
    tone: state.notice.level === 'error' ? 'bad' : state.notice.level === 'ok' ? 'ok' : 'normal',
  };
  const fixed =
    3 + // identity, versions, blank
    wrapText(connection.text, columns).length +
    (boot ? wrapText(boot.text, columns).length : 0) +
    (notice ? wrapText(notice.text, columns).length : 0) +
    dialogHeight(state, columns) +
    (state.lastCommand === null ? 0 : 1) +
    1; // footer
  const height = rows === undefined ? Number.POSITIVE_INFINITY : Math.max(0, rows - fixed);
  const placed =
    state.status && state.overlay.kind !== 'help'
      ? layoutPanels(panels(state.status, { history: state.showHistory }), columns, height, titleText(theme))
      : [];
  return (
    <Box flexDirection="column" width={columns} {...(rows ? { height: rows } : {})}>
      <Text bold={theme.colors} wrap="truncate-end">
        {identityLine(state)}
      </Text>
      <Line row={{ text: versionsLine(state), tone: 'normal' }} theme={theme} />
      <WrappedRow row={connection} columns={columns} theme={theme} />
      {boot && <WrappedRow row={boot} columns={columns} theme={theme} />}
      <Text> </Text>
      <Box flexDirection="column" flexGrow={1} flexShrink={1} overflow="hidden">
        {state.overlay.kind === 'help' ? (
          <HelpScreen
            bindings={visibleBindings(state.readOnly).filter((b) => b.scope !== 'fleet')}
            theme={theme}
          />
        ) : (
          placed.map((line, i) => (
            <Box key={i} flexDirection="row" flexShrink={0}>
              {line.panels.map((p, j) => (
                <PanelView
                  key={p.panel.id}
                  placed={p}
                  marginRight={j < line.panels.length - 1 ? PANEL_GAP : 0}
                  marginBottom={line.gapBelow ? 1 : 0}
                  theme={theme}
                />
              ))}
            </Box>
          ))
        )}
      </Box>
      {state.overlay.kind === 'confirm' && <ConfirmDialog text={state.overlay.text} theme={theme} />}
      {state.overlay.kind === 'prompt' && (
        <PromptDialog
          question={state.overlay.prompt.question}
          value={state.overlay.value}
          error={state.overlay.error}
          theme={theme}
        />
      )}
      {state.overlay.kind === 'running' && (
        <RunningAction
          action={state.overlay.action}
          text={state.overlay.text}
          event={state.overlay.event}
          theme={theme}
        />
      )}
      {notice && <WrappedRow row={notice} columns={columns} theme={theme} />}
      {state.lastCommand !== null && (
        <Text dimColor={theme.colors} wrap="truncate-end">
          {commandLine(state.lastCommand)}
        </Text>
      )}
      <Line row={{ text: footerHints(state.readOnly), tone: 'dim' }} theme={theme} />
    </Box>
  );
}
