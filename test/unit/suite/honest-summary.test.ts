// The summary line's own test: a real vitest run of a scratch project holding each way a run can
// hide a failure, reported by the suite's summary reporter (test/lib/honest-summary.ts).
import { mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import suiteConfig from '../../../vitest.config.js';
import { repoRoot, run, type RunResult } from '../../lib/exec.js';
import { SUMMARY_PRINTER_ENV } from '../../lib/honest-summary.js';

const FILES: Record<string, string> = {
  'vitest.config.ts': `import { defineConfig } from 'vitest/config';
export default defineConfig({
  test: {
    allowOnly: false,
    include: ['*.test.ts'],
    reporters: ['default', ${JSON.stringify(join(repoRoot, 'test/lib/honest-summary.ts'))}],
  },
});
`,
  'pass.test.ts': `import { it } from 'vitest';
it('passes', () => {});
`,
  'fail.test.ts': `import { expect, it } from 'vitest';
it('passes too', () => {});
it('fails', () => { expect(1).toBe(2); });
`,
  'hook.test.ts': `import { beforeAll, it } from 'vitest';
beforeAll(() => { throw new Error('gateway never booted'); });
it('needs the gateway a', () => {});
it('needs the gateway b', () => {});
`,
  'load.test.ts': `import { it } from 'vitest';
throw new Error('cannot load');
it('never collected', () => {});
`,
  'skip.test.ts': `import { it } from 'vitest';
it('runs', () => {});
it.skip('skipped', () => {});
it.todo('todo');
it('skips itself', (ctx) => { ctx.skip('no device here'); });
`,
  'only.test.ts': `import { it } from 'vitest';
it.only('only this', () => {});
it('the rest', () => {});
`,
  'unhandled.test.ts': `import { it } from 'vitest';
it('leaves an error behind', async () => {
  setTimeout(() => { throw new Error('stray'); }, 0);
  await new Promise((r) => setTimeout(r, 50));
});
`,
  'afterall.test.ts': `import { afterAll, it } from 'vitest';
afterAll(() => { throw new Error('cleanup failed'); });
it('passes before cleanup', () => {});
`,
  'empty.test.ts': `export {};
`,
};

let project = '';

function withoutCi(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  delete env.CI;
  return env;
}

async function vitest(...args: string[]): Promise<RunResult & { summary: string }> {
  return vitestWith({}, ...args);
}

async function vitestWith(
  env: NodeJS.ProcessEnv,
  ...args: string[]
): Promise<RunResult & { summary: string }> {
  const result = await run(
    process.execPath,
    [join(repoRoot, 'node_modules/vitest/vitest.mjs'), 'run', ...args],
    {
      cwd: project,
      // Without CI set, vitest allows .only by default: only the config's allowOnly: false refuses it.
      env: { ...withoutCi(), [SUMMARY_PRINTER_ENV]: '', NO_COLOR: '1', FORCE_COLOR: '0', ...env },
      timeoutMs: 100_000,
    },
  );
  const summary = await readFile(join(project, 'test-results/summary.txt'), 'utf8');
  await rm(join(project, 'test-results'), { recursive: true });
  return { ...result, summary };
}

/** The reporter's "Counted as failed:" block, one entry per line. */
function countedAsFailed(stdout: string): string[] {
  const block = stdout.split('Counted as failed:\n')[1] ?? '';
  return block
    .split('\n')
    .filter((l) => l.startsWith('  '))
    .map((l) => l.trim());
}

describe('the suite summary counts every test that did not pass as failed', { timeout: 120_000 }, () => {
  beforeAll(async () => {
    project = await mkdtemp(join(tmpdir(), 'rk64-summary-'));
    await symlink(join(repoRoot, 'node_modules'), join(project, 'node_modules'));
    for (const [name, text] of Object.entries(FILES)) await writeFile(join(project, name), text);
  });
  afterAll(async () => {
    if (project) await rm(project, { recursive: true, force: true });
  });

  it('counts each hiding case once, in the plain last line', async () => {
    const result = await vitest();
    const failures = countedAsFailed(result.stdout);
    // What vitest itself would say about the same run, for contrast: 2 failed | 5 passed | 5 skipped | 1 todo.
    expect(failures).toEqual([
      'afterall.test.ts: file failed: cleanup failed',
      expect.stringMatching(/^empty\.test\.ts: file failed: No test suite found/),
      'fail.test.ts > fails: failed: expected 1 to be 2 // Object.is equality',
      'hook.test.ts > needs the gateway a: did not run (a hook or its suite failed, or it skipped itself)',
      'hook.test.ts > needs the gateway b: did not run (a hook or its suite failed, or it skipped itself)',
      'load.test.ts: file failed: cannot load',
      expect.stringMatching(/^only\.test\.ts > only this: failed: .*Unexpected \.only modifier/),
      'only.test.ts > the rest: skipped',
      'skip.test.ts > skipped: skipped',
      'skip.test.ts > todo: todo',
      'skip.test.ts > skips itself: skipped itself: no device here',
      'unhandled error: stray',
    ]);
    // Passed: pass, fail's first, skip's first, unhandled's test, afterall's test.
    expect(result.summary).toBe('5 passed, 12 failed\n');
    expect(result.stdout.trimEnd().split('\n').at(-1)).toBe('5 passed, 12 failed');
    expect(result.stdout).toMatch(/Wall time per layer:\n {2}default: \d+\.\d s\n/);
  });

  it('leaves tests out of a -t filter uncounted, but not the selected ones a hook skipped', async () => {
    const result = await vitest('-t', 'gateway a|passes$', 'hook.test.ts', 'pass.test.ts');
    expect(countedAsFailed(result.stdout)).toEqual([
      'hook.test.ts > needs the gateway a: did not run (a hook or its suite failed, or it skipped itself)',
    ]);
    expect(result.summary).toBe('1 passed, 1 failed\n');
    expect(result.stdout).toContain('(1 tests left out by the -t filter, not counted)');
  });

  it('leaves printing the line to scripts/test when it runs the suite, and still writes the file', async () => {
    const result = await vitestWith(
      { [SUMMARY_PRINTER_ENV]: 'scripts/test' },
      'pass.test.ts',
      'fail.test.ts',
    );
    expect(result.summary).toBe('2 passed, 1 failed\n');
    expect(result.stdout).not.toMatch(/^\d+ passed, \d+ failed$/m);
    expect(result.stdout).toContain('Counted as failed:');
    expect(await readFile(join(repoRoot, 'scripts/test'), 'utf8')).toContain(
      `${SUMMARY_PRINTER_ENV}=scripts/test npx vitest run`,
    );
  });

  it('counts a run in which no test ran as failed', async () => {
    const result = await vitest('-t', 'matches nothing', 'pass.test.ts');
    expect(result.summary).toBe('0 passed, 1 failed\n');
    expect(countedAsFailed(result.stdout)).toEqual(['no test ran']);
  });

  it("is the suite's own configuration: this reporter, and .only refused", () => {
    expect(suiteConfig.test?.allowOnly).toBe(false);
    expect(suiteConfig.test?.reporters).toEqual(['default', './test/lib/honest-summary.ts']);
  });
});
