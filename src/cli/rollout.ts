// `rk64 rollout BUNDLE TARGET… | --group G | --all`: a canary rollout (src/core/rollout/). A dry
// run by default: it prints the plan and contacts nobody; --apply carries it out. Progress goes
// to stderr (or NDJSON events to stdout with --json), the report to stdout. Ctrl+C starts no new
// work and leaves the state file for `rk64 rollout --resume ID`.
import { DURATION_FORMS, parseDuration } from '../core/actions/duration.js';
import { auditLogPath, localOperator, openAuditLog } from '../core/audit.js';
import { ExitCode, Rk64Error } from '../core/errors.js';
import { printable } from '../core/printable.js';
import {
  allowedFailures,
  parseBatches,
  parseMaxFailures,
  planBatches,
  type GatewayPhase,
} from '../core/rollout/plan.js';
import { runRollout, type RolloutEvent, type RolloutOutcome } from '../core/rollout/run.js';
import {
  loadRollout,
  newRolloutId,
  resumable,
  rolloutPath,
  ROLLOUT_SCHEMA,
  saveRollout,
  type RolloutState,
} from '../core/rollout/state.js';
import type { Transport } from '../core/transport/transport.js';
import type { GatewayStatus } from '../core/status/schema.js';

export interface RolloutRequest {
  bundle: string | null;
  gateways: string[];
  batches: string;
  maxFailures: string;
  soak: string;
  apply: boolean;
  json: boolean;
  resume: string | null;
  parallel: number;
  bootTimeoutS: number;
}

export interface RolloutIo {
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
  env: NodeJS.ProcessEnv;
}

export const ROLLOUT_EXIT: Record<RolloutOutcome, number> = {
  done: ExitCode.ok,
  stopped: ExitCode.rolloutStopped,
  'unreachable-left': ExitCode.rolloutUnreachable,
  interrupted: ExitCode.interrupted,
};

/**
 * How often a rebooted gateway is asked for its status while it is verified: each ask is an SSH
 * login and a whole rk64-status on a gateway that is booting and running its health check.
 */
export const ROLLOUT_POLL_MS = 10_000;

/** What a gateway goes through, for the plan. */
const STEPS = `upload the bundle, rk64-action install, rk64-action reboot, then wait (asking every ${ROLLOUT_POLL_MS / 1000} s) until the slot with the new version is good and the health check stays passed for the soak time`;

export function planText(state: RolloutState, path: string): string {
  const lines = [
    `Rollout ${state.id} of ${state.bundle}: ${state.batches.flat().length} gateways in ${state.batches.length} batch(es).`,
    ...state.batches.map(
      (b, i) => `  batch ${i + 1}${i === 0 ? ' (canary)' : ''}: ${b.length} gateway(s): ${b.join(', ')}`,
    ),
    `Each gateway: ${STEPS} (${state.soakSeconds} s).`,
    `A batch starts when the one before has finished. More than ${allowedFailures(state.maxFailures, state.batches.flat().length)} failed gateway(s) stop the rollout; unreachable ones are counted apart and tried again at the end.`,
    `State file: ${path}`,
  ];
  return lines.map(printable).join('\n');
}

function report(state: RolloutState, outcome: RolloutOutcome): string {
  const by = (phase: GatewayPhase) =>
    Object.entries(state.gateways)
      .filter(([, p]) => p.phase === phase)
      .map(([g, p]) => `${g}${p.reason ? ` (${p.reason})` : ''}`);
  const lines = [
    `Rollout ${state.id}: ${
      outcome === 'done'
        ? 'done, every gateway good'
        : outcome === 'stopped'
          ? `stopped: ${state.stopped ?? ''}`
          : outcome === 'interrupted'
            ? 'interrupted; nothing new was started'
            : 'done where reachable; some gateways stayed unreachable'
    }${state.version ? ` (version ${state.version})` : ''}.`,
  ];
  for (const phase of ['good', 'failed', 'unreachable', 'skipped', 'pending', 'verifying'] as const) {
    const names = by(phase);
    if (names.length > 0) lines.push(`  ${phase}: ${names.length}: ${names.join(', ')}`);
  }
  if (outcome !== 'done') lines.push(`  resume: rk64 rollout --resume ${state.id} --apply`);
  return `${lines.map(printable).join('\n')}\n`;
}

