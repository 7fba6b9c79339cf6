// The vm files' start order (test/lib/vm-file-order.ts) knows every vm file and no other: a new
// vm file without its measured time would start first, and a stale entry would hide a rename.
import { readFileSync, readdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { repoRoot } from '../lib/exec.js';
import { earlyFiles, vmFileSeconds } from '../lib/vm-file-order.js';

function vmTestFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return vmTestFiles(path);
    return /\.test\.tsx?$/.test(entry.name) ? [relative(repoRoot, path)] : [];
  });
}

describe('vm file order', () => {
  it('has a measured time for exactly the vm test files', () => {
    expect(Object.keys(vmFileSeconds).sort()).toEqual(vmTestFiles(join(repoRoot, 'test', 'vm')).sort());
  });

  it('starts first only vm files that exist and need no bundle variants', () => {
    for (const file of earlyFiles) {
      expect(Object.keys(vmFileSeconds)).toContain(file);
      // A file that needs the variants would wait for the last of the early build's artifacts.
      expect(readFileSync(join(repoRoot, file), 'utf8')).not.toMatch(/startScenario|e2eVariants/);
    }
  });

  it('starts the files that need neither the booted snapshot nor the variants before the one that does', () => {
    const needsSnapshot = (file: string): boolean =>
      /bootedSnapshot|startScenario|e2eVariants/.test(readFileSync(join(repoRoot, file), 'utf8'));
    const first = earlyFiles.findIndex(needsSnapshot);
    expect(first).toBeGreaterThan(0);
    expect(earlyFiles.slice(first).every(needsSnapshot)).toBe(true);
  });
});
