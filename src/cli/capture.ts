// `rk64 capture serial:/dev/ttyUSB0 [--boots N]`: record the serial line without the dashboard
// (src/core/serial-capture/capture.ts). Progress on stderr; the capture file's path on stdout.
import { ExitCode, Rk64Error } from '../core/errors.js';
import { printable } from '../core/printable.js';
import type { Target } from '../core/target.js';

export async function captureCommand(
  target: Target,
  args: { boots?: number },
  io: { stdout: NodeJS.WritableStream; stderr: NodeJS.WritableStream; env: NodeJS.ProcessEnv },
): Promise<number> {
  if (target.kind !== 'serial') {
    throw new Rk64Error(
      'usage',
      `capture records a serial console, not ${target.name}`,
      'connect the USB serial cable to UART2 and give serial:/dev/ttyUSB0',
    );
  }
  if (args.boots !== undefined && (!Number.isInteger(args.boots) || args.boots < 1)) {
    throw new Rk64Error('usage', `--boots must be a whole number of at least 1, not ${args.boots}`);
  }
  const { captureSerial } = await import('../core/serial-capture/capture.js');
  const abort = new AbortController();
  const onSignal = (): void => abort.abort();
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    const result = await captureSerial({
      target,
      env: io.env,
      ...(args.boots !== undefined ? { boots: args.boots } : {}),
      signal: abort.signal,
      log: (line) => io.stderr.write(`rk64 capture: ${printable(line)}\n`),
    });
    io.stderr.write(`rk64 capture: ${printable(result.summary.sentence)}\n`);
    io.stdout.write(`${result.path}\n`);
    // The device went away (cable pulled): what was recorded is kept, and the exit says so.
    return result.stopped === 'port-closed' ? ExitCode.unreachable : ExitCode.ok;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}
