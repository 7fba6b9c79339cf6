// The console's side of the gateway's key-signed serial login (device-scripts/rootfs/serial-login):
// recognise the one-time challenge, sign it with the operator's SSH key (ssh-agent first, then the
// identity files, as over SSH) in OpenSSH's signature format (PROTOCOL.sshsig, what
// `ssh-keygen -Y sign` writes), paste the armoured signature back and read the verdict.
//
// Everything on the line is untrusted: a challenge is signed only when it has exactly the shape the
// gateway's program prints, for the user we asked for, and only in the serial-login namespace of the
// host it names, so a hostile device on the cable cannot use the console to sign anything else.
import { createHash } from 'node:crypto';
import { stat } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import ssh2 from 'ssh2';
import type { ParsedKey } from 'ssh2';
import { Rk64Error } from '../errors.js';

const { OpenSSHAgent, utils } = ssh2;

export const SERIAL_LOGIN_PROTOCOL = 'rk64-serial-login/1';
/**
 * The user prompt of the gateway's login program (its last line while it waits for a name); not
 * anchored, because an Enter typed while the program starts leaves several prompts on one line.
 */
export const KEY_LOGIN_PROMPT_RE = /rk64-login user:$/;
const CHALLENGE_RE =
  /(?:^|\n)rk64-challenge: (rk64-serial-login\/1 host=([A-Za-z0-9.-]{1,64}) user=([a-z_][a-z0-9_-]{0,31}) nonce=([0-9a-f]{32}) expires=(\d{1,12}))\n/;
const SIGNATURE_PROMPT_RE = /(?:^|\n)rk64-signature: [^\n]*\n/;
const ACCEPTED_RE = /(?:^|\n)rk64-login accepted: [^\n]*\n/;
const REFUSED_RE = /(?:^|\n)rk64-login refused: ([^\n]{0,200})\n(?:rk64-login wait: (\d{1,4}) s)?/;

export interface SerialChallenge {
  /** The exact line to sign (without its newline; the signed message is this plus "\n"). */
  text: string;
  host: string;
  user: string;
  nonce: string;
  expires: number;
  namespace: string;
}

/** The challenge in what the console printed (terminal escapes already stripped), once it is complete. */
export function parseChallenge(text: string): SerialChallenge | undefined {
  const match = CHALLENGE_RE.exec(text);
  if (!match || !SIGNATURE_PROMPT_RE.test(text.slice(match.index))) return undefined;
  const [, line, host, user, nonce, expires] = match as unknown as [
    string,
    string,
    string,
    string,
    string,
    string,
  ];
  return { text: line, host, user, nonce, expires: Number(expires), namespace: `rk64-serial-login@${host}` };
}

export type LoginVerdict = { accepted: true } | { accepted: false; reason: string; waitSeconds: number };

/** The gateway's verdict on a pasted signature, once it arrived. */
export function parseVerdict(text: string): LoginVerdict | undefined {
  if (ACCEPTED_RE.test(text)) return { accepted: true };
  const refused = REFUSED_RE.exec(text);
  if (refused?.[2] !== undefined)
    return { accepted: false, reason: refused[1] ?? '', waitSeconds: Number(refused[2]) };
  return undefined;
}

function sshString(data: Buffer | string): Buffer {
  const body = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
  const length = Buffer.alloc(4);
  length.writeUInt32BE(body.length);
  return Buffer.concat([length, body]);
}

function readSshString(data: Buffer, offset: number): { value: Buffer; next: number } {
  if (offset + 4 > data.length) throw new Error('truncated SSH string');
  const length = data.readUInt32BE(offset);
  if (offset + 4 + length > data.length) throw new Error('truncated SSH string');
  return { value: data.subarray(offset + 4, offset + 4 + length), next: offset + 4 + length };
}

const SSHSIG_MAGIC = Buffer.from('SSHSIG');
const SSHSIG_HASH = 'sha512';

/** What an SSHSIG signature actually signs: magic, namespace, reserved, hash algorithm, H(message). */
export function sshsigSignedData(namespace: string, message: Buffer): Buffer {
  const digest = createHash(SSHSIG_HASH).update(message).digest();
  return Buffer.concat([
    SSHSIG_MAGIC,
    sshString(namespace),
    sshString(''),
    sshString(SSHSIG_HASH),
    sshString(digest),
  ]);
}

/** The armoured SSHSIG blob: `signature` is the SSH signature encoding (string algorithm, string blob). */
export function armorSshsig(publicKey: Buffer, namespace: string, signature: Buffer): string {
  const version = Buffer.alloc(4);
  version.writeUInt32BE(1);
  const blob = Buffer.concat([
    SSHSIG_MAGIC,
    version,
    sshString(publicKey),
    sshString(namespace),
    sshString(''),
    sshString(SSHSIG_HASH),
    sshString(signature),
  ]);
  const body = blob.toString('base64').match(/.{1,70}/g) ?? [];
  return ['-----BEGIN SSH SIGNATURE-----', ...body, '-----END SSH SIGNATURE-----'].join('\n');
}

