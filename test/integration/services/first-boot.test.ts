// first-boot with real ssh-keygen and a real rauc service: keys imported and validated, host keys
// made, the slot confirmed, and the sentinel written last.
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RaucEnv } from '../../lib/rauc-env.js';
import { startRaucEnv } from '../../lib/rauc-env.js';
import { startDaemon, waitFor } from '../../lib/netns.js';
import { deviceScripts, rootfsBin } from '../../lib/services-paths.js';
import { run, runOk } from '../../lib/exec.js';

let rauc: RaucEnv;

async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  await new Promise((r) => server.close(r));
  return port;
}
let data = '';
const keys: Record<string, string> = {};

async function newKey(name: string, type: string): Promise<string> {
  const file = join(rauc.dir, `key-${name}`);
  await runOk('ssh-keygen', ['-q', '-t', type, '-N', '', '-C', `${name}@operator`, '-f', file]);
  return readFileSync(`${file}.pub`, 'utf8').trim();
}

const firstBoot = (extra: NodeJS.ProcessEnv = {}) =>
  run(rootfsBin('first-boot'), [], { env: { ...rauc.env, ...extra }, timeoutMs: 60_000 });
const imported = (user: string) => join(data, 'config', 'ssh-authorized-keys', user);
const sentinel = () => join(data, '.completed_first_boot');

beforeAll(async () => {
  rauc = await startRaucEnv();
  data = join(rauc.dir, 'data');
  keys.admin = await newKey('admin', 'ed25519');
  keys.adminOld = await newKey('admin-old', 'ed25519');
  keys.ops = await newKey('ops', 'rsa');
  const provision = join(data, 'provisioning', 'authorized_keys');
  mkdirSync(provision, { recursive: true });
  writeFileSync(
    join(provision, 'admin'),
    [
      '# operator keys for admin',
      keys.admin,
      'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIbroken admin@typo',
      '',
      'not a key at all',
    ].join('\n') + '\n',
  );
  writeFileSync(join(provision, 'ops'), keys.ops); // no final newline
  writeFileSync(join(provision, 'ghost'), 'ssh-rsa AAAAB3Nza garbage\n');
  writeFileSync(join(provision, 'Bad.Name'), `${keys.admin}\n`);
  writeFileSync(join(provision, 'root'), `${keys.ops}\n`);
  // A key imported earlier (e.g. by a previous provisioning run) must survive.
  mkdirSync(join(data, 'config', 'ssh-authorized-keys'), { recursive: true });
  writeFileSync(imported('admin'), `${keys.adminOld}\n`);
});

afterAll(async () => {
  await rauc?.stop();
});

