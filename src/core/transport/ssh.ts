// SSH transport (ssh2), behaving like the OpenSSH client the operator already has: the default
// keys in ~/.ssh and ssh-agent, strict host-key checking against ~/.ssh/known_hosts before any
// authentication, an optional jump host (the VPN case), keepalives, and errors that say what
// happened. Also used for VPN profiles: those are SSH to the gateway's VPN address.
import { readFile, stat } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
// ssh2's index also loads its server, HTTP agents and key generator (node:http, node:https,
// node:tls), a quarter of what `rk64 status` spends loading ssh2 before its first SSH byte
// (bench/console-bench); the client and the key parser are all the console uses.
import Client from 'ssh2/lib/client.js';
import keyParser from 'ssh2/lib/protocol/keyParser.js';
import type {
  AnyAuthMethod,
  ClientChannel,
  ConnectConfig,
  ParsedKey,
  ServerHostKeyAlgorithm,
  SFTPWrapper,
} from 'ssh2';
import { Rk64Error } from '../errors.js';
import type { ErrorKind } from '../errors.js';
import {
  appendKnownHost,
  fingerprint,
  hostKeyName,
  knownKeyTypes,
  readKnownHosts,
  verifyHostKey,
} from './ssh-known-hosts.js';
import { endpointAddress, targetLabel, type SshEndpoint, type SshTarget } from '../target.js';
import { dialTcp, type TcpDial } from './tcp.js';
import { MAX_OUTPUT_BYTES, outputTooLarge } from './transport.js';
import type { ExecOptions, ExecResult, Transport, UploadOptions } from './transport.js';

/** SFTP write requests kept in flight during an upload, and their size (OpenSSH's sftp-server accepts 256 KiB; 32 KiB is the safe common size). */
const UPLOAD_REQUESTS_IN_FLIGHT = 64;
const UPLOAD_CHUNK_BYTES = 32 * 1024;

type SshClient = InstanceType<typeof Client>;

export interface SshOptions {
  /** Default ~/.ssh/known_hosts. */
  knownHostsPath?: string;
  /** Record the key of a host that is not in known_hosts yet (like StrictHostKeyChecking=accept-new). */
  acceptNewHostKey?: boolean;
  /** Key files to offer; default ~/.ssh/id_ed25519, id_ecdsa, id_rsa (those that exist). */
  identityFiles?: string[];
  /** ssh-agent socket; default $SSH_AUTH_SOCK. Set to '' to not use an agent. */
  agentSocket?: string;
  /** TCP connect + SSH handshake + authentication. Default 15 s. */
  connectTimeoutMs?: number;
  keepaliveIntervalMs?: number;
  keepaliveCountMax?: number;
  /** Notes for stderr (skipped encrypted keys, recorded host keys). */
  log?: (line: string) => void;
  env?: NodeJS.ProcessEnv;
}

const DEFAULT_KEY_NAMES = ['id_ed25519', 'id_ecdsa', 'id_rsa'];
const HOST_KEY_ALGORITHMS: ServerHostKeyAlgorithm[] = [
  'ssh-ed25519',
  'ecdsa-sha2-nistp256',
  'ecdsa-sha2-nistp384',
  'ecdsa-sha2-nistp521',
  'rsa-sha2-512',
  'rsa-sha2-256',
  'ssh-rsa',
];

function sshDir(env: NodeJS.ProcessEnv): string {
  return join(env.HOME ?? homedir(), '.ssh');
}

/** Order host key algorithms so the server proves a key type we already know (as OpenSSH does). */
function hostKeyAlgorithms(known: string[]): ServerHostKeyAlgorithm[] {
  const preferred = known.flatMap((t) =>
    t === 'ssh-rsa' ? ['rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa'] : [t],
  );
  const first = HOST_KEY_ALGORITHMS.filter((a) => preferred.includes(a));
  return [...new Set([...first, ...HOST_KEY_ALGORITHMS])];
}

interface LoadedKey {
  path: string;
  key: ParsedKey;
}

