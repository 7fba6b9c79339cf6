// The order the vm project's files start in. Two run at a time (vitest.config.ts); starting the
// longest files first keeps the two lanes even (the longest-processing-time rule), so no long
// file runs alone at the end. Vitest's own order cannot know the times on a clean clone: without
// its results cache it starts larger source files first, which put the rollback file (the
// longest run, one of the smallest sources) last and alone. Measured: the whole run took as long
// as before (3188 s against 3166 s), because a gateway alone uses both cores (-smp 2) and the
// rollback file alone had run 1.5x faster; the bound is the emulation work on two cores. The
// order still keeps the end of the run predictable and shows a long file's failure early. Files
// that need no bundle variants (earlyFiles) go before all others: see there.
import { relative } from 'node:path';
import { BaseSequencer } from 'vitest/node';
import type { TestSpecification } from 'vitest/node';

/**
 * Seconds each vm file took in the cold clean-clone run of commit c2ef556 (two files at a time;
 * docs/benchmarks.md). Only the order matters; a new file without an entry starts first, as in
 * vitest's own order, and then gets its entry here.
 */
export const vmFileSeconds: Readonly<Record<string, number>> = {
  'test/vm/e2e/rollback.test.ts': 1142,
  'test/vm/e2e/power-loss.test.ts': 721,
  'test/vm/gateway/gateway.test.ts': 620,
  'test/vm/e2e/update-confirm.test.ts': 540,
  'test/vm/e2e/console.test.ts': 461,
  'test/vm/gateway/first-boot-without-keys.test.ts': 354,
  'test/vm/gateway/vpn.test.ts': 288,
  'test/vm/e2e/bad-bundles.test.ts': 193,
  'test/vm/boot/ab-boot.test.ts': 191,
  'test/vm/console-break-glass.test.ts': 27,
};

/**
 * Files that need no bundle variants, in the order they start, before all others: on a cold
 * machine the vm layer begins while scripts/test's early build is still making the image, the
 * booted snapshot and the variants (the variants last), and these keep the lanes working
 * meanwhile. The first three need nothing the early build makes after the image (the first boot
 * without keys needs only the image; the U-Boot files need nothing cached); gateway.test.ts needs
 * the booted snapshot, which is ready before the variants.
 */
export const earlyFiles: readonly string[] = [
  'test/vm/gateway/first-boot-without-keys.test.ts',
  'test/vm/boot/ab-boot.test.ts',
  'test/vm/console-break-glass.test.ts',
  'test/vm/gateway/gateway.test.ts',
];

const unknownFirst = Number.MAX_SAFE_INTEGER;

/** Vitest's order (projects by group, failed and unknown files first), vm files longest first. */
export class VmLongestFirstSequencer extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const base = await super.sort(files);
    const root = this.ctx.config.root;
    const vm = (spec: TestSpecification): string | null =>
      spec.project.name === 'vm' ? relative(root, spec.moduleId) : null;
    // Position in earlyFiles (the others after them, at its length), then the longest first.
    const early = (spec: TestSpecification): number => {
      const file = vm(spec);
      const at = file === null ? -1 : earlyFiles.indexOf(file);
      return at >= 0 ? at : earlyFiles.length;
    };
    const cost = (spec: TestSpecification): number => {
      const file = vm(spec);
      return file === null ? 0 : (vmFileSeconds[file] ?? unknownFirst);
    };
    // Array.prototype.sort is stable: files of other projects, and equal costs, keep vitest's order.
    return base
      .map((spec, index) => ({ spec, index }))
      .sort((a, b) =>
        sameProject(a.spec, b.spec)
          ? early(a.spec) - early(b.spec) || cost(b.spec) - cost(a.spec) || a.index - b.index
          : a.index - b.index,
      )
      .map(({ spec }) => spec);
  }
}

function sameProject(a: TestSpecification, b: TestSpecification): boolean {
  return a.project.name === b.project.name;
}
