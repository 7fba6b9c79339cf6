// A real OpenSSH sshd for tests: its own config, host key and authorized_keys in a temp dir,
// listening on 127.0.0.1 on a free port (or on an address inside a network namespace the test
// made), in private mount + PID namespaces (it needs its own
// /run/sshd, and killing the namespace's init takes every session down with it, which is how
// tests simulate a gateway that dies mid-command).
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runOk } from './exec.js';

export type KeyType = 'ed25519' | 'ecdsa' | 'rsa';

export interface KeyPair {
  path: string;
  /** The `.pub` line: `type base64 comment`. */
  publicLine: string;
  /** The public key blob (SSH wire format), as a server presents it. */
  blob: Buffer;
  type: string;
}

/** Generate a key pair with ssh-keygen (a real OpenSSH key file). */
export async function makeKey(
  dir: string,
  name: string,
  type: KeyType = 'ed25519',
  passphrase = '',
): Promise<KeyPair> {
  const path = join(dir, name);
  await runOk('ssh-keygen', ['-q', '-t', type, '-N', passphrase, '-C', name, '-f', path]);
  const publicLine = (await readFile(`${path}.pub`, 'utf8')).trim();
  const [keyType = '', base64 = ''] = publicLine.split(' ');
  return { path, publicLine, blob: Buffer.from(base64, 'base64'), type: keyType };
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

export interface SshdOptions {
  /** Public key lines allowed to log in (as root, the user tests run as). */
  authorizedKeys: string[];
  /** Reuse a host key (e.g. to restart "the same" server); generated otherwise. */
  hostKey?: KeyPair;
  hostKeyType?: KeyType;
  /** Extra environment for sessions (sshd_config SetEnv), e.g. { PATH: '/x:/usr/bin:/bin' }. */
  setEnv?: Record<string, string>;
  /** Extra sshd_config lines. */
  extraConfig?: string[];
  /** Run inside this network namespace (listening on `listenAddress`, which lives there). */
  netns?: { name: string; listenAddress: string };
}

export interface Sshd {
  host: string;
  port: number;
  hostKey: KeyPair;
  /** `[host]:port type base64`, ready for a known_hosts file. */
  knownHostsLine: string;
  dir: string;
  /** Output sshd wrote (-e logs to stderr): useful in failure messages. */
  log(): string;
  /** SIGKILL sshd and every session: the gateway vanished. */
  kill(): Promise<void>;
  stop(): Promise<void>;
}

function waitForBanner(port: number, deadline: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const attempt = (): void => {
      const socket = connect(port, '127.0.0.1');
      socket.once('data', (data) => {
        socket.destroy();
        if (data.toString().startsWith('SSH-')) resolve();
        else reject(new Error(`port ${port} answered without an SSH banner`));
      });
      socket.once('error', () => {
        socket.destroy();
        if (Date.now() > deadline) reject(new Error(`sshd did not listen on ${port}`));
        else setTimeout(attempt, 50);
      });
    };
    attempt();
  });
}

async function waitForLog(output: () => string, line: string, deadline: number): Promise<void> {
  while (!output().includes(line)) {
    if (Date.now() > deadline) throw new Error(`sshd did not log "${line}":\n${output()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export async function startSshd(options: SshdOptions): Promise<Sshd> {
  const dir = await mkdtemp(join(tmpdir(), 'rk64-sshd-'));
  const hostKey = options.hostKey ?? (await makeKey(dir, 'host_key', options.hostKeyType ?? 'ed25519'));
  const port = await freePort();
  const host = options.netns?.listenAddress ?? '127.0.0.1';
  await writeFile(join(dir, 'authorized_keys'), options.authorizedKeys.map((k) => `${k}\n`).join(''), {
    mode: 0o600,
  });
  const config = [
    `Port ${port}`,
    `ListenAddress ${host}`,
    `HostKey ${hostKey.path}`,
    `AuthorizedKeysFile ${join(dir, 'authorized_keys')}`,
    'PidFile none',
    'PermitRootLogin prohibit-password',
    'PubkeyAuthentication yes',
    'PasswordAuthentication no',
    'KbdInteractiveAuthentication no',
    'UsePAM no',
    'StrictModes no',
    'AllowTcpForwarding yes',
    'LogLevel VERBOSE',
    'Subsystem sftp internal-sftp',
    // One SetEnv line: sshd keeps only the first SetEnv directive.
    ...(options.setEnv && Object.keys(options.setEnv).length
      ? [
          `SetEnv ${Object.entries(options.setEnv)
            .map(([k, v]) => `${k}=${v}`)
            .join(' ')}`,
        ]
      : []),
    ...(options.extraConfig ?? []),
  ];
  const configPath = join(dir, 'sshd_config');
  const rootHome = join(dir, 'root-home');
  await mkdir(rootHome, { mode: 0o700 });
  await writeFile(configPath, `${config.join('\n')}\n`);

  const inNetns = options.netns ? ['ip', 'netns', 'exec', options.netns.name] : [];
  const [command = '', ...commandArgs] = [...inNetns, 'unshare'];
  const child: ChildProcess = spawn(
    command,
    [
      ...commandArgs,
      '--mount',
      '--pid',
      '--fork',
      // A /proc of its own pid namespace: programs that open /proc/<their pid>/… (rauc info reads
      // the bundle through /proc/self/fd) must find themselves there.
      '--mount-proc',
      '--kill-child=SIGKILL',
      '--propagation',
      'private',
      'bash',
      '-c',
      // Sessions log in as root: give them an empty home so the host's ~/.bashrc (which bash
      // reads for ssh commands) cannot slow down or break the tests.
      'mount -t tmpfs -o mode=755 rk64-sshd-run /run && mkdir -m 755 /run/sshd && mount --bind "$2" /root && ' +
        '/usr/sbin/sshd -t -f "$1" && exec /usr/sbin/sshd -D -e -f "$1"',
      'sshd-wrapper',
      configPath,
      rootHome,
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let output = '';
  child.stdout?.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (output += d.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  try {
    await Promise.race([
      // From outside a namespace the port may be unreachable: there sshd's own log says it listens.
      options.netns
        ? waitForLog(() => output, `Server listening on ${host} port ${port}.`, Date.now() + 15_000)
        : waitForBanner(port, Date.now() + 15_000),
      exited.then(() => {
        throw new Error(`sshd exited at start:\n${output}`);
      }),
    ]);
  } catch (error) {
    child.kill('SIGKILL');
    await rm(dir, { recursive: true, force: true });
    throw error;
  }

  const kill = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL');
      await exited;
    }
  };
  return {
    host,
    port,
    hostKey,
    knownHostsLine: `[${host}]:${port} ${hostKey.type} ${hostKey.blob.toString('base64')}`,
    dir,
    log: () => output,
    kill,
    stop: async () => {
      await kill();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
