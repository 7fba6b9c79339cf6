// The full command line, parsed by yargs: help, --version, every error message, and every form
// the hot path (command.ts) leaves to it. Loaded on demand (main.ts), so the plain batch forms
// never evaluate yargs or its help machinery. The commands have no yargs handlers: yargs renders
// and caches the whole help text after running a handler; main.ts runs the command instead.
import yargs from 'yargs';
import type { Argv } from 'yargs';
import { Rk64Error } from '../core/errors.js';
import { DEFAULT_BAUD, parseBaud } from '../core/target.js';
import type { CliCommand, GlobalArgs } from './command.js';
import { DEFAULT_PARALLEL, DEFAULT_TIMEOUT_S } from './command.js';
import { ACTION_USAGE } from './action.js';
import {
  DEFAULT_BATCHES,
  DEFAULT_BOOT_TIMEOUT_S,
  DEFAULT_MAX_FAILURES,
  DEFAULT_SOAK,
} from '../core/rollout/plan.js';

const EPILOG = `TARGET is one of:
  ssh://[user@]host[:port]     SSH (user defaults to root, port to 22)
  serial:/dev/ttyX[@baud]      serial console (baud defaults to ${DEFAULT_BAUD}, the Rock64's UART2)
  NAME                         a profile from the config file ($XDG_CONFIG_HOME/rk64/config.json,
                               default ~/.config/rk64/config.json): type ssh, vpn (SSH to the VPN
                               address, optionally through a jump host) or serial

SSH uses ~/.ssh/id_ed25519, id_ecdsa, id_rsa and ssh-agent (SSH_AUTH_SOCK), and checks host keys
against ~/.ssh/known_hosts before authenticating. The gateway's serial login is answered with the
profile's user and a signature by the same keys; a password login prompt (not an rk64 gateway's)
with RK64_SERIAL_PASSWORD. NO_COLOR disables colour.

Exit codes:
  0  all targets answered            1  some targets failed, others answered
  2  usage: bad arguments, target or config file
  3  unreachable: refused, timeout, no route, serial device missing/busy/silent, connection lost
  4  host key unknown or changed     5  authentication failed
  6  the gateway answered but the command failed or printed an invalid document
  70 a bug in the console (--debug shows the stack)
  130 interrupted`;

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
      default: DEFAULT_TIMEOUT_S,
      describe: 'seconds for connecting and for each remote command',
    })
    .option('debug', {
      type: 'boolean',
      default: false,
      describe: 'on a console bug (exit 70), print its stack trace',
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
    });
}

/**
 * Parse the command line with yargs. Undefined when yargs printed help or the version, or no
 * command was given (exit 0); usage errors are thrown as Rk64Error.
 */
