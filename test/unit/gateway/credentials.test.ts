// The credential scan the gateway image test relies on: it must name every kind of leak it looks
// for (so a clean result means something) and stay quiet on a clean root.
import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { scanForCredentials, shadowFindings } from '../../lib/gateway-credentials.js';

let root: string;

beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'rk64-cred-'));
  await mkdir(join(root, 'etc/ssh'), { recursive: true });
  await writeFile(join(root, 'etc/shadow'), 'root:*:20000:0:99999:7:::\nsshd:!:20000::::::\n');
  await writeFile(
    join(root, 'etc/ssh/sshd_config'),
    '# mentions -----BEGIN OPENSSH PRIVATE KEY----- in a comment only\n',
  );
});

afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('scanForCredentials', () => {
  it('finds nothing in a clean root (locked accounts, key headers without key material)', async () => {
    expect(await scanForCredentials(root)).toEqual([]);
  });

  it('names real private keys, host keys, authorized_keys and password hashes', async () => {
    const keyFile = join(root, 'etc/ssh/ssh_host_ed25519_key');
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', keyFile]);
    await mkdir(join(root, 'root/.ssh'), { recursive: true });
    await writeFile(join(root, 'root/.ssh/authorized_keys'), await readFile(`${keyFile}.pub`));
    await mkdir(join(root, 'etc/ssl/private'), { recursive: true });
    execFileSync('openssl', [
      'genpkey',
      '-algorithm',
      'ed25519',
      '-out',
      join(root, 'etc/ssl/private/site.pem'),
    ]);
    await writeFile(
      join(root, 'etc/shadow'),
      'root:$6$salt$abcdefghijklmnop:20000:0:99999:7:::\nop::20000::::::\n',
    );
    expect(await scanForCredentials(root)).toEqual([
      '/etc/shadow: user op has an empty password (login without one)',
      '/etc/shadow: user root has a password hash',
      '/etc/ssh/ssh_host_ed25519_key: OPENSSH private key',
      '/etc/ssh/ssh_host_ed25519_key: SSH host private key',
      '/etc/ssl/private/site.pem: private key',
      '/root/.ssh/authorized_keys: authorized keys file',
    ]);
  });

  it('treats *, ! and !* as locked', () => {
    expect(shadowFindings('a:*:1::::::\nb:!:1::::::\nc:!*:1::::::\nd:!$6$x$y:1::::::\n')).toEqual([]);
  });
});