async function loadKeys(
  paths: string[],
  explicit: boolean,
  log: (line: string) => void,
): Promise<LoadedKey[]> {
  const keys: LoadedKey[] = [];
  for (const path of paths) {
    let data: Buffer;
    try {
      data = await readFile(path);
    } catch (error) {
      if (explicit) {
        throw new Rk64Error(
          'usage',
          `cannot read identity file ${path}: ${(error as Error).message}`,
          'check --identity',
        );
      }
      continue;
    }
    const parsed = keyParser.parseKey(data);
    const key = Array.isArray(parsed) ? (parsed[0] as ParsedKey | Error | undefined) : parsed;
    if (key === undefined || key instanceof Error) {
      const why = key instanceof Error ? key.message : 'no key found';
      if (/encrypted|passphrase/i.test(why)) {
        log(`note: skipping passphrase-protected key ${path}; load it into ssh-agent (ssh-add ${path})`);
      } else if (explicit) {
        throw new Rk64Error(
          'usage',
          `identity file ${path} is not a private key this client can read (${why})`,
        );
      } else {
        log(`note: skipping ${path}: ${why}`);
      }
      continue;
    }
    keys.push({ path, key });
  }
  return keys;
}

function authMethods(user: string, keys: LoadedKey[], agent: string | undefined): AnyAuthMethod[] {
  const methods: AnyAuthMethod[] = [];
  if (agent) methods.push({ type: 'agent', username: user, agent });
  for (const { key } of keys) methods.push({ type: 'publickey', username: user, key });
  return methods;
}

function mapConnectError(error: Error & { code?: string; level?: string }, where: string): Rk64Error {
  const code = error.code ?? '';
  let kind: ErrorKind = 'unreachable';
  let hint: string | undefined = 'check the address and that the gateway is up';
  if (error.level === 'client-authentication') {
    return new Rk64Error(
      'auth',
      `${where}: authentication failed (no key was accepted)`,
      'check --identity, your ssh-agent, and the authorized keys in /data on the gateway',
      { cause: error },
    );
  }
  if (error.level === 'client-timeout' || code === 'ETIMEDOUT') {
    kind = 'timeout';
    hint = 'the gateway did not answer in time; check the network path or raise --timeout';
  } else if (code === 'ECONNREFUSED' || /refused|administratively prohibited/i.test(error.message)) {
    return new Rk64Error('refused', `${where}: connection refused`, 'is sshd running and the port right?', {
      cause: error,
    });
  } else if (code === 'ECONNRESET' || code === 'EPIPE') {
    kind = 'connection-lost';
    hint = 'the connection was reset; try again';
  }
  return new Rk64Error(kind, `${where}: ${error.message || code}`, hint, { cause: error });
}

interface ConnectContext {
  options: SshOptions;
  knownHostsPath: string;
  keys: LoadedKey[];
  agent: string | undefined;
  timeoutMs: number;
  log: (line: string) => void;
}

/** The stream the SSH session runs over: a TCP connection, or a channel through a jump host. */
type Carrier = { tcp: TcpDial } | { channel: Readable };

