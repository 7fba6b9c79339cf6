// device-scripts/install: the one install step the flake and the test gateway share. Checks the
// folder-to-path mapping of device-scripts/README.md, unit substitution, that installed programs
// find their library, that a file added to a folder is installed without editing the script, and
// that systemd accepts the installed units.
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
  chmodSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deviceScripts } from '../../lib/services-paths.js';
import { run, runOk } from '../../lib/exec.js';

let dir = '';

function filesUnder(root: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else out.push(relative(root, p));
    }
  };
  walk(root);
  return out.sort();
}

const listed = (folder: string) =>
  existsSync(join(deviceScripts, folder))
    ? readdirSync(join(deviceScripts, folder)).filter((f) => !f.endsWith('.md'))
    : [];

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'rk64-svc-install-'));
});

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('install (test gateway layout: P=/usr, E=/etc)', () => {
  let root = '';
  beforeAll(async () => {
    root = join(dir, 'gateway-root');
    await runOk(`${deviceScripts}/install`, ['--destdir', root, '--prefix', '/usr', '--sysconfdir', '/etc']);
  });

  it('the sudoers drop-in names the installed programs by absolute path, root-only, and visudo accepts it', async () => {
    const file = join(root, 'etc/sudoers.d/rk64-operator');
    const text = readFileSync(file, 'utf8');
    expect(text).toMatch(/^Cmnd_Alias RK64_CONSOLE = \/usr\/bin\/rk64-status, \/usr\/bin\/rk64-action$/m);
    expect(text).toMatch(/^operator ALL = \(root\) NOPASSWD: RK64_CONSOLE$/m);
    expect(text).not.toMatch(/@bindir@/);
    expect(statSync(file).mode & 0o777).toBe(0o440);
    const check = await run('visudo', ['-c', '-f', file]);
    expect(check.code, check.stderr + check.stdout).toBe(0);
  });

  it('maps every folder as device-scripts/README.md says', () => {
    const files = filesUnder(root);
    const expected = new Set<string>();
    for (const f of listed('rootfs')) {
      expected.add(['rk64-status', 'rk64-action'].includes(f) ? `usr/bin/${f}` : `usr/lib/rk64/${f}`);
    }
    for (const f of listed('lib')) expected.add(`usr/lib/rk64/lib/${f}`);
    for (const f of listed('systemd')) {
      if (!f.endsWith('.d')) expected.add(`usr/lib/systemd/system/${f}`);
      else
        for (const c of readdirSync(join(deviceScripts, 'systemd', f)))
          for (const as of f === 'sshd.service.d' ? [f, 'ssh.service.d'] : [f])
            expected.add(`usr/lib/systemd/system/${as}/${c}`);
    }
    for (const f of listed('network')) expected.add(`etc/systemd/network/${f}`);
    for (const f of [...listed('lan'), ...listed('firewall')]) expected.add(`etc/rk64/${f}`);
    expected.add('etc/rauc/system.conf');
    for (const f of listed('rauc/dbus')) expected.add(`etc/dbus-1/system.d/${f}`);
    for (const f of listed('sysctl.d')) expected.add(`etc/sysctl.d/${f}`);
    for (const f of listed('ssh/sshd_config.d')) expected.add(`etc/ssh/sshd_config.d/${f}`);
    for (const f of listed('sudoers.d')) expected.add(`etc/sudoers.d/${f}`);
    for (const f of listed('sysusers.d')) expected.add(`usr/lib/sysusers.d/${f}`);
    for (const f of listed('system.conf.d')) expected.add(`usr/lib/systemd/system.conf.d/${f}`);
    for (const f of listed('tmpfiles.d')) expected.add(`usr/lib/tmpfiles.d/${f}`);
    for (const f of listed('udev')) expected.add(`usr/lib/udev/rules.d/${f}`);
    for (const f of listed('containers')) expected.add(`etc/containers/${f}`);
    for (const f of ['fw_env.config', 'u-boot-initial-env']) {
      if (existsSync(join(deviceScripts, 'boot', f))) expected.add(`etc/${f}`);
    }
    expected.add('usr/lib/rk64/VERSION');
    for (const f of listed('repart').filter((f) => f.endsWith('.conf')))
      expected.add(`usr/lib/repart.d/${f}`);
    for (const f of listed('boot').filter((f) => /\.(service|timer|path|socket|target)$/.test(f))) {
      expected.add(`usr/lib/systemd/system/${f}`);
    }
    expect(files).toEqual([...expected].sort());
    // Build-time tools never reach the gateway.
    expect(files.some((f) => /build-bundle|make-dev-ca|make-squashfs|build-image/.test(f))).toBe(false);
  });

  it('substitutes @bindir@, @libexecdir@, @sysconfdir@ in units, drop-ins and RAUC’s system.conf', () => {
    for (const unit of filesUnder(join(root, 'usr/lib/systemd/system'))) {
      const text = readFileSync(join(root, 'usr/lib/systemd/system', unit), 'utf8');
      expect(text, unit).not.toMatch(/@[a-z]+@/);
    }
    // One drop-in serves both names of the SSH daemon's unit (NixOS sshd, Debian ssh).
    for (const unit of ['sshd.service.d', 'ssh.service.d', 'systemd-networkd.service.d']) {
      const dropin = readFileSync(join(root, 'usr/lib/systemd/system', unit, 'rk64-firewall.conf'), 'utf8');
      expect(dropin).toContain('ExecStartPre=+/usr/lib/rk64/firewall-apply --check');
      // Ordered after the firewall, with no dependency that restarts sshd or networkd with it or
      // runs a failing load again with each of their restarts (test/vm/gateway/gateway.test.ts
      // restarts it and boots with a load that fails).
      expect(dropin).toMatch(/^After=rk64-firewall\.service$/m);
      expect(dropin).not.toMatch(/^(Wants|Requires|Requisite|BindsTo|PartOf|Upholds)=/m);
    }
    expect(readFileSync(join(root, 'usr/lib/systemd/system/os-verification.service'), 'utf8')).toContain(
      'ExecStart=/usr/lib/rk64/os-verification',
    );
    // RAUC runs its handlers by absolute path: the installed programs, executable.
    const raucConf = readFileSync(join(root, 'etc/rauc/system.conf'), 'utf8');
    expect(raucConf).not.toMatch(/@[a-z]+@/);
    const handlers = [...raucConf.matchAll(/^(pre|post)-install=(.*)$/gm)].map((m) => m[2] ?? '');
    expect(handlers).toEqual(['/usr/lib/rk64/rauc-pre-install', '/usr/lib/rk64/rauc-post-install']);
    for (const handler of handlers) expect(statSync(join(root, handler)).mode & 0o777).toBe(0o755);
  });

  it('keeps programs executable and configuration read-only', () => {
    expect(statSync(join(root, 'usr/lib/rk64/os-upgrade')).mode & 0o777).toBe(0o755);
    expect(statSync(join(root, 'usr/bin/rk64-action')).mode & 0o777).toBe(0o755);
    expect(statSync(join(root, 'etc/rk64/rk64.nft')).mode & 0o777).toBe(0o644);
    expect(statSync(join(root, 'usr/lib/rk64/lib/common.sh')).mode & 0o777).toBe(0o644);
  });

  it('installed programs find their library (libexec and bin)', async () => {
    const env = { ...process.env, RK64_SYSCONFDIR: join(root, 'etc'), RK64_DATA: join(dir, 'data') };
    const printed = await runOk(join(root, 'usr/lib/rk64/firewall-apply'), ['--print'], { env });
    expect(printed.stdout).toContain('table inet rk64 {');
    const lastAction = await runOk(join(root, 'usr/bin/rk64-action'), ['last'], { env });
    expect(lastAction.stdout.trim()).toBe('null');
  });

  it('writes the device scripts version for rk64-status', () => {
    const pkg = JSON.parse(readFileSync(join(deviceScripts, '..', 'package.json'), 'utf8')) as {
      version: string;
    };
    expect(readFileSync(join(root, 'usr/lib/rk64/VERSION'), 'utf8')).toBe(`${pkg.version}\n`);
  });

  it('rejects bad arguments with exit 2', async () => {
    const r = await run(`${deviceScripts}/install`, ['--prefix', 'usr']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^install: error: /);
  });
});

