// The vm files' start order (test/lib/vm-file-order.ts) knows every vm file and no other: a new
// vm file without its measured time would start first, and a stale entry would hide a rename.
import { readFileSync, readdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { repoRoot } from '../lib/exec.js';
import { noSnapshotFiles, vmFileSeconds } from '../lib/vm-file-order.js';

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

  it('starts first only vm files that exist and use no booted snapshot', () => {
    for (const file of noSnapshotFiles) {
      expect(Object.keys(vmFileSeconds)).toContain(file);
      // A file that restores the snapshot (startScenario, bootedSnapshot) would wait for it first.
      expect(readFileSync(join(repoRoot, file), 'utf8')).not.toMatch(
        /startScenario|bootedSnapshot|e2eVariants/,
      );
    }
  });
});
