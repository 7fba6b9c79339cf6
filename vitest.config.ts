import { defineConfig } from 'vitest/config';
import { VmLongestFirstSequencer } from './test/lib/vm-file-order.js';

// Three projects, cheapest first. `unit` is pure and fast; `integration` starts real
// daemons (sshd, dnsmasq, chronyd, rauc, nft) as root in namespaces the tests create;
// `vm` boots real U-Boot / kernels under qemu-system-aarch64, two files at a time: one emulated
// gateway keeps about 1.1 of CI's two cores busy on average (TCG; a guest with one vCPU boots
// far slower, docs/benchmarks.md), so a second one nearly doubles the work done per minute.
// Shared cached artifacts (gateway image, snapshot, bundle variants) are built under locks, so
// two files never build the same one.
// The vm files start longest first (test/lib/vm-file-order.ts), so the two lanes end together.
// The run ends with wall time per layer and per VM file and the line `N passed, N failed`, where
// every test that did not pass counts as failed (test/lib/honest-summary.ts); `.only` is an error.
export default defineConfig({
  test: {
    allowOnly: false,
    reporters: ['default', './test/lib/honest-summary.ts'],
    sequence: { sequencer: VmLongestFirstSequencer },
    projects: [
      {
        test: {
          name: 'unit',
          include: ['test/unit/**/*.test.{ts,tsx}'],
          // Projects with different worker limits must run in separate groups (vitest 4).
          sequence: { groupOrder: 0 },
          testTimeout: 20_000,
        },
      },
      {
        test: {
          name: 'integration',
          include: ['test/integration/**/*.test.{ts,tsx}'],
          sequence: { groupOrder: 1 },
          testTimeout: 180_000,
          hookTimeout: 300_000,
          maxWorkers: 2,
        },
      },
      {
        test: {
          name: 'vm',
          include: ['test/vm/**/*.test.{ts,tsx}'],
          sequence: { groupOrder: 2 },
          testTimeout: 900_000,
          hookTimeout: 1_800_000,
          maxWorkers: 2,
        },
      },
    ],
  },
});
