// Status documents of every released rk64-status (test/fixtures/status/released, recorded by the
// `record` script there) and a synthetic one from a newer gateway: a console reads them all.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

import { repoRoot } from './exec.js';

const RELEASED_DIR = join(repoRoot, 'test/fixtures/status/released');

/** [commit, document text] for each released rk64-status, oldest last (git log order). */
export function releasedDocuments(): [string, string][] {
  return readdirSync(RELEASED_DIR)
    .filter((f) => f.endsWith('.json'))
    .map((f) => [f.replace(/\.json$/, ''), readFileSync(join(RELEASED_DIR, f), 'utf8')]);
}

type Doc = Record<string, unknown> & {
  rauc: { slots: Record<string, unknown>[] };
  sshOnWan: Record<string, unknown>;
  leases: Record<string, unknown>[];
};

/**
 * What a newer gateway may print within rk64.status/1: fields this console does not know (at the
 * top, in a slot, in sshOnWan) and, as an older one would, no `health`, `firstBootCompleted` or
 * lease `expiresAt`.
 */
export function newerDocument(): Record<string, unknown> {
  const [, text] = releasedDocuments()[0] ?? ['', '{}'];
  const doc = JSON.parse(text) as Doc;
  doc.cellular = { signalDbm: -71, operator: 'lab' };
  doc.sshOnWan.expiresAt = '2026-11-26T01:30:00Z';
  const [first] = doc.rauc.slots;
  if (first) first.signedVersion = '2026.11.2';
  delete doc.health;
  delete doc.firstBootCompleted;
  for (const lease of doc.leases) delete lease.expiresAt;
  return doc;
}
