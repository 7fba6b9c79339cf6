// Entry point of the interactive dashboard. Loaded only by `rk64 tui` without --batch/--json,
// through a dynamic import, so batch paths never load Ink or React.
import { render } from 'ink';

import { DashboardController, type DashboardOptions } from '../core/dashboard/controller.js';
import { ExitCode } from '../core/errors.js';
import { Dashboard } from './Dashboard.js';
import { themeFromEnv } from './theme.js';

export interface InteractiveOptions extends DashboardOptions {
  /**
   * The gateway is reached over a serial line (or the operator's terminal is slow): a low frame
   * rate and a slow stale-age tick, so each refresh redraws few bytes.
   */
  lowBandwidth?: boolean;
  stdout?: NodeJS.WriteStream;
  stdin?: NodeJS.ReadStream;
  stderr?: NodeJS.WriteStream;
}

/** Frame limits: the dashboard changes at most once per refresh, so a few frames a second suffice. */
export const FRAME_RATE = { normal: 10, lowBandwidth: 2 } as const;

export async function runDashboard(options: InteractiveOptions): Promise<number> {
  const stdin = options.stdin ?? process.stdin;
  const stderr = options.stderr ?? process.stderr;
  if (!stdin.isTTY) {
    stderr.write('rk64 tui: the dashboard needs a terminal; use --batch or --json in scripts\n');
    return ExitCode.usage;
  }
  const controller = new DashboardController({
    ...options,
    staleTickMs: options.staleTickMs ?? (options.lowBandwidth ? 5000 : 1000),
    refreshIntervalMs: options.refreshIntervalMs ?? (options.lowBandwidth ? 10_000 : 5000),
  });
  const instance = render(<Dashboard controller={controller} theme={themeFromEnv()} />, {
    stdout: options.stdout ?? process.stdout,
    stdin,
    stderr,
    exitOnCtrlC: false,
    patchConsole: false,
    incrementalRendering: true,
    maxFps: options.lowBandwidth ? FRAME_RATE.lowBandwidth : FRAME_RATE.normal,
  });
  controller.start();
  await instance.waitUntilExit();
  await controller.stop();
  const fatal = controller.getState().fatal;
  if (fatal) {
    stderr.write(`rk64 tui: ${fatal.toLine()}\n`);
    return fatal.exitCode;
  }
  return ExitCode.ok;
}
