// rk64 command line. Data goes to stdout, progress and errors to stderr (one line per problem),
// and the exit code says what happened (src/core/errors.ts, listed in --help).
// This module and everything it imports statically must stay free of Ink/React: the
// interactive dashboard is loaded only by runInteractive (interactive.ts).
import { loadConfig, defaultConfigPath, fleetMembers, resolveTarget } from '../core/config.js';
import type { ConnectOptions } from '../core/connect.js';
import { openTransport } from '../core/connect.js';
import { ExitCode, Rk64Error } from '../core/errors.js';
import { asRk64Error, internalStack, runFleet } from '../core/fleet.js';
import { printable, shown } from '../core/printable.js';
import type { FleetResult } from '../core/fleet.js';
import type { GatewayStatus } from '../core/status/schema.js';
import { fetchStatus } from '../core/status/fetch.js';
import { statusJson } from '../core/status/validate.js';
import type { Target } from '../core/target.js';
import { parseJump, targetErrorLine } from '../core/target.js';
import type { CliCommand, GlobalArgs } from './command.js';
import { parseHotPath } from './command.js';
import { breakGlassCommand } from './break-glass.js';
import { runInteractive } from './interactive.js';
import { renderStatusText, useColor } from './render.js';

export interface CliIo {
  stdout: NodeJS.WritableStream & { isTTY?: boolean };
  stderr: NodeJS.WritableStream & { isTTY?: boolean };
  stdin: { isTTY?: boolean };
  env: NodeJS.ProcessEnv;
}

function connectOptionsFor(args: GlobalArgs, io: CliIo): ConnectOptions {
  const timeoutMs = args.timeout * 1000;
  return {
    ssh: {
      acceptNewHostKey: args['accept-new-host-key'],
      connectTimeoutMs: timeoutMs,
      env: io.env,
      log: (line) => io.stderr.write(`rk64: ${printable(line)}\n`),
      ...(args['known-hosts'] ? { knownHostsPath: args['known-hosts'] } : {}),
      ...(args.identity !== undefined ? { identityFiles: [args.identity].flat() } : {}),
    },
    serial: {
      wakeTimeoutMs: Math.min(timeoutMs, 10_000),
      commandTimeoutMs: timeoutMs,
      env: io.env,
      log: (line) => io.stderr.write(`rk64: ${printable(line)}\n`),
      ...(args.identity !== undefined ? { identityFiles: [args.identity].flat() } : {}),
      ...(io.env.RK64_SERIAL_PASSWORD !== undefined ? { password: io.env.RK64_SERIAL_PASSWORD } : {}),
    },
  };
}

async function resolveTargets(names: string[], args: GlobalArgs, io: CliIo): Promise<Target[]> {
  const explicit = args.config !== undefined;
  const config = await loadConfig(args.config ?? defaultConfigPath(io.env), explicit);
  const jump = args.jump === undefined ? undefined : parseJump(args.jump, `--jump '${args.jump}'`);
  return names.map((name) => {
    const target = resolveTarget(name, config, io.env);
    if (target.kind === 'ssh' && jump) return { ...target, jump };
    if (target.kind === 'serial' && args.baud !== undefined) return { ...target, baud: args.baud };
    return target;
  });
}

async function statusOf(
  target: Target,
  connect: ConnectOptions,
  timeoutMs: number,
  history?: number | 'all',
): Promise<GatewayStatus> {
  const transport = await openTransport(target, connect);
  try {
    return await fetchStatus(transport, { timeoutMs, ...(history !== undefined ? { history } : {}) });
  } finally {
    await transport.close();
  }
}

/** With --debug, the stack of a console bug (exit 70) after its error line. */
function writeStack(error: Rk64Error, args: { debug?: boolean }, io: CliIo): void {
  const stack = internalStack(error);
  if (args.debug && stack) io.stderr.write(`${stack}\n`);
}

function errorJson(error: Rk64Error): Record<string, string | number | null> {
  return { kind: error.kind, message: error.message, hint: error.hint ?? null, exitCode: error.exitCode };
}

/** 0 all ok, 1 some failed; when all failed: their common code, or 3. */
export function fleetExitCode(results: readonly FleetResult<unknown, unknown>[]): number {
  const failed = results.filter((r) => !r.ok);
  if (failed.length === 0) return ExitCode.ok;
  if (failed.length < results.length) return ExitCode.partial;
  const codes = new Set(failed.map((r) => (r.ok ? 0 : r.error.exitCode)));
  return codes.size === 1 ? ([...codes][0] ?? ExitCode.unreachable) : ExitCode.unreachable;
}

