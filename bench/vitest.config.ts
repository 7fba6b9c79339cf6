import { defineConfig } from 'vitest/config';

// The console benchmarks (bench/console-bench): measurements, not timed tests; one file, serial.
export default defineConfig({
  test: {
    include: ['bench/console.bench.ts', 'bench/fleet.bench.ts'],
    testTimeout: 900_000,
    hookTimeout: 900_000,
    fileParallelism: false,
  },
});
