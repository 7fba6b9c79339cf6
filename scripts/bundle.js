// Bundles the CLI into dist/rk64.js (run by `npm run build`, after tsc has type-checked and
// compiled src/). Why: Node resolves and compiles each of Ink's and React's hundreds of modules on
// every start; one minified bundle brings `rk64 tui` to its first frame about twice as fast
// (bench/console-bench measures it). Dynamic imports stay separate chunks, so `rk64 status`,
// `--batch` and `--json` never load the chunk that holds Ink and React, nor the one that holds
// yargs (src/cli/usage.ts; test/unit/core/cli-no-ink.test.ts checks both against
// dist/bundle-meta.json).
import { rmSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { build } from 'esbuild';

// ssh2's JavaScript is bundled too: Node then compiles one chunk instead of resolving and
// loading ssh2's ~30 CommonJS files through its ESM loader on the start-up path of every SSH
// command (bench/console-bench). What ties ssh2 to its place in node_modules stays there: its
// native crypto binding is required by package path (resolved in node_modules by the chunk's
// createRequire, banner below), and the two files that read __dirname at load (agent.js,
// protocol/crypto/poly1305.js; ESM chunks have none) get theirs from their real location.
// test/unit/core/cli-no-ink.test.ts checks that what the chunks require resolves.
function packagePath(file) {
  const at = file.lastIndexOf('/node_modules/');
  if (at === -1) throw new Error(`expected ${file} under node_modules`);
  return file.slice(at + '/node_modules/'.length);
}
const ssh2FromNodeModules = {
  name: 'ssh2-from-node-modules',
  setup(b) {
    b.onResolve({ filter: /\.node$/ }, (args) => ({
      path: packagePath(join(args.resolveDir, args.path)),
      external: true,
    }));
    b.onLoad({ filter: /\/node_modules\/ssh2\/lib\/.*\.js$/ }, async (args) => {
      const source = await readFile(args.path, 'utf8');
      if (!/\b__(dirname|filename)\b/.test(source)) return undefined;
      const self = JSON.stringify(packagePath(args.path));
      return {
        contents: `var __filename = require.resolve(${self}), __dirname = require('node:path').dirname(__filename);\n${source}`,
        loader: 'js',
      };
    });
  },
};

// Yoga (Ink's layout engine) ships its WebAssembly as a base64 data: URL and its Emscripten loader
// fetch()es that URL whenever a global fetch exists. On Node that first fetch loads undici and
// decodes the base64 in JavaScript: most of the time `rk64 tui` spends before its first frame
// (bench/console-bench). Without fetch the same loader decodes the same bytes itself and
// instantiates the same module; nothing else in that file uses fetch.
const yogaWithoutFetch = {
  name: 'yoga-without-fetch',
  setup(b) {
    b.onLoad(
      { filter: /\/node_modules\/yoga-layout\/dist\/binaries\/yoga-wasm-base64-esm\.js$/ },
      async (args) => {
        const source = await readFile(args.path, 'utf8');
        return { contents: `const fetch = undefined;\n${source}`, loader: 'js' };
      },
    );
  },
};

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
  // serialport and ssh2's optional cpu-features load native addons from node_modules;
  // react-devtools-core is an optional import of Ink's that is never installed.
  external: ['serialport', 'cpu-features', 'react-devtools-core'],
  plugins: [ssh2FromNodeModules, yogaWithoutFetch],
  define: { 'process.env.NODE_ENV': '"production"' },
  // React, ssh2 and a few of Ink's dependencies are CommonJS and call require() for Node's modules.
  banner: {
    js: "import { createRequire as rk64CreateRequire } from 'node:module'; const require = rk64CreateRequire(import.meta.url);",
  },
});
writeFileSync('dist/bundle-meta.json', `${JSON.stringify(result.metafile)}\n`);