export async function rolloutCommand(
  request: RolloutRequest,
  deps: {
    connect: (gateway: string) => Promise<Transport>;
    fetchStatus: (transport: Transport) => Promise<GatewayStatus>;
  },
  io: RolloutIo,
): Promise<number> {
  let state: RolloutState;
  let path: string;
  if (request.resume !== null) {
    path = rolloutPath(request.resume, io.env);
    state = resumable(await loadRollout(path));
  } else {
    if (request.bundle === null) throw new Rk64Error('usage', 'rk64 rollout needs a BUNDLE (or --resume ID)');
    if (request.gateways.length === 0) {
      throw new Rk64Error('usage', 'rk64 rollout got no gateways', 'name targets, --group G or --all');
    }
    const soak = parseDuration(request.soak);
    if (soak === null)
      throw new Rk64Error('usage', `--soak '${request.soak}' is not a duration: ${DURATION_FORMS}`);
    const batches = planBatches(request.gateways, parseBatches(request.batches));
    const created = new Date();
    const id = newRolloutId(created);
    path = rolloutPath(id, io.env);
    state = {
      schema: ROLLOUT_SCHEMA,
      id,
      createdAt: created.toISOString(),
      operator: localOperator(io.env),
      bundle: request.bundle,
      version: null,
      batches,
      maxFailures: parseMaxFailures(request.maxFailures),
      soakSeconds: soak.seconds,
      gateways: Object.fromEntries(
        request.gateways.map((g) => [
          g,
          { phase: 'pending', reason: null, updatedAt: created.toISOString() },
        ]),
      ),
      stopped: null,
    };
  }
  if (!request.apply) {
    io.stdout.write(`${planText(state, path)}\nDry run: nothing was sent. Add --apply to carry it out.\n`);
    return ExitCode.ok;
  }
  await saveRollout(path, state);
  if (!request.json) io.stderr.write(`rk64: ${printable(planText(state, path))}\n`);
  const abort = new AbortController();
  const onSigint = () => {
    if (abort.signal.aborted) process.exit(ExitCode.interrupted);
    io.stderr.write(
      'rk64: interrupted: no new installs start; the running ones finish (Ctrl+C again quits at once)\n',
    );
    abort.abort();
  };
  process.on('SIGINT', onSigint);
  let last = state;
  try {
    const outcome = await runRollout(state, {
      connect: deps.connect,
      fetchStatus: deps.fetchStatus,
      save: async (s) => {
        last = s;
        await saveRollout(path, s);
      },
      emit: (event: RolloutEvent) => {
        if (request.json)
          io.stdout.write(`${JSON.stringify({ time: new Date().toISOString(), ...event })}\n`);
        else if (event.event === 'gateway')
          io.stderr.write(
            `rk64: ${printable(`${event.gateway}: ${event.phase}${event.reason ? `: ${event.reason}` : ''}`)}\n`,
          );
        else if (event.event === 'stopped')
          io.stderr.write(`rk64: ${printable(`stopping: ${event.reason}`)}\n`);
      },
      audit: { log: openAuditLog(auditLogPath(io.env)), operator: localOperator(io.env) },
      signal: abort.signal,
      parallel: request.parallel,
      bootTimeoutMs: request.bootTimeoutS * 1000,
      pollMs: ROLLOUT_POLL_MS,
      ...(io.env.RK64_UPLOAD_DIR ? { uploadDir: io.env.RK64_UPLOAD_DIR } : {}),
    });
    if (!request.json) io.stdout.write(report(last, outcome));
    return ROLLOUT_EXIT[outcome];
  } finally {
    process.off('SIGINT', onSigint);
  }
}
