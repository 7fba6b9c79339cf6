// Batch and JSON output of the built CLI against several gateways at once, one unreachable:
// one line per target, data on stdout, one error line per failure on stderr, exit code as
// documented in docs/console.md (0 all, 1 some, 3 none answered).
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { validateStatus } from '../../../src/core/status/validate.js';
import { ensureBuilt, runCli } from '../../lib/cli.js';
import { startLoopbackGateway, type LoopbackGateway } from '../../lib/console-gateway.js';
import { freePort } from '../../lib/sshd.js';

let gws: LoopbackGateway[] = [];
let common: string[];
let deadUrl: string;

beforeAll(async () => {
  await ensureBuilt();
  gws = await Promise.all([startLoopbackGateway(), startLoopbackGateway()]);
  const knownHosts = join(gws[0]!.dir, 'client', 'known_hosts-all');
  writeFileSync(knownHosts, gws.map((g) => `${g.sshd.knownHostsLine}\n`).join(''));
  common = [
    '--known-hosts',
    knownHosts,
    ...gws.flatMap((g) => ['--identity', g.key.path]),
    '--timeout',
    '10',
  ];
  // Nothing listens here: connection refused.
  deadUrl = `ssh://root@127.0.0.1:${await freePort()}`;
});

afterAll(async () => {
  await Promise.all(gws.map((g) => g.stop()));
});

const env = { ...process.env, SSH_AUTH_SOCK: '', NO_COLOR: '1' };

describe('rk64 status over several gateways', () => {
  it('--json: one line per target in order, the unreachable one as an error; exit 1', async () => {
    const [a, b] = gws as [LoopbackGateway, LoopbackGateway];
    const r = await runCli(['status', '--json', a.url, deadUrl, b.url, ...common], { env });
    expect(r.code, r.stderr).toBe(1);
    const lines = r.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines.map((l) => l.target)).toEqual([a.url, deadUrl, b.url]);
    for (const i of [0, 2]) {
      const status = validateStatus(lines[i]?.status);
      expect(status.links?.find((l) => l.name === 'eth1')?.addresses).toContain('172.20.30.1/24');
      expect(status.leases?.[0]?.hostname).toBe('plc-line1');
    }
    expect(lines[1]?.error).toMatchObject({ kind: 'refused', exitCode: 3 });
    const errors = r.stderr.trim().split('\n');
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatch(new RegExp(`^rk64: ${deadUrl.replace(/[/.]/g, '\\$&')}: .*refused`, 'i'));
    // The target is named once, not by the fleet and again by the transport.
    expect(errors[0]?.match(/127\.0\.0\.1:\d+/g), errors[0]).toHaveLength(1);
  });

  it('text: every answering gateway printed, the failure named; exit 1', async () => {
    const [a, b] = gws as [LoopbackGateway, LoopbackGateway];
    const r = await runCli(['status', a.url, deadUrl, b.url, ...common], { env });
    expect(r.code).toBe(1);
    expect(r.stdout).toContain(a.url);
    expect(r.stdout).toContain(b.url);
    expect(r.stdout).toContain('172.20.30.1/24');
    expect(r.stdout).toContain(`${deadUrl}: `);
    const failure = r.stdout.split('\n').find((l) => l.startsWith(`${deadUrl}: `));
    expect(failure?.match(/127\.0\.0\.1:\d+/g), failure).toHaveLength(1);
    expect(r.stderr).not.toContain(a.url);
  });

  it('all answer: exit 0; none answers: exit 3', async () => {
    const ok = await runCli(['status', '--json', ...gws.map((g) => g.url), ...common], { env });
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.stderr).toBe('');
    const none = await runCli(['status', '--json', deadUrl, ...common], { env });
    expect(none.code).toBe(3);
  });

  it('rk64 tui --batch and --json print one gateway without a terminal', async () => {
    const a = gws[0] as LoopbackGateway;
    const text = await runCli(['tui', '--batch', a.url, ...common], { env });
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout).toContain('172.20.30.1/24');
    const json = await runCli(['tui', '--json', a.url, ...common], { env });
    expect(json.code).toBe(0);
    expect(validateStatus(JSON.parse(json.stdout)).schema).toBe('rk64.status/1');
    const dead = await runCli(['tui', '--batch', deadUrl, ...common], { env });
    expect(dead.code).toBe(3);
    expect(dead.stdout).toBe('');
    expect(dead.stderr.trim().split('\n')).toHaveLength(1);
  });

  it('rk64 tui without --batch and without a terminal refuses with exit 2', async () => {
    const r = await runCli(['tui', gws[0]!.url, ...common], { env });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/needs a terminal; use --batch or --json/);
  });
});
