// The newest saved serial capture read back (src/core/serial-capture/saved.ts) and `rk64 why`
// with it (src/cli/history.ts), from the recorded real capture of the test gateway falling back
// from an empty slot B (test/fixtures/serial/boot-b-fallback.log: three boots of B that never
// load a kernel, then A) and the recorded journal of a rollback with B's boots taken out.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';

import { whyCommandOutput } from '../../../src/cli/history.js';
import { splitBoots } from '../../../src/core/serial-capture/boots.js';
import { captureLines, parseCapture } from '../../../src/core/serial-capture/format.js';
import { captureDirName } from '../../../src/core/serial-capture/recorder.js';
import { fallBackEvidence, newestCapture } from '../../../src/core/serial-capture/saved.js';
import { validateStatus } from '../../../src/core/status/validate.js';
import { repoRoot } from '../../lib/exec.js';
import { lifecycleJq, minimalStatus } from '../../lib/lifecycle.js';

const fixture = readFileSync(join(repoRoot, 'test/fixtures/serial/boot-b-fallback.log'), 'utf8');
const TARGET = 'gw-serial';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** A capture root holding `files` (name → text) in the target's directory. */
function stateHome(files: Record<string, string>): NodeJS.ProcessEnv {
  const home = mkdtempSync(join(tmpdir(), 'rk64-saved-'));
  dirs.push(home);
  const dir = join(home, 'rk64', 'serial', captureDirName(TARGET));
  mkdirSync(dir, { recursive: true });
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  return { XDG_STATE_HOME: home };
}

const fixtureBoots = () => splitBoots(captureLines(parseCapture(fixture).records));

describe('saved serial captures', () => {
  it('reads the newest run with its rotated parts, oldest part first', async () => {
    const lines = fixture.split('\n');
    const half = Math.floor(lines.length / 2);
    const older = `${lines.slice(0, half).join('\n')}\n`;
    const newer = `# rk64 serial capture 1 part 2\n${lines.slice(half).join('\n')}`;
    const env = stateHome({
      '2026-12-01T08-00-00.000Z.log':
        '# rk64 serial capture 1\n2026-12-01T08:00:00.000Z | U-Boot 2023.01 old run\n',
      '2026-12-06T05-17-26.301Z.log.1': older,
      '2026-12-06T05-17-26.301Z.log': newer,
      'notes.txt': 'not a capture',
    });
    const saved = await newestCapture(TARGET, env);
    expect(saved?.path).toMatch(/2026-12-06T05-17-26\.301Z\.log$/);
    expect(saved?.boots.map((b) => [b.slot, b.reached, b.end])).toEqual(
      fixtureBoots().map((b) => [b.slot, b.reached, b.end]),
    );
    expect(saved?.summary.sentence).toMatch(/three boots of B never started the kernel/);
  });

  it('a torn last record of a part is left out, and a target without captures has none', async () => {
    // The older part ends inside a record (the recorder was killed): glued to the next part's
    // first line, it would read as one more U-Boot banner.
    const env = stateHome({
      '2026-12-06T05-17-26.301Z.log.1':
        '# rk64 serial capture 1\n2026-12-06T05:10:00.000Z | U-Boot 2023.01 (torn',
      '2026-12-06T05-17-26.301Z.log': fixture,
    });
    expect((await newestCapture(TARGET, env))?.boots).toHaveLength(fixtureBoots().length);
    expect(await newestCapture('another-target', env)).toBeUndefined();
  });

  it('the evidence of the last trial: the boots of B before A, none of which started a kernel', () => {
    const evidence = fallBackEvidence(fixtureBoots());
    expect(evidence.attempts).toEqual([
      { slot: 'B', kernelStarted: false, userSpaceReached: false },
      { slot: 'B', kernelStarted: false, userSpaceReached: false },
      { slot: 'B', kernelStarted: false, userSpaceReached: false },
    ]);
    expect(fallBackEvidence([]).attempts).toEqual([]);
  });

  it('rk64 why: the journal sentence sharpened by the capture, then the capture’s own line', async () => {
    const journal = readFileSync(join(repoRoot, 'test/fixtures/lifecycle/watchdog-rollback.jsonl'), 'utf8')
      .split('\n')
      .filter((l) => !/"slot":"B"/.test(l) || !/"event":"(boot|up)"/.test(l))
      .join('\n')
      .replace('"boots":3,"bootsReachedUserSpace":3', '"boots":0,"bootsReachedUserSpace":0');
    const history = (await lifecycleJq('journal_events | map(history_event)', journal)) as object[];
    const status = validateStatus({ ...minimalStatus(), history });
    const env = stateHome({ '2026-12-06T05-17-26.301Z.log': fixture });
    const saved = await newestCapture(TARGET, env);
    const [why, capture] = whyCommandOutput(status, saved).split('\n');
    expect(why).toMatch(/three boots of B never reached user space \(kernel did not start\)$/);
    expect(capture).toMatch(
      /^serial capture \(last boot 2026-12-06T\d\d:\d\d:\d\dZ\): three boots of B never started/,
    );
    // without a capture: the journal alone, one line
    expect(whyCommandOutput(status)).toMatch(/\(the kernel did not start, or stopped before user space\)\n$/);
  });
});
