// rk64 command line. Data goes to stdout, progress and errors to stderr (one line per problem),
// and the exit code says what happened (src/core/errors.ts, listed in --help).
// This module and everything it imports statically must stay free of Ink/React: the
// interactive dashboard is loaded only by runInteractive (interactive.ts).
import yargs from 'yargs';
import type { Argv } from 'yargs';
import { loadConfig, defaultConfigPath, resolveTarget } from '../core/config.js';
import type { ConnectOptions } from '../core/connect.js';
import { openTransport } from '../core/connect.js';
import { ExitCode, Rk64Error } from '../core/errors.js';
import { asRk64Error, runFleet } from '../core/fleet.js';
import type { FleetResult } from '../core/fleet.js';
import type { GatewayStatus } from '../core/status/schema.js';
import { fetchStatus } from '../core/status/fetch.js';
import type { Target } from '../core/target.js';
import { DEFAULT_BAUD, parseBaud, parseJump } from '../core/target.js';
import { breakGlassCommand } from './break-glass.js';
import { runInteractive } from './interactive.js';
import { renderStatusText, useColor } from './render.js';

export interface CliIo {
  stdout: NodeJS.WritableStream & { isTTY?: boolean };
  stderr: NodeJS.WritableStream & { isTTY?: boolean };
  stdin: { isTTY?: boolean };
  env: NodeJS.ProcessEnv;
}

interface GlobalArgs {
  config?: string;
  'accept-new-host-key': boolean;
  identity?: string | string[];
  jump?: string;
  baud?: number;
  timeout: number;
  'known-hosts'?: string;
}

const EPILOG = `TARGET is one of:
  ssh://[user@]host[:port]     SSH (user defaults to root, port to 22)
  serial:/dev/ttyX[@baud]      serial console (baud defaults to ${DEFAULT_BAUD}, the Rock64's UART2)
  NAME                         a profile from the config file ($XDG_CONFIG_HOME/rk64/config.json,
                               default ~/.config/rk64/config.json): type ssh, vpn (SSH to the VPN
                               address, optionally through a jump host) or serial

SSH uses ~/.ssh/id_ed25519, id_ecdsa, id_rsa and ssh-agent (SSH_AUTH_SOCK), and checks host keys
against ~/.ssh/known_hosts before authenticating. A serial login prompt is answered with the
profile's user and RK64_SERIAL_PASSWORD. NO_COLOR disables colour.

Exit codes:
  0  all targets answered            1  some targets failed, others answered
  2  usage: bad arguments, target or config file
  3  unreachable: refused, timeout, no route, serial device missing/busy/silent, connection lost
  4  host key unknown or changed     5  authentication failed
  6  the gateway answered but the command failed or printed an invalid document
  130 interrupted`;

