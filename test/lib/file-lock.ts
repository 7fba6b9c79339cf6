// An exclusive lock on a file, held by flock(1) for as long as `fn` runs: the VM test files run
// two at a time (vitest.config.ts), and two files must not build the same cached artifact (the
// booted snapshot, the bundle variants) at once. flock releases the lock when its holder
// exits, so a killed run never leaves a stale lock behind.
import { spawn } from 'node:child_process';
import { mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';

export async function withFileLock<T>(path: string, fn: () => Promise<T>): Promise<T> {
  await mkdir(dirname(path), { recursive: true });
  // The holder prints once it has the lock, then waits for its stdin to close.
  const holder = spawn('flock', ['--exclusive', path, 'sh', '-c', 'echo locked; exec cat >/dev/null'], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  await new Promise<void>((resolve, reject) => {
    holder.stdout.once('data', () => resolve());
    holder.once('error', reject);
    holder.once('exit', (code) =>
      reject(new Error(`flock on ${path} ended (exit ${String(code)}) before it locked`)),
    );
  });
  try {
    return await fn();
  } finally {
    holder.stdin.end();
  }
}