async function statusCommand(
  names: string[],
  json: boolean,
  parallel: number,
  args: GlobalArgs,
  io: CliIo,
): Promise<number> {
  if (!Number.isInteger(parallel) || parallel < 1) {
    throw new Rk64Error('usage', `--parallel must be a whole number of at least 1, not ${parallel}`);
  }
  const targets = await resolveTargets(names, args, io);
  const connect = connectOptionsFor(args, io);
  const color = useColor(io.stdout, io.env);
  const results = await runFleet(targets, parallel, (t) => statusOf(t, connect, args.timeout * 1000));
  results.forEach((result) => {
    const name = result.target.name;
    if (result.ok) {
      io.stdout.write(
        json
          ? `${JSON.stringify({ target: name, status: statusJson(result.value) })}\n`
          : renderStatusText(printable(name), shown(result.value), { color }),
      );
    } else {
      io.stderr.write(`rk64: ${printable(targetErrorLine(result.target, result.error.toLine()))}\n`);
      writeStack(result.error, args, io);
      if (json) io.stdout.write(`${JSON.stringify({ target: name, error: errorJson(result.error) })}\n`);
      else io.stdout.write(`${printable(targetErrorLine(result.target, result.error.message))}\n`);
    }
  });
  return fleetExitCode(results);
}

async function tuiCommand(
  name: string,
  flags: {
    batch: boolean;
    json: boolean;
    readOnly: boolean;
    fleet?: { targets: string[]; groups: string[]; all: boolean; parallel: number };
  },
  args: GlobalArgs,
  io: CliIo,
): Promise<number> {
  if (flags.fleet) {
    if (flags.json || flags.batch) {
      throw new Rk64Error(
        'usage',
        'the fleet view has no --batch or --json',
        'use rk64 status --json for several gateways',
      );
    }
    if (!io.stdout.isTTY || !io.stdin.isTTY) {
      throw new Rk64Error('usage', 'the fleet view needs a terminal', 'use rk64 status --json');
    }
    const { runFleetInteractive } = await import('./interactive.js');
    const config = await loadConfig(args.config ?? defaultConfigPath(io.env), args.config !== undefined);
    const names = fleetMembers(config, flags.fleet);
    if (names.length === 0)
      throw new Rk64Error('usage', 'the fleet view got no gateways', `${config.path} names none`);
    if (!Number.isInteger(flags.fleet.parallel) || flags.fleet.parallel < 1) {
      throw new Rk64Error(
        'usage',
        `--parallel must be a whole number of at least 1, not ${flags.fleet.parallel}`,
      );
    }
    const targets = await resolveTargets(names, args, io);
    return runFleetInteractive({
      targets,
      connect: connectOptionsFor(args, io),
      readOnly: flags.readOnly,
      timeoutMs: args.timeout * 1000,
      parallel: flags.fleet.parallel,
      env: io.env,
    });
  }
  const [target] = await resolveTargets([name], args, io);
  if (!target) throw new Rk64Error('usage', 'rk64 tui needs one TARGET');
  const connect = connectOptionsFor(args, io);
  const timeoutMs = args.timeout * 1000;
  if (flags.json || flags.batch) {
    const status = await statusOf(target, connect, timeoutMs);
    io.stdout.write(
      flags.json
        ? `${JSON.stringify(statusJson(status), null, 2)}\n`
        : renderStatusText(printable(target.name), shown(status), { color: useColor(io.stdout, io.env) }),
    );
    return ExitCode.ok;
  }
  if (!io.stdout.isTTY || !io.stdin.isTTY) {
    throw new Rk64Error('usage', 'interactive mode needs a terminal', 'use --batch or --json');
  }
  return runInteractive({
    target,
    connect,
    readOnly: flags.readOnly,
    timeoutMs,
    debug: args.debug === true,
    env: io.env,
  });
}

