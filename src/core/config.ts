// The config file: named gateways so operators type `rk64 tui shop-17` instead of an address.
// `$XDG_CONFIG_HOME/rk64/config.json` (default ~/.config/rk64/config.json), or --config FILE.
//
// {
//   "profiles": {
//     "lab":     { "type": "ssh", "host": "192.168.1.10", "user": "root", "port": 22, "identity": "~/.ssh/id_rk64" },
//     "shop-17": { "type": "vpn", "vpnAddress": "10.8.0.17", "jump": "ops@vpn.example.com" },
//     "bench":   { "type": "serial", "device": "/dev/ttyUSB0", "baud": 1500000 }
//   },
//   "groups": { "site-north": ["shop-17", "lab"] }
// }
//
// A group names gateways (profile names or explicit targets) for the fleet view and rollouts.
//
// A `vpn` profile is SSH to the gateway's VPN address, optionally through a jump host.
import { readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { Rk64Error } from './errors.js';
import type { SshEndpoint, Target } from './target.js';
import {
  DEFAULT_BAUD,
  DEFAULT_SSH_PORT,
  DEFAULT_SSH_USER,
  PROFILE_NAME_RE,
  parseBaud,
  parseExplicitTarget,
  parseJump,
  parseSshEndpoint,
} from './target.js';

export interface SshProfile {
  type: 'ssh';
  host: string;
  port: number;
  user: string;
  identity?: string;
  jump?: SshEndpoint;
}

export interface VpnProfile {
  type: 'vpn';
  vpnAddress: string;
  port: number;
  user: string;
  identity?: string;
  jump?: SshEndpoint;
}

export interface SerialProfile {
  type: 'serial';
  device: string;
  baud: number;
  user?: string;
}

export type Profile = SshProfile | VpnProfile | SerialProfile;

export interface Config {
  /** Where it was read from (or would be), for messages. */
  path: string;
  profiles: Record<string, Profile>;
  /** Named lists of gateways (profile names or explicit targets). */
  groups: Record<string, string[]>;
}

export function defaultConfigPath(env: NodeJS.ProcessEnv = process.env): string {
  const base = env.XDG_CONFIG_HOME && env.XDG_CONFIG_HOME.startsWith('/') ? env.XDG_CONFIG_HOME : undefined;
  return join(base ?? join(env.HOME ?? homedir(), '.config'), 'rk64', 'config.json');
}

export function expandHome(path: string, env: NodeJS.ProcessEnv = process.env): string {
  return path === '~' || path.startsWith('~/') ? join(env.HOME ?? homedir(), path.slice(1)) : path;
}

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

function isObject(value: Json | undefined): value is { [key: string]: Json } {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

class FieldReader {
  constructor(
    private readonly file: string,
    private readonly prefix: string,
    private readonly object: { [key: string]: Json },
  ) {}

  fail(field: string, problem: string): Rk64Error {
    return new Rk64Error(
      'config',
      `${this.file}: ${this.prefix}.${field}: ${problem}`,
      'fix the config file',
    );
  }

  string(field: string, required: true): string;
  string(field: string, required: false): string | undefined;
  string(field: string, required: boolean): string | undefined {
    const value = this.object[field];
    if (value === undefined) {
      if (required) throw this.fail(field, 'missing (a string is required)');
      return undefined;
    }
    if (typeof value !== 'string' || value === '') throw this.fail(field, 'must be a non-empty string');
    return value;
  }

  integer(field: string, min: number, max: number): number | undefined {
    const value = this.object[field];
    if (value === undefined) return undefined;
    if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
      throw this.fail(field, `must be an integer from ${min} to ${max}`);
    }
    return value;
  }

  only(allowed: readonly string[]): void {
    for (const key of Object.keys(this.object)) {
      if (!allowed.includes(key)) {
        throw this.fail(key, `unknown field (allowed: ${allowed.join(', ')})`);
      }
    }
  }

  /** Re-throw a parse error from target.ts with the field named. */
  wrap<T>(field: string, parse: () => T): T {
    try {
      return parse();
    } catch (error) {
      if (error instanceof Rk64Error) throw this.fail(field, error.message.replace(/^[^:]*: /, ''));
      throw error;
    }
  }
}

function parseProfile(file: string, name: string, value: Json): Profile {
  if (!isObject(value)) {
    throw new Rk64Error('config', `${file}: profiles.${name}: must be an object`, 'fix the config file');
  }
  const r = new FieldReader(file, `profiles.${name}`, value);
  const type = r.string('type', true);
  const jumpOf = (): SshEndpoint | undefined => {
    const jump = r.string('jump', false);
    return jump === undefined ? undefined : r.wrap('jump', () => parseJump(jump, 'jump'));
  };
  switch (type) {
    case 'ssh':
    case 'vpn': {
      const addressField = type === 'ssh' ? 'host' : 'vpnAddress';
      r.only(['type', addressField, 'port', 'user', 'identity', 'jump']);
      const address = r.string(addressField, true);
      const user = r.string('user', false) ?? DEFAULT_SSH_USER;
      r.wrap(addressField, () =>
        parseSshEndpoint(`${user}@${address.includes(':') ? `[${address}]` : address}`, 'x'),
      );
      r.wrap('user', () => parseSshEndpoint(`${user}@localhost`, 'x'));
      const port = r.integer('port', 1, 65535) ?? DEFAULT_SSH_PORT;
      const identity = r.string('identity', false);
      const jump = jumpOf();
      const common = { port, user, ...(identity ? { identity } : {}), ...(jump ? { jump } : {}) };
      return type === 'ssh' ? { type, host: address, ...common } : { type, vpnAddress: address, ...common };
    }
    case 'serial': {
      r.only(['type', 'device', 'baud', 'user']);
      const device = r.string('device', true);
      if (!device.startsWith('/')) throw r.fail('device', 'must be an absolute path such as /dev/ttyUSB0');
      const baudValue = value.baud;
      const baud =
        baudValue === undefined
          ? DEFAULT_BAUD
          : r.wrap('baud', () =>
              parseBaud(
                typeof baudValue === 'string' || typeof baudValue === 'number'
                  ? String(baudValue)
                  : JSON.stringify(baudValue),
                'baud',
              ),
            );
      const user = r.string('user', false);
      return { type, device, baud, ...(user ? { user } : {}) };
    }
    default:
      throw r.fail('type', `'${type}' is not one of ssh, vpn, serial`);
  }
}

export function parseConfig(text: string, path: string): Config {
  let data: Json;
  try {
    data = JSON.parse(text) as Json;
  } catch (error) {
    throw new Rk64Error(
      'config',
      `${path}: not valid JSON (${(error as Error).message})`,
      'fix the config file',
    );
  }
  if (!isObject(data)) throw new Rk64Error('config', `${path}: must be a JSON object`, 'fix the config file');
  for (const key of Object.keys(data)) {
    if (key !== 'profiles' && key !== 'groups') {
      throw new Rk64Error(
        'config',
        `${path}: ${key}: unknown field (allowed: profiles, groups)`,
        'fix the config file',
      );
    }
  }
  const profilesValue = data.profiles ?? {};
  if (!isObject(profilesValue)) {
    throw new Rk64Error(
      'config',
      `${path}: profiles: must be an object of named profiles`,
      'fix the config file',
    );
  }
  const profiles: Record<string, Profile> = {};
  for (const [name, value] of Object.entries(profilesValue)) {
    if (!PROFILE_NAME_RE.test(name)) {
      throw new Rk64Error(
        'config',
        `${path}: profiles.${name}: profile names use letters, digits, '.', '_' and '-'`,
        'fix the config file',
      );
    }
    profiles[name] = parseProfile(path, name, value);
  }
  return { path, profiles, groups: parseGroups(path, data.groups ?? {}) };
}

function parseGroups(path: string, value: Json): Record<string, string[]> {
  const bad = (why: string) => new Rk64Error('config', `${path}: ${why}`, 'fix the config file');
  if (!isObject(value)) throw bad('groups: must be an object of named lists of gateways');
  const groups: Record<string, string[]> = {};
  for (const [name, members] of Object.entries(value)) {
    if (!PROFILE_NAME_RE.test(name))
      throw bad(`groups.${name}: group names use letters, digits, '.', '_' and '-'`);
    if (!Array.isArray(members) || members.some((m) => typeof m !== 'string' || m === '')) {
      throw bad(`groups.${name}: must be a list of profile names or targets`);
    }
    groups[name] = members as string[];
  }
  return groups;
}

/**
 * The gateways a fleet command names: its targets, then each --group's members, or with --all
 * every profile; each named once, in that order.
 */
export function fleetMembers(
  config: Config,
  request: { targets: readonly string[]; groups: readonly string[]; all: boolean },
): string[] {
  const names = [...request.targets];
  for (const group of request.groups) {
    const members = config.groups[group];
    if (!members) {
      const known = Object.keys(config.groups);
      throw new Rk64Error(
        'usage',
        `unknown group '${group}' in ${config.path}`,
        known.length ? `known groups: ${known.join(', ')}` : 'define "groups" in that file',
      );
    }
    names.push(...members);
  }
  if (request.all) names.push(...Object.keys(config.profiles));
  return [...new Set(names)];
}

/** Read the config file; a missing file is an empty config (it is only needed for profile names). */
export async function loadConfig(path: string, explicit: boolean): Promise<Config> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' && !explicit) return { path, profiles: {}, groups: {} };
    throw new Rk64Error(
      'config',
      `cannot read config file ${path}: ${(error as Error).message}`,
      'check --config',
    );
  }
  return parseConfig(text, path);
}

