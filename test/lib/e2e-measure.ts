// Timings the end-to-end scenarios observe (boot-to-SSH, update apply phases, rollback), printed
// and appended as JSON lines to $RK64_E2E_MEASUREMENTS (default test-results/e2e-measurements.jsonl).
// They are recorded, never asserted: bench/e2e-scenarios turns them into the table in
// docs/benchmarks.md.
import { appendFileSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { repoRoot } from './exec.js';

export interface Measurement {
  scenario: string;
  metric: string;
  seconds: number;
}

export const measurementsFile =
  process.env.RK64_E2E_MEASUREMENTS ?? join(repoRoot, 'test-results/e2e-measurements.jsonl');

export function recordMeasurement(scenario: string, metric: string, seconds: number): void {
  const m: Measurement = { scenario, metric, seconds: Math.round(seconds * 10) / 10 };
  console.log(`e2e measurement: ${scenario}: ${metric} = ${m.seconds} s`);
  mkdirSync(dirname(measurementsFile), { recursive: true });
  appendFileSync(measurementsFile, `${JSON.stringify({ ...m, at: new Date().toISOString() })}\n`);
}

/** Seconds since `startMs`. */
export const since = (startMs: number): number => (Date.now() - startMs) / 1000;
