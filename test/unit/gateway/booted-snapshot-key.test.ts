// The booted snapshot's key and its stale check (test/lib/booted-snapshot-key.ts): a changed image,
// machine, QEMU, CPU count or memory size must never restore a snapshot made for another.
import { describe, expect, it } from 'vitest';
import { BOOTED_SNAPSHOT_FORMAT, bootedSnapshotKey, staleReason } from '../../lib/booted-snapshot-key.js';
import type { BootedSnapshotIdentity } from '../../lib/booted-snapshot-key.js';

const base: BootedSnapshotIdentity = {
  image: 'dcf96b787b436b45',
  machine: 'a'.repeat(64),
  qemu: 'QEMU emulator version 7.2.22',
  smp: '',
  memory: '',
  format: BOOTED_SNAPSHOT_FORMAT,
};

const changes: [keyof BootedSnapshotIdentity, string][] = [
  ['image', 'dcf96b787b436b46'],
  ['machine', 'b'.repeat(64)],
  ['qemu', 'QEMU emulator version 8.0.0'],
  ['smp', '1'],
  ['memory', '2048'],
  ['format', `${BOOTED_SNAPSHOT_FORMAT}x`],
];

describe('booted snapshot key', () => {
  it('is the same for the same identity', () => {
    expect(bootedSnapshotKey({ ...base })).toBe(bootedSnapshotKey(base));
    expect(bootedSnapshotKey(base)).toMatch(/^[0-9a-f]{16}$/);
  });

  it.each(changes)('changes with %s', (field, value) => {
    expect(bootedSnapshotKey({ ...base, [field]: value })).not.toBe(bootedSnapshotKey(base));
  });

  it('does not confuse values moved between fields', () => {
    expect(bootedSnapshotKey({ ...base, smp: '1', memory: '' })).not.toBe(
      bootedSnapshotKey({ ...base, smp: '', memory: '1' }),
    );
  });
});

describe('stale booted snapshot', () => {
  it('fits the identity it was made for', () => {
    expect(staleReason(base, { ...base })).toBeNull();
  });

  it.each(changes)('is refused when %s differs, naming it', (field, value) => {
    const reason = staleReason(base, { ...base, [field]: value });
    expect(reason).toContain(`${field} ${JSON.stringify(base[field])}`);
    expect(reason).toContain(`(wanted ${JSON.stringify(value)})`);
  });
});
