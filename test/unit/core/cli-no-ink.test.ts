// Batch and JSON paths must never load Ink or React (they run in scripts, over pipes, without a
// TTY). The CLI is a bundle (scripts/bundle.js): Ink and React live in the chunks esbuild's
// metafile says hold them. The built CLI runs under a module-resolution hook that fails on any
// import of those chunks, or of ink/react themselves.
import { readdirSync, readFileSync } from 'node:fs';
import { builtinModules, createRequire } from 'node:module';
import { basename, join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { ensureBuilt, runCli } from '../../lib/cli.js';
import { repoRoot, run } from '../../lib/exec.js';

interface Metafile {
  outputs: Record<string, { inputs: Record<string, unknown> }>;
}

let inkChunks: string[] = [];
let yargsChunks: string[] = [];
let nodeArgs: string[] = [];

function hookFor(forbiddenFiles: string[]): string[] {
  const hook = `
import { register } from 'node:module';
register('data:text/javascript,' + encodeURIComponent(\`
  const forbidden = ${JSON.stringify(forbiddenFiles)};
  export async function resolve(specifier, context, next) {
    if (/^(ink|react)(\\\\/|$)/.test(specifier) || /^ink-/.test(specifier)) {
      throw new Error('FORBIDDEN-IMPORT ' + specifier);
    }
    const resolved = await next(specifier, context);
    if (forbidden.some((file) => resolved.url.endsWith('/' + file))) {
      throw new Error('FORBIDDEN-IMPORT ' + resolved.url);
    }
    return resolved;
  }\`));
`;
  return ['--import', `data:text/javascript,${encodeURIComponent(hook)}`];
}

beforeAll(async () => {
  await ensureBuilt();
  const meta = JSON.parse(readFileSync(join(repoRoot, 'dist/bundle-meta.json'), 'utf8')) as Metafile;
  const chunksWith = (input: RegExp) =>
    Object.entries(meta.outputs)
      .filter(([out, o]) => out.endsWith('.js') && Object.keys(o.inputs).some((i) => input.test(i)))
      .map(([out]) => `chunks/${basename(out)}`);
  inkChunks = chunksWith(/node_modules\/(ink|react)\//);
  yargsChunks = chunksWith(/node_modules\/(yargs|cliui|string-width)\//);
  nodeArgs = hookFor(inkChunks);
}, 240_000);

describe('batch paths do not load ink/react', () => {
  it('the bundle keeps Ink and React in chunks of their own, out of dist/rk64.js', () => {
    expect(inkChunks.length).toBeGreaterThan(0);
    expect(inkChunks.every((c) => c.startsWith('chunks/'))).toBe(true);
  });

  it('the hook itself catches an ink import and a load of an Ink chunk (so the checks below can fail)', async () => {
    const inkImport = await run(
      process.execPath,
      [...nodeArgs, '-e', "import('ink').catch((e) => { console.error(String(e)); process.exit(9); })"],
      { cwd: repoRoot },
    );
    expect(inkImport.stderr).toContain('FORBIDDEN-IMPORT ink');
    expect(inkImport.code).toBe(9);
    const chunk = `./dist/${String(inkChunks[0])}`;
    const chunkImport = await run(
      process.execPath,
      [
        ...nodeArgs,
        '--input-type=module',
        '-e',
        `import(${JSON.stringify(chunk)}).catch((e) => { console.error(String(e)); process.exit(9); })`,
      ],
      { cwd: repoRoot },
    );
    expect(chunkImport.stderr).toContain('FORBIDDEN-IMPORT');
    expect(chunkImport.code).toBe(9);
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

  // Start-up time (docs/benchmarks.md): the plain batch forms are parsed without yargs
  // (src/cli/command.ts), so neither yargs nor its help machinery is even loaded.
  it.each([
    [['status', '--json', '--identity', '/dev/null', 'ssh://127.0.0.1:1']],
    [['tui', '--json', 'serial:/tmp/rk64-no-such-tty', '--timeout', '5']],
  ])('rk64 %j loads no yargs chunk', async (args) => {
    expect(yargsChunks.length).toBeGreaterThan(0);
    const result = await runCli(args, { nodeArgs: hookFor([...inkChunks, ...yargsChunks]) });
    expect(result.stderr).not.toContain('FORBIDDEN-IMPORT');
    expect(result.code).not.toBe(0);
    expect(result.stderr).toMatch(/^rk64: /);
  });

  it('every package a chunk requires at run time resolves from there (ssh2 binding, poly1305, agent)', () => {
    const dir = join(repoRoot, 'dist/chunks');
    const required: string[] = [];
    for (const chunk of readdirSync(dir).filter((f) => f.endsWith('.js'))) {
      const requireHere = createRequire(join(dir, chunk));
      const text = readFileSync(join(dir, chunk), 'utf8');
      for (const [, name] of text.matchAll(/__require(?:\.resolve)?\("([^"]+)"\)/g)) {
        if (!name || name.startsWith('node:') || builtinModules.includes(name)) continue;
        // Optional peers of Ink and ws that are never installed; their imports sit in try/catch.
        if (/^(react-devtools-core|bufferutil|utf-8-validate)$/.test(name)) continue;
        required.push(name);
        expect(() => requireHere.resolve(name), `${chunk} requires ${name}`).not.toThrow();
      }
    }
    expect(required).toEqual(
      expect.arrayContaining([
        'ssh2/lib/protocol/crypto/build/Release/sshcrypto.node',
        'ssh2/lib/protocol/crypto/poly1305.js',
        'ssh2/lib/agent.js',
      ]),
    );
  });
});
