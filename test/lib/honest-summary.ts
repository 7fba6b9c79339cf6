// The suite's summary: wall time per layer (vitest project) and per VM file, then the plain line
// `N passed, N failed`, where every selected test that did not pass counts as failed. Vitest's own
// counts can say less than happened: tests under a failed beforeAll read as skipped, a file that
// fails to load or an afterAll that throws adds no failed test, an unhandled error adds none, and
// skipped or todo tests never fail a run. Here each of those counts as failed (one per test, or one
// per file / error where no test carries it); the suite has no skipped or todo tests on purpose.
// Tests left out by a `-t` name filter are not counted (they were not asked for).
//
// The line is also written to test-results/summary.txt. One printer per run: scripts/test prints
// the line itself, last, once it has checked vitest's exit status, and says so by setting
// RK64_SUMMARY_PRINTER=scripts/test; then this reporter only writes the file.
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

import type { SerializedError } from 'vitest';
import type { Reporter, TestCase, TestModule, TestRunEndReason, TestSuite, Vitest } from 'vitest/node';

export interface Failure {
  /** File relative to the project root, test name (suites joined with ' > '), or '' for run-level errors. */
  where: string;
  why: string;
}

export interface RunCounts {
  passed: number;
  failed: number;
  failures: Failure[];
  /** Tests a `-t` filter left out (not counted either way). */
  deselected: number;
}

export const summaryLine = (counts: Pick<RunCounts, 'passed' | 'failed'>): string =>
  `${counts.passed} passed, ${counts.failed} failed`;

/** How vitest's name filter sees a test: its suites' names and its own, joined by spaces. */
function filterName(test: TestCase): string {
  const names = [test.name];
  for (let p: TestSuite | TestModule = test.parent; p.type === 'suite'; p = p.parent) {
    names.unshift(p.name);
  }
  return names.join(' ');
}

const firstLine = (text: string | undefined): string => (text ?? '').split('\n')[0] ?? '';

function testFailure(test: TestCase): string | null {
  const result = test.result();
  switch (result.state) {
    case 'passed':
      return null;
    case 'failed':
      return `failed: ${firstLine(result.errors[0]?.message)}`;
    case 'skipped':
      // A failed beforeAll hook of a parent leaves its tests 'skipped' with mode 'run'; so does
      // ctx.skip() inside the test.
      if (test.options.mode !== 'run') return test.options.mode === 'todo' ? 'todo' : 'skipped';
      return result.note
        ? `skipped itself: ${result.note}`
        : 'did not run (a hook or its suite failed, or it skipped itself)';
    case 'pending':
      return 'never finished';
  }
}

export function countRun(
  modules: ReadonlyArray<TestModule>,
  unhandledErrors: ReadonlyArray<SerializedError>,
  reason: TestRunEndReason,
  testNamePattern?: RegExp,
): RunCounts {
  const counts: RunCounts = { passed: 0, failed: 0, failures: [], deselected: 0 };
  const fail = (where: string, why: string): void => {
    counts.failed++;
    counts.failures.push({ where, why });
  };
  for (const module of modules) {
    const file = module.relativeModuleId;
    let failedInModule = 0;
    for (const test of module.children.allTests()) {
      if (testNamePattern && !testNamePattern.test(filterName(test))) {
        counts.deselected++;
        continue;
      }
      const why = testFailure(test);
      if (why === null) {
        counts.passed++;
      } else {
        failedInModule++;
        fail(`${file} > ${test.fullName}`, why);
      }
    }
    // Errors no test carries: a file that failed to load or collect, an afterAll that threw, a file
    // with no tests. One failure for the file unless one of its tests already counts.
    const moduleErrors = [...module.errors(), ...suiteErrors(module)];
    const fileFailed = module.state() === 'failed' || module.state() === 'pending' || moduleErrors.length > 0;
    if (fileFailed && failedInModule === 0) {
      fail(file, `file failed: ${firstLine(moduleErrors[0]?.message) || `state ${module.state()}`}`);
    }
  }
  for (const error of unhandledErrors) {
    fail('', `unhandled error: ${firstLine(error.message ?? JSON.stringify(error))}`);
  }
  if (reason === 'interrupted') fail('', 'run interrupted');
  if (counts.passed === 0 && counts.failed === 0) fail('', 'no test ran');
  return counts;
}

function suiteErrors(module: TestModule): SerializedError[] {
  const errors: SerializedError[] = [];
  for (const suite of module.children.allSuites()) errors.push(...suite.errors());
  return errors;
}

const seconds = (ms: number): string => `${(ms / 1000).toFixed(1)} s`;

/** The environment value by which scripts/test takes over printing the line. */
export const SUMMARY_PRINTER_ENV = 'RK64_SUMMARY_PRINTER';

export default class HonestSummaryReporter implements Reporter {
  private vitest: Vitest | undefined;
  private readonly started = new Map<string, number>();
  private readonly ended = new Map<string, number>();

  onInit(vitest: Vitest): void {
    this.vitest = vitest;
  }

  onTestModuleStart(module: TestModule): void {
    this.started.set(module.id, Date.now());
  }

  onTestModuleEnd(module: TestModule): void {
    this.ended.set(module.id, Date.now());
  }

  onTestRunEnd(
    modules: ReadonlyArray<TestModule>,
    unhandledErrors: ReadonlyArray<SerializedError>,
    reason: TestRunEndReason,
  ): void {
    const config = this.vitest?.config;
    const counts = countRun(modules, unhandledErrors, reason, config?.testNamePattern);
    const out: string[] = ['', 'Wall time per layer:'];
    for (const [layer, span] of this.layerSpans(modules)) out.push(`  ${layer}: ${seconds(span)}`);
    const vmFiles = modules.filter((m) => m.project.name === 'vm');
    if (vmFiles.length > 0) {
      out.push('Wall time per VM file:');
      for (const m of vmFiles) {
        const start = this.started.get(m.id);
        const end = this.ended.get(m.id);
        const span = start !== undefined && end !== undefined ? seconds(end - start) : 'did not finish';
        out.push(`  ${m.relativeModuleId}: ${span}`);
      }
    }
    if (counts.failures.length > 0) {
      out.push('Counted as failed:');
      for (const f of counts.failures) out.push(`  ${f.where ? `${f.where}: ` : ''}${f.why}`);
    }
    if (counts.deselected > 0)
      out.push(`(${counts.deselected} tests left out by the -t filter, not counted)`);
    const line = summaryLine(counts);
    if (process.env[SUMMARY_PRINTER_ENV] !== 'scripts/test') out.push(line);
    process.stdout.write(`${out.join('\n')}\n`);
    const file = join(config?.root ?? process.cwd(), 'test-results/summary.txt');
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, `${line}\n`);
  }

  /** Per project, first file start to last file end (projects run one after another). */
  private layerSpans(modules: ReadonlyArray<TestModule>): Map<string, number> {
    const bounds = new Map<string, { start: number; end: number }>();
    for (const m of modules) {
      const start = this.started.get(m.id);
      const end = this.ended.get(m.id) ?? start;
      if (start === undefined || end === undefined) continue;
      const layer = m.project.name || 'default';
      const b = bounds.get(layer);
      bounds.set(layer, b ? { start: Math.min(b.start, start), end: Math.max(b.end, end) } : { start, end });
    }
    return new Map([...bounds].map(([layer, b]) => [layer, b.end - b.start]));
  }
}
