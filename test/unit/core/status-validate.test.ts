// The status validator against documents recorded from the real rk64-status (with real rauc,
// fw_printenv, ip and nft behind it), and mutations of them.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Rk64Error } from '../../../src/core/errors.js';
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
  it('accepts the full recorded document, every field as recorded', () => {
    const text = fixture('rk64-status-full.json');
    const status = parseStatus(text);
    expect(status).toMatchObject(JSON.parse(text) as object);
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
    const slot = invalid(mutate((d) => ((d.rauc as { slots: unknown[] }).slots[1] = { bootname: 'B' })));
    expect(slot.message).toMatch(
      /^gw: rk64-status printed an invalid document: rauc\.slots\[1\]\.booted: expected true or false, got missing/,
    );
    expect(slot.kind).toBe('protocol');
    expect(
      invalid(mutate((d) => ((d.bootState as { attemptsLeft: object }).attemptsLeft = { A: -1, B: 0 })))
        .message,
    ).toMatch(/bootState\.attemptsLeft\.A/);
    expect(invalid(mutate((d) => (d.links = [{ name: 'eth0', role: 'wan' }]))).message).toMatch(
      /links\[0\]\.state: expected a string, got missing/,
    );
    expect(invalid(mutate((d) => (d.links = [{ name: 'eth0', role: 5 }]))).message).toMatch(
      /links\[0\]\.role: expected one of wan, lan, vpn, wlan, other \(a string\), got 5/,
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