describe('first-boot', () => {
  it('writes no sentinel when a step fails (here: rauc is unreachable), so it runs again', async () => {
    const r = await firstBoot({ DBUS_SYSTEM_BUS_ADDRESS: `unix:path=${join(rauc.dir, 'no-bus')}` });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('cannot confirm the booted slot; first boot will run again at the next boot');
    expect(existsSync(sentinel())).toBe(false);
    expect((await rauc.fwPrintenv()).BOOT_A_LEFT).toBe('2');
  });

  it('imports good keys, rejects malformed ones by line, keeps earlier keys, confirms the slot', async () => {
    const r = await firstBoot();
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(
      /rejected .*\/provisioning\/authorized_keys\/admin line 3: not a valid SSH public key/,
    );
    expect(r.stderr).toMatch(
      /rejected .*\/provisioning\/authorized_keys\/admin line 5: not a valid SSH public key/,
    );
    expect(r.stderr).toMatch(/rejected .*Bad\.Name: 'Bad\.Name' is not a valid user name/);
    expect(r.stderr).toContain('user ghost: no valid key');
    expect(readFileSync(imported('admin'), 'utf8')).toBe(`${keys.adminOld}\n${keys.admin}\n`);
    expect(readFileSync(imported('ops'), 'utf8')).toBe(`${keys.ops}\n`);
    expect(existsSync(imported('ghost'))).toBe(false);
    expect(readdirSync(join(data, 'config', 'ssh-authorized-keys')).sort()).toEqual(['admin', 'ops', 'root']);
    // Every imported key is one sshd accepts.
    await runOk('ssh-keygen', ['-l', '-f', imported('admin')]);
    expect(statSync(imported('admin')).mode & 0o777).toBe(0o644);
  });

  it('creates the SSH host keys on /data', () => {
    for (const type of ['ed25519', 'ecdsa', 'rsa']) {
      const key = join(data, 'ssh', `ssh_host_${type}_key`);
      expect(statSync(key).mode & 0o777).toBe(0o600);
      expect(readFileSync(`${key}.pub`, 'utf8')).toMatch(/^(ssh-ed25519|ecdsa-sha2-nistp256|ssh-rsa) /);
    }
  });

  it('confirms the booted slot and records the commit', async () => {
    expect((await rauc.fwPrintenv()).BOOT_A_LEFT).toBe('3');
    expect(readFileSync(join(data, 'rk64', 'committed'), 'utf8')).toBe('A factory\n');
  });

  it('writes the sentinel last', () => {
    const sentinelTime = statSync(sentinel()).mtimeMs;
    const others = [
      imported('admin'),
      imported('ops'),
      join(data, 'ssh', 'ssh_host_rsa_key'),
      join(data, 'rk64', 'committed'),
    ].map((f) => statSync(f).mtimeMs);
    for (const t of others) expect(sentinelTime).toBeGreaterThanOrEqual(t);
  });

  it('sshd with the shipped drop-in accepts the imported key, offers no password login, uses the /data host key', async () => {
    // sshd refuses key files below a world-writable directory such as /tmp, so first-boot's output
    // is copied (modes kept) under a root-only directory; the drop-in's /data paths point there.
    const base = mkdtempSync('/var/cache/rk64/services/sshd-');
    try {
      cpSync(data, join(base, 'data'), { recursive: true });
      const dropIn = readFileSync(`${deviceScripts}/ssh/sshd_config.d/rk64.conf`, 'utf8').replaceAll(
        ' /data/',
        ` ${base}/data/`,
      );
      writeFileSync(join(base, 'rk64.conf'), dropIn);
      const port = await freePort();
      writeFileSync(
        join(base, 'sshd_config'),
        // internal-sftp: the login is proven without starting the account's shell (and its rc files).
        `Include ${base}/rk64.conf\nListenAddress 127.0.0.1\nPort ${port}\nPidFile ${base}/sshd.pid\nUsePAM no\nForceCommand internal-sftp\nSubsystem sftp internal-sftp\n`,
      );
      const sshd = startDaemon('sshd', 'unshare', [
        '-m',
        'sh',
        '-c',
        'mount -t tmpfs tmpfs /run && mkdir -p /run/sshd && exec /usr/sbin/sshd -D -e -f "$0"',
        join(base, 'sshd_config'),
      ]);
      try {
        writeFileSync(join(base, 'batch'), 'pwd\n');
        const sftp = (extra: string[]) =>
          run('sftp', [
            '-P',
            String(port),
            '-b',
            join(base, 'batch'),
            '-o',
            'StrictHostKeyChecking=no',
            '-o',
            `UserKnownHostsFile=${join(base, 'known_hosts')}`,
            '-o',
            'HostKeyAlgorithms=ssh-ed25519',
            ...extra,
            'root@127.0.0.1',
          ]);
        const withKey = ['-i', join(rauc.dir, 'key-ops'), '-o', 'IdentitiesOnly=yes'];
        expect(await waitFor(async () => (await sftp(withKey)).code === 0, 15_000, 300), sshd.output()).toBe(
          true,
        );
        const ok = await sftp(withKey);
        expect(ok.stdout).toContain('Remote working directory');
        const hostKey =
          readFileSync(join(data, 'ssh', 'ssh_host_ed25519_key.pub'), 'utf8').split(' ')[1] ?? '-';
        expect(readFileSync(join(base, 'known_hosts'), 'utf8')).toContain(hostKey);
        const wrongKey = await sftp(['-i', join(rauc.dir, 'key-admin'), '-o', 'IdentitiesOnly=yes']);
        expect(wrongKey.code).not.toBe(0);
        const password = await sftp([
          '-o',
          'PreferredAuthentications=password,keyboard-interactive',
          '-o',
          'PubkeyAuthentication=no',
        ]);
        expect(password.code).not.toBe(0);
        // The server offers public-key authentication only.
        expect(password.stderr).toMatch(/Permission denied \(publickey\)/);
        expect(password.stderr).toMatch(/Permission denied \(publickey\)/);
      } finally {
        await sshd.stop();
      }
    } finally {
      rmSync(base, { recursive: true, force: true });
    }
  });

  it('a second run is skipped and changes nothing', async () => {
    rmSync(join(data, 'ssh', 'ssh_host_ecdsa_key'));
    writeFileSync(join(data, 'provisioning', 'authorized_keys', 'late'), `${keys.ops}\n`);
    const before = readFileSync(sentinel(), 'utf8');
    const r = await firstBoot();
    expect(r.code).toBe(0);
    expect(r.stderr).toContain('first boot already completed');
    expect(existsSync(join(data, 'ssh', 'ssh_host_ecdsa_key'))).toBe(false);
    expect(existsSync(imported('late'))).toBe(false);
    expect(readFileSync(sentinel(), 'utf8')).toBe(before);
  });
});
