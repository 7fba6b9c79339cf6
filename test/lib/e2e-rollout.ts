// `rk64 rollout` (the built CLI, bin/rk64.js) over test gateways: one rk64 config naming each
// gateway's SSH profile and a group of them, one known_hosts, a state directory of its own (the
// rollout's state file and the audit log), and the rollout's NDJSON events as they come.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RolloutEvent } from '../../src/core/rollout/run.js';
import { auditLogPath, readAuditLog, type AuditEntry } from '../../src/core/audit.js';
import { loadRollout, rolloutPath, type RolloutState } from '../../src/core/rollout/state.js';
import type { LoopbackGateway } from './console-gateway.js';
import type { E2eGateway } from './e2e-gateway.js';
import { repoRoot } from './exec.js';

/** One gateway as the rollout reaches it: an rk64 SSH profile and the known_hosts lines it needs. */
export interface FleetMember {
  name: string;
  profile: { type: 'ssh'; host: string; port: number; user: string; identity: string };
  knownHosts: string;
}

/** A QEMU test gateway as the console reaches it: its own profile `gateway-NAME` (over SSH). */
export function vmMember(gw: E2eGateway): FleetMember {
  const state = gw.gateway.state;
  const name = `gateway-${gw.gateway.name}`;
  const config = JSON.parse(readFileSync(state.config, 'utf8')) as {
    profiles: Record<string, FleetMember['profile']>;
  };
  const profile = config.profiles[name];
  if (!profile) throw new Error(`${state.config} has no profile ${name}`);
  return { name, profile, knownHosts: readFileSync(state.knownHosts, 'utf8') };
}

/** A loopback gateway (test/lib/console-gateway.ts: sshd with the real device scripts) named `name`. */
export function loopbackMember(name: string, gw: LoopbackGateway): FleetMember {
  return {
    name,
    profile: { type: 'ssh', host: '127.0.0.1', port: gw.sshd.port, user: 'root', identity: gw.key.path },
    knownHosts: readFileSync(gw.knownHostsPath, 'utf8'),
  };
}

export interface Fleet {
  dir: string;
  config: string;
  knownHosts: string;
  /** XDG_STATE_HOME of every rollout run: state files and the audit log. */
  stateHome: string;
  remove(): void;
}

export function writeFleet(group: string, members: FleetMember[]): Fleet {
  const dir = mkdtempSync(join(tmpdir(), 'rk64-e2e-fleet-'));
  const config = join(dir, 'config.json');
  const knownHosts = join(dir, 'known_hosts');
  writeFileSync(
    config,
    JSON.stringify({
      profiles: Object.fromEntries(members.map((m) => [m.name, m.profile])),
      groups: { [group]: members.map((m) => m.name) },
    }),
  );
  writeFileSync(knownHosts, members.map((m) => m.knownHosts.trimEnd()).join('\n') + '\n');
  return {
    dir,
    config,
    knownHosts,
    stateHome: join(dir, 'state'),
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}

export type RolloutLine = RolloutEvent & { time: string };

export interface RolloutRun {
  child: ChildProcess;
  /** Resolves when the CLI exits: its exit code, every event and stderr. */
  done: Promise<{ code: number | null; events: RolloutLine[]; stderr: string }>;
}

/**
 * `rk64 rollout ARGS --json --config … --known-hosts …` with the fleet's state directory;
 * `onEvent` sees each event as it arrives (and may signal the child).
 */
export function startRollout(
  fleet: Fleet,
  args: string[],
  onEvent: (event: RolloutLine, child: ChildProcess) => void = () => undefined,
): RolloutRun {
  const child = spawn(
    process.execPath,
    [
      join(repoRoot, 'bin/rk64.js'),
      'rollout',
      ...args,
      '--json',
      '--config',
      fleet.config,
      '--known-hosts',
      fleet.knownHosts,
    ],
    {
      env: { ...process.env, XDG_STATE_HOME: fleet.stateHome, SSH_AUTH_SOCK: '' },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  const events: RolloutLine[] = [];
  let partial = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => {
    const lines = (partial + chunk.toString('utf8')).split('\n');
    partial = lines.pop() ?? '';
    for (const line of lines.filter(Boolean)) {
      const event = JSON.parse(line) as RolloutLine;
      events.push(event);
      onEvent(event, child);
    }
  });
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
  const done = new Promise<{ code: number | null; events: RolloutLine[]; stderr: string }>((resolve) =>
    child.once('close', (code) => resolve({ code, events, stderr })),
  );
  return { child, done };
}

/** The fleet's state directory as the CLI reads it from the environment. */
const stateEnv = (fleet: Fleet): NodeJS.ProcessEnv => ({ XDG_STATE_HOME: fleet.stateHome });

/** The state file the rollout `id` left in the fleet's state directory (the CLI's own reader). */
export function rolloutState(fleet: Fleet, id: string): Promise<RolloutState> {
  return loadRollout(rolloutPath(id, stateEnv(fleet)));
}

/** The audit log's entries for one gateway (the CLI's own reader); a line it cannot read fails. */
export async function auditEntries(fleet: Fleet, gateway: string): Promise<AuditEntry[]> {
  const { entries, unreadable } = await readAuditLog(auditLogPath(stateEnv(fleet)));
  if (unreadable > 0) throw new Error(`${unreadable} unreadable line(s) in the fleet's audit log`);
  return entries.filter((e) => e.gateway === gateway);
}
