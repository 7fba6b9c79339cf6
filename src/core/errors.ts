// Every failure the console reports is an Rk64Error: one line naming the problem and what to do,
// and a code that maps to a documented process exit code (docs/console.md, `rk64 --help`).
// Messages and hints often carry gateway text (remote stderr, RAUC messages): the constructor
// makes them printable (src/core/printable.ts), so no error line can carry a control character.
import { printable } from './printable.js';

export const ExitCode = {
  ok: 0,
  /** Several targets: some answered, some did not. */
  partial: 1,
  /** Bad arguments, bad target syntax, bad config file. */
  usage: 2,
  /** Could not reach the gateway (refused, unreachable, timeout, serial device missing, busy, denied or silent). */
  unreachable: 3,
  /** Host key unknown or changed. */
  hostKey: 4,
  /** Authentication failed. */
  auth: 5,
  /** Reached the gateway, but the remote command or action failed. */
  remote: 6,
  /** `rk64 rollout`: stopped because more gateways failed than --max-failures allows. */
  rolloutStopped: 7,
  /** `rk64 rollout`: every reachable gateway is done, but some stayed unreachable (resume later). */
  rolloutUnreachable: 8,
  /** A bug in the console itself (an exception it did not expect): reported as a bug, never retried. */
  internal: 70,
  interrupted: 130,
} as const;

export type ExitCodeName = keyof typeof ExitCode;

export type ErrorKind =
  | 'usage'
  | 'config'
  | 'refused'
  | 'unreachable'
  | 'timeout'
  | 'host-key-unknown'
  | 'host-key-changed'
  | 'auth'
  | 'serial-missing'
  | 'serial-busy'
  /** The device exists, but this user may not open it (EACCES). */
  | 'serial-denied'
  | 'serial-silent'
  | 'connection-lost'
  | 'remote'
  | 'protocol'
  | 'aborted'
  /** The console's own bug: a TypeError or another exception no code path expected. */
  | 'internal';

const exitCodeOf: Record<ErrorKind, number> = {
  usage: ExitCode.usage,
  config: ExitCode.usage,
  refused: ExitCode.unreachable,
  unreachable: ExitCode.unreachable,
  timeout: ExitCode.unreachable,
  'host-key-unknown': ExitCode.hostKey,
  'host-key-changed': ExitCode.hostKey,
  auth: ExitCode.auth,
  'serial-missing': ExitCode.unreachable,
  'serial-busy': ExitCode.unreachable,
  'serial-denied': ExitCode.unreachable,
  'serial-silent': ExitCode.unreachable,
  'connection-lost': ExitCode.unreachable,
  remote: ExitCode.remote,
  protocol: ExitCode.remote,
  aborted: ExitCode.interrupted,
  internal: ExitCode.internal,
};

export class Rk64Error extends Error {
  readonly kind: ErrorKind;
  /** What the user can do about it; printed after the message. */
  readonly hint: string | undefined;

  constructor(kind: ErrorKind, message: string, hint?: string, options?: { cause?: unknown }) {
    super(printable(message), options);
    this.name = 'Rk64Error';
    this.kind = kind;
    this.hint = hint === undefined ? undefined : printable(hint);
  }

  get exitCode(): number {
    return exitCodeOf[this.kind];
  }

  /** The one line printed to stderr. */
  toLine(): string {
    return this.hint ? `${this.message}; ${this.hint}` : this.message;
  }
}
