// The gateway's lifecycle journal in tests: the device's own reader and state machine
// (device-scripts/lib/lifecycle.jq, run with jq as rk64-status runs it) over journal text or
// recorded events, and the history and `rk64 why` of a running e2e gateway.
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { HistoryEvent } from '../../src/core/status/schema.js';
import { validateStatus } from '../../src/core/status/validate.js';
import { ensureBuilt, runCli } from './cli.js';
import type { E2eGateway } from './e2e-gateway.js';
import { repoRoot, runOk } from './exec.js';

const LIB = join(repoRoot, 'device-scripts/lib');

/** jq with the device's lifecycle.jq included, over `input` read as raw text. */
export async function lifecycleJq(program: string, input: string, args: string[] = []): Promise<unknown> {
  const r = await runOk('jq', ['-Rsc', '-L', LIB, ...args, `include "lifecycle"; ${program}`], { input });
  return JSON.parse(r.stdout) as unknown;
}

/** The journal's text read as rk64-status reads it. */
export async function journalEvents(text: string): Promise<Record<string, unknown>[]> {
  return (await lifecycleJq('journal_events', text)) as Record<string, unknown>[];
}

/**
 * The states a slot went through, replaying the device's state machine over every prefix of the
 * events (oldest first), repeated states once: `installed`, `trying 1 of 3`, `booted`, ….
 */
export async function lifecycleSequence(events: readonly object[], slot: string): Promise<string[]> {
  const text = events.map((e) => JSON.stringify(e)).join('\n');
  const states = (await lifecycleJq(
    `journal_events as $e | [range(1; ($e | length) + 1) | $e[:.] | slot_lifecycle($slot)
       | if . == null then "none" elif .state == "trying" then "trying \\(.attempt) of \\(.maxAttempts)" else .state end]`,
    text,
    ['--arg', 'slot', slot],
  )) as string[];
  return states.filter((s, i) => s !== states[i - 1] && s !== 'none');
}

/**
 * Every event the gateway's journal holds (rk64-status --history all, read by the console's
 * reader). With RK64_LIFECYCLE_RECORD=DIR the journal file itself is also saved there as
 * `<label>.jsonl`: the recorded sequences the unit tests replay (test/fixtures/lifecycle).
 */
export async function gatewayHistory(gw: E2eGateway, label?: string): Promise<HistoryEvent[]> {
  const record = process.env.RK64_LIFECYCLE_RECORD;
  if (record && label) {
    const text = (
      await gw.sshOk('cat /data/rk64/lifecycle.jsonl.1 /data/rk64/lifecycle.jsonl 2>/dev/null || true')
    ).stdout;
    await mkdir(record, { recursive: true });
    await writeFile(join(record, `${label}.jsonl`), text);
  }
  return validateStatus(JSON.parse((await gw.sshOk('rk64-status --history all')).stdout)).history;
}

/** The events from the last install-started on. */
export function sinceLastInstall(history: readonly HistoryEvent[]): HistoryEvent[] {
  return history.slice(history.findLastIndex((e) => e.event === 'install-started'));
}

/** `rk64 why` of the gateway, through the built CLI and its SSH profile. */
export async function rk64Why(gw: E2eGateway): Promise<string> {
  await ensureBuilt();
  const st = gw.gateway.state;
  const r = await runCli(
    [
      'why',
      `gateway-${gw.gateway.name}`,
      '--config',
      st.config,
      '--known-hosts',
      st.knownHosts,
      '--identity',
      st.identity,
      '--timeout',
      '120',
    ],
    { env: { ...process.env, SSH_AUTH_SOCK: '' }, timeoutMs: 180_000 },
  );
  if (r.code !== 0) throw new Error(`rk64 why exited ${r.code}: ${r.stderr}`);
  return r.stdout.trim();
}

/** A status document with every required field and nothing read, to wrap events for the reader. */
export function minimalStatus(): Record<string, unknown> {
  return {
    schema: 'rk64.status/1',
    collectedAt: '2026-12-01T00:00:00Z',
    hostname: null,
    uptimeSeconds: null,
    versions: { os: null, bundle: null, kernel: null, rk64: null },
    rauc: null,
    bootState: null,
    watchdog: null,
    links: null,
    leases: null,
    sshOnWan: null,
    health: null,
    firstBootCompleted: null,
    errors: [],
  };
}
