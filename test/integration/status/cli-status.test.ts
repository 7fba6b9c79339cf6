// `rk64 status` end to end: the built CLI, a real sshd on loopback whose sessions find the
// worktree's device-scripts/rootfs/rk64-status on PATH, and the user's ~/.ssh defaults
// (HOME points at a temp dir with id_ed25519 and known_hosts).
import { mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { validateStatus } from '../../../src/core/status/validate.js';
import { ensureBuilt, runCli } from '../../lib/cli.js';
import { repoRoot } from '../../lib/exec.js';
import type { KeyPair, Sshd } from '../../lib/sshd.js';
import { makeKey, startSshd } from '../../lib/sshd.js';

let home: string;
let sshd: Sshd;
let userKey: KeyPair;
let target: string;

const env = (): NodeJS.ProcessEnv => ({
  PATH: process.env.PATH,
  HOME: home,
  NO_COLOR: '1',
  XDG_CONFIG_HOME: join(home, '.config'),
});

beforeAll(async () => {
  await ensureBuilt();
  home = await mkdtemp(join(tmpdir(), 'rk64-cli-'));
  await mkdir(join(home, '.ssh'), { mode: 0o700 });
  userKey = await makeKey(join(home, '.ssh'), 'id_ed25519');
  const bin = join(home, 'gateway-bin');
  await mkdir(bin);
  await symlink(join(repoRoot, 'device-scripts/rootfs/rk64-status'), join(bin, 'rk64-status'));
  // The device's data dir, so firstBootCompleted has something real to read.
  await mkdir(join(home, 'data'));
  await writeFile(join(home, 'data', '.completed_first_boot'), '');
  sshd = await startSshd({
    authorizedKeys: [userKey.publicLine],
    setEnv: { PATH: `${bin}:/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin`, RK64_DATA: join(home, 'data') },
  });
  await writeFile(join(home, '.ssh', 'known_hosts'), `${sshd.knownHostsLine}\n`);
  target = `ssh://root@127.0.0.1:${sshd.port}`;
});

afterAll(async () => {
  await sshd?.stop();
  if (home) await rm(home, { recursive: true, force: true });
});

describe('rk64 status', () => {
  it('--json returns a document that validates against the schema', async () => {
    const result = await runCli(['status', '--json', target], { env: env() });
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const lines = result.stdout.trim().split('\n');
    expect(lines).toHaveLength(1);
    const line = JSON.parse(lines[0] ?? '') as { target: string; status: unknown };
    expect(line.target).toBe(target);
    const status = validateStatus(line.status);
    expect(status.schema).toBe('rk64.status/1');
    expect(status.firstBootCompleted).toBe(true);
    expect(status.links?.length).toBeGreaterThan(0);
    // this host has no configured rauc: null with a reason
    expect(status.rauc).toBeNull();
    expect(status.errors.some((e) => e.field === 'rauc')).toBe(true);
  });

  it('prints plain text without escape codes under NO_COLOR, and tui --batch / --json', async () => {
    const text = await runCli(['status', target], { env: env() });
    expect(text.code).toBe(0);
    expect(text.stdout).toContain(`${target}  (`);
    expect(text.stdout).toMatch(/^RAUC slots\n {2}unavailable: /m);
    expect(text.stdout).not.toContain('\x1b[');
    const batch = await runCli(['tui', '--batch', target], { env: env() });
    expect(batch.code).toBe(0);
    expect(batch.stdout).toContain('first boot completed');
    const json = await runCli(['tui', '--json', target], { env: env() });
    expect(validateStatus(JSON.parse(json.stdout)).firstBootCompleted).toBe(true);
    const noTty = await runCli(['tui', target], { env: env() });
    expect(noTty.code).toBe(2);
    expect(noTty.stderr).toBe('rk64: interactive mode needs a terminal; use --batch or --json\n');
  });

  it('several targets with one unreachable: exit 1 and both results', async () => {
    const dead = 'ssh://root@127.0.0.1:1';
    const result = await runCli(['status', '--json', dead, target], { env: env() });
    expect(result.code).toBe(1);
    const lines = result.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { target: string; error?: { kind: string } });
    expect(lines.map((l) => l.target)).toEqual([dead, target]);
    expect(lines[0]?.error?.kind).toBe('refused');
    expect(lines[1]).toHaveProperty('status');
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
    expect(result.stderr).toMatch(
      /^rk64: ssh:\/\/root@127\.0\.0\.1:1: .*connection refused; is sshd running/,
    );
    const none = await runCli(['status', dead], { env: env() });
    expect(none.code).toBe(3);
  });

  it('an unknown host key exits 4 until --accept-new-host-key records it; a wrong key exits 5', async () => {
    const kh = join(home, '.ssh', 'known_hosts');
    await writeFile(kh, '');
    const refused = await runCli(['status', target], { env: env() });
    expect(refused.code).toBe(4);
    expect(refused.stderr).toContain('--accept-new-host-key');
    const accepted = await runCli(['status', '--accept-new-host-key', target], { env: env() });
    expect(accepted.code).toBe(0);
    expect(await readFile(kh, 'utf8')).toBe(`${sshd.knownHostsLine}\n`);
    const wrong = await makeKey(home, 'wrong');
    const auth = await runCli(['status', '--identity', wrong.path, target], { env: env() });
    expect(auth.code).toBe(5);
  });

  it('resolves a named profile from the XDG config file, and reports a bad one by field', async () => {
    await mkdir(join(home, '.config', 'rk64'), { recursive: true });
    const config = join(home, '.config', 'rk64', 'config.json');
    // The test sshd has root's key only; a profile without a user would log in as operator.
    await writeFile(
      config,
      JSON.stringify({
        profiles: { lab: { type: 'ssh', host: '127.0.0.1', port: sshd.port, user: 'root' } },
      }),
    );
    const ok = await runCli(['status', '--json', 'lab'], { env: env() });
    expect(ok.code).toBe(0);
    expect(JSON.parse(ok.stdout) as { target: string }).toHaveProperty('target', 'lab');
    await writeFile(
      config,
      JSON.stringify({ profiles: { lab: { type: 'ssh', host: '127.0.0.1', port: 'x' } } }),
    );
    const bad = await runCli(['status', 'lab'], { env: env() });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain(`${config}: profiles.lab.port: must be an integer`);
  });
});
