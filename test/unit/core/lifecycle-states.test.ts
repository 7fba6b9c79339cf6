// The lifecycle state machine (device-scripts/lib/lifecycle.jq, as rk64-status runs it) over
// recorded journal sequences (test/fixtures/lifecycle), and the console's one-sentence answer
// (src/core/lifecycle.ts, explain) to the same sequences as rk64-status prints them.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { explain } from '../../../src/core/lifecycle.js';
import type { HistoryEvent } from '../../../src/core/status/schema.js';
import { validateStatus } from '../../../src/core/status/validate.js';
import { repoRoot } from '../../lib/exec.js';
import { lifecycleJq, lifecycleSequence, minimalStatus } from '../../lib/lifecycle.js';

const recorded = (name: string) => readFileSync(join(repoRoot, 'test/fixtures/lifecycle', name), 'utf8');
const events = (text: string) =>
  text
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as object);

/** The journal as the console reads it from rk64-status --history all. */
async function history(text: string): Promise<HistoryEvent[]> {
  const h = (await lifecycleJq('journal_events | map(history_event)', text)) as object[];
  return validateStatus({ ...minimalStatus(), history: h }).history;
}

describe('lifecycle states from recorded sequences', () => {
  it('update and confirm: installed → trying 1 of 3 → booted → health-checking → good', async () => {
    expect(await lifecycleSequence(events(recorded('update-confirm.jsonl')), 'B')).toEqual([
      'installed',
      'trying 1 of 3',
      'booted',
      'health-checking',
      'good',
    ]);
    // A was confirmed long before and stays good through B's update.
    expect(await lifecycleSequence(events(recorded('update-confirm.jsonl')), 'A')).toEqual([
      'booted',
      'good',
    ]);
  });

  it('health-check rollback: three trials, each failed, then fell back', async () => {
    expect(await lifecycleSequence(events(recorded('health-rollback.jsonl')), 'B')).toEqual([
      'installed',
      'trying 1 of 3',
      'booted',
      'health-checking',
      'bad',
      'trying 2 of 3',
      'booted',
      'health-checking',
      'bad',
      'trying 3 of 3',
      'booted',
      'health-checking',
      'bad',
      'fell-back',
    ]);
    expect(explain(await history(recorded('health-rollback.jsonl')))).toBe(
      'slot B fell back to A at 00:41 UTC: the health check failed three times: dnsmasq: dnsmasq not running',
    );
  });

  it('watchdog rollback (recorded by rk64-boot-record): three trials reset by the watchdog, then fell back', async () => {
    expect(await lifecycleSequence(events(recorded('watchdog-rollback.jsonl')), 'B')).toEqual([
      'installed',
      'trying 1 of 3',
      'booted',
      'trying 2 of 3',
      'booted',
      'trying 3 of 3',
      'booted',
      'fell-back',
    ]);
    expect(explain(await history(recorded('watchdog-rollback.jsonl')))).toMatch(
      /^slot B fell back to A at \d\d:\d\d UTC: the watchdog reset a hung system three times$/,
    );
  });

  it('kernel rollback: no boot of B in the journal, so none reached user space', async () => {
    const text = recorded('watchdog-rollback.jsonl')
      .split('\n')
      .filter((l) => !/"slot":"B"/.test(l) || !/"event":"(boot|up)"/.test(l))
      .join('\n')
      .replace('"boots":3,"bootsReachedUserSpace":3', '"boots":0,"bootsReachedUserSpace":0');
    expect(await lifecycleSequence(events(text), 'B')).toEqual(['installed', 'fell-back']);
    const h = await history(text);
    expect(explain(h)).toMatch(
      /^slot B fell back to A at \d\d:\d\d UTC: three boots of B never reached user space \(the kernel did not start, or stopped before user space\)$/,
    );
    // The serial flight recorder's evidence sharpens it.
    const none = { kernelStarted: false, userSpaceReached: false };
    expect(explain(h, { attempts: [none, none, none] })).toMatch(
      /never reached user space \(kernel did not start\)$/,
    );
  });

  it('a slot never written and not booted is empty; RAUC decides for a slot without journal lines', async () => {
    const of = (slot: object) =>
      lifecycleJq('journal_events | lifecycle_of($s)', '', ['--argjson', 's', JSON.stringify(slot)]);
    expect(await of({ bootname: 'B', booted: false, installedAt: null, bootStatus: 'good' })).toMatchObject({
      state: 'empty',
    });
    expect(await of({ bootname: 'A', booted: true, installedAt: null, bootStatus: 'good' })).toMatchObject({
      state: 'good',
    });
    expect(
      await of({ bootname: 'B', booted: false, installedAt: '2026-01-01T00:00:00Z', bootStatus: null }),
    ).toBeNull();
  });

  it('install failed and marked bad: bad, with who and why', async () => {
    const seq = [
      { at: '1', event: 'install-failed', slot: 'B', reason: 'signature verification failed', by: 'console' },
      { at: '2', event: 'install-finished', slot: 'B', version: '3', by: 'console' },
      { at: '3', event: 'marked', slot: 'B', verdict: 'bad', by: 'console' },
    ];
    expect(await lifecycleSequence(seq, 'B')).toEqual(['bad', 'installed', 'bad']);
    const text = seq.map((e) => JSON.stringify(e)).join('\n');
    expect(await lifecycleJq('journal_events | slot_lifecycle("B") | .reason', text)).toBe(
      'marked bad by console',
    );
  });
});
