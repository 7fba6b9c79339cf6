// What a command line asks for, and a parser for the common batch forms that needs no yargs.
// Why: loading yargs (and the string-width/emoji-regex/cliui code its help needs) and letting it
// render the help text it caches after every command costs more CPU than the rest of
// `rk64 status` before the first SSH byte. parseHotPath accepts only plain forms whose meaning is
// certain (`rk64 status --json TARGET --identity FILE`, `rk64 tui --batch TARGET`); anything else
// (help, errors, unusual spellings) goes to yargs (usage.ts), so behaviour, help text, error
// messages and exit codes stay exactly yargs'. test/unit/core/cli-argv.test.ts checks that both
// parsers agree on every form the hot path accepts.
import { parseBaud } from '../core/target.js';

/** Options every command takes (the shape yargs gives them, so both parsers feed the same code). */
export interface GlobalArgs {
  config?: string;
  'accept-new-host-key': boolean;
  identity?: string | string[];
  jump?: string;
  baud?: number;
  timeout: number;
  'known-hosts'?: string;
  /** Print the stack of a console bug (exit 70). */
  debug?: boolean;
}

export type CliCommand =
  | { name: 'status'; targets: string[]; json: boolean; parallel: number; args: GlobalArgs }
  | {
      name: 'tui';
      /** The first gateway named (the one-gateway dashboard, --batch, --json). */
      target: string;
      /** With `fleet`: every gateway named, and the groups and --all to add. */
      fleet?: { targets: string[]; groups: string[]; all: boolean; parallel: number };
      batch: boolean;
      json: boolean;
      readOnly: boolean;
      args: GlobalArgs;
    }
  | { name: 'break-glass'; target: string; wait: number; args: GlobalArgs }
  | { name: 'history'; target: string; json: boolean; limit: number | null; args: GlobalArgs }
  | { name: 'why'; target: string; args: GlobalArgs }
  | { name: 'capture'; target: string; boots?: number; args: GlobalArgs }
  | {
      name: 'rollout';
      /** BUNDLE then TARGET…; empty with --resume. */
      words: string[];
      groups: string[];
      all: boolean;
      batches: string;
      maxFailures: string;
      soak: string;
      apply: boolean;
      json: boolean;
      resume: string | null;
      parallel: number;
      bootTimeout: number;
      args: GlobalArgs;
    }
  /** The audit log (src/core/audit.ts), optionally of one gateway. */
  | { name: 'log'; gateway?: string; json: boolean; args: GlobalArgs }
  | {
      name: 'action';
      target: string;
      /** The action and its argument, e.g. ['ssh-wan', 'on'] (src/cli/action.ts). */
      words: string[];
      for?: string;
      allowDowngrade: boolean;
      args: GlobalArgs;
    };

/**
 * Gateways queried at once by `rk64 status`. Each query is one SSH connection and one command,
 * mostly waiting on the network, so a fleet of a few dozen fits in one wave.
 */
export const DEFAULT_PARALLEL = 32;
export const DEFAULT_TIMEOUT_S = 30;

type OptionKind = 'boolean' | 'string' | 'number' | 'baud';

const GLOBAL_OPTIONS: Record<string, OptionKind> = {
  config: 'string',
  'accept-new-host-key': 'boolean',
  identity: 'string',
  jump: 'string',
  baud: 'baud',
  timeout: 'number',
  'known-hosts': 'string',
  debug: 'boolean',
};

const COMMAND_OPTIONS: Record<'status' | 'tui', Record<string, OptionKind>> = {
  status: { ...GLOBAL_OPTIONS, json: 'boolean', parallel: 'number' },
  tui: { ...GLOBAL_OPTIONS, batch: 'boolean', json: 'boolean', 'read-only': 'boolean' },
};

/**
 * Words that are targets and nothing else to yargs: they start with a letter (never a number,
 * which yargs would convert), hold no spaces, and are not true/false (which a boolean flag before
 * them would take as its value).
 */
const PLAIN_WORD = /^[A-Za-z][\w.~:@/%+[\]-]*$/;
/** Numbers yargs reads the same way (no exponents, hex, signs or leading zeros). */
const PLAIN_NUMBER = /^(?:0|[1-9]\d{0,8})(?:\.\d{1,6})?$/;
/** Option values taken as they are: not empty, not something that looks like an option. */
const PLAIN_VALUE = /^[^-\s][^\s]*$/;

function isPlainWord(word: string): boolean {
  return PLAIN_WORD.test(word) && word !== 'true' && word !== 'false';
}

/**
 * `rk64 status …` / `rk64 tui …` in their plain forms, parsed without yargs; undefined for
 * anything else (including every error), which the caller hands to yargs.
 */
export function parseHotPath(argv: readonly string[]): CliCommand | undefined {
  const [name, ...rest] = argv;
  if (name !== 'status' && name !== 'tui') return undefined;
  const known = COMMAND_OPTIONS[name];
  const values: Record<string, boolean | string | number | string[]> = {};
  const positionals: string[] = [];
  for (let i = 0; i < rest.length; i++) {
    const token = rest[i] ?? '';
    if (!token.startsWith('--')) {
      if (!isPlainWord(token)) return undefined;
      positionals.push(token);
      continue;
    }
    const eq = token.indexOf('=');
    const option = eq === -1 ? token.slice(2) : token.slice(2, eq);
    const kind = Object.hasOwn(known, option) ? known[option] : undefined;
    if (kind === undefined) return undefined;
    const seen = Object.hasOwn(values, option);
    if (seen && option !== 'identity') return undefined;
    if (kind === 'boolean') {
      if (eq !== -1) return undefined;
      values[option] = true;
      continue;
    }
    let value: string | undefined;
    if (eq === -1) {
      i += 1;
      value = rest[i];
    } else {
      value = token.slice(eq + 1);
    }
    if (value === undefined || !PLAIN_VALUE.test(value)) return undefined;
    if (kind === 'number') {
      if (!PLAIN_NUMBER.test(value)) return undefined;
      values[option] = Number(value);
    } else if (kind === 'baud') {
      try {
        values[option] = parseBaud(value, '--baud');
      } catch {
        return undefined; // yargs reports it, in its order of checks
      }
    } else if (seen) {
      values[option] = [values[option] as string | string[], value].flat();
    } else {
      values[option] = value;
    }
  }
  const timeout = (values.timeout as number | undefined) ?? DEFAULT_TIMEOUT_S;
  if (timeout <= 0) return undefined;
  const args: GlobalArgs = {
    'accept-new-host-key': values['accept-new-host-key'] === true,
    debug: values.debug === true,
    timeout,
  };
  for (const key of ['config', 'jump', 'known-hosts'] as const) {
    const value = values[key];
    if (typeof value === 'string') args[key] = value;
  }
  const identity = values.identity;
  if (typeof identity === 'string' || Array.isArray(identity)) args.identity = identity;
  if (typeof values.baud === 'number') args.baud = values.baud;
  if (name === 'status') {
    if (positionals.length === 0) return undefined;
    return {
      name,
      targets: positionals,
      json: values.json === true,
      parallel: (values.parallel as number | undefined) ?? DEFAULT_PARALLEL,
      args,
    };
  }
  const [target] = positionals;
  if (positionals.length !== 1 || target === undefined) return undefined;
  return {
    name,
    target,
    batch: values.batch === true,
    json: values.json === true,
    readOnly: values['read-only'] === true,
    args,
  };
}
