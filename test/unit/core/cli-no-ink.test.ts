// Batch and JSON paths must never load Ink or React (they run in scripts, over pipes, without a
// TTY). The built CLI runs under a module-resolution hook that fails on any ink/react import.
import { beforeAll, describe, expect, it } from 'vitest';
import { ensureBuilt, runCli } from '../../lib/cli.js';
import { repoRoot, run } from '../../lib/exec.js';

const hook = `
import { register } from 'node:module';
register('data:text/javascript,' + encodeURIComponent(\`
  export async function resolve(specifier, context, next) {
    if (/^(ink|react)(\\\\/|$)/.test(specifier) || /^ink-/.test(specifier)) {
      throw new Error('FORBIDDEN-IMPORT ' + specifier);
    }
    return next(specifier, context);
  }\`));
`;
const nodeArgs = ['--import', `data:text/javascript,${encodeURIComponent(hook)}`];

beforeAll(async () => {
  await ensureBuilt();
}, 120_000);

describe('batch paths do not load ink/react', () => {
  it('the hook itself catches an ink import (so the checks below can fail)', async () => {
    const result = await run(
      process.execPath,
      [...nodeArgs, '-e', "import('ink').catch((e) => { console.error(String(e)); process.exit(9); })"],
      {
        cwd: repoRoot,
      },
    );
    expect(result.stderr).toContain('FORBIDDEN-IMPORT ink');
    expect(result.code).toBe(9);
  });

  it.each([
    [['status', '--json', '--identity', '/dev/null', 'ssh://127.0.0.1:1']],
    [['status', 'serial:/tmp/rk64-no-such-tty']],
    [['tui', '--batch', 'serial:/tmp/rk64-no-such-tty']],
    [['tui', '--json', 'serial:/tmp/rk64-no-such-tty']],
    [['tui', 'serial:/tmp/rk64-no-such-tty']],
    [['--help']],
  ])('rk64 %j', async (args) => {
    const result = await runCli(args, { nodeArgs, env: { ...process.env, NO_COLOR: '1' } });
    expect(result.stderr).not.toContain('FORBIDDEN-IMPORT');
    expect(result.stderr).not.toContain('internal error');
    expect(result.code).not.toBeNull();
  });
});
