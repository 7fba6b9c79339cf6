// Typecheck, lint, format and shellcheck are part of the test run, so a red lint is a red suite.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { repoRoot, run } from '../lib/exec.js';

const SHELL_DIRS = ['device-scripts', 'scripts', '.ci', 'test'];

/** Every file under the given folders whose first line is a bash/sh shebang. */
function shellScripts(): string[] {
  const found: string[] = [];
  const walk = (dir: string): void => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      if (entry.name === 'node_modules') continue;
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (entry.isFile() && statSync(path).size > 0) {
        const head = readFileSync(path, { encoding: 'utf8', flag: 'r' }).slice(0, 100).split('\n')[0] ?? '';
        if (/^#!.*\b(bash|sh)\b/.test(head)) found.push(relative(repoRoot, path));
      }
    }
  };
  for (const dir of SHELL_DIRS) {
    try {
      walk(join(repoRoot, dir));
    } catch {
      // folder not present in this branch
    }
  }
  return found.sort();
}

async function check(cmd: string, args: string[]): Promise<void> {
  const result = await run(cmd, args, { cwd: repoRoot, timeoutMs: 170_000 });
  expect(result.code, `${cmd} ${args.slice(0, 3).join(' ')} failed:\n${result.stdout}${result.stderr}`).toBe(
    0,
  );
}

describe('lint', { timeout: 180_000 }, () => {
  it('tsc -p tsconfig.test.json', () => check('npx', ['tsc', '-p', 'tsconfig.test.json']));
  it('eslint .', () => check('npx', ['eslint', '.']));
  it('prettier --check .', () => check('npx', ['prettier', '--check', '.', '--log-level', 'warn']));
  it('shellcheck -S warning on every shell script', async () => {
    const scripts = shellScripts();
    expect(scripts).toContain('device-scripts/rootfs/rk64-status');
    expect(scripts).toContain('scripts/setup');
    await check('shellcheck', ['-S', 'warning', '-x', ...scripts]);
  });
});
