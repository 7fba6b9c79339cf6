// first-boot with real ssh-keygen and a real rauc service: keys and OpenVPN files imported from the
// provisioning input and validated, the input erased, host keys made, the slot confirmed, and the
// sentinel written last (and not at all while nobody has a key).
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

// What provision/flash puts on boot-a (provisioning/), here as a plain directory.
const provisionDir = () => join(data, 'provisioning');
const firstBoot = (extra: NodeJS.ProcessEnv = {}) =>
  run(rootfsBin('first-boot'), [], {
    env: { ...rauc.env, RK64_PROVISION_DIR: provisionDir(), ...extra },
    timeoutMs: 60_000,
  });
const imported = (user: string) => join(data, 'config', 'ssh-authorized-keys', user);
const sentinel = () => join(data, '.completed_first_boot');

beforeAll(async () => {
  rauc = await startRaucEnv();
  data = join(rauc.dir, 'data');
  keys.admin = await newKey('admin', 'ed25519');
  keys.adminOld = await newKey('admin-old', 'ed25519');
  keys.ops = await newKey('ops', 'rsa');
  writeProvisioning();
  // A key imported earlier (e.g. by a previous provisioning run) must survive.
  mkdirSync(join(data, 'config', 'ssh-authorized-keys'), { recursive: true });
  writeFileSync(imported('admin'), `${keys.adminOld}\n`);
});

