#!/usr/bin/env node
// Thin launcher: the CLI is compiled to dist/ by `npm run build` (scripts/setup runs it).
import { main } from '../dist/cli/main.js';

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error) => {
    process.stderr.write(`rk64: internal error: ${error instanceof Error ? error.stack : String(error)}\n`);
    process.exitCode = 70;
  },
);
