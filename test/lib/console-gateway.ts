// A loopback "gateway" for the console's integration tests: a real OpenSSH sshd (test/lib/sshd.ts)
// whose sessions find the real device scripts (rk64-status, rk64-action) on PATH, with every
// RK64_* path in a temporary directory and the real nftables ruleset loaded into a network
// namespace this helper creates (so `ssh-wan on` changes a real firewall, never the host's).
import { execFile, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import type { SshTarget } from '../../src/core/target.js';
import { connectSsh, type SshOptions } from '../../src/core/transport/ssh.js';
import { repoRoot, type RunResult } from './exec.js';
import { makeKey, startSshd, type KeyPair, type Sshd } from './sshd.js';

export interface LoopbackGateway {
  sshd: Sshd;
  dir: string;
  key: KeyPair;
  knownHostsPath: string;
  target: SshTarget;
  sshOptions: SshOptions;
  /** Environment the gateway's sessions get (also for running device scripts directly). */
  env: Record<string, string>;
  /** `ssh://root@127.0.0.1:PORT` with the key and known_hosts for OpenSSH and the rk64 CLI. */
  url: string;
  /** Arguments that make OpenSSH's `ssh` reach this gateway like the console does. */
  opensshArgs: string[];
  /** Run a command in the gateway's network namespace (e.g. `nft list ruleset`). */
  inNetns(cmd: string, args: string[]): Promise<RunResult>;
  connect(): ReturnType<typeof connectSsh>;
  stop(): Promise<void>;
}

export interface LoopbackGatewayOptions {
  /** Extra session environment, e.g. a RAUC test environment's bus address and PATH. */
  env?: Record<string, string>;
  /** Directories put in front of PATH in sessions. */
  pathPrefix?: string[];
  /** Client key to authorize (many gateways, one operator key); generated otherwise. */
  key?: KeyPair;
}

const deviceScripts = join(repoRoot, 'device-scripts');

/** Runs a program without stdin (test/lib/exec.ts writes stdin, which EPIPEs on quick exits). */
export function runNoInput(cmd: string, args: string[], env?: NodeJS.ProcessEnv): Promise<RunResult> {
  return new Promise((resolve) => {
    execFile(cmd, args, { env: env ?? process.env, maxBuffer: 64 << 20 }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
      resolve({ code, signal: null, stdout, stderr });
    });
  });
}

async function runNoInputOk(cmd: string, args: string[], env?: NodeJS.ProcessEnv): Promise<RunResult> {
  const r = await runNoInput(cmd, args, env);
  if (r.code !== 0) throw new Error(`${cmd} ${args.join(' ')} exited ${r.code}: ${r.stderr}`);
  return r;
}

/** A process holding a fresh network namespace; its /proc entry names the namespace. */
function holdNetns(): Promise<ChildProcess> {
  const holder = spawn('unshare', ['--net', 'sleep', 'infinity'], { stdio: 'ignore' });
  return new Promise((resolve, reject) => {
    holder.once('error', reject);
    holder.once('spawn', () => setTimeout(() => resolve(holder), 50));
  });
}

