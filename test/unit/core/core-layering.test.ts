// src/core stays React-free (it serves the batch and JSON paths and is shared with the dashboard):
// the lint rules no-restricted-imports (static imports) and no-restricted-syntax (import()) in
// eslint.config.js enforce it. This checks that the
// rule is there and fires for each way of reaching React, Ink or the UI from src/core, and stays quiet
// outside src/core.
import { ESLint } from 'eslint';
import tseslint from 'typescript-eslint';
import { describe, expect, it } from 'vitest';
import { repoRoot } from '../../lib/exec.js';

// The probe text is not part of the TypeScript project, so type-aware rules are switched off for it.
const eslint = new ESLint({ cwd: repoRoot, overrideConfig: [tseslint.configs.disableTypeChecked] });

async function restrictedImports(filePath: string, text: string): Promise<string[]> {
  const [result] = await eslint.lintText(text, { filePath: `${repoRoot}/${filePath}` });
  return (result?.messages ?? [])
    .filter((m) => m.ruleId === 'no-restricted-imports' || m.ruleId === 'no-restricted-syntax')
    .map((m) => m.message);
}

describe('the core never imports React, Ink or the UI', () => {
  it.each([
    "import { Box } from 'ink';\nexport const x = Box;\n",
    "import React from 'react';\nexport const x = React;\n",
    "import { jsx } from 'react/jsx-runtime';\nexport const x = jsx;\n",
    "import { Dashboard } from '../../ui/Dashboard.js';\nexport const x = Dashboard;\n",
    "export const x = await import('ink');\n",
  ])('src/core refuses %j', async (text) => {
    const messages = await restrictedImports('src/core/dashboard/probe.ts', text);
    expect(messages.length, `the layering rules did not fire for:\n${text}`).toBeGreaterThan(0);
  });

  it('src/ui may import Ink', async () => {
    expect(
      await restrictedImports('src/ui/probe.tsx', "import { Box } from 'ink';\nexport const x = Box;\n"),
    ).toEqual([]);
  });
});
