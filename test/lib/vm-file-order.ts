// The order the vm project's files start in. Two run at a time (vitest.config.ts), so the suite
// ends when the longer lane ends: starting the longest files first keeps the lanes even (the
// classic longest-processing-time rule). Vitest's own order cannot know this on a clean clone:
// without its results cache it starts larger source files first, which put the rollback file
// (the longest run, the shortest source) last and alone for its whole 25 minutes.
import { BaseSequencer } from 'vitest/node';
import type { TestSpecification } from 'vitest/node';

/**
 * Seconds each vm file took in the clean-clone run of commit 547e4a4 (two files at a time,
 * cached image, docs/benchmarks.md). Only the order matters; a new file without an entry starts
 * first, as in vitest's own order, and then gets its entry here.
 */
export const vmFileSeconds: Readonly<Record<string, number>> = {
  'test/vm/e2e/rollback.test.ts': 1519,
  'test/vm/e2e/power-loss.test.ts': 1324,
  'test/vm/e2e/console.test.ts': 818,
  'test/vm/e2e/bad-bundles.test.ts': 552,
  'test/vm/e2e/update-confirm.test.ts': 496,
  'test/vm/gateway/gateway.test.ts': 451,
  'test/vm/boot/ab-boot.test.ts': 176,
  'test/vm/console-break-glass.test.ts': 10,
};

const unknownFirst = Number.POSITIVE_INFINITY;

/** Vitest's order (projects by group, failed and unknown files first), vm files longest first. */
export class VmLongestFirstSequencer extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const base = await super.sort(files);
    const root = this.ctx.config.root;
    const cost = (spec: TestSpecification): number =>
      spec.project.name === 'vm' ? (vmFileSeconds[relativeTo(root, spec.moduleId)] ?? unknownFirst) : 0;
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

function relativeTo(root: string, file: string): string {
  const prefix = root.endsWith('/') ? root : `${root}/`;
  return file.startsWith(prefix) ? file.slice(prefix.length) : file;
}
