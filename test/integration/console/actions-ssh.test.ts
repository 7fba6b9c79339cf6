// The console's action layer over the real SSH transport against a real sshd running the real
// rk64-action: SSH-on-WAN on and off changes the firewall loaded in the gateway's namespace, from
// the runners and from the built CLI (`rk64 action`).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { readLastAction } from '../../../src/core/actions/last-action.js';
import { runAction } from '../../../src/core/actions/run.js';
import type { Transport } from '../../../src/core/transport/transport.js';
import { validateStatus } from '../../../src/core/status/validate.js';
import { ensureBuilt, runCli } from '../../lib/cli.js';
import { startLoopbackGateway, type LoopbackGateway } from '../../lib/console-gateway.js';

let gw: LoopbackGateway;
let transport: Transport;

beforeAll(async () => {
  await ensureBuilt();
  gw = await startLoopbackGateway();
  transport = await gw.connect();
});

afterAll(async () => {
  await transport?.close();
  await gw?.stop();
});

async function wanSshRule(): Promise<boolean> {
  const r = await gw.inNetns('nft', ['list', 'chain', 'inet', 'rk64', 'input_wan']);
  expect(r.code, r.stderr).toBe(0);
  return r.stdout.includes('comment "rk64-ssh-wan"');
}

describe('actions against the loopback gateway', () => {
  it('ssh-wan on adds the WAN SSH rule; off removes it', async () => {
    expect(await wanSshRule()).toBe(false);
    const on = await runAction(transport, { kind: 'ssh-wan', enable: true, duration: '30m' });
    expect(on).toEqual({
      ok: true,
      message: 'SSH on the WAN port is now on; the gateway closes it by itself in 30 min.',
      offerReboot: false,
      downgrade: null,
    });
    expect(await wanSshRule()).toBe(true);
    const off = await runAction(transport, { kind: 'ssh-wan', enable: false });
    expect(off.ok).toBe(true);
    expect(await wanSshRule()).toBe(false);
  });

  it('rk64 action ssh-wan on --for: the rule carries the deadline, the status its time; off removes it', async () => {
    const cli = (words: string[]) =>
      runCli(['action', gw.url, ...words, '--identity', gw.key.path, '--known-hosts', gw.knownHostsPath], {
        env: { ...process.env, SSH_AUTH_SOCK: '', NO_COLOR: '1' },
      });
    const refused = await cli(['ssh-wan', 'on']);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('ssh-wan on needs --for DURATION');
    expect(await wanSshRule()).toBe(false);
    const before = Date.now();
    const on = await cli(['ssh-wan', 'on', '--for', '10m']);
    expect(on.code, on.stderr).toBe(0);
    expect(on.stdout).toBe('SSH on the WAN port is now on; the gateway closes it by itself in 10 min.\n');
    const rule = await gw.inNetns('nft', ['list', 'chain', 'inet', 'rk64', 'input_wan']);
    expect(rule.stdout).toMatch(/meta time < .*accept comment "rk64-ssh-wan"/);
    const status = await runCli(
      ['status', '--json', gw.url, '--identity', gw.key.path, '--known-hosts', gw.knownHostsPath],
      { env: { ...process.env, SSH_AUTH_SOCK: '' } },
    );
    const doc = validateStatus((JSON.parse(status.stdout) as { status: unknown }).status);
    expect(doc.sshOnWan?.enabled).toBe(true);
    expect(doc.sshOnWan?.wanInterface).toBe('eth0');
    const left = (Date.parse(doc.sshOnWan?.expiresAt ?? '') - before) / 1000;
    expect(left).toBeGreaterThan(590);
    expect(left).toBeLessThanOrEqual(601);
    const off = await cli(['ssh-wan', 'off']);
    expect(off.code, off.stderr).toBe(0);
    expect(await wanSshRule()).toBe(false);
  });

  it('last is null before any install', async () => {
    expect(await readLastAction(transport)).toBeNull();
  });

  it('a missing bundle path fails with the gateway’s reason', async () => {
    const outcome = await runAction(transport, {
      kind: 'install',
      source: 'https://127.0.0.1:1/none.raucb',
      allowDowngrade: false,
    });
    expect(outcome.ok).toBe(false);
    expect(outcome.message).toMatch(/download failed/);
  });
});
