import { describe, expect, it } from 'vitest';
import { sshWanDeadline } from '../../../src/core/status/ssh-wan.js';
import { validateStatus } from '../../../src/core/status/validate.js';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from '../../lib/exec.js';

const full = JSON.parse(
  readFileSync(join(repoRoot, 'test/fixtures/status/rk64-status-full.json'), 'utf8'),
) as Record<string, unknown>;

const collectedAt = '2026-12-05T10:00:00Z';
const withWan = (sshOnWan: Record<string, unknown>) =>
  validateStatus({ ...full, collectedAt, sshOnWan }, 'test');

describe('SSH on the WAN with a deadline', () => {
  it('reads expiresAt and shows the time left by the gateway clock', () => {
    const s = withWan({ enabled: true, firewallAllows: true, expiresAt: '2026-12-05T10:29:30Z' });
    expect(s.sshOnWan?.expiresAt).toBe('2026-12-05T10:29:30Z');
    expect(sshWanDeadline(s)).toBe('closes in 29 min 30 s');
  });

  it('says when the deadline has passed', () => {
    expect(
      sshWanDeadline(withWan({ enabled: true, firewallAllows: true, expiresAt: '2026-12-05T09:59:00Z' })),
    ).toBe('deadline passed');
  });

  it('shows nothing without a deadline, when closed, or from a gateway that does not report it', () => {
    expect(sshWanDeadline(withWan({ enabled: true, firewallAllows: true, expiresAt: null }))).toBeNull();
    expect(
      sshWanDeadline(withWan({ enabled: false, firewallAllows: false, expiresAt: '2026-12-05T10:29:30Z' })),
    ).toBeNull();
    const older = withWan({ enabled: true, firewallAllows: true });
    expect(older.sshOnWan?.expiresAt).toBeNull();
    expect(sshWanDeadline(older)).toBeNull();
  });

  it('refuses a deadline that is not a string', () => {
    expect(() => withWan({ enabled: true, firewallAllows: true, expiresAt: 5 })).toThrow(
      /sshOnWan\.expiresAt/,
    );
  });
});
