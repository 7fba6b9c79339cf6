#!/usr/bin/env node
// Thin launcher: `npm run build` (scripts/setup runs it) bundles the CLI into dist/rk64.js.
import { main } from '../dist/rk64.js';

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error) => {
    process.stderr.write(`rk64: internal error: ${error instanceof Error ? error.stack : String(error)}\n`);
    process.exitCode = 70;
  },
);
