// The fleet view: the table of gateways (src/core/fleet-view.ts decides everything) and, after
// Enter, the one-gateway dashboard on the fleet's own connection; Esc returns to the table.
import { Box, Text, useApp, useInput, useStdout } from 'ink';
import { useEffect, useMemo, useState, useSyncExternalStore } from 'react';

import { DashboardController, type DashboardOptions } from '../core/dashboard/controller.js';
import { wrapText } from '../core/dashboard/layout.js';
import { fleetStatusLine, fleetTable, type FleetController, type FleetState } from '../core/fleet-view.js';
import { footerHints } from '../core/keybindings.js';
import { Dashboard } from './Dashboard.js';
import type { Theme } from './theme.js';

export interface FleetProps {
  fleet: FleetController;
  /** Everything a dashboard needs but its gateway and connection. */
  dashboard: Omit<DashboardOptions, 'gateway' | 'connect' | 'onBack'>;
  theme: Theme;
}

export function Fleet({ fleet, dashboard, theme }: FleetProps) {
  const state = useSyncExternalStore(fleet.subscribe, fleet.getState);
  const { exit } = useApp();
  useInput((input, key) =>
    fleet.handleKey({
      input,
      escape: key.escape,
      return: key.return,
      backspace: key.backspace || key.delete,
      ctrl: key.ctrl,
      upArrow: key.upArrow,
      downArrow: key.downArrow,
    }),
  );
  useEffect(() => {
    if (state.quit) exit();
  }, [state.quit, exit]);

  const opened = state.opened;
  const controller = useMemo(() => {
    if (opened === null) return null;
    const c: DashboardController = new DashboardController({
      ...dashboard,
      gateway: opened,
      connect: fleet.lend(opened),
      onBack: () => fleet.back(),
    });
    return c;
  }, [opened, fleet, dashboard]);
  useEffect(() => {
    if (!controller) return;
    controller.start();
    return () => void controller.stop();
  }, [controller]);

  const { stdout } = useStdout();
  const [size, setSize] = useState({ rows: stdout.rows, columns: stdout.columns });
  useEffect(() => {
    const onResize = () => setSize({ rows: stdout.rows, columns: stdout.columns });
    stdout.on('resize', onResize);
    return () => void stdout.off('resize', onResize);
  }, [stdout]);

  if (controller) return <Dashboard controller={controller} theme={theme} />;
  return <FleetView state={state} theme={theme} rows={(size.rows ?? 25) - 1} columns={size.columns ?? 100} />;
}

/** The table screen for one state (also for tests without a terminal). */
export function FleetView({
  state,
  theme,
  rows,
  columns,
}: {
  state: FleetState;
  theme: Theme;
  rows: number;
  columns: number;
}) {
  const status = wrapText(fleetStatusLine(state), columns);
  const footer = wrapText(footerHints(state.readOnly, 'fleet'), columns);
  const table = fleetTable(state, columns, Math.max(2, rows - status.length - footer.length - 1));
  return (
    <Box flexDirection="column" width={columns} height={rows}>
      {table.map((line, i) => (
        <Text key={i} bold={i === 0 && theme.colors} wrap="truncate-end">
          {line || ' '}
        </Text>
      ))}
      <Box flexGrow={1} />
      {status.map((line, i) => (
        <Text key={`s${i}`} wrap="truncate-end">
          {line}
        </Text>
      ))}
      {footer.map((line, i) => (
        <Text key={`f${i}`} dimColor={theme.colors} wrap="truncate-end">
          {line}
        </Text>
      ))}
    </Box>
  );
}
