// known_hosts matching with real keys from ssh-keygen, and hashed entries made by ssh-keygen -H.
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  appendKnownHost,
  fingerprint,
  hostFieldMatches,
  hostKeyName,
  knownKeyTypes,
  parseKnownHosts,
  readKnownHosts,
  verifyHostKey,
} from '../../../src/core/transport/ssh-known-hosts.js';
import { runOk } from '../../lib/exec.js';
import type { KeyPair } from '../../lib/sshd.js';
import { makeKey } from '../../lib/sshd.js';

let dir: string;
let ed: KeyPair;
let ed2: KeyPair;
let ecdsa: KeyPair;

const b64 = (k: KeyPair): string => k.blob.toString('base64');

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'rk64-kh-'));
  [ed, ed2, ecdsa] = await Promise.all([
    makeKey(dir, 'ed', 'ed25519'),
    makeKey(dir, 'ed2', 'ed25519'),
    makeKey(dir, 'ec', 'ecdsa'),
  ]);
});
afterAll(() => rm(dir, { recursive: true, force: true }));

describe('known_hosts', () => {
  it('uses [host]:port for ports other than 22', () => {
    expect(hostKeyName('10.0.0.1', 22)).toBe('10.0.0.1');
    expect(hostKeyName('10.0.0.1', 2222)).toBe('[10.0.0.1]:2222');
  });

  it('matches plain, comma-separated, wildcard and negated patterns', () => {
    expect(hostFieldMatches('gw1,10.0.0.1', '10.0.0.1')).toBe(true);
    expect(hostFieldMatches('gw1,10.0.0.1', '10.0.0.2')).toBe(false);
    expect(hostFieldMatches('[10.0.0.1]:2222', '[10.0.0.1]:2222')).toBe(true);
    expect(hostFieldMatches('[10.0.0.1]:2222', '10.0.0.1')).toBe(false);
    expect(hostFieldMatches('*.example.com', 'gw.example.com')).toBe(true);
    expect(hostFieldMatches('10.0.0.?', '10.0.0.7')).toBe(true);
    expect(hostFieldMatches('10.0.0.*,!10.0.0.9', '10.0.0.9')).toBe(false);
    expect(hostFieldMatches('GW.example.com', 'gw.example.com')).toBe(true);
  });

  it('finds a matching key, reports a changed key with its line, and an unknown host', () => {
    const text = `# comment\n\ngw1,10.0.0.1 ${ed.type} ${b64(ed)} c\n[10.0.0.1]:2222 ${ecdsa.type} ${b64(ecdsa)}\n`;
    const entries = parseKnownHosts(text);
    expect(entries.map((e) => e.line)).toEqual([3, 4]);
    expect(verifyHostKey(entries, '10.0.0.1', ed.blob)).toEqual({ result: 'match', line: 3 });
    expect(verifyHostKey(entries, 'gw1', ed2.blob)).toEqual({
      result: 'changed',
      line: 3,
      keyType: 'ssh-ed25519',
    });
    expect(verifyHostKey(entries, '10.0.0.2', ed.blob)).toEqual({ result: 'unknown', otherTypesKnown: [] });
    // ecdsa known for the port-2222 name, server shows ed25519: not "changed", but not trusted either
    expect(verifyHostKey(entries, '[10.0.0.1]:2222', ed.blob)).toEqual({
      result: 'unknown',
      otherTypesKnown: ['ecdsa-sha2-nistp256'],
    });
    expect(knownKeyTypes(entries, '[10.0.0.1]:2222')).toEqual(['ecdsa-sha2-nistp256']);
  });

  it('honours @revoked and ignores @cert-authority lines for direct matches', () => {
    const entries = parseKnownHosts(
      `@revoked * ${ed2.type} ${b64(ed2)}\n@cert-authority *.example.com ${ed.type} ${b64(ed)}\ngw ${ed2.type} ${b64(ed2)}\n`,
    );
    expect(verifyHostKey(entries, 'gw', ed2.blob)).toEqual({ result: 'revoked', line: 1 });
    expect(verifyHostKey(entries, 'a.example.com', ed.blob).result).toBe('unknown');
  });

  it('matches entries hashed by ssh-keygen -H', async () => {
    const path = join(dir, 'hashed');
    await writeFile(
      path,
      `[127.0.0.1]:2200 ${ed.type} ${b64(ed)}\ngw.example.com ${ecdsa.type} ${b64(ecdsa)}\n`,
    );
    await runOk('ssh-keygen', ['-q', '-H', '-f', path]);
    const entries = await readKnownHosts(path);
    expect(entries.every((e) => e.patterns.startsWith('|1|'))).toBe(true);
    expect(verifyHostKey(entries, '[127.0.0.1]:2200', ed.blob).result).toBe('match');
    expect(verifyHostKey(entries, '127.0.0.1', ed.blob).result).toBe('unknown');
    expect(verifyHostKey(entries, 'gw.example.com', ecdsa.blob).result).toBe('match');
    expect(verifyHostKey(entries, 'gw.example.com', (await makeKey(dir, 'ec2', 'ecdsa')).blob)).toMatchObject(
      {
        result: 'changed',
        line: 2,
      },
    );
  });

  it('appends entries that ssh-keygen -F can find, and fingerprints like ssh-keygen -l', async () => {
    const path = join(dir, 'sub', 'known_hosts');
    await appendKnownHost(path, '[127.0.0.1]:2222', ed.blob);
    await appendKnownHost(path, 'gw', ecdsa.blob);
    expect(await readFile(path, 'utf8')).toBe(
      `[127.0.0.1]:2222 ${ed.type} ${b64(ed)}\ngw ${ecdsa.type} ${b64(ecdsa)}\n`,
    );
    const found = await runOk('ssh-keygen', ['-F', '[127.0.0.1]:2222', '-f', path]);
    expect(found.stdout).toContain(b64(ed));
    const listed = await runOk('ssh-keygen', ['-l', '-f', `${ed.path}.pub`]);
    expect(listed.stdout).toContain(fingerprint(ed.blob));
    expect(await readKnownHosts(join(dir, 'none'))).toEqual([]);
  });
});