async function connectClient(
  endpoint: SshEndpoint,
  ctx: ConnectContext,
  carrier: Carrier,
): Promise<SshClient> {
  const name = hostKeyName(endpoint.host, endpoint.port);
  const entries = await readKnownHosts(ctx.knownHostsPath);
  const where = targetLabel(endpoint);
  let hostKeyError: Rk64Error | undefined;

  const hostVerifier = (key: Buffer, verify: (valid: boolean) => void): void => {
    const verdict = verifyHostKey(entries, name, key);
    switch (verdict.result) {
      case 'match':
        verify(true);
        return;
      case 'revoked':
        hostKeyError = new Rk64Error(
          'host-key-changed',
          `${where}: the host key ${fingerprint(key)} is marked @revoked in ${ctx.knownHostsPath}:${verdict.line}`,
          'do not connect; ask who administers the gateway',
        );
        verify(false);
        return;
      case 'changed':
        hostKeyError = new Rk64Error(
          'host-key-changed',
          `${where}: HOST KEY CHANGED: the server offers ${verdict.keyType} ${fingerprint(key)}, ` +
            `which differs from ${ctx.knownHostsPath}:${verdict.line}`,
          `if the gateway was reinstalled, remove that line (ssh-keygen -R '${name}' -f ${ctx.knownHostsPath}); otherwise do not connect`,
        );
        verify(false);
        return;
      case 'unknown':
        if (verdict.otherTypesKnown.length > 0 && ctx.options.acceptNewHostKey) {
          // The client asks for the known types first, so a server that offers another type lacks
          // the known key: that is a changed host key, not a new host (a downgrade path otherwise).
          hostKeyError = new Rk64Error(
            'host-key-changed',
            `${where}: the server offers a ${keyTypeLabel(key)} host key ${fingerprint(key)}, but ` +
              `${ctx.knownHostsPath} knows this host by ${verdict.otherTypesKnown.join(', ')} keys only; ` +
              '--accept-new-host-key records keys of new hosts, never a new key type for a known host',
            `verify the fingerprint on the gateway console; if the gateway really changed its key, remove its lines (ssh-keygen -R '${name}' -f ${ctx.knownHostsPath}) and connect again`,
          );
          verify(false);
          return;
        }
        if (ctx.options.acceptNewHostKey) {
          appendKnownHost(ctx.knownHostsPath, name, key).then(
            () => {
              ctx.log(`recorded host key ${fingerprint(key)} for ${name} in ${ctx.knownHostsPath}`);
              verify(true);
            },
            (error: Error) => {
              hostKeyError = new Rk64Error(
                'host-key-unknown',
                `${where}: cannot record the host key in ${ctx.knownHostsPath}: ${error.message}`,
              );
              verify(false);
            },
          );
          return;
        }
        hostKeyError = new Rk64Error(
          'host-key-unknown',
          `${where}: host key ${keyTypeLabel(key)} ${fingerprint(key)} is not in ${ctx.knownHostsPath}` +
            (verdict.otherTypesKnown.length
              ? ` (only ${verdict.otherTypesKnown.join(', ')} keys are known)`
              : ''),
          'verify the fingerprint on the gateway console, then retry with --accept-new-host-key',
        );
        verify(false);
    }
  };

  const config: ConnectConfig = {
    host: endpoint.host,
    port: endpoint.port,
    username: endpoint.user,
    readyTimeout: ctx.timeoutMs,
    keepaliveInterval: ctx.options.keepaliveIntervalMs ?? 15_000,
    keepaliveCountMax: ctx.options.keepaliveCountMax ?? 3,
    hostVerifier,
    authHandler: authMethods(endpoint.user, ctx.keys, ctx.agent),
    algorithms: { serverHostKey: hostKeyAlgorithms(knownKeyTypes(entries, name)) },
    sock: 'tcp' in carrier ? carrier.tcp.socket : carrier.channel,
  };

  return new Promise<SshClient>((resolve, reject) => {
    // A socket that failed before ssh2 listened to it: ssh2 would wait for events already gone.
    if ('tcp' in carrier && carrier.tcp.socket.destroyed) {
      const failure =
        carrier.tcp.failure ?? Object.assign(new Error('connection closed'), { code: 'ECONNRESET' });
      reject(mapConnectError(failure, where));
      return;
    }
    const client = new Client();
    let settled = false;
    client.once('ready', () => {
      settled = true;
      resolve(client);
    });
    // 'on', not 'once': ssh2 may emit a second error (e.g. after a timeout) that must not go unhandled.
    client.on('error', (error: Error & { code?: string; level?: string }) => {
      if (settled) return;
      settled = true;
      client.end();
      reject(hostKeyError ?? mapConnectError(error, where));
    });
    client.once('close', () => {
      if (settled) return;
      settled = true;
      reject(
        hostKeyError ??
          new Rk64Error('connection-lost', `${where}: the server closed the connection during login`),
      );
    });
    client.connect(config);
  });
}

function keyTypeLabel(key: Buffer): string {
  const length = key.length >= 4 ? key.readUInt32BE(0) : 0;
  return key.subarray(4, 4 + length).toString('latin1');
}

function forward(jump: SshClient, target: SshEndpoint, where: string): Promise<ClientChannel> {
  return new Promise((resolve, reject) => {
    jump.forwardOut('127.0.0.1', 0, target.host, target.port, (error, channel) => {
      if (error)
        reject(mapConnectError(error, `${where}: jump host could not open ${target.host}:${target.port}`));
      else resolve(channel);
    });
  });
}

/**
 * Logs in to the target (through its jump host, if it has one). `dial` is the TCP connection to
 * the first hop when the caller opened it already (connect.ts); it is closed on any failure.
 */
export async function connectSsh(
  target: SshTarget,
  options: SshOptions = {},
  dial: TcpDial = dialTcp(target.jump ?? target),
): Promise<SshTransport> {
  try {
    return await login(target, options, dial);
  } catch (error) {
    dial.socket.destroy();
    throw error;
  }
}