async function runCommand(command: CliCommand, io: CliIo): Promise<number> {
  switch (command.name) {
    case 'status':
      return statusCommand(command.targets, command.json, command.parallel, command.args, io);
    case 'tui':
      return tuiCommand(command.target, command, command.args, io);
    case 'action': {
      // Loaded on demand: `rk64 status` never evaluates the action runners.
      const { parseActionWords, runActionCommand } = await import('./action.js');
      const action = parseActionWords(command.words, {
        ...(command.for !== undefined ? { for: command.for } : {}),
        allowDowngrade: command.allowDowngrade,
      });
      const [target] = await resolveTargets([command.target], command.args, io);
      if (!target) throw new Rk64Error('usage', 'rk64 action needs one TARGET');
      const transport = await openTransport(target, connectOptionsFor(command.args, io));
      try {
        return await runActionCommand(transport, action, io, target.name);
      } finally {
        await transport.close();
      }
    }
    case 'history':
    case 'why': {
      const [target] = await resolveTargets([command.target], command.args, io);
      if (!target) throw new Rk64Error('usage', `rk64 ${command.name} needs one TARGET`);
      const limit = command.name === 'history' ? command.limit : null;
      const { historyCommandOutput, whyCommandOutput, captureLine } = await import('./history.js');
      // A serial target's flight recorder may know what the gateway cannot say (it is in U-Boot,
      // or resetting): its sentence is printed even when the status cannot be read.
      const capture =
        command.name === 'why' && target.kind === 'serial'
          ? await import('../core/serial-capture/saved.js').then((m) => m.newestCapture(target.name, io.env))
          : undefined;
      let status: GatewayStatus;
      try {
        status = await statusOf(
          target,
          connectOptionsFor(command.args, io),
          command.args.timeout * 1000,
          limit ?? 'all',
        );
      } catch (error) {
        if (capture) io.stdout.write(captureLine(capture));
        throw error;
      }
      io.stdout.write(
        command.name === 'history'
          ? historyCommandOutput(status, command.json)
          : whyCommandOutput(status, capture),
      );
      return ExitCode.ok;
    }
    case 'rollout': {
      const { rolloutCommand } = await import('./rollout.js');
      const args = command.args;
      const [bundle, ...named] = command.resume === null ? command.words : [];
      const config = await loadConfig(args.config ?? defaultConfigPath(io.env), args.config !== undefined);
      const gateways =
        command.resume === null
          ? fleetMembers(config, { targets: named, groups: command.groups, all: command.all })
          : [];
      const connect = connectOptionsFor(args, io);
      const timeoutMs = args.timeout * 1000;
      const byName = new Map<string, Target>();
      const targetOf = async (name: string): Promise<Target> => {
        const known = byName.get(name);
        if (known) return known;
        const [target] = await resolveTargets([name], args, io);
        if (!target) throw new Rk64Error('usage', `no target ${name}`);
        byName.set(name, target);
        return target;
      };
      // Every name resolves before anything is sent (a typo fails the dry run, not batch 3).
      await Promise.all(gateways.map(targetOf));
      return rolloutCommand(
        {
          bundle: bundle ?? null,
          gateways,
          batches: command.batches,
          maxFailures: command.maxFailures,
          soak: command.soak,
          apply: command.apply,
          json: command.json,
          resume: command.resume,
          parallel: command.parallel,
          bootTimeoutS: command.bootTimeout,
        },
        {
          connect: async (name) => openTransport(await targetOf(name), connect),
          fetchStatus: (transport) => fetchStatus(transport, { timeoutMs }),
        },
        io,
      );
    }
    case 'log': {
      const { logCommand } = await import('./log.js');
      return logCommand(command, io);
    }
    case 'break-glass': {
      const [target] = await resolveTargets([command.target], command.args, io);
      if (!target) throw new Rk64Error('usage', 'rk64 break-glass needs one TARGET');
      return breakGlassCommand(target, { wait: command.wait }, io);
    }
    case 'capture': {
      const [target] = await resolveTargets([command.target], command.args, io);
      if (!target) throw new Rk64Error('usage', 'rk64 capture needs one TARGET');
      const { captureCommand } = await import('./capture.js');
      return captureCommand(target, command.boots !== undefined ? { boots: command.boots } : {}, io);
    }
  }
}

export async function main(
  argv: string[],
  io: CliIo = { stdout: process.stdout, stderr: process.stderr, stdin: process.stdin, env: process.env },
): Promise<number> {
  try {
    // The plain batch forms skip yargs; help, errors and everything else get the full parser.
    const command = parseHotPath(argv) ?? (await (await import('./usage.js')).parseWithYargs(argv));
    return command ? await runCommand(command, io) : ExitCode.ok;
  } catch (error) {
    const e = asRk64Error(error);
    io.stderr.write(`rk64: ${e.toLine()}\n`);
    // The flag is read from argv itself: the bug may sit in the parsers.
    writeStack(e, { debug: argv.includes('--debug') }, io);
    return e.exitCode;
  }
}