/** A DER ECDSA signature (SEQUENCE of two INTEGERs) as SSH's mpint r, mpint s. */
function ecdsaDerToSsh(der: Buffer): Buffer {
  let offset = 0;
  const readLength = (): number => {
    const first = der[offset++] ?? 0;
    if (first < 0x80) return first;
    let length = 0;
    for (let i = 0; i < (first & 0x7f); i++) length = (length << 8) | (der[offset++] ?? 0);
    return length;
  };
  if (der[offset++] !== 0x30) throw new Error('ECDSA signature is not a DER sequence');
  readLength();
  const integers: Buffer[] = [];
  for (let i = 0; i < 2; i++) {
    if (der[offset++] !== 0x02) throw new Error('ECDSA signature part is not a DER integer');
    const length = readLength();
    // A DER INTEGER is minimal two's complement: exactly an SSH mpint's bytes.
    integers.push(der.subarray(offset, offset + length));
    offset += length;
  }
  return Buffer.concat(integers.map((n) => sshString(n)));
}

/** The signature algorithm SSHSIG uses for a key type (RSA keys sign with rsa-sha2-512, as ssh-keygen does). */
function signatureAlgorithm(keyType: string): { name: string; hash?: 'sha512' } {
  return keyType === 'ssh-rsa' ? { name: 'rsa-sha2-512', hash: 'sha512' } : { name: keyType };
}

export interface ChallengeSigner {
  /** For messages: "ssh-agent key <comment>" or the identity file's path. */
  label: string;
  /** Sign SSHSIG's signed data; resolves to the SSH signature encoding (string algorithm, string blob). */
  sign(data: Buffer): Promise<{ publicKey: Buffer; signature: Buffer }>;
}

function agentSigner(socket: string, key: ParsedKey): ChallengeSigner {
  const algorithm = signatureAlgorithm(key.type);
  return {
    label: `ssh-agent key ${key.comment || key.type}`,
    sign: (data) =>
      new Promise((resolve, reject) => {
        new OpenSSHAgent(socket).sign(
          key,
          data,
          algorithm.hash ? { hash: algorithm.hash } : {},
          (error, raw) => {
            if (error || !raw) reject(error ?? new Error('ssh-agent returned no signature'));
            else
              resolve({
                publicKey: key.getPublicSSH(),
                signature: Buffer.concat([sshString(algorithm.name), sshString(raw)]),
              });
          },
        );
      }),
  };
}

function fileSigner(path: string, key: ParsedKey): ChallengeSigner {
  const algorithm = signatureAlgorithm(key.type);
  return {
    label: path,
    sign: (data) => {
      const raw = key.sign(data, algorithm.hash);
      if (raw instanceof Error) return Promise.reject(raw);
      const blob = key.type.startsWith('ecdsa-') ? ecdsaDerToSsh(raw) : raw;
      return Promise.resolve({
        publicKey: key.getPublicSSH(),
        signature: Buffer.concat([sshString(algorithm.name), sshString(blob)]),
      });
    },
  };
}

export interface SignerOptions {
  /** ssh-agent socket; default $SSH_AUTH_SOCK; '' for none. */
  agentSocket?: string;
  /** Private key files; default ~/.ssh/id_ed25519, id_ecdsa, id_rsa (those that exist and are not encrypted). */
  identityFiles?: string[];
  env?: NodeJS.ProcessEnv;
  log?: (line: string) => void;
}

const DEFAULT_KEY_NAMES = ['id_ed25519', 'id_ecdsa', 'id_rsa'];
const SUPPORTED_TYPES = new Set([
  'ssh-ed25519',
  'ssh-rsa',
  'ecdsa-sha2-nistp256',
  'ecdsa-sha2-nistp384',
  'ecdsa-sha2-nistp521',
]);

async function agentKeys(socket: string): Promise<ParsedKey[]> {
  const usable = await stat(socket).then(
    () => true,
    () => false,
  );
  if (!usable) return [];
  return new Promise((resolve) => {
    new OpenSSHAgent(socket).getIdentities((error, keys) => {
      const parsed: ParsedKey[] = [];
      for (const key of error ? [] : (keys ?? [])) if ('getPublicSSH' in key) parsed.push(key);
      resolve(parsed);
    });
  });
}

