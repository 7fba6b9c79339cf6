// The dashboard screen: subscribes to the DashboardController (src/core/dashboard/controller.ts),
// forwards key presses to it and renders its state. No decisions are made here.
import { Box, Text, useApp, useInput, useStdout } from 'ink';
import { useEffect, useState, useSyncExternalStore } from 'react';

import type { DashboardController, DashboardState } from '../core/dashboard/controller.js';
import { connectionLine, identityLine, panels, versionsLine, type Panel } from '../core/dashboard/view.js';
import { footerHints, visibleBindings } from '../core/keybindings.js';
import {
  ConfirmDialog,
  HelpScreen,
  PromptDialog,
  Line,
  PanelView,
  RowText,
  RunningAction,
} from './panels.js';
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
  const [rows, setRows] = useState(stdout.rows);
  useEffect(() => {
    const onResize = () => setRows(stdout.rows);
    stdout.on('resize', onResize);
    return () => void stdout.off('resize', onResize);
  }, [stdout]);

  return <DashboardView state={state} theme={theme} {...(rows ? { rows: rows - 1 } : {})} />;
}

/**
 * The whole screen for one state; also used for docs/console.md's capture. With `rows`, the
 * panels are clipped so the frame is exactly that tall and the dialogs and footer stay visible.
 */
export function DashboardView({
  state,
  theme,
  rows,
}: {
  state: DashboardState;
  theme: Theme;
  rows?: number;
}) {
  const all: Panel[] = state.status ? panels(state.status) : [];
  const byId = (id: Panel['id']) => all.find((p) => p.id === id);
  return (
    <Box flexDirection="column" {...(rows ? { height: rows } : {})}>
      <Text bold={theme.colors} wrap="truncate-end">
        {identityLine(state)}
      </Text>
      <Line row={{ text: versionsLine(state), tone: 'normal' }} theme={theme} />
      <Line row={connectionLine(state)} theme={theme} />
      <Text> </Text>
      <Box flexDirection="column" flexGrow={1} flexShrink={1} overflow="hidden">
        {state.overlay.kind === 'help' ? (
          <HelpScreen bindings={visibleBindings(state.readOnly)} theme={theme} />
        ) : (
          <>
            <PanelPair left={byId('slots')} right={byId('boot')} theme={theme} />
            <PanelPair left={byId('watchdog')} right={byId('health')} theme={theme} />
            {byId('links') && <PanelView panel={byId('links') as Panel} theme={theme} />}
            {byId('leases') && <PanelView panel={byId('leases') as Panel} theme={theme} />}
          </>
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
      {state.notice && (
        <RowText
          row={{
            text: state.notice.text,
            tone: state.notice.level === 'error' ? 'bad' : state.notice.level === 'ok' ? 'ok' : 'normal',
          }}
          theme={theme}
        />
      )}
      <Line row={{ text: footerHints(state.readOnly), tone: 'dim' }} theme={theme} />
    </Box>
  );
}

function PanelPair({
  left,
  right,
  theme,
}: {
  left: Panel | undefined;
  right: Panel | undefined;
  theme: Theme;
}) {
  if (!left && !right) return null;
  return (
    <Box flexDirection="row" flexShrink={0}>
      {left && <PanelView panel={left} theme={theme} />}
      {right && <PanelView panel={right} theme={theme} />}
    </Box>
  );
}
