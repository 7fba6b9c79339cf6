// `rk64 break-glass serial:/dev/ttyUSB0`: physical recovery on the serial console (see
// src/core/break-glass.ts and docs/console.md). Progress on stderr, the result on stdout.
import { Rk64Error } from '../core/errors.js';
import { printable } from '../core/printable.js';
import type { Target } from '../core/target.js';

export interface BreakGlassArgs {
  wait: number;
}

export async function breakGlassCommand(
  target: Target,
  args: BreakGlassArgs,
  io: { stdout: NodeJS.WritableStream; stderr: NodeJS.WritableStream },
): Promise<number> {
  if (target.kind !== 'serial') {
    throw new Rk64Error(
      'usage',
      `break-glass works on the serial console only, not ${target.name}`,
      'connect the USB serial cable to UART2 and give serial:/dev/ttyUSB0',
    );
  }
  const { breakGlass } = await import('../core/break-glass.js');
  const result = await breakGlass({
    path: target.path,
    baud: target.baud,
    waitForUbootMs: args.wait * 1000,
    log: (line) => io.stderr.write(`rk64 break-glass: ${printable(line)}\n`),
  });
  io.stdout.write(
    `_RUT_OH_=1 set at the U-Boot prompt (${printable(result.uboot)}) and booted; the gateway comes up with a root ` +
      `autologin on ${target.path} for this boot only; connect with: screen ${target.path} ${target.baud}\n`,
  );
  return 0;
}
