// The order the vm project's files start in. Two run at a time (vitest.config.ts); starting the
// longest files first keeps the two lanes even (the longest-processing-time rule), so no long
// file runs alone at the end. Vitest's own order cannot know the times on a clean clone: without
// its results cache it starts larger source files first, which put the rollback file (the
// longest run, one of the smallest sources) last and alone. Measured: the whole run took as long
// as before (3188 s against 3166 s), because a gateway alone uses both cores (-smp 2) and the
// rollback file alone had run 1.5x faster; the bound is the emulation work on two cores. The
// order still keeps the end of the run predictable and shows a long file's failure early. Files
// that need only the image (imageOnlyFiles) go before all others: see there.
import { relative } from 'node:path';
import { BaseSequencer } from 'vitest/node';
import type { TestSpecification } from 'vitest/node';

/**
 * Seconds each vm file took in the cold clean-clone run of commit fc1e6b2 (two files at a time;
 * rollback and power loss include about 480 s of waiting for the booted snapshot and the bundle
 * variants; docs/benchmarks.md). Only the order matters; a new file without an entry starts first,
 * as in vitest's own order, and then gets its entry here.
 */
export const vmFileSeconds: Readonly<Record<string, number>> = {
  'test/vm/e2e/rollback.test.ts': 1645,
  'test/vm/e2e/power-loss.test.ts': 1153,
  'test/vm/gateway/gateway.test.ts': 587,
  'test/vm/e2e/console.test.ts': 492,
  'test/vm/gateway/vpn.test.ts': 374,
  'test/vm/e2e/update-confirm.test.ts': 250,
  'test/vm/e2e/bad-bundles.test.ts': 224,
  'test/vm/boot/ab-boot.test.ts': 67,
  'test/vm/console-break-glass.test.ts': 10,
};

/**
 * Files that need only the gateway image, not the booted snapshot or the bundle variants: they
 * start before the rest, so on a cold machine one lane boots gateways while the snapshot is made
 * (by scripts/test's early build, or by the first e2e file) instead of both lanes waiting for it.
 */
export const imageOnlyFiles: readonly string[] = ['test/vm/gateway/gateway.test.ts'];

const unknownFirst = Number.MAX_SAFE_INTEGER;
const imageOnlyFirst = Number.POSITIVE_INFINITY;

/** Vitest's order (projects by group, failed and unknown files first), vm files longest first. */
export class VmLongestFirstSequencer extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const base = await super.sort(files);
    const root = this.ctx.config.root;
    const vm = (spec: TestSpecification): string | null =>
      spec.project.name === 'vm' ? relative(root, spec.moduleId) : null;
    const cost = (spec: TestSpecification): number => {
      const file = vm(spec);
      if (file === null) return 0;
      return imageOnlyFiles.includes(file) ? imageOnlyFirst : (vmFileSeconds[file] ?? unknownFirst);
    };
    // Array.prototype.sort is stable: files of other projects, and equal costs, keep vitest's order.
    return base
      .map((spec, index) => ({ spec, index }))
      .sort((a, b) =>
        sameProject(a.spec, b.spec) ? cost(b.spec) - cost(a.spec) || a.index - b.index : a.index - b.index,
      )
      .map(({ spec }) => spec);
  }
}

function sameProject(a: TestSpecification, b: TestSpecification): boolean {
  return a.project.name === b.project.name;
}
