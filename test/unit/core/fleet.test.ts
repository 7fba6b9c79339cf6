// Querying many gateways at once: a parallel limit, and every result kept, failures included.
import { describe, expect, it } from 'vitest';

import { Rk64Error } from '../../../src/core/errors.js';
import { runFleet } from '../../../src/core/fleet.js';

describe('fleet', () => {
  it('runs with a limit and keeps every result, failures included', async () => {
    let running = 0;
    let peak = 0;
    const results = await runFleet([1, 2, 3, 4, 5], 2, async (n) => {
      running++;
      peak = Math.max(peak, running);
      await new Promise((r) => setTimeout(r, 20));
      running--;
      if (n === 2) throw new Rk64Error('refused', 'two refused');
      if (n === 4) throw new Error('plain');
      return n * 10;
    });
    expect(peak).toBe(2);
    expect(results.map((r) => (r.ok ? r.value : r.error.kind))).toEqual([10, 'refused', 30, 'internal', 50]);
  });
});
