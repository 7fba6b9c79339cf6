// The console's action layer over the real SSH transport against a real sshd running the real
// rk64-action: SSH-on-WAN on and off changes the firewall loaded in the gateway's namespace.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { readLastAction } from '../../../src/core/actions/last-action.js';
import { runAction } from '../../../src/core/actions/run.js';
import type { Transport } from '../../../src/core/transport/transport.js';
import { startLoopbackGateway, type LoopbackGateway } from '../../lib/console-gateway.js';

let gw: LoopbackGateway;
let transport: Transport;

beforeAll(async () => {
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
      message: 'SSH on the WAN port is now on; the gateway closes it by itself in 30 min 0 s.',
      offerReboot: false,
      downgrade: null,
    });
    expect(await wanSshRule()).toBe(true);
    const off = await runAction(transport, { kind: 'ssh-wan', enable: false });
    expect(off.ok).toBe(true);
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
