// What a booted snapshot (a running test gateway frozen by `gateway save`: its RAM and device
// state plus the disk of that moment) belongs to, and the cache key derived from it. A restore
// resumes the RAM exactly as it was, so it is only valid for the same image (kernel, root, every
// device-script: the image's input hash), the same machine definition (QEMU's devices, memory and
// CPUs, all set by test/gateway/gateway) and the same QEMU. Any change to one of them must make a
// new snapshot, never restore an old one: the key hashes all of them, and the snapshot records
// them so a restore can refuse one that does not match (staleReason), whatever its directory is
// called.
import { createHash } from 'node:crypto';

/** Bump when the way the booted snapshot is made changes. */
export const BOOTED_SNAPSHOT_FORMAT = '3';

export interface BootedSnapshotIdentity {
  /** The gateway image's input hash (build.json `key`: device-scripts, test/gateway files, kernel, base). */
  image: string;
  /** sha256 of test/gateway/gateway, which defines the QEMU machine (devices, order, options). */
  machine: string;
  /** `qemu-system-aarch64 --version`, first line. */
  qemu: string;
  /** GATEWAY_SMP and GATEWAY_MEMORY as set for the run ('' when the script's default applies). */
  smp: string;
  memory: string;
  format: string;
}

export function bootedSnapshotKey(id: BootedSnapshotIdentity): string {
  // JSON of a fixed field order: no two different identities give the same text.
  const text = JSON.stringify([id.format, id.image, id.machine, id.qemu, id.smp, id.memory]);
  return createHash('sha256').update(text).digest('hex').slice(0, 16);
}

/** Why a snapshot recorded as `saved` must not be restored for `wanted`, or null when it fits. */
export function staleReason(saved: BootedSnapshotIdentity, wanted: BootedSnapshotIdentity): string | null {
  const fields = ['format', 'image', 'machine', 'qemu', 'smp', 'memory'] as const;
  const differ = fields.filter((f) => saved[f] !== wanted[f]);
  if (differ.length === 0) return null;
  return differ
    .map((f) => `${f} ${JSON.stringify(saved[f])} (wanted ${JSON.stringify(wanted[f])})`)
    .join(', ');
}
