// The recovery VPN of a test gateway, driven through test/gateway/gateway (vpn-setup, vpn-exec,
// vpn-revoke): the shell command is the one implementation, this module only runs it and reads
// what it prints. A tunnel is a real openvpn client in a network namespace vpn-exec makes, whose
// only way to the gateway is the WAN's udp/1194 (QEMU's user network).
import { spawn } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { repoRoot, run, runOk, type RunOptions, type RunResult } from './exec.js';
import { gatewayCommand, type GatewayState } from './gateway.js';

/** What `gateway vpn-setup` / `up --vpn` add to the state. */
export interface VpnState extends GatewayState {
  vpnPort: number;
  vpnClientProfile: string;
  vpnGatewayAddress: string;
  vpnSetupMs: number;
}

/** The gateway's fixed tunnel address (device-scripts/pki/vpn-server.conf). */
export const VPN_GATEWAY_ADDRESS = '10.8.0.1';

export async function vpnSetup(name: string): Promise<VpnState> {
  const r = await runOk('bash', [gatewayCommand, 'vpn-setup', '--name', name, '--json'], {
    timeoutMs: 300_000,
  });
  return JSON.parse(r.stdout) as VpnState;
}

/** `gateway vpn-exec`: COMMAND in a fresh tunnel namespace (exit 3: the tunnel did not come up). */
export function vpnExec(
  name: string,
  command: string[],
  client: { client?: string; profile?: string } = {},
  options: RunOptions = {},
): Promise<RunResult> {
  const args = [gatewayCommand, 'vpn-exec', '--name', name];
  if (client.client !== undefined) args.push('--client', client.client);
  if (client.profile !== undefined) args.push('--profile', client.profile);
  return run('bash', [...args, '--', ...command], { timeoutMs: 300_000, ...options });
}

/** The test gateways' VPN CA (test/gateway/gateway GATEWAY_VPN_PKI), made by `vpn-setup`. */
const vpnPki = join(process.env.RK64_CACHE ?? '/var/cache/rk64', 'gateway', 'vpn-pki');

/**
 * A client profile for `user` from the test gateways' VPN CA (make-vpn client, under the CA's lock
 * like the gateway command): kept by the test, as a NOC laptop keeps its profile after a revocation.
 */
export async function vpnClientProfile(user: string, port: number, out: string): Promise<void> {
  await runOk(
    'flock',
    [
      `${vpnPki}.lock`,
      'bash',
      join(repoRoot, 'device-scripts/pki/make-vpn'),
      'client',
      '--dir',
      vpnPki,
      '--user',
      user,
      '--remote',
      '127.0.0.1',
      '--port',
      String(port),
      '--out',
      out,
    ],
    { timeoutMs: 120_000 },
  );
}

export function vpnRevoke(name: string, client: string): Promise<RunResult> {
  return runOk('bash', [gatewayCommand, 'vpn-revoke', '--name', name, '--client', client], {
    timeoutMs: 300_000,
  });
}

/** A tunnel held open by one vpn-exec (COMMAND: sleep) for many commands in its namespace. */
export interface Tunnel {
  netns: string;
  /** From starting vpn-exec to "tunnel up" (the openvpn client's Initialization Sequence Completed). */
  upMs: number;
  exec(command: string[], options?: RunOptions): Promise<RunResult>;
  /** Ends vpn-exec (SIGTERM): the client stops and the namespace is removed. */
  close(): Promise<void>;
}

export function openTunnel(name: string, client?: string): Promise<Tunnel> {
  const started = Date.now();
  const args = [gatewayCommand, 'vpn-exec', '--name', name];
  if (client !== undefined) args.push('--client', client);
  const child = spawn('bash', [...args, '--', 'sleep', '3600'], {
    detached: true,
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return new Promise<Tunnel>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGTERM');
      reject(new Error(`vpn-exec: no tunnel within 300 s:\n${stderr}`));
    }, 300_000);
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`vpn-exec ended (exit ${code}) before the tunnel was up:\n${stderr}`));
    });
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
      const m = /tunnel up in namespace (\S+)/.exec(stderr);
      if (!m?.[1]) return;
      clearTimeout(timer);
      const netns = m[1];
      resolve({
        netns,
        upMs: Date.now() - started,
        exec: (command, options = {}) =>
          run('ip', ['netns', 'exec', netns, ...command], { timeoutMs: 120_000, ...options }),
        close: async () => {
          // The whole group: bash runs its EXIT trap only once its foreground child (sleep) ended.
          if (child.pid !== undefined) process.kill(-child.pid, 'SIGTERM');
          await exited;
        },
      });
    });
  });
}

/** known_hosts naming the gateway's tunnel address, from the host keys the serial console printed. */
export async function tunnelKnownHosts(state: GatewayState): Promise<string> {
  const keys = await readFile(join(state.disk, '..', 'host_keys'), 'utf8');
  const file = join(state.disk, '..', 'vpn', 'known_hosts');
  const lines = keys
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => `${VPN_GATEWAY_ADDRESS} ${l}`);
  await writeFile(file, `${lines.join('\n')}\n`);
  return file;
}

/** One rk64 CLI run inside the tunnel namespace. */
export function rk64In(tunnel: Tunnel, args: string[], repoRoot: string): Promise<RunResult> {
  return tunnel.exec([process.execPath, join(repoRoot, 'bin/rk64.js'), ...args], { timeoutMs: 300_000 });
}
