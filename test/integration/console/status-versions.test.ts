// The built CLI against a loopback gateway (real sshd) whose rk64-status prints, in turn, the
// document of every released rk64-status and one from a newer gateway: each is shown as text,
// and `--json` passes it on whole, fields this console does not know included.
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { ensureBuilt, runCli } from '../../lib/cli.js';
import { startLoopbackGateway, type LoopbackGateway } from '../../lib/console-gateway.js';
import { newerDocument, releasedDocuments } from '../../lib/status-versions.js';

let gw: LoopbackGateway;
let fakeBin: string;

beforeAll(async () => {
  await ensureBuilt();
  fakeBin = mkdtempSync(join(tmpdir(), 'rk64-status-versions-'));
  const script = join(fakeBin, 'rk64-status');
  writeFileSync(script, `#!/bin/sh\ncat ${fakeBin}/document.json\n`);
  chmodSync(script, 0o755);
  gw = await startLoopbackGateway({ pathPrefix: [fakeBin] });
}, 60_000);

afterAll(async () => {
  await gw?.stop();
  rmSync(fakeBin, { recursive: true, force: true });
});

async function statusOf(text: string): Promise<{ text: string; json: unknown }> {
  writeFileSync(join(fakeBin, 'document.json'), text);
  const args = [gw.url, '--identity', gw.key.path, '--known-hosts', gw.knownHostsPath];
  const env = { ...process.env, SSH_AUTH_SOCK: '' };
  const plain = await runCli(['status', ...args], { env });
  expect(plain.code, plain.stderr).toBe(0);
  const json = await runCli(['status', '--json', ...args], { env });
  expect(json.code, json.stderr).toBe(0);
  return { text: plain.stdout, json: (JSON.parse(json.stdout) as { status: unknown }).status };
}

describe('rk64 status reads every released gateway and a newer one', () => {
  it.each(releasedDocuments())('rk64-status %s', async (_commit, text) => {
    const out = await statusOf(text);
    expect(out.text).toContain('(rk64-lab-01, collected');
    expect(out.text).toContain('plc-line1');
    // Every field it printed, and fields newer than it (sshOnWan.expiresAt) as null.
    expect(out.json).toMatchObject(JSON.parse(text) as object);
    expect(out.json).toMatchObject({ sshOnWan: { expiresAt: null } });
  });

  it('a newer gateway: unknown fields passed on, missing ones unavailable', async () => {
    const doc = newerDocument();
    const out = await statusOf(JSON.stringify(doc));
    expect(out.text).toContain('health   unavailable: not reported by this gateway');
    expect(out.text).toContain('first boot unknown: not reported by this gateway');
    expect(out.json).toMatchObject({ cellular: doc.cellular, sshOnWan: doc.sshOnWan });
  });
});
