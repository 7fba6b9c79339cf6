// The status validator against documents recorded from the real rk64-status (with real rauc,
// fw_printenv, ip and nft behind it), and mutations of them.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Rk64Error } from '../../../src/core/errors.js';
import { runFleet } from '../../../src/core/fleet.js';
import { parseStatus, validateStatus } from '../../../src/core/status/validate.js';
import { repoRoot } from '../../lib/exec.js';

const fixture = (name: string): string => readFileSync(join(repoRoot, 'test/fixtures/status', name), 'utf8');

function invalid(doc: unknown): Rk64Error {
  try {
    validateStatus(doc, 'gw');
  } catch (error) {
    expect(error).toBeInstanceOf(Rk64Error);
    return error as Rk64Error;
  }
  throw new Error('expected the document to be rejected');
}

describe('status validation', () => {
  it('accepts the full recorded document unchanged', () => {
    const text = fixture('rk64-status-full.json');
    const status = parseStatus(text);
    expect(status).toEqual(JSON.parse(text));
    expect(status.rauc?.slots.map((s) => [s.bootname, s.booted, s.bootStatus, s.bundleVersion])).toEqual([
      ['A', true, 'good', '2026.11.2'],
      ['B', false, 'bad', '2026.11.1'],
    ]);
    expect(status.bootState).toEqual({
      order: ['B', 'A'],
      attemptsLeft: { A: 3, B: 0 },
      nextBootSlot: 'A',
      breakGlass: true,
      maxAttempts: 3,
    });
    expect(status.sshOnWan).toEqual({
      enabled: true,
      firewallAllows: true,
      expiresAt: null,
      wanInterface: 'eth0',
    });
  });

  it('accepts a document from a plain Linux host full of nulls and reasons', () => {
    const status = parseStatus(fixture('rk64-status-bare-host.json'));
    expect(status.rauc).toBeNull();
    expect(status.errors.map((e) => e.field)).toContain('rauc');
  });

  it('names the bad field', () => {
    const base = JSON.parse(fixture('rk64-status-full.json')) as Record<string, unknown>;
    const mutate = (change: (d: Record<string, unknown>) => void): Record<string, unknown> => {
      const copy = structuredClone(base);
      change(copy);
      return copy;
    };
    expect(invalid(mutate((d) => (d.schema = 'rk64.status/2'))).message).toMatch(
      /schema: expected "rk64.status\/1"/,
    );
    expect(invalid(mutate((d) => (d.errors = 'x'))).message).toMatch(/errors: expected an array, got "x"/);
    expect(invalid(mutate((d) => delete d.collectedAt)).message).toMatch(
      /collectedAt: expected a string, got missing/,
    );
    const slot = invalid(
      mutate((d) => {
        ((d.rauc as { slots: { bootname: string }[] }).slots[1] as { bootname: string }).bootname = 'C';
      }),
    );
    expect(slot.message).toMatch(
      /^gw: rk64-status printed an invalid document: rauc\.slots\[1\]\.bootname: expected one of A, B, got "C"/,
    );
    expect(slot.kind).toBe('protocol');
    expect(
      invalid(mutate((d) => ((d.bootState as { attemptsLeft: object }).attemptsLeft = { A: -1, B: 0 })))
        .message,
    ).toMatch(/bootState\.attemptsLeft\.A/);
    expect(invalid(mutate((d) => (d.links = [{ name: 'eth0', role: 'dmz' }]))).message).toMatch(
      /links\[0\]\.role/,
    );
    expect(invalid(mutate((d) => (d.health = { state: 'passed', updatedAt: 5 }))).message).toMatch(
      /health\.updatedAt: expected a string, got 5/,
    );
    expect(invalid([]).message).toMatch(/status: expected an object/);
  });

  it('says when the output is not JSON at all', () => {
    expect(() => parseStatus('bash: rk64-status: command not found', 'gw')).toThrow(
      /gw: rk64-status did not print JSON/,
    );
  });
});

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