function writeProvisioning(): void {
  const provision = join(provisionDir(), 'ssh-authorized-keys');
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
  writeFileSync(join(provision, 'ops'), keys.ops ?? ''); // no final newline
  writeFileSync(join(provision, 'ghost'), 'ssh-rsa AAAAB3Nza garbage\n');
  writeFileSync(join(provision, 'Bad.Name'), `${keys.admin}\n`);
  writeFileSync(join(provision, 'root'), `${keys.ops}\n`);
}

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
    // the keys were imported before the failure, and their provisioning copy erased
    expect(existsSync(provisionDir())).toBe(false);
    expect(readFileSync(imported('ops'), 'utf8')).toBe(`${keys.ops}\n`);
  });

  it('imports good keys, rejects malformed ones by line, keeps earlier keys, erases the input, confirms the slot', async () => {
    writeProvisioning();
    const r = await firstBoot();
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(
      /rejected .*\/provisioning\/ssh-authorized-keys\/admin line 3: not a valid SSH public key/,
    );
    expect(r.stderr).toMatch(
      /rejected .*\/provisioning\/ssh-authorized-keys\/admin line 5: not a valid SSH public key/,
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
    expect(existsSync(provisionDir())).toBe(false);
    expect(r.stderr).toContain(`erased the provisioning copy ${provisionDir()}`);
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
      // This host has no operator account: the key imported for root stands in for it, so the
      // drop-in's AllowUsers and PermitRootLogin are widened to root here (they are checked on the
      // test gateway: sshd -T and a refused root login in test/vm/gateway/gateway.test.ts).
      const dropIn = readFileSync(`${deviceScripts}/ssh/sshd_config.d/rk64.conf`, 'utf8')
        .replaceAll(' /data/', ` ${base}/data/`)
        .replace(/^AllowUsers operator$/m, 'AllowUsers root')
        .replace(/^PermitRootLogin no$/m, 'PermitRootLogin prohibit-password');
      expect(dropIn).toMatch(/^AllowUsers root$/m);
      expect(dropIn).toMatch(/^PermitRootLogin prohibit-password$/m);
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
    mkdirSync(join(provisionDir(), 'ssh-authorized-keys'), { recursive: true });
    writeFileSync(join(provisionDir(), 'ssh-authorized-keys', 'late'), `${keys.ops}\n`);
    const before = readFileSync(sentinel(), 'utf8');
    const r = await firstBoot();
    expect(r.code).toBe(0);
    expect(r.stderr).toContain('first boot already completed');
    expect(existsSync(join(data, 'ssh', 'ssh_host_ecdsa_key'))).toBe(false);
    expect(existsSync(imported('late'))).toBe(false);
    expect(readFileSync(sentinel(), 'utf8')).toBe(before);
  });
  it('imports the OpenVPN files as root-only 0600, all of them or none', async () => {
    const conf = join(rauc.dir, 'openvpn-config');
    const input = join(rauc.dir, 'openvpn-input');
    const write = (files: Record<string, string>) => {
      rmSync(input, { recursive: true, force: true });
      mkdirSync(join(input, 'openvpn'), { recursive: true });
      for (const [name, text] of Object.entries(files)) writeFileSync(join(input, 'openvpn', name), text);
    };
    const env = {
      RK64_PROVISION_DIR: input,
      RK64_CONFIG_DIR: conf,
      RK64_DATA: join(rauc.dir, 'openvpn-data'),
      RK64_SSH_DIR: join(data, 'ssh'),
    };
    mkdirSync(join(conf, 'ssh-authorized-keys'), { recursive: true });
    writeFileSync(join(conf, 'ssh-authorized-keys', 'operator'), `${keys.ops}\n`);
    // one file outside the allow-list: nothing is written
    write({ 'ca.crt': 'CA\n', 'server.key': 'KEY\n', 'evil.sh': 'x\n' });
    const refused = await firstBoot(env);
    expect(refused.code, refused.stderr).toBe(0);
    expect(refused.stderr).toMatch(/rejected .*evil\.sh: not one of ca\.crt/);
    expect(refused.stderr).toMatch(/OpenVPN files in .* NOT imported \(nothing written\)/);
    expect(existsSync(join(conf, 'openvpn'))).toBe(false);
    expect(existsSync(input)).toBe(false);
    // too large: nothing is written either
    rmSync(join(rauc.dir, 'openvpn-data'), { recursive: true, force: true });
    write({ 'ca.crt': 'x'.repeat(65537) });
    const large = await firstBoot(env);
    expect(large.stderr).toMatch(/rejected .*ca\.crt: larger than 65536 bytes/);
    expect(existsSync(join(conf, 'openvpn'))).toBe(false);
    rmSync(join(rauc.dir, 'openvpn-data'), { recursive: true, force: true });
    write({ 'ca.crt': 'CA\n', 'server.key': 'KEY\n', 'server.conf': 'dev tun\n' });
    const ok = await firstBoot(env);
    expect(ok.code, ok.stderr).toBe(0);
    expect(readdirSync(join(conf, 'openvpn')).sort()).toEqual(['ca.crt', 'server.conf', 'server.key']);
    expect(statSync(join(conf, 'openvpn')).mode & 0o777).toBe(0o700);
    for (const name of ['ca.crt', 'server.conf', 'server.key']) {
      const info = statSync(join(conf, 'openvpn', name));
      expect(info.mode & 0o777).toBe(0o600);
      expect(info.uid).toBe(0);
    }
    expect(readFileSync(join(conf, 'openvpn', 'server.key'), 'utf8')).toBe('KEY\n');
    expect(existsSync(input)).toBe(false);
  });

  it('with no key for anyone: warns loudly (how to get in: break-glass), writes no sentinel, and a later run with keys completes', async () => {
    const conf = join(rauc.dir, 'nokey-config');
    const dataDir = join(rauc.dir, 'nokey-data');
    const input = join(rauc.dir, 'nokey-input');
    const env = {
      RK64_PROVISION_DIR: input,
      RK64_CONFIG_DIR: conf,
      RK64_DATA: dataDir,
      RK64_SSH_DIR: join(data, 'ssh'),
    };
    mkdirSync(join(input, 'ssh-authorized-keys'), { recursive: true });
    writeFileSync(join(input, 'ssh-authorized-keys', 'operator'), 'not a key\n');
    const none = await firstBoot(env);
    expect(none.code, none.stderr).toBe(0);
    expect(none.stderr).toMatch(/NO SSH KEY: nobody can log in over SSH/);
    expect(none.stderr).toMatch(/setenv _RUT_OH_ 1; boot/);
    expect(existsSync(join(dataDir, '.completed_first_boot'))).toBe(false);
    mkdirSync(join(input, 'ssh-authorized-keys'), { recursive: true });
    writeFileSync(join(input, 'ssh-authorized-keys', 'operator'), `${keys.admin}\n`);
    const later = await firstBoot(env);
    expect(later.code, later.stderr).toBe(0);
    expect(later.stderr).not.toMatch(/NO SSH KEY/);
    expect(readFileSync(join(conf, 'ssh-authorized-keys', 'operator'), 'utf8')).toBe(`${keys.admin}\n`);
    expect(existsSync(join(dataDir, '.completed_first_boot'))).toBe(true);
  });
});
