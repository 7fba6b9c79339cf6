// The order the vm project's files start in. Two run at a time (vitest.config.ts); starting the
// longest files first keeps the two lanes even (the longest-processing-time rule), so no long
// file runs alone at the end. Vitest's own order cannot know the times on a clean clone: without
// its results cache it starts larger source files first, which put the rollback file (the
// longest run, one of the smallest sources) last and alone. Measured: the whole run took as long
// as before (3188 s against 3166 s), because a gateway alone uses both cores (-smp 2) and the
// rollback file alone had run 1.5x faster; the bound is the emulation work on two cores. The
// order still keeps the end of the run predictable and shows a long file's failure early.
import { relative } from 'node:path';
import { BaseSequencer } from 'vitest/node';
import type { TestSpecification } from 'vitest/node';

/**
 * Seconds each vm file took in the clean-clone run of commit d510ec0 (two files at a time, cached
 * image, snapshot and variants; docs/benchmarks.md). Only the order matters; a new file without
 * an entry starts first, as in vitest's own order, and then gets its entry here.
 */
export const vmFileSeconds: Readonly<Record<string, number>> = {
  'test/vm/e2e/rollback.test.ts': 2249,
  'test/vm/e2e/power-loss.test.ts': 1321,
  'test/vm/e2e/console.test.ts': 741,
  'test/vm/e2e/bad-bundles.test.ts': 631,
  'test/vm/e2e/update-confirm.test.ts': 503,
  'test/vm/gateway/gateway.test.ts': 352,
  // Estimated (not yet measured in a whole run): one restored gateway, the VPN set up once.
  'test/vm/gateway/vpn.test.ts': 500,
  'test/vm/boot/ab-boot.test.ts': 54,
  'test/vm/console-break-glass.test.ts': 10,
};

const unknownFirst = Number.POSITIVE_INFINITY;

/** Vitest's order (projects by group, failed and unknown files first), vm files longest first. */
export class VmLongestFirstSequencer extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const base = await super.sort(files);
    const root = this.ctx.config.root;
    const cost = (spec: TestSpecification): number =>
      spec.project.name === 'vm' ? (vmFileSeconds[relative(root, spec.moduleId)] ?? unknownFirst) : 0;
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