/** The keys to offer, in order: the agent's, then the identity files'. */
export async function loadSigners(options: SignerOptions = {}): Promise<ChallengeSigner[]> {
  const env = options.env ?? process.env;
  const log = options.log ?? ((): void => undefined);
  const signers: ChallengeSigner[] = [];
  const socket = options.agentSocket ?? env.SSH_AUTH_SOCK ?? '';
  if (socket !== '') {
    for (const key of await agentKeys(socket)) {
      if (SUPPORTED_TYPES.has(key.type)) signers.push(agentSigner(socket, key));
    }
  }
  const explicit = options.identityFiles !== undefined;
  const paths = options.identityFiles ?? DEFAULT_KEY_NAMES.map((n) => join(env.HOME ?? homedir(), '.ssh', n));
  const { readFile } = await import('node:fs/promises');
  for (const path of paths) {
    const data = await readFile(path).catch(() => undefined);
    if (data === undefined) {
      if (explicit) throw new Rk64Error('usage', `cannot read identity file ${path}`, 'check --identity');
      continue;
    }
    const parsed = utils.parseKey(data);
    const key = Array.isArray(parsed) ? (parsed[0] as ParsedKey | Error | undefined) : parsed;
    if (key === undefined || key instanceof Error || !key.isPrivateKey()) {
      const why = key instanceof Error ? key.message : 'no private key found';
      log(
        `note: skipping ${path} for the serial login: ${why}${/encrypted|passphrase/i.test(why) ? ` (load it into ssh-agent: ssh-add ${path})` : ''}`,
      );
      continue;
    }
    if (SUPPORTED_TYPES.has(key.type)) signers.push(fileSigner(path, key));
  }
  return signers;
}

/** The armoured signature of a challenge, as `ssh-keygen -Y sign -n <namespace>` would write it. */
export async function signChallenge(challenge: SerialChallenge, signer: ChallengeSigner): Promise<string> {
  const data = sshsigSignedData(challenge.namespace, Buffer.from(`${challenge.text}\n`, 'utf8'));
  const { publicKey, signature } = await signer.sign(data);
  return armorSshsig(publicKey, challenge.namespace, signature);
}

/** Check a signature blob's own framing (used by tests and to fail early on a broken signer). */
export function sshsigFields(armoured: string): {
  publicKey: Buffer;
  namespace: string;
  hash: string;
  signature: Buffer;
} {
  const body = armoured
    .split('\n')
    .filter((l) => !l.startsWith('-----'))
    .join('');
  const blob = Buffer.from(body, 'base64');
  if (!blob.subarray(0, 6).equals(SSHSIG_MAGIC) || blob.readUInt32BE(6) !== 1)
    throw new Error('not an SSHSIG blob');
  const publicKey = readSshString(blob, 10);
  const namespace = readSshString(blob, publicKey.next);
  const reserved = readSshString(blob, namespace.next);
  const hash = readSshString(blob, reserved.next);
  const signature = readSshString(blob, hash.next);
  return {
    publicKey: publicKey.value,
    namespace: namespace.value.toString('utf8'),
    hash: hash.value.toString('utf8'),
    signature: signature.value,
  };
}

/** What the login needs from the serial transport: a line to write to and the console's text. */
export interface KeyLoginLine {
  description: string;
  write(text: string): Promise<void>;
  /** Forget what the console printed so far (the next waits see only new text). */
  reset(): void;
  /** Wait until `check` on the console's text (terminal escapes stripped) returns a value. */
  waitFor<T>(check: (text: string) => T | undefined, ms: number, what: string): Promise<T>;
}

/**
 * Log in at the gateway's key login prompt (already showing): for each key in turn, give the user,
 * sign the challenge, paste the signature. Tries the next key only when the gateway says the key
 * is not one of the user's; any other refusal ends the login.
 */
export async function keyLogin(
  line: KeyLoginLine,
  user: string,
  signers: ChallengeSigner[],
  log: (line: string) => void = () => undefined,
): Promise<void> {
  if (signers.length === 0) {
    throw new Rk64Error(
      'auth',
      `${line.description}: the console asks for a key-signed login and there is no key to sign with`,
      'start ssh-agent and ssh-add your key, or pass --identity FILE',
    );
  }
  for (const [index, signer] of signers.entries()) {
    if (index > 0)
      await line.waitFor(
        (t) => (/(?:^|\n)rk64-login user: *$/.test(t) ? true : undefined),
        70_000,
        'the next login prompt',
      );
    line.reset();
    await line.write(`${user}\r`);
    const challenge = await line.waitFor(parseChallenge, 10_000, 'a challenge after the user name');
    if (challenge.user !== user) {
      throw new Rk64Error(
        'protocol',
        `${line.description}: the console's challenge names user '${challenge.user}', not '${user}'`,
      );
    }
    const armoured = await signChallenge(challenge, signer);
    line.reset();
    await line.write(`${armoured.split('\n').join('\r')}\r`);
    const verdict = await line.waitFor(parseVerdict, 20_000, 'the verdict on the signature');
    if (verdict.accepted) return;
    const wrongKey = /not among/.test(verdict.reason);
    log(`serial login with ${signer.label} refused: ${verdict.reason}`);
    if (!wrongKey || index === signers.length - 1) {
      throw new Rk64Error(
        'auth',
        `${line.description}: serial login as '${user}' refused: ${verdict.reason}`,
        wrongKey
          ? `add your public key to /data/config/ssh-authorized-keys/${user} on the gateway`
          : 'try again; the gateway waits longer after every refusal',
      );
    }
  }
}
