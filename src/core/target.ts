// Where a gateway is and how to reach it. A TARGET on the command line is
// `ssh://[user@]host[:port]`, `serial:/dev/ttyX[@baud]`, or the name of a profile in the config
// file (src/core/config.ts). Parsing never touches the network.
import { Rk64Error } from './errors.js';

export const DEFAULT_SSH_PORT = 22;
/** The Rock64's UART2 runs at 1.5 Mbaud. */
export const DEFAULT_BAUD = 1_500_000;
/**
 * Gateways are administered as the least-privileged operator account, which runs rk64-status and
 * rk64-action through sudo (src/core/privilege.ts); root has no SSH login.
 */
export const DEFAULT_SSH_USER = 'operator';

export interface SshEndpoint {
  host: string;
  port: number;
  user: string;
}

export interface SshTarget extends SshEndpoint {
  kind: 'ssh';
  /** What the user typed or the profile name: used in output so results can be matched up. */
  name: string;
  jump?: SshEndpoint;
  /** Private key files to offer instead of the defaults in ~/.ssh. */
  identityFiles?: string[];
}

export interface SerialTarget {
  kind: 'serial';
  name: string;
  path: string;
  baud: number;
  /** User for a login prompt; the password comes from RK64_SERIAL_PASSWORD. */
  user?: string;
}

export type Target = SshTarget | SerialTarget;

/** `user@host:port` (an IPv6 host in brackets). */
export function endpointAddress(e: SshEndpoint): string {
  return `${e.user}@${e.host.includes(':') ? `[${e.host}]` : e.host}:${e.port}`;
}

/**
 * How the console names the place it talks to, in every message of its transports:
 * `ssh://user@host:port` or `serial:/dev/ttyX@baud`. Messages start with it, so a line that
 * already starts with it needs no other name in front.
 */
export function targetLabel(target: SshEndpoint | Target): string {
  if ('kind' in target && target.kind === 'serial') return `serial:${target.path}@${target.baud}`;
  return `ssh://${endpointAddress(target)}`;
}

/**
 * A transport's error line for one target, named once: the target's name first unless the line
 * already starts with it, or with the same place spelled out in full (a target given as
 * `ssh://host` reports as `ssh://root@host:22`); a profile name always comes first.
 */
export function targetErrorLine(target: Target, line: string): string {
  const literal = /^(?:ssh:\/\/|serial:)/.test(target.name);
  const named = line.startsWith(`${target.name}:`) || (literal && line.startsWith(`${targetLabel(target)}`));
  return named ? line : `${target.name}: ${line}`;
}

const VALID_BAUDS = new Set([
  9600, 19200, 38400, 57600, 115200, 230400, 460800, 500000, 576000, 921600, 1000000, 1152000, 1500000,
  2000000, 2500000, 3000000, 3500000, 4000000,
]);

const HOSTNAME_RE = /^[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?$/;
const USER_RE = /^[A-Za-z_][A-Za-z0-9._-]*$/;
export const PROFILE_NAME_RE = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

function usage(message: string, hint?: string): Rk64Error {
  return new Rk64Error('usage', message, hint);
}

export function parsePort(text: string, context: string): number {
  if (!/^\d{1,5}$/.test(text) || Number(text) < 1 || Number(text) > 65535) {
    throw usage(`${context}: port '${text}' is not a number from 1 to 65535`);
  }
  return Number(text);
}

export function parseBaud(text: string, context: string): number {
  const baud = /^\d+$/.test(text) ? Number(text) : NaN;
  if (!VALID_BAUDS.has(baud)) {
    throw usage(
      `${context}: baud rate '${text}' is not supported`,
      `use one of ${[...VALID_BAUDS].join(', ')} (the Rock64 console runs at ${DEFAULT_BAUD})`,
    );
  }
  return baud;
}

/** `[user@]host[:port]`, host may be `[v6-address]`. Used for targets and jump hosts. */
export function parseSshEndpoint(text: string, context: string, defaultUser = DEFAULT_SSH_USER): SshEndpoint {
  const match = /^(?:([^@/]+)@)?(\[[0-9A-Fa-f:.]+\]|[^:/@[\]]+)(?::([^:/]*))?\/?$/.exec(text);
  if (!match) {
    throw usage(`${context}: '${text}' is not [user@]host[:port]`, 'example: ssh://root@192.168.1.10:22');
  }
  const [, user, rawHost = '', portText] = match;
  const host = rawHost.startsWith('[') ? rawHost.slice(1, -1) : rawHost;
  if (!rawHost.startsWith('[') && !HOSTNAME_RE.test(host)) {
    throw usage(`${context}: '${host}' is not a valid host name or address`);
  }
  if (user !== undefined && !USER_RE.test(user)) {
    throw usage(`${context}: '${user}' is not a valid user name`);
  }
  return {
    host,
    port: portText === undefined ? DEFAULT_SSH_PORT : parsePort(portText, context),
    user: user ?? defaultUser,
  };
}

/** A jump host: `ssh://user@host:port` or `user@host:port`. */
export function parseJump(text: string, context: string): SshEndpoint {
  return parseSshEndpoint(text.startsWith('ssh://') ? text.slice('ssh://'.length) : text, context);
}

/**
 * Parse an explicit target. Returns undefined for a bare word, which the caller resolves as a
 * profile name from the config file.
 */
export function parseExplicitTarget(text: string): Target | undefined {
  if (text.startsWith('ssh://')) {
    return { kind: 'ssh', name: text, ...parseSshEndpoint(text.slice('ssh://'.length), `target '${text}'`) };
  }
  if (text.startsWith('serial:')) {
    const rest = text.slice('serial:'.length);
    const at = rest.lastIndexOf('@');
    const path = at === -1 ? rest : rest.slice(0, at);
    if (!path.startsWith('/') || path.length < 2) {
      throw usage(
        `target '${text}': the serial device must be an absolute path`,
        'example: serial:/dev/ttyUSB0@1500000',
      );
    }
    const baud = at === -1 ? DEFAULT_BAUD : parseBaud(rest.slice(at + 1), `target '${text}'`);
    return { kind: 'serial', name: text, path, baud };
  }
  if (PROFILE_NAME_RE.test(text)) return undefined;
  throw usage(
    `target '${text}' is not ssh://[user@]host[:port], serial:/dev/ttyX[@baud] or a profile name`,
    'see rk64 --help',
  );
}
