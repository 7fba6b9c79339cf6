// Entry point of the interactive dashboard. Loaded only by `rk64 tui` without --batch/--json,
// through a dynamic import, so batch paths never load Ink or React.
import { render } from 'ink';

import type { DashboardOptions } from '../core/dashboard/controller.js';
import { ExitCode } from '../core/errors.js';
import { internalStack } from '../core/fleet.js';
import { FleetController, type FleetViewOptions } from '../core/fleet-view.js';
import { Fleet } from './Fleet.js';
import { Dashboard } from './Dashboard.js';
import {
  FRAME_RATE,
  openDashboardScreen,
  type DashboardScreen,
  type DashboardScreenOptions,
} from './dashboard-screen.js';
import { FrameSink, SCREEN } from './frame-writer.js';
import { themeFromEnv } from './theme.js';

export interface InteractiveOptions extends DashboardScreenOptions {
  /** Print the stack of a console bug (exit 70) after its error line. */
  debug?: boolean;
}

export async function runDashboard(options: InteractiveOptions): Promise<number> {
  const screen = openDashboardScreen(options);
  if (screen === null) return ExitCode.usage;
  return showDashboard(screen, options);
}

/** Ink takes over a screen openDashboardScreen drew the first frame on; it closes the screen. */
export async function showDashboard(
  screen: DashboardScreen,
  options: { debug?: boolean } = {},
): Promise<number> {
  const { controller, sink, stderr } = screen;
  try {
    const instance = render(<Dashboard controller={controller} theme={screen.theme} />, {
      // Ink writes whole frames into the sink, which redraws only the changed lines.
      stdout: sink as unknown as NodeJS.WriteStream,
      stdin: screen.stdin,
      stderr,
      debug: true,
      exitOnCtrlC: false,
      patchConsole: false,
    });
    controller.start();
    await instance.waitUntilExit();
  } finally {
    await controller.stop();
    screen.close();
  }
  const fatal = controller.getState().fatal;
  if (fatal) {
    stderr.write(`rk64 tui: ${fatal.toLine()}\n`);
    const stack = internalStack(fatal);
    if (options.debug && stack) stderr.write(`${stack}\n`);
    return fatal.exitCode;
  }
  return ExitCode.ok;
}

export interface FleetRunOptions {
  fleet: FleetViewOptions;
  dashboard: Omit<DashboardOptions, 'gateway' | 'connect' | 'onBack'>;
  stdout?: NodeJS.WriteStream;
  stdin?: NodeJS.ReadStream;
  stderr?: NodeJS.WriteStream;
}

/** The fleet view until the operator quits; every connection is closed on the way out. */
export async function runFleetView(options: FleetRunOptions): Promise<number> {
  const stdin = options.stdin ?? process.stdin;
  const stderr = options.stderr ?? process.stderr;
  const stdout = options.stdout ?? process.stdout;
  if (!stdin.isTTY) {
    stderr.write('rk64 tui: the fleet view needs a terminal; use rk64 status --json in scripts\n');
    return ExitCode.usage;
  }
  const fleet = new FleetController(options.fleet);
  const sink = new FrameSink(stdout, FRAME_RATE.normal);
  stdout.write(SCREEN.enter);
  const instance = render(<Fleet fleet={fleet} dashboard={options.dashboard} theme={themeFromEnv()} />, {
    stdout: sink as unknown as NodeJS.WriteStream,
    stdin,
    stderr,
    debug: true,
    exitOnCtrlC: false,
    patchConsole: false,
  });
  fleet.start();
  try {
    await instance.waitUntilExit();
  } finally {
    await fleet.stop();
    sink.detach();
    stdout.write(SCREEN.leave);
  }
  return ExitCode.ok;
}
