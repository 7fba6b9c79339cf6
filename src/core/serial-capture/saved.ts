// The newest saved capture of a target, read back (recorder.ts writes them): the serial console's
// own account of the last boots, for `rk64 why` next to the gateway's journal, and for when the
// gateway cannot answer at all (stuck in U-Boot, or resetting).
import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';

import type { CaptureEvidence } from '../lifecycle.js';
import { CAPTURE_FILE_MAX_BYTES, CAPTURE_PARTS_KEPT } from '../transport/transport.js';
import { BOOT_STAGES, splitBoots, summarizeBoots, type Boot, type CaptureSummary } from './boots.js';
import { captureLines, parseCapture } from './format.js';
import { captureDirName, captureRoot } from './recorder.js';

export interface SavedCapture {
  /** The newest part of the newest console run. */
  path: string;
  boots: Boot[];
  summary: CaptureSummary;
}

const RUN_RE = /^\d{4}-\d\d-\d\dT\d\d-\d\d-\d\d\.\d{3}Z\.log$/;

/** The newest console run of `target` (all its kept parts, oldest first), or undefined. */
export async function newestCapture(
  target: string,
  env: NodeJS.ProcessEnv,
): Promise<SavedCapture | undefined> {
  const dir = join(captureRoot(env), captureDirName(target));
  const names = await readdir(dir).catch(() => [] as string[]);
  // The stems are ISO times, so the newest run sorts last.
  const newest = names
    .filter((n) => RUN_RE.test(n))
    .sort()
    .at(-1);
  if (!newest) return undefined;
  const parts = [
    ...Array.from({ length: CAPTURE_PARTS_KEPT }, (_, i) => `${newest}.${CAPTURE_PARTS_KEPT - i}`),
    newest,
  ];
  let text = '';
  for (const part of parts) {
    const path = join(dir, part);
    // A part larger than the recorder writes was not written by it: not read.
    const size = await stat(path).then(
      (s) => (s.isFile() ? s.size : -1),
      () => -1,
    );
    if (size < 0 || size > CAPTURE_FILE_MAX_BYTES * 2) continue;
    const content = await readFile(path, 'utf8').catch(() => '');
    // A torn last record (the recorder was killed mid-write) is left out, not glued to the next part.
    text += content.slice(0, content.lastIndexOf('\n') + 1);
  }
  const boots = splitBoots(captureLines(parseCapture(text).records));
  return { path: join(dir, newest), boots, summary: summarizeBoots(boots) };
}

const stageIndex = (boot: Boot): number => BOOT_STAGES.indexOf(boot.reached);

/**
 * The boots of the last trial before a fall-back: the finished boots of one slot that come right
 * before the boots of the other slot at the end of the capture (B, B, B, then A).
 */
export function fallBackEvidence(boots: readonly Boot[]): CaptureEvidence {
  const finished = boots.filter((b) => b.end !== 'running' || b === boots.at(-1));
  let i = finished.length - 1;
  const current = finished[i]?.slot;
  while (i >= 0 && finished[i]?.slot === current) i -= 1;
  const tried = finished[i]?.slot;
  const attempts: CaptureEvidence['attempts'][number][] = [];
  for (; i >= 0 && tried !== undefined && finished[i]?.slot === tried; i -= 1) {
    const boot = finished[i];
    if (!boot) break;
    attempts.unshift({
      slot: tried,
      kernelStarted: stageIndex(boot) >= BOOT_STAGES.indexOf('kernel'),
      userSpaceReached: stageIndex(boot) >= BOOT_STAGES.indexOf('user-space'),
    });
  }
  return { attempts };
}
