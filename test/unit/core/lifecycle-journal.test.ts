// The lifecycle journal (device-scripts/lib/lifecycle.sh, lifecycle.jq): the device's own writer
// (journal_event, through bash) and reader (journal_read | journal_events, through jq), against
// torn, rotated and unknown-event files; the console's reading of the events (src/core/lifecycle.ts).
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { explain, lastFallBack, lifecycleLabel } from '../../../src/core/lifecycle.js';
import { validateStatus } from '../../../src/core/status/validate.js';
import { repoRoot, runOk } from '../../lib/exec.js';
import { journalEvents, lifecycleJq, minimalStatus } from '../../lib/lifecycle.js';

const COMMON = join(repoRoot, 'device-scripts/lib/common.sh');
let dir: string;
let journal: string;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'rk64-journal-'));
  journal = join(dir, 'lifecycle.jsonl');
});

afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Runs `script` in bash with the device library sourced and the journal in the test's folder. */
async function device(script: string, env: Record<string, string> = {}): Promise<string> {
  const r = await runOk('bash', ['-c', `set -euo pipefail; . "$0"; ${script}`, COMMON], {
    env: {
      PATH: process.env.PATH,
      RK64_DATA: dir,
      RK64_JOURNAL: journal,
      RK64_BOOT_ID_FILE: join(dir, 'boot_id'),
      RK64_PROG: 'test',
      ...env,
    },
  });
  return r.stdout;
}

const read = async (env: Record<string, string> = {}) => journalEvents(await device('journal_read', env));

// Each test runs bash and jq a few times: slow on a loaded machine.
describe('journal writer and reader', { timeout: 120_000 }, () => {
  it('appends one JSON line per event, with the time, the boot id and the fields', async () => {
    await writeFile(join(dir, 'boot_id'), 'f00d\n');
    await device(`journal_event install-started '{"slot":"B","source":"x\\ty\\"z"}'; journal_event up`);
    const lines = (await readFile(journal, 'utf8')).split('\n');
    expect(lines).toHaveLength(3);
    expect(lines[2]).toBe('');
    const events = await read();
    for (const e of events) expect(e.at).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    expect(events.map(({ at: _at, ...rest }) => rest)).toEqual([
      { event: 'install-started', bootId: 'f00d', slot: 'B', source: 'x\ty"z' },
      { event: 'up', bootId: 'f00d' },
    ]);
  });

  it('a torn last line (power cut in the middle of a write) is skipped, the rest read', async () => {
    await device(`journal_event boot '{"slot":"A"}'; journal_event up '{"slot":"A"}'`);
    const whole = await readFile(journal, 'utf8');
    await writeFile(journal, `${whole}{"at":"2026-12-01T00:00:00Z","event":"health","slot":"B","verd`);
    expect((await read()).map((e) => e.event)).toEqual(['boot', 'up']);
    // The next event closes the torn line first: it is read whole.
    await device(`journal_event marked '{"slot":"A","verdict":"good"}'`);
    expect((await read()).map((e) => e.event)).toEqual(['boot', 'up', 'marked']);
  });

  it('unknown events and unknown fields are kept; lines that are not events are skipped', async () => {
    await writeFile(
      journal,
      [
        '{"at":"2026-12-01T00:00:00Z","event":"capacitor-check","slot":"A","volts":4.9}',
        '[1,2,3]',
        '"text"',
        '{"at":5,"event":"boot"}',
        '{"event":"boot"}',
        'garbage',
        '',
        '{"at":"2026-12-01T00:01:00Z","event":"boot","slot":"C","attemptsLeft":"many","bootId":7}',
      ].join('\n'),
    );
    const events = await read();
    expect(events).toEqual([
      { at: '2026-12-01T00:00:00Z', event: 'capacitor-check', slot: 'A', volts: 4.9 },
      { at: '2026-12-01T00:01:00Z', event: 'boot', slot: 'C', attemptsLeft: 'many', bootId: 7 },
    ]);
    // In the status document every declared field has its type, or is null: the console reads it.
    const history = (await lifecycleJq(
      'journal_events | map(history_event)',
      await readFile(journal, 'utf8'),
    )) as object[];
    const status = validateStatus({ ...minimalStatus(), history });
    expect(status.history.map((e) => [e.event, e.slot, e.attemptsLeft, e.bootId])).toEqual([
      ['capacitor-check', 'A', null, null],
      ['boot', null, null, null],
    ]);
    expect((status.history[0] as Record<string, unknown>).volts).toBe(4.9);
  });

  it('rotates at the size limit into .1 and reads the rotated part first; older parts are dropped', async () => {
    const env = { RK64_JOURNAL_MAX_BYTES: '300' };
    await device(`for i in $(seq 0 19); do journal_event up "{\\"n\\":$i}"; done`, env);
    const current = await readFile(journal, 'utf8');
    const rotated = await readFile(`${journal}.1`, 'utf8');
    expect(current.length).toBeLessThanOrEqual(300);
    expect(rotated.length).toBeLessThanOrEqual(300);
    const ns = (await read(env)).map((e) => e.n);
    // The newest events, in order, with nothing missing between the two parts.
    expect(ns.at(-1)).toBe(19);
    expect(ns).toEqual(Array.from({ length: ns.length }, (_, i) => 20 - ns.length + i));
    expect(ns.length).toBeGreaterThan(2);
    expect(ns.length).toBeLessThan(20);
  });

  it('a journal it cannot write costs a log line, never the caller', async () => {
    await writeFile(join(dir, 'file'), '');
    const r = await runOk(
      'bash',
      ['-c', `set -euo pipefail; . "$0"; journal_event up; echo still-here`, COMMON],
      {
        env: { PATH: process.env.PATH, RK64_JOURNAL: join(dir, 'file', 'journal'), RK64_PROG: 'test' },
      },
    );
    expect(r.stdout).toBe('still-here\n');
    expect(r.stderr).toMatch(/test: lifecycle journal: could not append the up event/);
  });
});

describe('explain', () => {
  it('names no fall-back when the journal has none', () => {
    expect(explain([])).toMatch(/^no fall-back: the lifecycle journal is empty/);
  });

  it('labels a trial with its attempt', () => {
    expect(lifecycleLabel({ state: 'trying', reason: null, since: null, attempt: 2, maxAttempts: 3 })).toBe(
      'trying 2 of 3',
    );
    expect(lifecycleLabel({ state: null, reason: null, since: null, attempt: null, maxAttempts: null })).toBe(
      'unknown',
    );
    expect(lastFallBack([])).toBeNull();
  });
});
