// Many gateways at once: run a task per target with a concurrency limit; every target gets its
// own result, so one unreachable gateway never hides the others.
import { Rk64Error } from './errors.js';

export type FleetResult<T, R> =
  { target: T; ok: true; value: R } | { target: T; ok: false; error: Rk64Error };

/**
 * Every failure as an Rk64Error. Anything else thrown is the console's own bug (a TypeError, a
 * failed assertion): kind `internal`, never taken for a gateway's failure or a lost connection.
 */
export function asRk64Error(error: unknown): Rk64Error {
  if (error instanceof Rk64Error) return error;
  const what = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  return new Rk64Error(
    'internal',
    `bug in the rk64 console: ${what}`,
    'please report it with the output of the same command with --debug (it shows the stack)',
    { cause: error },
  );
}

/** The stack of the bug behind an internal error (for --debug), or undefined. */
export function internalStack(error: Rk64Error): string | undefined {
  if (error.kind !== 'internal') return undefined;
  const cause: unknown = error.cause;
  return cause instanceof Error && cause.stack ? cause.stack : error.stack;
}

export async function runFleet<T, R>(
  targets: readonly T[],
  limit: number,
  task: (target: T) => Promise<R>,
  onResult?: (result: FleetResult<T, R>, index: number) => void,
): Promise<FleetResult<T, R>[]> {
  const results = new Array<FleetResult<T, R>>(targets.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < targets.length) {
      const index = next++;
      const target = targets[index] as T;
      let result: FleetResult<T, R>;
      try {
        result = { target, ok: true, value: await task(target) };
      } catch (error) {
        result = { target, ok: false, error: asRk64Error(error) };
      }
      results[index] = result;
      onResult?.(result, index);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, targets.length)) }, worker));
  return results;
}
