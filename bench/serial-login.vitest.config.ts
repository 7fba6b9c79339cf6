import { defineConfig } from 'vitest/config';

// The serial login benchmark (bench/serial-login-bench): a measurement, not a timed test.
export default defineConfig({
  test: {
    include: ['bench/serial-login.bench.ts'],
    testTimeout: 900_000,
    hookTimeout: 900_000,
    fileParallelism: false,
  },
});
