// The status document's one declaration (src/core/status/schema.ts): the reader's rules for a
// gateway older or newer than the console, the type it gives, and docs/status-schema.md's table.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

import { panels } from '../../../src/core/dashboard/view.js';
import { shown } from '../../../src/core/printable.js';
import { updateStatusDoc } from '../../../src/core/status/schema-doc.js';
import type { GatewayStatus, HealthState } from '../../../src/core/status/schema.js';
import { statusJson, statusNotes, validateStatus } from '../../../src/core/status/validate.js';
import { repoRoot } from '../../lib/exec.js';

const full = (): Record<string, unknown> =>
  JSON.parse(readFileSync(join(repoRoot, 'test/fixtures/status/rk64-status-full.json'), 'utf8')) as Record<
    string,
    unknown
  >;

const rowsOf = (status: GatewayStatus, id: string) =>
  panels(shown(status))
    .find((p) => p.id === id)
    ?.rows.map((r) => r.text) ?? [];

describe('docs/status-schema.md', () => {
  it('has the field table scripts/gen-status-docs writes from the declaration', () => {
    const doc = readFileSync(join(repoRoot, 'docs/status-schema.md'), 'utf8');
    expect(updateStatusDoc(doc)).toBe(doc);
  });
});

describe('a field the gateway does not print', () => {
  it('optional: null, with "not reported by this gateway" for the view; --json has the null', () => {
    const doc = full();
    delete doc.health;
    const wan = doc.sshOnWan as Record<string, unknown>;
    delete wan.firewallAllows;
    const status = validateStatus(doc, 'gw');
    expect(status.health).toBeNull();
    expect(status.sshOnWan?.firewallAllows).toBeNull();
    expect(statusNotes(status)).toEqual(
      expect.arrayContaining([
        { field: 'sshOnWan.firewallAllows', reason: 'not reported by this gateway' },
        { field: 'health', reason: 'not reported by this gateway' },
      ]),
    );
    expect(rowsOf(status, 'health')).toContain('health   unavailable: not reported by this gateway');
    expect(JSON.parse(JSON.stringify(statusJson(status)))).toMatchObject({ health: null });
    // The notes are not part of the document: --json and equality see the document alone.
    expect(JSON.stringify(statusJson(status))).not.toContain('not reported');
  });

  it('required: the document is rejected, naming the field', () => {
    const doc = full();
    delete (doc.watchdog as Record<string, unknown>).active;
    expect(() => validateStatus(doc, 'gw')).toThrow(/watchdog\.active: expected true or false, got missing/);
  });
});

describe('a value this console does not know in an enum', () => {
  it('that one field is null with the value named; the rest reads; --json passes the value on', () => {
    const doc = full();
    doc.health = { state: 'degraded', updatedAt: null, detail: 'eth1 flaps' };
    (doc.links as Record<string, unknown>[])[0]!.role = 'mesh';
    const status = validateStatus(doc, 'gw');
    expect(status.health).toEqual({ state: null, updatedAt: null, detail: 'eth1 flaps' });
    expect(status.links?.[0]?.role).toBeNull();
    expect(status.rauc?.slots).toHaveLength(2);
    expect(statusNotes(status).filter((n) => n.reason.startsWith('unknown value'))).toEqual([
      {
        field: 'links[0].role',
        reason: 'unknown value "mesh" (this console knows wan, lan, vpn, wlan, other)',
      },
      {
        field: 'health.state',
        reason: 'unknown value "degraded" (this console knows not-run, running, passed, failed, skipped)',
      },
    ]);
    expect(rowsOf(status, 'health')).toEqual(
      expect.arrayContaining([
        'health   ?: eth1 flaps',
        'health.state: unknown value "degraded" (this console knows not-run, running, passed, failed, skipped)',
      ]),
    );
    expect(rowsOf(status, 'links')).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^eth1 +\? +/),
        'links[].role: unknown value "mesh" (this console knows wan, lan, vpn, wlan, other)',
      ]),
    );
    const json = statusJson(status) as GatewayStatus;
    expect(json.health?.state).toBe('degraded');
    expect(json.links?.[0]?.role).toBe('mesh');
  });

  it('a control sequence in the unknown value reaches the view as visible text', () => {
    const doc = full();
    doc.health = { state: '\x1b]0;X\x07 a\u202eb \u009b2J', updatedAt: null, detail: null };
    const reason =
      statusNotes(validateStatus(doc, 'gw')).find((n) => n.field === 'health.state')?.reason ?? '';
    expect(reason).toContain('"\\u001b]0;X\\u0007 a\\u202eb \\x9b2J"');
    expect(reason).toMatch(/^[\x20-\x7e]+$/);
  });
});

describe('the type comes from the declaration', () => {
  it('enums read as their values or null; optional fields may be null', () => {
    const states: (HealthState | null)[] = ['not-run', 'running', 'passed', 'failed', 'skipped', null];
    const status = validateStatus(full(), 'gw');
    const state: HealthState | null = status.health?.state ?? null;
    expect(states).toContain(state);
    // @ts-expect-error a state the declaration does not list is not a HealthState
    const wrong: HealthState = 'degraded';
    expect(wrong).toBe('degraded');
  });
});
