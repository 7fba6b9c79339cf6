// Run the real, built rk64 CLI (bin/rk64.js → the bundle dist/rk64.js) as a child process.
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { RunOptions, RunResult } from './exec.js';
import { repoRoot, run, runOk } from './exec.js';

function newestMtime(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestMtime(path) : statSync(path).mtimeMs);
  }
  return newest;
}

/** Build (tsc + bundle, `npm run build`) unless the bundle is already newer than every source file. */
export async function ensureBuilt(): Promise<void> {
  let built = 0;
  try {
    built = statSync(join(repoRoot, 'dist/rk64.js')).mtimeMs;
  } catch {
    built = 0;
  }
  if (built > newestMtime(join(repoRoot, 'src'))) return;
  await runOk('npm', ['run', '--silent', 'build'], { cwd: repoRoot, timeoutMs: 180_000 });
}

export function runCli(
  args: readonly string[],
  options: RunOptions & { nodeArgs?: string[] } = {},
): Promise<RunResult> {
  return run(process.execPath, [...(options.nodeArgs ?? []), join(repoRoot, 'bin/rk64.js'), ...args], {
    timeoutMs: 60_000,
    ...options,
  });
}
