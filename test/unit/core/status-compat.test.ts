// One console, gateways one version older and newer: every released rk64-status's document and a
// newer one with unknown fields and without optional ones are read, rendered and passed on whole.
import { describe, expect, it } from 'vitest';

import { renderStatusText } from '../../../src/cli/render.js';
import { panels } from '../../../src/core/dashboard/view.js';
import { shown } from '../../../src/core/printable.js';
import { parseStatus } from '../../../src/core/status/validate.js';
import { newerDocument, releasedDocuments } from '../../lib/status-versions.js';

describe('status documents of released gateways', () => {
  it('there is one per rk64-status revision', () => {
    expect(releasedDocuments().length).toBeGreaterThanOrEqual(3);
  });

  it.each(releasedDocuments())('rk64-status %s: read whole, rendered as text and panels', (_commit, text) => {
    const status = parseStatus(text, 'gw');
    // Whole: every field it printed, and fields newer than it (sshOnWan.expiresAt) read as null.
    expect(status).toMatchObject(JSON.parse(text) as object);
    expect(status.sshOnWan?.expiresAt).toBeNull();
    const out = renderStatusText('gw', shown(status), { color: false });
    expect(out).toContain('gw  (rk64-lab-01, collected');
    expect(out).toMatch(/^ {2}A +good +booted +primary/m);
    expect(out).toContain('plc-line1');
    expect(out).toContain('sshOnWan.expiresAt: not reported by this gateway');
    expect(panels(shown(status)).map((p) => p.rows.length)).not.toContain(0);
  });
});

describe('a newer gateway', () => {
  it('unknown fields are kept, missing optional ones read as null', () => {
    const doc = newerDocument();
    const status = parseStatus(JSON.stringify(doc), 'gw');
    expect(status).toMatchObject({
      ...doc,
      health: null,
      firstBootCompleted: null,
      leases: (doc.leases as object[]).map((l) => ({ ...l, expiresAt: null })),
      bootState: { ...(doc.bootState as object), maxAttempts: null },
      sshOnWan: { ...(doc.sshOnWan as object), wanInterface: null },
    });
    expect(JSON.parse(JSON.stringify(status))).toMatchObject({
      cellular: { signalDbm: -71 },
      sshOnWan: { expiresAt: '2026-11-26T01:30:00Z' },
      rauc: { slots: [{ signedVersion: '2026.11.2' }, {}] },
    });
    const out = renderStatusText('gw', shown(status), { color: false });
    expect(out).toContain('health   unavailable: not reported by this gateway');
    expect(out).toContain('first boot unknown: not reported by this gateway');
    // A lease without expiresAt is not an infinite one: its expiry is unknown, and the panel says why.
    expect(out).toMatch(/plc-line1 +\?$/m);
    expect(out).not.toMatch(/plc-line1 +never/);
    expect(out).toContain('leases[].expiresAt: not reported by this gateway');
  });
});