async function login(target: SshTarget, options: SshOptions, dial: TcpDial): Promise<SshTransport> {
  const env = options.env ?? process.env;
  const log = options.log ?? ((): void => undefined);
  const explicit = target.identityFiles ?? options.identityFiles;
  const paths = explicit ?? DEFAULT_KEY_NAMES.map((n) => join(sshDir(env), n));
  const keys = await loadKeys(paths, explicit !== undefined, log);
  const agent = options.agentSocket ?? env.SSH_AUTH_SOCK;
  const agentUsable = agent
    ? await stat(agent).then(
        () => true,
        () => false,
      )
    : false;
  if (keys.length === 0 && !agentUsable) {
    throw new Rk64Error(
      'auth',
      `${targetLabel(target)}: no usable key (none of ${paths.join(', ')} and no ssh-agent)`,
      'pass --identity FILE or start ssh-agent and ssh-add a key',
    );
  }
  const ctx: ConnectContext = {
    options,
    knownHostsPath: options.knownHostsPath ?? join(sshDir(env), 'known_hosts'),
    keys,
    agent: agentUsable ? agent : undefined,
    timeoutMs: options.connectTimeoutMs ?? 15_000,
    log,
  };
  if (target.jump) {
    const jumpClient = await connectClient(target.jump, ctx, { tcp: dial });
    try {
      const channel = await forward(jumpClient, target, targetLabel(target.jump));
      const client = await connectClient(target, ctx, { channel });
      return new SshTransport(target, client, dial, jumpClient);
    } catch (error) {
      jumpClient.end();
      throw error;
    }
  }
  return new SshTransport(target, await connectClient(target, ctx, { tcp: dial }), dial);
}

export class SshTransport implements Transport {
  readonly kind = 'ssh' as const;
  readonly description: string;
  readonly user: string;
  private lostError: Rk64Error | undefined;
  private closed = false;

  constructor(
    target: SshTarget,
    private readonly client: SshClient,
    /** The TCP connection to the first hop (the jump host, if there is one). */
    private readonly tcp: TcpDial,
    private readonly jump?: SshClient,
  ) {
    this.description = targetLabel(target) + (target.jump ? ` via ${endpointAddress(target.jump)}` : '');
    this.user = target.user;
    const onGone = (): void => {
      if (!this.closed && !this.lostError) {
        this.lostError = new Rk64Error(
          'connection-lost',
          `${this.description}: connection lost`,
          'the gateway or the network went away; reconnect',
        );
      }
    };
    client.on('close', onGone);
    client.on('error', onGone);
  }

  private checkAlive(): void {
    if (this.lostError) throw this.lostError;
    if (this.closed) throw new Rk64Error('connection-lost', `${this.description}: connection already closed`);
  }

  async exec(command: string, options: ExecOptions = {}): Promise<ExecResult> {
    this.checkAlive();
    return new Promise((resolve, reject) => {
      let stdout = '';
      let stderr = '';
      let done = false;
      let channel: ClientChannel | undefined;
      const finish = (error: Rk64Error | undefined, result?: ExecResult): void => {
        if (done) return;
        done = true;
        if (timer) clearTimeout(timer);
        options.signal?.removeEventListener('abort', onAbort);
        this.client.removeListener('close', onClose);
        if (error) reject(error);
        else if (result) resolve(result);
      };
      const stop = (): void => {
        if (!channel) return;
        try {
          channel.signal('KILL');
        } catch {
          // the server may not support signals; closing the channel is enough
        }
        channel.close();
      };
      const onAbort = (): void => {
        stop();
        finish(new Rk64Error('aborted', `${this.description}: '${command}' was cancelled`));
      };
      const onClose = (): void => {
        finish(
          new Rk64Error(
            'connection-lost',
            `${this.description}: connection lost while running '${command}'`,
            'the gateway or the network went away; reconnect and check whether the command completed',
          ),
        );
      };
      const timer =
        options.timeoutMs === undefined
          ? undefined
          : setTimeout(() => {
              stop();
              finish(
                new Rk64Error(
                  'timeout',
                  `${this.description}: '${command}' did not finish within ${Math.round(options.timeoutMs! / 1000)} s`,
                  'raise --timeout or check the gateway',
                ),
              );
            }, options.timeoutMs);
      if (options.signal?.aborted) {
        onAbort();
        return;
      }
      options.signal?.addEventListener('abort', onAbort, { once: true });
      this.client.once('close', onClose);
      this.client.exec(command, (error, stream) => {
        if (error) {
          finish(new Rk64Error('remote', `${this.description}: cannot start '${command}': ${error.message}`));
          return;
        }
        channel = stream;
        if (done) {
          stop();
          return;
        }
        options.onStarted?.();
        stream.setEncoding('utf8');
        stream.stderr.setEncoding('utf8');
        const max = options.maxOutputBytes ?? MAX_OUTPUT_BYTES;
        let stdoutBytes = 0;
        let stderrBytes = 0;
        const tooMuch = (name: string): void => {
          stop();
          finish(outputTooLarge(this.description, command, name, max));
        };
        stream.on('data', (chunk: string) => {
          if (done) return;
          stdoutBytes += Buffer.byteLength(chunk);
          if (stdoutBytes > max) return tooMuch('stdout');
          stdout += chunk;
          options.onStdout?.(chunk);
        });
        stream.stderr.on('data', (chunk: string) => {
          if (done) return;
          stderrBytes += Buffer.byteLength(chunk);
          if (stderrBytes > max) return tooMuch('stderr');
          stderr += chunk;
        });
        stream.on('close', (code: number | null | undefined, signal?: string) => {
          // A channel closed without an exit status means the connection died under it.
          if (typeof code === 'number') {
            finish(undefined, { stdout, stderr, exitCode: code });
          } else if (signal) {
            finish(undefined, { stdout, stderr, exitCode: 128 + signalNumber(signal) });
          } else {
            setImmediate(onClose);
          }
        });
      });
    });
  }