export async function startLoopbackGateway(options: LoopbackGatewayOptions = {}): Promise<LoopbackGateway> {
  const dir = mkdtempSync(join(tmpdir(), 'rk64-console-gw-'));
  const holder = await holdNetns();
  // The namespace bound to a file: the gateway's sshd has a /proc of its own pid namespace, where
  // /proc/<holder pid> names nothing (or another process).
  const netnsPath = join(dir, 'netns');
  const release = (): void => {
    holder.kill('SIGKILL');
    spawnSync('umount', [netnsPath]);
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    writeFileSync(netnsPath, '');
    await runNoInputOk('mount', ['--bind', `/proc/${holder.pid}/ns/net`, netnsPath]);
    for (const sub of ['bin', 'data/config', 'run', 'etc/rk64', 'client', 'home'])
      mkdirSync(join(dir, sub), { recursive: true });
    copyFileSync(join(deviceScripts, 'firewall/rk64.nft'), join(dir, 'etc/rk64/rk64.nft'));
    // nft (rk64-status, firewall-apply) and ip (rk64-status) see this gateway's namespace only.
    const nft = join(dir, 'bin', 'nft');
    writeFileSync(nft, `#!/bin/sh\nexec nsenter --net=${netnsPath} /usr/sbin/nft "$@"\n`);
    chmodSync(nft, 0o755);
    const ip = join(dir, 'bin', 'ip');
    writeFileSync(ip, `#!/bin/sh\nexec nsenter --net=${netnsPath} /usr/sbin/ip "$@"\n`);
    chmodSync(ip, 0o755);
    // The gateway's WAN and LAN ports with the contract's names and addresses: veth pairs
    // (the host kernel has no dummy links) whose far ends stay in the same namespace.
    for (const args of [
      ['link', 'add', 'eth0', 'type', 'veth', 'peer', 'name', 'wan-peer'],
      ['link', 'add', 'eth1', 'type', 'veth', 'peer', 'name', 'lan-peer'],
      ['addr', 'add', '10.0.2.15/24', 'dev', 'eth0'],
      ['addr', 'add', '172.20.30.1/24', 'dev', 'eth1'],
      ['link', 'set', 'wan-peer', 'up'],
      ['link', 'set', 'lan-peer', 'up'],
      ['link', 'set', 'eth0', 'up'],
      ['link', 'set', 'eth1', 'up'],
    ]) {
      await runNoInputOk('nsenter', [`--net=${netnsPath}`, '/usr/sbin/ip', ...args]);
    }
    // The shipped WAN .network, where the gateway has it: rk64-status and rk64-action read the
    // WAN interface's name from it.
    mkdirSync(join(dir, 'etc/systemd/network'), { recursive: true });
    copyFileSync(
      join(deviceScripts, 'network/10-rk64-wan.network'),
      join(dir, 'etc/systemd/network/10-rk64-wan.network'),
    );
    // One DHCP client, in dnsmasq's lease file format (expiry epoch, MAC, IP, hostname, client id).
    const expiry = Math.floor(Date.now() / 1000) + 3600;
    writeFileSync(join(dir, 'dnsmasq.leases'), `${expiry} 02:00:00:aa:bb:01 172.20.30.101 plc-line1 *\n`);
    const path = [
      ...(options.pathPrefix ?? []),
      join(dir, 'bin'),
      join(deviceScripts, 'rootfs'),
      '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
    ].join(':');
    const env: Record<string, string> = {
      // Sessions must not run the test machine's root dotfiles (a shell rc that blocks on a
      // lock would stall every command), as a gateway's root has none of them.
      HOME: join(dir, 'home'),
      PATH: path,
      RK64_LIB: join(deviceScripts, 'lib'),
      RK64_DATA: join(dir, 'data'),
      RK64_CONFIG_DIR: join(dir, 'data/config'),
      RK64_RUN_DIR: join(dir, 'run'),
      RK64_SYSCONFDIR: join(dir, 'etc'),
      RK64_FIREWALL_APPLY: join(deviceScripts, 'rootfs/firewall-apply'),
      RK64_LEASES_FILE: join(dir, 'dnsmasq.leases'),
      RK64_DETACH: 'setsid',
      NFT: nft,
      IP: ip,
      ...options.env,
    };
    for (const [name, value] of Object.entries(env)) {
      if (/\s|"/.test(value))
        throw new Error(`session variable ${name} must not contain spaces or quotes: ${value}`);
    }
    // Load the shipped ruleset as the gateway does at boot.
    await runNoInputOk(join(deviceScripts, 'rootfs/firewall-apply'), [], { ...process.env, ...env });

    const key = options.key ?? (await makeKey(join(dir, 'client'), 'id_ed25519'));
    // One SetEnv line: sshd keeps the first SetEnv directive it reads.
    const setEnv = `SetEnv ${Object.entries(env)
      .map(([k, v]) => `${k}=${v}`)
      .join(' ')}`;
    const sshd = await startSshd({ authorizedKeys: [key.publicLine], extraConfig: [setEnv] });
    const knownHostsPath = join(dir, 'client', 'known_hosts');
    writeFileSync(knownHostsPath, `${sshd.knownHostsLine}\n`);
    const target: SshTarget = {
      kind: 'ssh',
      name: 'loopback-gw',
      host: '127.0.0.1',
      port: sshd.port,
      user: 'root',
      identityFiles: [key.path],
    };
    const sshOptions: SshOptions = { knownHostsPath, identityFiles: [key.path], agentSocket: '' };
    return {
      sshd,
      dir,
      key,
      knownHostsPath,
      target,
      sshOptions,
      env,
      url: `ssh://root@127.0.0.1:${sshd.port}`,
      opensshArgs: [
        '-i',
        key.path,
        '-o',
        `UserKnownHostsFile=${knownHostsPath}`,
        '-o',
        'StrictHostKeyChecking=yes',
        '-o',
        'BatchMode=yes',
        '-o',
        'IdentitiesOnly=yes',
        '-p',
        String(sshd.port),
        'root@127.0.0.1',
      ],
      inNetns: (cmd, args) => runNoInput('nsenter', [`--net=${netnsPath}`, cmd, ...args]),
      connect: () => connectSsh(target, sshOptions),
      stop: async () => {
        await sshd.stop();
        release();
      },
    };
  } catch (error) {
    release();
    throw error;
  }
}