function profileTarget(name: string, profile: Profile, env: NodeJS.ProcessEnv): Target {
  switch (profile.type) {
    case 'ssh':
    case 'vpn':
      return {
        kind: 'ssh',
        name,
        host: profile.type === 'ssh' ? profile.host : profile.vpnAddress,
        port: profile.port,
        user: profile.user,
        ...(profile.jump ? { jump: profile.jump } : {}),
        ...(profile.identity ? { identityFiles: [expandHome(profile.identity, env)] } : {}),
      };
    case 'serial':
      return {
        kind: 'serial',
        name,
        path: profile.device,
        baud: profile.baud,
        ...(profile.user ? { user: profile.user } : {}),
      };
  }
}

/** Resolve what the user typed: an explicit ssh:// or serial: target, or a profile name. */
export function resolveTarget(text: string, config: Config, env: NodeJS.ProcessEnv = process.env): Target {
  const explicit = parseExplicitTarget(text);
  if (explicit) return explicit;
  const profile = config.profiles[text];
  if (!profile) {
    const known = Object.keys(config.profiles);
    throw new Rk64Error(
      'usage',
      `unknown target '${text}': not ssh://…, serial:… or a profile in ${config.path}`,
      known.length ? `known profiles: ${known.join(', ')}` : 'define profiles in that file (see rk64 --help)',
    );
  }
  return profileTarget(text, profile, env);
}
