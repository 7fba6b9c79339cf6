// Bundles the CLI into dist/rk64.js (run by `npm run build`, after tsc has type-checked and
// compiled src/). Why: Node resolves and compiles each of Ink's and React's hundreds of modules on
// every start; one minified bundle brings `rk64 tui` to its first frame about twice as fast
// (bench/console-bench measures it). Dynamic imports stay separate chunks, so `rk64 status`,
// `--batch` and `--json` never load the chunk that holds Ink and React
// (test/unit/core/cli-no-ink.test.ts checks that against dist/bundle-meta.json).
import { rmSync, writeFileSync } from 'node:fs';
import { build } from 'esbuild';

// Chunk names carry content hashes: drop the previous build's chunks.
rmSync('dist/chunks', { recursive: true, force: true });
const result = await build({
  entryPoints: { rk64: 'src/cli/main.ts' },
  outdir: 'dist',
  chunkNames: 'chunks/[name]-[hash]',
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  // Whitespace and syntax only: names stay readable in stack traces of internal errors.
  minifyWhitespace: true,
  minifySyntax: true,
  sourcemap: 'linked',
  metafile: true,
  logLevel: 'warning',
  // Native addons (ssh2's optional crypto binding, serialport's bindings) load from node_modules;
  // react-devtools-core is an optional import of Ink's that is never installed.
  external: ['ssh2', 'serialport', 'cpu-features', 'react-devtools-core'],
  define: { 'process.env.NODE_ENV': '"production"' },
  // React and a few of Ink's dependencies are CommonJS and call require() for Node's modules.
  banner: {
    js: "import { createRequire as rk64CreateRequire } from 'node:module'; const require = rk64CreateRequire(import.meta.url);",
  },
});
writeFileSync('dist/bundle-meta.json', `${JSON.stringify(result.metafile)}\n`);
