// The one place the interactive dashboard plugs in. The console team replaces the body of
// `runInteractive` with a dynamic `import('../ui/…')`, so Ink/React load only on this path and
// never for `rk64 status`, `--batch` or `--json`.
import { Rk64Error } from '../core/errors.js';
import type { Target } from '../core/target.js';
import type { ConnectOptions } from '../core/connect.js';

export interface InteractiveOptions {
  target: Target;
  connect: ConnectOptions;
  readOnly: boolean;
  timeoutMs: number;
}

/** Run the interactive dashboard until the user quits; resolves to the process exit code. */
export async function runInteractive(_options: InteractiveOptions): Promise<number> {
  throw new Rk64Error(
    'usage',
    'the interactive dashboard is not part of this build',
    'use --batch or --json',
  );
}