describe('install (flake layout: P=$out, E=$out/etc)', () => {
  it('systemd accepts every installed unit (systemd-analyze verify)', async () => {
    const out = join(dir, 'out');
    await runOk(`${deviceScripts}/install`, ['--destdir', '', '--prefix', out, '--sysconfdir', `${out}/etc`]);
    const unitDir = join(out, 'lib/systemd/system');
    const units = readdirSync(unitDir)
      .filter((u) => !u.endsWith('.d'))
      .map((u) => join(unitDir, u));
    const r = await run('systemd-analyze', ['verify', ...units], {
      env: { ...process.env, SYSTEMD_LOG_LEVEL: 'notice' },
    });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toBe('');
  });
});

describe('install by convention', () => {
  it('installs files other teams add to the folders without editing the script', async () => {
    const copy = join(dir, 'copy');
    cpSync(deviceScripts, copy, { recursive: true });
    mkdirSync(join(copy, 'boot'), { recursive: true });
    mkdirSync(join(copy, 'repart'), { recursive: true });
    writeFileSync(join(copy, 'boot', 'fw_env.config'), '/dev/disk/by-partlabel/uboot-env 0x0 0x8000\n');
    writeFileSync(join(copy, 'boot', 'boot.cmd'), 'echo build-time only\n');
    writeFileSync(
      join(copy, 'boot', 'rk64-break-glass.service'),
      '[Service]\nExecStart=@libexecdir@/break-glass\n',
    );
    writeFileSync(join(copy, 'repart', '20-rootfs-b.conf'), '[Partition]\nLabel=rootfs-b\n');
    writeFileSync(join(copy, 'rootfs', 'break-glass'), '#!/usr/bin/env bash\n');
    chmodSync(join(copy, 'rootfs', 'break-glass'), 0o755);
    writeFileSync(join(copy, 'network', '40-extra.network'), '[Match]\nName=wlan0\n');
    const root = join(dir, 'copy-root');
    await runOk(join(copy, 'install'), ['--destdir', root, '--prefix', '/usr', '--sysconfdir', '/etc']);
    expect(readFileSync(join(root, 'etc/fw_env.config'), 'utf8')).toContain('uboot-env');
    expect(readFileSync(join(root, 'usr/lib/systemd/system/rk64-break-glass.service'), 'utf8')).toContain(
      'ExecStart=/usr/lib/rk64/break-glass',
    );
    expect(existsSync(join(root, 'usr/lib/repart.d/20-rootfs-b.conf'))).toBe(true);
    expect(statSync(join(root, 'usr/lib/rk64/break-glass')).mode & 0o777).toBe(0o755);
    expect(existsSync(join(root, 'etc/systemd/network/40-extra.network'))).toBe(true);
    expect(filesUnder(root).some((f) => f.endsWith('boot.cmd'))).toBe(false);
  });
});