async function connectOptionsFor(args: GlobalArgs, io: CliIo): Promise<ConnectOptions> {
  const timeoutMs = args.timeout * 1000;
  return {
    ssh: {
      acceptNewHostKey: args['accept-new-host-key'],
      connectTimeoutMs: timeoutMs,
      env: io.env,
      log: (line) => io.stderr.write(`rk64: ${line}\n`),
      ...(args['known-hosts'] ? { knownHostsPath: args['known-hosts'] } : {}),
      ...(args.identity !== undefined ? { identityFiles: [args.identity].flat() } : {}),
    },
    serial: {
      wakeTimeoutMs: Math.min(timeoutMs, 10_000),
      commandTimeoutMs: timeoutMs,
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

async function statusOf(target: Target, connect: ConnectOptions, timeoutMs: number): Promise<GatewayStatus> {
  const transport = await openTransport(target, connect);
  try {
    return await fetchStatus(transport, { timeoutMs });
  } finally {
    await transport.close();
  }
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

/**
 * Gateways queried at once by `rk64 status`. Each query is one SSH connection and one command,
 * mostly waiting on the network, so a fleet of a few dozen fits in one wave.
 */
const DEFAULT_PARALLEL = 32;

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
  const connect = await connectOptionsFor(args, io);
  const color = useColor(io.stdout, io.env);
  const results = await runFleet(targets, parallel, (t) => statusOf(t, connect, args.timeout * 1000));
  results.forEach((result) => {
    const name = result.target.name;
    if (result.ok) {
      io.stdout.write(
        json
          ? `${JSON.stringify({ target: name, status: result.value })}\n`
          : renderStatusText(name, result.value, { color }),
      );
    } else {
      io.stderr.write(`rk64: ${name}: ${result.error.toLine()}\n`);
      if (json) io.stdout.write(`${JSON.stringify({ target: name, error: errorJson(result.error) })}\n`);
      else io.stdout.write(`${name}: ${result.error.message}\n`);
    }
  });
  return fleetExitCode(results);
}

async function tuiCommand(
  name: string,
  flags: { batch: boolean; json: boolean; readOnly: boolean },
  args: GlobalArgs,
  io: CliIo,
): Promise<number> {
  const [target] = await resolveTargets([name], args, io);
  if (!target) throw new Rk64Error('usage', 'rk64 tui needs one TARGET');
  const connect = await connectOptionsFor(args, io);
  const timeoutMs = args.timeout * 1000;
  if (flags.json || flags.batch) {
    const status = await statusOf(target, connect, timeoutMs);
    io.stdout.write(
      flags.json
        ? `${JSON.stringify(status, null, 2)}\n`
        : renderStatusText(target.name, status, { color: useColor(io.stdout, io.env) }),
    );
    return ExitCode.ok;
  }
  if (!io.stdout.isTTY || !io.stdin.isTTY) {
    throw new Rk64Error('usage', 'interactive mode needs a terminal', 'use --batch or --json');
  }
  return runInteractive({ target, connect, readOnly: flags.readOnly, timeoutMs });
}

function globalOptions(parser: Argv): Argv<GlobalArgs> {
  return parser
    .option('config', { type: 'string', describe: 'config file with named profiles', requiresArg: true })
    .option('accept-new-host-key', {
      type: 'boolean',
      default: false,
      describe:
        'trust and record the host key of a host not yet in known_hosts (a changed key is always refused)',
    })
    .option('identity', {
      type: 'string',
      nargs: 1,
      describe: 'SSH private key file (repeat the option for several)',
    })
    .option('jump', {
      type: 'string',
      describe: 'SSH jump host [user@]host[:port] for ssh/vpn targets',
      requiresArg: true,
    })
    .option('baud', {
      type: 'string',
      describe: `serial baud rate (default ${DEFAULT_BAUD})`,
      requiresArg: true,
      coerce: (v: string) => parseBaud(String(v), '--baud'),
    })
    .option('timeout', {
      type: 'number',
      default: 30,
      describe: 'seconds for connecting and for each remote command',
    })
    .option('known-hosts', {
      type: 'string',
      describe: 'known_hosts file (default ~/.ssh/known_hosts)',
      requiresArg: true,
    })
    .check((a) => {
      if (!Number.isFinite(a.timeout) || a.timeout <= 0)
        throw new Rk64Error('usage', '--timeout must be a positive number of seconds');
      return true;
    }) as unknown as Argv<GlobalArgs>;
}

export async function main(
  argv: string[],
  io: CliIo = { stdout: process.stdout, stderr: process.stderr, stdin: process.stdin, env: process.env },
): Promise<number> {
  let exitCode: number = ExitCode.ok;
  let ran = false;
  const run = async (task: () => Promise<number>): Promise<void> => {
    ran = true;
    exitCode = await task();
  };
  const parser = globalOptions(yargs(argv))
    .scriptName('rk64')
    .usage('rk64: operator console for Rock64 A/B gateways\n\nUsage: rk64 <command> [options] TARGET...')
    .command(
      'status <targets..>',
      'print the status of one or more gateways (text, or --json: one JSON object per target per line)',
      (y) =>
        y
          .positional('targets', { type: 'string', array: true, describe: 'TARGET (see below)' })
          .option('json', {
            type: 'boolean',
            default: false,
            describe: 'JSON lines: {"target","status"} or {"target","error"}',
          })
          .option('parallel', {
            type: 'number',
            default: DEFAULT_PARALLEL,
            describe: 'gateways queried at the same time',
            requiresArg: true,
          }),
      (a) => run(() => statusCommand((a.targets ?? []).map(String), a.json, a.parallel, a, io)),
    )
    .command(
      'tui <target>',
      'interactive dashboard for one gateway (--batch: status as text, --json: the status document)',
      (y) =>
        y
          .positional('target', { type: 'string', demandOption: true })
          .option('batch', { type: 'boolean', default: false, describe: 'print the status as text and exit' })
          .option('json', {
            type: 'boolean',
            default: false,
            describe: 'print the status document as JSON and exit',
          })
          .option('read-only', { type: 'boolean', default: false, describe: 'show, but offer no actions' }),
      (a) =>
        run(() =>
          tuiCommand(String(a.target), { batch: a.batch, json: a.json, readOnly: a['read-only'] }, a, io),
        ),
    )
    .command(
      'break-glass <target>',
      'physical recovery on the serial console: stop U-Boot, set _RUT_OH_=1 at its prompt and boot, so the serial console comes up with a root autologin for this boot only',
      (y) =>
        y
          .positional('target', {
            type: 'string',
            demandOption: true,
            describe: 'serial:/dev/ttyX[@baud] or a serial profile',
          })
          .option('wait', {
            type: 'number',
            default: 120,
            describe: 'seconds to wait for U-Boot while you power-cycle the gateway',
          }),
      (a) =>
        run(async () => {
          const [target] = await resolveTargets([String(a.target)], a, io);
          if (!target) throw new Rk64Error('usage', 'rk64 break-glass needs one TARGET');
          return breakGlassCommand(target, { wait: a.wait }, io);
        }),
    )
    .demandCommand(1, 'give a command: status, tui or break-glass')
    .strict()
    .epilog(EPILOG)
    .wrap(Math.min(100, process.stdout.columns ?? 100))
    .exitProcess(false)
    .fail((message, error) => {
      if (error instanceof Rk64Error) throw error;
      throw new Rk64Error('usage', message || (error ? error.message : 'bad arguments'), 'see rk64 --help');
    });
  try {
    await parser.parseAsync();
  } catch (error) {
    const e = asRk64Error(error);
    io.stderr.write(`rk64: ${e.toLine()}\n`);
    return e.exitCode;
  }
  return ran ? exitCode : ExitCode.ok;
}
