// `rk64 action TARGET ACTION...`: one action of the catalogue (src/core/actions/catalogue.ts) for
// scripts. The command line is the operator's confirmation, so nothing is asked; what a dialog
// would ask for is an option instead: `ssh-wan on` needs `--for DURATION`, and an install the
// gateway refuses as a downgrade goes ahead only with `--allow-downgrade`. Progress goes to
// stderr, the outcome line to stdout.
import type { GatewayAction } from '../core/actions/catalogue.js';
import { DURATION_FORMS, parseDuration } from '../core/actions/duration.js';
import { runAction, type ActionEvent } from '../core/actions/run.js';
import { auditedTransport, auditLogPath, localOperator, openAuditLog } from '../core/audit.js';
import { ExitCode, Rk64Error } from '../core/errors.js';
import { formatBytes } from '../core/format.js';
import { printable } from '../core/printable.js';
import type { Transport } from '../core/transport/transport.js';

export const ACTION_USAGE =
  'mark-good booted|other, mark-bad booted|other, ssh-wan on --for DURATION, ssh-wan off, reboot, install PATH|URL, vpn-config install ARCHIVE';

/** The action the words name, with the options that stand in for the dashboard's questions. */
export function parseActionWords(
  words: readonly string[],
  options: { for?: string; allowDowngrade?: boolean },
): GatewayAction {
  const [verb, arg, ...rest] = words;
  const usage = (why: string) =>
    new Rk64Error('usage', `rk64 action: ${why}`, `ACTION is one of: ${ACTION_USAGE}`);
  if (verb === 'vpn-config') {
    const [archive, ...extra] = rest;
    if (arg !== 'install' || archive === undefined || archive === '' || extra.length > 0)
      throw usage('vpn-config needs: install ARCHIVE (a tar archive of make-vpn server output)');
    if (options.for !== undefined || options.allowDowngrade) throw usage('vpn-config takes no options');
    return { kind: 'vpn-config', source: archive };
  }
  if (rest.length > 0) throw usage(`too many words: ${rest.join(' ')}`);
  if (options.for !== undefined && !(verb === 'ssh-wan' && arg === 'on')) {
    throw usage('--for goes with ssh-wan on only');
  }
  if (options.allowDowngrade && verb !== 'install') throw usage('--allow-downgrade goes with install only');
  switch (verb) {
    case 'mark-good':
    case 'mark-bad':
      if (arg !== 'booted' && arg !== 'other') throw usage(`${verb} needs booted or other`);
      return { kind: 'mark', verdict: verb === 'mark-good' ? 'good' : 'bad', slot: arg };
    case 'ssh-wan': {
      if (arg === 'off') return { kind: 'ssh-wan', enable: false };
      if (arg !== 'on') throw usage('ssh-wan needs on or off');
      if (options.for === undefined) {
        throw usage(
          `ssh-wan on needs --for DURATION (${DURATION_FORMS}); the gateway closes it by itself then`,
        );
      }
      const duration = parseDuration(options.for);
      if (duration === null) throw usage(`--for '${options.for}' is not a duration: ${DURATION_FORMS}`);
      return { kind: 'ssh-wan', enable: true, duration: duration.text };
    }
    case 'reboot':
      if (arg !== undefined) throw usage('reboot takes no argument');
      return { kind: 'reboot' };
    case 'install':
      if (arg === undefined || arg === '') throw usage('install needs a bundle path or https URL');
      return { kind: 'install', source: arg, allowDowngrade: options.allowDowngrade === true };
    default:
      throw usage(verb === undefined ? 'no action given' : `unknown action '${verb}'`);
  }
}

function progressLine(event: ActionEvent): string {
  return event.phase === 'upload'
    ? `upload ${formatBytes(event.bytesSent)} / ${formatBytes(event.totalBytes)}`
    : `install ${event.percent}% ${event.message}`;
}

/** Runs the action over an open transport; resolves to the exit code. */
export async function runActionCommand(
  transport: Transport,
  action: GatewayAction,
  io: { stdout: NodeJS.WritableStream; stderr: NodeJS.WritableStream; env?: NodeJS.ProcessEnv },
  gateway: string = transport.description,
): Promise<number> {
  let last = '';
  const env = io.env ?? process.env;
  const sent = auditedTransport(transport, {
    log: openAuditLog(auditLogPath(env)),
    operator: localOperator(env),
    gateway,
    source: 'action',
  });
  const outcome = await runAction(sent, action, {
    onEvent: (event) => {
      const line = progressLine(event);
      if (line !== last) io.stderr.write(`rk64: ${printable(line)}\n`);
      last = line;
    },
    ...(process.env.RK64_UPLOAD_DIR ? { uploadDir: process.env.RK64_UPLOAD_DIR } : {}),
  });
  if (outcome.ok) {
    io.stdout.write(`${printable(outcome.message)}\n`);
    return ExitCode.ok;
  }
  if (outcome.downgrade && action.kind === 'install' && !action.allowDowngrade) {
    const { running, bundle } = outcome.downgrade;
    throw new Rk64Error(
      'remote',
      `${transport.description}: the gateway refused ${action.source}: it is ${
        running === bundle
          ? `the running version ${running} again`
          : `a downgrade from ${running} to ${bundle}`
      }`,
      'add --allow-downgrade to install it anyway',
    );
  }
  throw new Rk64Error('remote', `${transport.description}: ${outcome.message}`);
}
