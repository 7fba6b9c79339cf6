// build-bundle and make-dev-ca: the bundle the flake, the test gateway and the tests all build.
import { existsSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { devPki } from '../../lib/rauc-env.js';
import { repoRoot } from '../../lib/exec.js';
import { deviceScripts } from '../../lib/services-paths.js';
import { run, runOk } from '../../lib/exec.js';

let dir = '';
let pki = '';
const buildBundle = `${deviceScripts}/image/build-bundle`;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'rk64-svc-bundle-'));
  pki = await devPki();
  writeFileSync(join(dir, 'boot.vfat'), randomBytes(128 << 10));
  writeFileSync(join(dir, 'rootfs.squashfs'), randomBytes(512 << 10));
});

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const args = (out: string, extra: string[] = []) => [
  '--boot-image',
  join(dir, 'boot.vfat'),
  '--rootfs-image',
  join(dir, 'rootfs.squashfs'),
  '--version',
  '2.3.4',
  '--cert',
  `${pki}/signing.cert.pem`,
  '--key',
  `${pki}/signing.key.pem`,
  '--keyring',
  `${pki}/ca.cert.pem`,
  '--output',
  out,
  ...extra,
];

/** rauc info with the gateway's rules (the signing certificate is codeSigning-only). */
async function raucInfo(bundle: string, keyring: string) {
  const conf = join(dir, `check-${randomBytes(3).toString('hex')}.conf`);
  writeFileSync(
    conf,
    `[system]\ncompatible=rock64\nbootloader=noop\n[keyring]\npath=${keyring}\ncheck-purpose=codesign\n`,
  );
  return run('rauc', ['info', `--conf=${conf}`, '--output-format=json', bundle]);
}

describe('make-dev-ca', () => {
  it('creates a CA and a codeSigning certificate with private keys only root can read', async () => {
    for (const f of ['ca.cert.pem', 'ca.key.pem', 'signing.cert.pem', 'signing.key.pem']) {
      expect(existsSync(join(pki, f))).toBe(true);
    }
    expect(statSync(join(pki, 'ca.key.pem')).mode & 0o077).toBe(0);
    expect(statSync(join(pki, 'signing.key.pem')).mode & 0o077).toBe(0);
    const text = await runOk('openssl', ['x509', '-in', join(pki, 'signing.cert.pem'), '-noout', '-text']);
    expect(text.stdout).toMatch(/Extended Key Usage: critical\s+Code Signing/);
    await runOk('openssl', ['verify', '-CAfile', join(pki, 'ca.cert.pem'), join(pki, 'signing.cert.pem')]);
  });

  it('refuses to overwrite an existing CA', async () => {
    const r = await run(`${deviceScripts}/pki/make-dev-ca`, ['--out', pki]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('already holds a CA');
  });

  it('keeps private keys out of git', async () => {
    const r = await run('git', ['check-ignore', '-q', 'flake/certs/signing.key.pem'], { cwd: repoRoot });
    expect(r.code).toBe(0);
  });
});

describe('build-bundle', () => {
  it('builds a verity bundle by default: compatible rock64, version, boot and rootfs images', async () => {
    const out = join(dir, 'verity.raucb');
    await runOk(buildBundle, args(out));
    const info = await raucInfo(out, `${pki}/ca.cert.pem`);
    expect(info.code, info.stderr).toBe(0);
    const manifest = JSON.parse(info.stdout) as {
      compatible: string;
      version: string;
      bundle?: { format?: string };
      images: Record<string, { filename: string; size: number }>[];
    };
    expect(manifest.compatible).toBe('rock64');
    expect(manifest.version).toBe('2.3.4');
    const images = Object.assign({}, ...manifest.images) as Record<
      string,
      { filename: string; size: number }
    >;
    expect(images.boot).toMatchObject({ filename: 'boot.vfat', size: 128 << 10 });
    expect(images.rootfs).toMatchObject({ filename: 'rootfs.img', size: 512 << 10 });
    expect(info.stdout + info.stderr).toMatch(/verity/);
  });

  it('builds a plain bundle on request', async () => {
    const out = join(dir, 'plain.raucb');
    await runOk(buildBundle, args(out, ['--format', 'plain']));
    const info = await raucInfo(out, `${pki}/ca.cert.pem`);
    expect(info.code, info.stderr).toBe(0);
    expect(info.stdout + info.stderr).toMatch(/plain/);
  });

  it('is rejected by a gateway that trusts another CA', async () => {
    const other = await devPki('other-ca');
    const info = await raucInfo(join(dir, 'plain.raucb'), `${other}/ca.cert.pem`);
    expect(info.code).not.toBe(0);
  });

  it('rejects bad input with one clear line', async () => {
    let r = await run(buildBundle, args(join(dir, 'x.raucb'), ['--format', 'zip']));
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--format must be verity or plain');
    r = await run(buildBundle, args(join(dir, 'plain.raucb')));
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('exists; remove it first');
    r = await run(buildBundle, ['--version', '1 2']);
    expect(r.code).toBe(2);
    r = await run(buildBundle, args(join(dir, 'y.raucb'), ['--keyring', join(dir, 'boot.vfat')]));
    expect(r.code).toBe(1);
    expect(existsSync(join(dir, 'y.raucb'))).toBe(false);
  });
});
