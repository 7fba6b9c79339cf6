// A rollout's state file, ~/.local/state/rk64/rollouts/<id>.json ($XDG_STATE_HOME): the plan and
// where every gateway is, rewritten atomically (a temporary file renamed over it) after every
// change, so an interrupted rollout — Ctrl+C, a lost laptop — resumes from the last step it
// recorded (`rk64 rollout --resume ID`).
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

import { stateDir } from '../audit.js';
import { Rk64Error } from '../errors.js';
import type { FailureLimit, GatewayPhase } from './plan.js';

export const ROLLOUT_SCHEMA = 'rk64.rollout/1';

export interface GatewayProgress {
  phase: GatewayPhase;
  /** One line: why it failed, is unreachable, or what it waits for. */
  reason: string | null;
  updatedAt: string;
}

export interface RolloutState {
  schema: typeof ROLLOUT_SCHEMA;
  id: string;
  createdAt: string;
  operator: string;
  /** The bundle as given (a local path or an https URL). */
  bundle: string;
  /** The bundle's version, learned from the first install (the slot it was written to); null before. */
  version: string | null;
  /** Gateway names, batch by batch (the canary first). */
  batches: string[][];
  maxFailures: FailureLimit;
  soakSeconds: number;
  gateways: Record<string, GatewayProgress>;
  /** Why it stopped starting new installs (failures over the limit, interrupted), or null. */
  stopped: string | null;
}

export function rolloutsDir(env: NodeJS.ProcessEnv = process.env): string {
  return join(stateDir(env), 'rollouts');
}

/** A new id: the UTC time and a few random hex digits (sorts by start, never collides in practice). */
export function newRolloutId(now: Date): string {
  return `${now.toISOString().replace(/[-:]/g, '').slice(0, 15)}Z-${randomBytes(3).toString('hex')}`;
}

const ID_RE = /^[0-9]{8}T[0-9]{6}Z-[0-9a-f]{6}$/;

export function rolloutPath(id: string, env: NodeJS.ProcessEnv = process.env): string {
  if (!ID_RE.test(id))
    throw new Rk64Error('usage', `'${id}' is not a rollout id`, 'ids look like 20261206T054600Z-a1b2c3');
  return join(rolloutsDir(env), `${id}.json`);
}

/** Writes the whole state: a temporary file in the same directory, then rename (atomic on POSIX). */
export async function saveRollout(path: string, state: RolloutState): Promise<void> {
  await mkdir(join(path, '..'), { recursive: true, mode: 0o700 });
  const tmp = `${path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  await writeFile(tmp, `${JSON.stringify(state, null, 2)}\n`, { mode: 0o600 });
  await rename(tmp, path);
}

function isProgress(v: unknown): v is GatewayProgress {
  const p = v as Partial<GatewayProgress> | null;
  return (
    typeof p === 'object' && p !== null && typeof p.phase === 'string' && typeof p.updatedAt === 'string'
  );
}

export async function loadRollout(path: string): Promise<RolloutState> {
  let value: unknown;
  try {
    value = JSON.parse(await readFile(path, 'utf8'));
  } catch (error) {
    throw new Rk64Error('usage', `cannot read the rollout state ${path}: ${(error as Error).message}`);
  }
  const s = value as Partial<RolloutState> | null;
  if (
    typeof s !== 'object' ||
    s === null ||
    s.schema !== ROLLOUT_SCHEMA ||
    typeof s.id !== 'string' ||
    typeof s.bundle !== 'string' ||
    !Array.isArray(s.batches) ||
    !s.batches.every((b) => Array.isArray(b) && b.every((n) => typeof n === 'string')) ||
    typeof s.gateways !== 'object' ||
    s.gateways === null ||
    !Object.values(s.gateways).every(isProgress) ||
    typeof s.soakSeconds !== 'number'
  ) {
    throw new Rk64Error('usage', `${path} is not a ${ROLLOUT_SCHEMA} state file`);
  }
  return s as RolloutState;
}

/**
 * The state to resume from: gateways interrupted mid-way start over from their last safe point
 * (an install that never finished is redone; one rebooting or verifying is verified again), the
 * stop reason is cleared, and unreachable gateways get another try.
 */
export function resumable(state: RolloutState): RolloutState {
  const gateways: Record<string, GatewayProgress> = {};
  for (const [name, p] of Object.entries(state.gateways)) {
    const phase: GatewayPhase =
      p.phase === 'uploading' ||
      p.phase === 'installing' ||
      p.phase === 'skipped' ||
      p.phase === 'unreachable'
        ? 'pending'
        : p.phase === 'rebooting'
          ? 'verifying'
          : p.phase;
    gateways[name] = { ...p, phase };
  }
  return { ...state, gateways, stopped: null };
}
