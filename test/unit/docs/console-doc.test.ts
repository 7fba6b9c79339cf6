// docs/console.md's generated blocks (capture, key table, exit codes) must match the code.
import { readFileSync } from 'node:fs';

import { describe, expect, it } from 'vitest';

import { availableReadOnly, KEY_BINDINGS } from '../../../src/core/keybindings.js';
import { updateConsoleDoc } from '../../../src/ui/docs.js';
import { repoRoot } from '../../lib/exec.js';
import { loadStatus } from '../../lib/console-fixtures.js';

const doc = readFileSync(`${repoRoot}/docs/console.md`, 'utf8');

describe('docs/console.md', () => {
  it('is what scripts/gen-console-docs writes (run it after changing keys, exit codes or panels)', () => {
    expect(updateConsoleDoc(doc, loadStatus('healthy'))).toBe(doc);
  });

  it('lists every key of the table with its dangerous and read-only columns', () => {
    for (const b of KEY_BINDINGS) {
      expect(doc).toContain(
        `| \`${b.label}\` | ${b.scope} | ${b.description} | ${b.dangerous ? 'yes' : 'no'} | ${availableReadOnly(b) ? 'yes' : 'no'} |`,
      );
    }
  });

  it('links the status schema', () => {
    expect(doc).toContain('](status-schema.md)');
  });
});
