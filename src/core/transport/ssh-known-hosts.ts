// OpenSSH known_hosts, read and appended the way ssh(1) does: `host[,host…] keytype base64`,
// `[host]:port` for ports other than 22, hashed names `|1|salt|hmac-sha1`, wildcards `*` `?`,
// negated patterns `!pat`, and the markers `@revoked` / `@cert-authority`.
// The check happens in ssh2's hostVerifier, i.e. before any authentication is attempted.
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { appendFile, mkdir, readFile } from 'node:fs/promises';
import { dirname } from 'node:path';

export interface KnownHostEntry {
  line: number;
  marker: 'revoked' | 'cert-authority' | null;
  patterns: string;
  keyType: string;
  key: Buffer;
}

export type HostKeyVerdict =
  | { result: 'match'; line: number }
  | { result: 'unknown'; otherTypesKnown: string[] }
  | { result: 'changed'; line: number; keyType: string }
  | { result: 'revoked'; line: number };

/** The name known_hosts stores for a host: `host`, or `[host]:port` when the port is not 22. */
export function hostKeyName(host: string, port: number): string {
  return port === 22 ? host : `[${host}]:${port}`;
}

export function parseKnownHosts(text: string): KnownHostEntry[] {
  const entries: KnownHostEntry[] = [];
  text.split('\n').forEach((raw, index) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    const fields = line.split(/\s+/);
    let marker: KnownHostEntry['marker'] = null;
    if (fields[0]?.startsWith('@')) {
      const name = fields.shift();
      if (name === '@revoked') marker = 'revoked';
      else if (name === '@cert-authority') marker = 'cert-authority';
      else return; // unknown marker: OpenSSH ignores the line
    }
    const [patterns, keyType, keyText] = fields;
    if (!patterns || !keyType || !keyText) return;
    const key = Buffer.from(keyText, 'base64');
    if (key.length === 0) return;
    entries.push({ line: index + 1, marker, patterns, keyType, key });
  });
  return entries;
}

function globToRegExp(pattern: string): RegExp {
  const body = pattern
    .replace(/[.+^${}()|[\]\\]/g, '\\$&')
    .replace(/\*/g, '.*')
    .replace(/\?/g, '.');
  return new RegExp(`^${body}$`, 'i');
}

function hashedMatches(pattern: string, name: string): boolean {
  const [, magic, salt, hash] = pattern.split('|');
  if (magic !== '1' || !salt || !hash) return false;
  const expected = Buffer.from(hash, 'base64');
  const actual = createHmac('sha1', Buffer.from(salt, 'base64')).update(name).digest();
  return expected.length === actual.length && timingSafeEqual(expected, actual);
}

/** Does the comma-separated host field match `name` (already in `[host]:port` form)? */
export function hostFieldMatches(field: string, name: string): boolean {
  if (field.startsWith('|')) return hashedMatches(field, name);
  let matched = false;
  for (const pattern of field.split(',')) {
    const negated = pattern.startsWith('!');
    const glob = negated ? pattern.slice(1) : pattern;
    if (globToRegExp(glob).test(name)) {
      if (negated) return false;
      matched = true;
    }
  }
  return matched;
}

/** The key type stored in the key blob itself (first SSH string). */
export function keyTypeOf(key: Buffer): string {
  if (key.length < 4) return '';
  const length = key.readUInt32BE(0);
  return key.subarray(4, 4 + length).toString('latin1');
}

/** Decide about the key a server presented, given the entries of a known_hosts file. */
export function verifyHostKey(entries: readonly KnownHostEntry[], name: string, key: Buffer): HostKeyVerdict {
  const forHost = entries.filter((e) => e.marker !== 'cert-authority' && hostFieldMatches(e.patterns, name));
  const revoked = entries.find((e) => e.marker === 'revoked' && e.key.equals(key));
  if (revoked) return { result: 'revoked', line: revoked.line };
  const plain = forHost.filter((e) => e.marker === null);
  const match = plain.find((e) => e.key.equals(key));
  if (match) return { result: 'match', line: match.line };
  const type = keyTypeOf(key);
  const sameType = plain.find((e) => keyTypeOf(e.key) === type);
  if (sameType) return { result: 'changed', line: sameType.line, keyType: type };
  return { result: 'unknown', otherTypesKnown: [...new Set(plain.map((e) => keyTypeOf(e.key)))] };
}

/** Key types known for a host, so the client can ask the server for one of those first. */
export function knownKeyTypes(entries: readonly KnownHostEntry[], name: string): string[] {
  return [
    ...new Set(
      entries
        .filter((e) => e.marker === null && hostFieldMatches(e.patterns, name))
        .map((e) => keyTypeOf(e.key)),
    ),
  ];
}

export async function readKnownHosts(path: string): Promise<KnownHostEntry[]> {
  try {
    return parseKnownHosts(await readFile(path, 'utf8'));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
}

/** Append `name keytype base64` (what `ssh -o StrictHostKeyChecking=accept-new` records). */
export async function appendKnownHost(path: string, name: string, key: Buffer): Promise<void> {
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  let prefix = '';
  try {
    const existing = await readFile(path, 'utf8');
    if (existing.length > 0 && !existing.endsWith('\n')) prefix = '\n';
  } catch {
    // no file yet
  }
  await appendFile(path, `${prefix}${name} ${keyTypeOf(key)} ${key.toString('base64')}\n`, { mode: 0o600 });
}

/** SHA256 fingerprint as ssh-keygen -l prints it. */
export function fingerprint(key: Buffer): string {
  return `SHA256:${createHash('sha256').update(key).digest('base64').replace(/=+$/, '')}`;
}
