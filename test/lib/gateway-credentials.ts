// Scan an unpacked root file system for credentials that must never ship in an image: private keys
// (PEM or OpenSSH), password hashes in /etc/shadow, authorized_keys files, SSH host keys.
// Returns one line per finding naming the file, so a failing test says exactly what leaked.
import { readdir, readFile, lstat } from 'node:fs/promises';
import { join, relative } from 'node:path';

const PRIVATE_KEY_RE =
  /-----BEGIN ([A-Z0-9 ]*)PRIVATE KEY-----\r?\n(?:[A-Za-z0-9-]+: [^\n]*\n)*\r?\n?[A-Za-z0-9+/=]{40,}/;
/** Files larger than this are binaries or data, never key files. */
const MAX_SCANNED_BYTES = 1024 * 1024;

async function* walk(dir: string): AsyncGenerator<string> {
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) yield* walk(path);
    else if (entry.isFile()) yield path;
  }
}

function looksBinary(data: Buffer): boolean {
  return data.subarray(0, 8000).includes(0);
}

/** Password field of /etc/shadow that is a usable credential: a hash, or empty (no password). */
export function shadowFindings(shadow: string): string[] {
  const findings: string[] = [];
  for (const line of shadow.split('\n')) {
    if (line.trim() === '') continue;
    const [user, password] = line.split(':');
    if (password === undefined) continue;
    if (password === '') findings.push(`/etc/shadow: user ${user} has an empty password (login without one)`);
    else if (!/^[!*]/.test(password)) findings.push(`/etc/shadow: user ${user} has a password hash`);
  }
  return findings;
}

export async function scanForCredentials(root: string): Promise<string[]> {
  const findings: string[] = [];
  for await (const path of walk(root)) {
    const name = `/${relative(root, path)}`;
    if (/(^|\/)authorized_keys2?$/.test(name) || name.startsWith('/data/config/ssh-authorized-keys/')) {
      findings.push(`${name}: authorized keys file`);
    }
    if (/^\/etc\/ssh\/ssh_host_.*_key$/.test(name)) findings.push(`${name}: SSH host private key`);
    const size = (await lstat(path)).size;
    if (size === 0 || size > MAX_SCANNED_BYTES) continue;
    const data = await readFile(path);
    if (looksBinary(data)) continue;
    const text = data.toString('latin1');
    const match = PRIVATE_KEY_RE.exec(text);
    if (match) findings.push(`${name}: ${match[1] ?? ''}private key`);
    if (name === '/etc/shadow' || name === '/etc/shadow-') {
      findings.push(...shadowFindings(text).map((f) => f.replace('/etc/shadow', name)));
    }
  }
  return findings.sort();
}