export async function parseWithYargs(argv: readonly string[]): Promise<CliCommand | undefined> {
  const parser = globalOptions(yargs([...argv]))
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
    )
    .command(
      'tui [targets..]',
      'interactive dashboard for one gateway (--batch: status as text, --json: the status document); with several targets, --group or --all: the fleet view',
      (y) =>
        y
          .positional('targets', { type: 'string', array: true, describe: 'TARGET (see below)' })
          .option('group', {
            type: 'string',
            requiresArg: true,
            describe: 'the gateways of a group in the config file (repeat for several): fleet view',
          })
          .option('all', {
            type: 'boolean',
            default: false,
            describe: 'every profile in the config file: fleet view',
          })
          .option('parallel', {
            type: 'number',
            default: DEFAULT_PARALLEL,
            describe: 'fleet view: gateways refreshed at the same time',
            requiresArg: true,
          })
          .option('batch', { type: 'boolean', default: false, describe: 'print the status as text and exit' })
          .option('json', {
            type: 'boolean',
            default: false,
            describe: 'print the status document as JSON and exit',
          })
          .option('read-only', { type: 'boolean', default: false, describe: 'show, but offer no actions' }),
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
    )
    .command(
      'history <target>',
      "print the gateway's lifecycle journal, newest first, the last fall-back's reason on top (--json: the events as the gateway keeps them, oldest first)",
      (y) =>
        y
          .positional('target', { type: 'string', demandOption: true })
          .option('json', { type: 'boolean', default: false, describe: 'one JSON array of the events' })
          .option('limit', { type: 'number', requiresArg: true, describe: 'only the last N events' }),
    )
    .command(
      'why <target>',
      'one sentence from the lifecycle journal (and, on serial, the flight recorder): why the gateway last fell back',
      (y) => y.positional('target', { type: 'string', demandOption: true }),
    )
    .command(
      'capture <target>',
      'record the serial console into a capture file without the dashboard (boots and their stages on stderr, the file on stdout) until Ctrl+C or --boots N',
      (y) =>
        y
          .positional('target', {
            type: 'string',
            demandOption: true,
            describe: 'serial:/dev/ttyX[@baud] or a serial profile',
          })
          .option('boots', {
            type: 'number',
            requiresArg: true,
            describe: 'stop once this many boots were seen (each up to its login prompt or the next boot)',
          }),
    )
    .command(
      'action <target> <words..>',
      `run one action on a gateway without asking (for scripts); ACTION is one of: ${ACTION_USAGE}`,
      (y) =>
        y
          .positional('target', { type: 'string', demandOption: true })
          .positional('words', { type: 'string', array: true, describe: 'ACTION and its argument' })
          .option('for', {
            type: 'string',
            requiresArg: true,
            describe:
              'ssh-wan on: how long SSH on the WAN stays open before the gateway closes it by itself (N, Ns, Nm, Nmin or Nh; 1 s to 7 days)',
          })
          .option('allow-downgrade', {
            type: 'boolean',
            default: false,
            describe: 'install: install a bundle that is not newer than the running system',
          }),
    )
    .command(
      'rollout [words..]',
      'canary rollout of BUNDLE to TARGET…, --group G or --all: a dry run that prints the plan, unless --apply',
      (y) =>
        y
          .positional('words', {
            type: 'string',
            array: true,
            describe: 'BUNDLE (a .raucb file or https URL), then TARGET…',
          })
          .option('group', {
            type: 'string',
            requiresArg: true,
            describe: 'the gateways of a group in the config file (repeatable)',
          })
          .option('all', { type: 'boolean', default: false, describe: 'every profile in the config file' })
          .option('batches', {
            type: 'string',
            default: DEFAULT_BATCHES,
            requiresArg: true,
            describe:
              'gateways done after each batch, cumulative: counts or percentages (rounded up); the first is the canary',
          })
          .option('max-failures', {
            type: 'string',
            default: DEFAULT_MAX_FAILURES,
            requiresArg: true,
            describe: 'failed gateways allowed (N or P%, rounded down); one more stops new installs',
          })
          .option('soak', {
            type: 'string',
            default: DEFAULT_SOAK,
            requiresArg: true,
            describe: 'how long the health check must stay passed on the new version',
          })
          .option('boot-timeout', {
            type: 'number',
            default: DEFAULT_BOOT_TIMEOUT_S,
            describe: 'seconds a rebooted gateway has to come back good',
          })
          .option('apply', {
            type: 'boolean',
            default: false,
            describe: 'carry the plan out (without: print it only)',
          })
          .option('json', { type: 'boolean', default: false, describe: 'NDJSON progress events on stdout' })
          .option('resume', {
            type: 'string',
            requiresArg: true,
            describe: 'continue the rollout with this id',
          })
          .option('parallel', {
            type: 'number',
            default: DEFAULT_PARALLEL,
            requiresArg: true,
            describe: 'gateways of a batch updated at the same time',
          }),
    )
    .command(
      'log',
      'show the audit log: every command the console sent to change a gateway ($XDG_STATE_HOME/rk64/audit.jsonl)',
      (y) =>
        y
          .option('gateway', { type: 'string', requiresArg: true, describe: 'only this gateway (as named)' })
          .option('json', { type: 'boolean', default: false, describe: 'the entries as JSON lines' }),
    )
    .demandCommand(
      1,
      'give a command: status, tui, history, why, capture, action, rollout, log or break-glass',
    )
    .strict()
    .epilog(EPILOG)
    .wrap(Math.min(100, process.stdout.columns ?? 100))
    .exitProcess(false)
    .fail((message, error) => {
      if (error instanceof Rk64Error) throw error;
      throw new Rk64Error('usage', message || (error ? error.message : 'bad arguments'), 'see rk64 --help');
    });
  const a = (await parser.parseAsync()) as GlobalArgs & {
    _: (string | number)[];
    help?: boolean;
    version?: boolean;
    targets?: (string | number)[];
    target?: string | number;
    json?: boolean;
    parallel?: number;
    batch?: boolean;
    'read-only'?: boolean;
    wait?: number;
    boots?: number;
    words?: (string | number)[];
    for?: string;
    'allow-downgrade'?: boolean;
    limit?: number;
    gateway?: string;
    group?: string | string[];
    all?: boolean;
    batches?: string;
    'max-failures'?: string;
    soak?: string;
    'boot-timeout'?: number;
    apply?: boolean;
    resume?: string;
  };
  if (a.help === true || a.version === true) return undefined;
  switch (a._[0]) {
    case 'status':
      return {
        name: 'status',
        targets: (a.targets ?? []).map(String),
        json: a.json ?? false,
        parallel: a.parallel ?? DEFAULT_PARALLEL,
        args: a,
      };
    case 'tui': {
      const targets = (a.targets ?? []).map(String);
      const groups = a.group === undefined ? [] : [a.group].flat().map(String);
      const all = a.all ?? false;
      const fleet = targets.length > 1 || groups.length > 0 || all;
      if (!fleet && targets.length === 0) {
        throw new Rk64Error(
          'usage',
          'rk64 tui needs a TARGET, several, --group G or --all',
          'see rk64 --help',
        );
      }
      return {
        name: 'tui',
        target: targets[0] ?? '',
        ...(fleet ? { fleet: { targets, groups, all, parallel: a.parallel ?? DEFAULT_PARALLEL } } : {}),
        batch: a.batch ?? false,
        json: a.json ?? false,
        readOnly: a['read-only'] ?? false,
        args: a,
      };
    }
    case 'rollout':
      return {
        name: 'rollout',
        words: (a.words ?? []).map(String),
        groups: a.group === undefined ? [] : [a.group].flat().map(String),
        all: a.all ?? false,
        batches: String(a.batches ?? DEFAULT_BATCHES),
        maxFailures: String(a['max-failures'] ?? DEFAULT_MAX_FAILURES),
        soak: String(a.soak ?? DEFAULT_SOAK),
        apply: a.apply ?? false,
        json: a.json ?? false,
        resume: a.resume === undefined ? null : String(a.resume),
        parallel: a.parallel ?? DEFAULT_PARALLEL,
        bootTimeout: a['boot-timeout'] ?? DEFAULT_BOOT_TIMEOUT_S,
        args: a,
      };
    case 'log':
      return {
        name: 'log',
        ...(a.gateway !== undefined ? { gateway: String(a.gateway) } : {}),
        json: a.json ?? false,
        args: a,
      };
    case 'break-glass':
      return { name: 'break-glass', target: String(a.target), wait: a.wait ?? 120, args: a };
    case 'history':
      if (a.limit !== undefined && (!Number.isInteger(a.limit) || a.limit < 1))
        throw new Rk64Error('usage', `--limit must be a whole number of at least 1, not ${a.limit}`);
      return {
        name: 'history',
        target: String(a.target),
        json: a.json ?? false,
        limit: a.limit ?? null,
        args: a,
      };
    case 'why':
      return { name: 'why', target: String(a.target), args: a };
    case 'capture':
      return {
        name: 'capture',
        target: String(a.target),
        ...(a.boots !== undefined ? { boots: a.boots } : {}),
        args: a,
      };
    case 'action':
      return {
        name: 'action',
        target: String(a.target),
        words: (a.words ?? []).map(String),
        ...(a.for !== undefined ? { for: String(a.for) } : {}),
        allowDowngrade: a['allow-downgrade'] ?? false,
        args: a,
      };
    default:
      return undefined;
  }
}