  private sftp(): Promise<SFTPWrapper> {
    return new Promise((resolve, reject) => {
      this.client.sftp((error, sftp) => {
        if (error) {
          reject(new Rk64Error('remote', `${this.description}: SFTP is not available: ${error.message}`));
        } else resolve(sftp);
      });
    });
  }

  async upload(localPath: string, remotePath: string, options: UploadOptions = {}): Promise<void> {
    this.checkAlive();
    const totalBytes = (await stat(localPath)).size;
    let sftp = await this.sftp();
    const partPath = `${remotePath}.part`;
    let aborted = false;
    try {
      // fastPut keeps many SFTP writes in flight; a piped stream waits for each write's reply and
      // ran an order of magnitude slower than scp (bench/console-upload).
      await new Promise<void>((resolve, reject) => {
        let settled = false;
        const finish = (error?: Error): void => {
          if (settled) return;
          settled = true;
          options.signal?.removeEventListener('abort', onAbort);
          this.client.off('close', onClose);
          if (error) reject(error);
          else resolve();
        };
        const onAbort = (): void => {
          aborted = true;
          finish(new Rk64Error('aborted', `upload of ${localPath} was cancelled`));
          sftp.end();
        };
        const onClose = (): void =>
          finish(new Rk64Error('connection-lost', `${this.description}: connection lost during upload`));
        if (options.signal?.aborted) return onAbort();
        options.signal?.addEventListener('abort', onAbort, { once: true });
        this.client.once('close', onClose);
        sftp.fastPut(
          localPath,
          partPath,
          {
            concurrency: UPLOAD_REQUESTS_IN_FLIGHT,
            chunkSize: UPLOAD_CHUNK_BYTES,
            mode: 0o644,
            step: (bytesSent) => options.onProgress?.({ bytesSent, totalBytes }),
          },
          (error) => {
            if (this.lostError) return finish(this.lostError);
            if (!error) return finish();
            const local = (error as NodeJS.ErrnoException).syscall !== undefined;
            finish(
              local
                ? new Rk64Error('usage', `cannot read ${localPath}: ${error.message}`)
                : new Rk64Error('remote', `${this.description}: cannot write ${partPath}: ${error.message}`),
            );
          },
        );
      });
      await new Promise<void>((resolve, reject) => {
        sftp.ext_openssh_rename(partPath, remotePath, (error) => {
          if (error)
            reject(
              new Rk64Error('remote', `${this.description}: cannot rename ${partPath}: ${error.message}`),
            );
          else resolve();
        });
      });
      if (totalBytes === 0) options.onProgress?.({ bytesSent: 0, totalBytes });
    } catch (error) {
      if (!this.lostError) {
        // a cancelled upload ended its SFTP channel: remove the partial file through a fresh one
        if (aborted) sftp = await this.sftp();
        await new Promise<void>((resolve) => sftp.unlink(partPath, () => resolve()));
      }
      throw error;
    } finally {
      sftp.end();
    }
  }

  close(): Promise<void> {
    if (!this.closed) {
      this.closed = true;
      this.client.end();
      this.jump?.end();
      // ssh2 has sent the disconnect and half-closed the socket; it would then keep the process
      // alive until the server closes its side too. Like OpenSSH's client, leave once the
      // goodbye is out: the socket closes as soon as the kernel has it.
      const { socket } = this.tcp;
      if (socket.writableEnded && !socket.writableFinished) socket.once('finish', () => socket.destroy());
      else socket.destroy();
    }
    return Promise.resolve();
  }
}

const SIGNALS: Record<string, number> = {
  HUP: 1,
  INT: 2,
  QUIT: 3,
  KILL: 9,
  SEGV: 11,
  PIPE: 13,
  ALRM: 14,
  TERM: 15,
};
function signalNumber(name: string): number {
  return SIGNALS[name.replace(/^SIG/, '')] ?? 0;
}
