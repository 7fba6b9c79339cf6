// os-upgrade against a real rauc service (private D-Bus, file-backed slots, U-Boot env in a file)
// and an HTTP update server on 127.0.0.1 that the test makes misbehave in every way the issue lists.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, writeFileSync, existsSync, rmSync, statSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { RaucEnv } from '../../lib/rauc-env.js';
import { waitFor } from '../../lib/netns.js';
import { devPki, rootfsSlot, startRaucEnv } from '../../lib/rauc-env.js';
import { rootfsBin } from '../../lib/services-paths.js';
import { run, runOk } from '../../lib/exec.js';

type Handler = (req: http.IncomingMessage, res: http.ServerResponse) => void;

let rauc: RaucEnv;
let server: http.Server;
let base = '';
let requests: string[] = [];
let routes: Record<string, Handler> = {};
let goodBundle = '';
let foreignBundle = '';
const stalled: http.ServerResponse[] = [];

const sha256 = (file: string) => createHash('sha256').update(readFileSync(file)).digest('hex');
const downloadsDir = () => join(rauc.dir, 'data', 'rk64', 'downloads');
const leftovers = () => (existsSync(downloadsDir()) ? readdirSync(downloadsDir()) : []);

function manifestFor(file: string, version: string, extra: Partial<Record<string, unknown>> = {}) {
  return JSON.stringify({
    version,
    url: 'bundle.raucb',
    size: statSync(file).size,
    sha256: sha256(file),
    ...extra,
  });
}

function serveJson(body: string): Handler {
  return (_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(body);
  };
}

function serveFile(file: string): Handler {
  return (_req, res) => {
    const data = readFileSync(file);
    res.writeHead(200, { 'content-length': data.length });
    res.end(data);
  };
}

function upgradeEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  return {
    ...rauc.env,
    RK64_UPGRADE_BACKOFF: '0',
    RK64_MANIFEST_TIMEOUT: '3',
    RK64_DOWNLOAD_TIMEOUT: '4',
    RK64_CONNECT_TIMEOUT: '2',
    RK64_REBOOT_CMD: `touch ${join(rauc.dir, 'rebooted')}`,
    ...extra,
  };
}

async function osUpgrade(extra: NodeJS.ProcessEnv = {}) {
  return run(rootfsBin('os-upgrade'), [], { env: upgradeEnv(extra), timeoutMs: 60_000 });
}

function configure(manifestUrl: string) {
  const conf = join(rauc.dir, 'data', 'config');
  mkdirSync(conf, { recursive: true });
  writeFileSync(join(conf, 'update.conf'), `# test update source\nmanifest_url = ${manifestUrl}\n`);
}

beforeAll(async () => {
  rauc = await startRaucEnv();
  // The factory image's version, as the root file system reports it (slot A was never installed by
  // rauc). VERSION_ID comes first, as in NixOS's and Debian's os-release: IMAGE_VERSION must win.
  mkdirSync(join(rauc.dir, 'etc'), { recursive: true });
  writeFileSync(join(rauc.dir, 'etc', 'os-release'), 'ID=nixos\nVERSION_ID="25.05"\nIMAGE_VERSION=1.0.0\n');
  goodBundle = await rauc.bundle('1.1.0');
  foreignBundle = await rauc.bundle('1.2.0', { pki: await devPki('foreign') });
  server = http.createServer((req, res) => {
    requests.push(req.url ?? '');
    const handler = routes[(req.url ?? '').replace(/^\//, '')];
    if (handler) handler(req, res);
    else {
      res.writeHead(404);
      res.end('not found');
    }
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  configure(`${base}/manifest.json`);
});

afterAll(async () => {
  for (const res of stalled) res.destroy();
  server?.closeAllConnections();
  await new Promise((r) => server?.close(r));
  await rauc?.stop();
});

beforeEach(() => {
  requests = [];
  routes = {};
  rmSync(join(rauc.dir, 'data', 'rk64', 'os-upgrade.state'), { force: true });
});

describe('os-upgrade refuses to poll when it must not', () => {
  it('does not poll while the booted slot is not committed', async () => {
    routes['manifest.json'] = serveJson(manifestFor(goodBundle, '1.1.0'));
    const r = await osUpgrade();
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain('not committed yet');
    expect(requests).toEqual([]);
  });

  it('commits slot A through rk64-action mark-good booted (as the console does)', async () => {
    const r = await run(rootfsBin('rk64-action'), ['mark-good', 'booted'], { env: rauc.env });
    expect(r.code, r.stderr).toBe(0);
    expect((await rauc.fwPrintenv()).BOOT_A_LEFT).toBe('3');
  });

  it('refuses in hawkbit mode, with a clear message and no request', async () => {
    const mode = join(rauc.dir, 'data', 'config', 'update-mode');
    writeFileSync(mode, 'hawkbit\n');
    try {
      const r = await osUpgrade();
      expect(r.code).toBe(4);
      expect(r.stderr).toMatch(/update mode is hawkbit .*rauc-hawkbit-updater handles updates/);
      expect(requests).toEqual([]);
    } finally {
      rmSync(mode);
    }
  });

  it('skips when another run holds the lock', async () => {
    routes['manifest.json'] = serveJson(manifestFor(goodBundle, '1.1.0'));
    const lock = join(rauc.dir, 'run', 'os-upgrade.lock');
    const holder = run('flock', [lock, 'sleep', '3']);
    expect(await waitFor(async () => (await run('flock', ['-n', lock, 'true'])).code !== 0, 2500, 50)).toBe(
      true,
    );
    const r = await osUpgrade();
    await holder;
    expect(r.code).toBe(0);
    expect(r.stderr).toContain('another os-upgrade run is in progress');
    expect(requests).toEqual([]);
  });
});

describe('os-upgrade skips versions that are not newer', () => {
  for (const version of ['1.0.0', '0.9.9']) {
    it(`skips ${version} (installed 1.0.0) without downloading`, async () => {
      routes['manifest.json'] = serveJson(manifestFor(goodBundle, version));
      routes['bundle.raucb'] = serveFile(goodBundle);
      const before = rauc.slotSums();
      const r = await osUpgrade();
      expect(r.code, r.stderr).toBe(0);
      expect(r.stderr).toContain(`up to date: installed 1.0.0, server offers ${version}`);
      expect(requests).toEqual(['/manifest.json']);
      expect(rauc.slotSums()).toEqual(before);
    });
  }
});

interface FailureCase {
  name: string;
  setup: () => void | Promise<void>;
  message: RegExp;
  env?: NodeJS.ProcessEnv;
  cleanup?: () => Promise<void>;
}

const tmpfsDir = () => downloadsDir();
const FAILURES: FailureCase[] = [
  {
    name: 'connection refused',
    setup: async () => {
      const closed = http.createServer();
      await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
      const port = (closed.address() as AddressInfo).port;
      await new Promise((r) => closed.close(r));
      configure(`http://127.0.0.1:${port}/manifest.json`);
    },
    message: /update failed: manifest: connection refused/,
    cleanup: async () => configure(`${base}/manifest.json`),
  },
  {
    name: 'HTTP 500 for the manifest',
    setup: () => {
      routes['manifest.json'] = (_q, res) => {
        res.writeHead(500);
        res.end('boom');
      };
    },
    message: /update failed: manifest: server answered HTTP 500/,
  },
  {
    name: 'HTTP 404 for the bundle',
    setup: () => {
      routes['manifest.json'] = serveJson(manifestFor(goodBundle, '1.1.0', { url: 'missing.raucb' }));
    },
    message: /update failed: bundle 1\.1\.0: server answered HTTP 404/,
  },
  {
    name: 'manifest timeout',
    setup: () => {
      routes['manifest.json'] = (_q, res) => void stalled.push(res);
    },
    message: /update failed: manifest: timed out after 3s/,
  },
  {
    name: 'bundle download stalls (timeout)',
    setup: () => {
      routes['manifest.json'] = serveJson(manifestFor(goodBundle, '1.1.0'));
      routes['bundle.raucb'] = (_q, res) => {
        const data = readFileSync(goodBundle);
        res.writeHead(200, { 'content-length': data.length });
        res.write(data.subarray(0, data.length >> 1));
        stalled.push(res);
      };
    },
    message: /update failed: bundle 1\.1\.0: timed out after 4s/,
  },
  {
    name: 'truncated download',
    setup: () => {
      routes['manifest.json'] = serveJson(manifestFor(goodBundle, '1.1.0'));
      routes['bundle.raucb'] = (_q, res) => {
        const data = readFileSync(goodBundle);
        res.writeHead(200, { 'content-length': data.length });
        res.write(data.subarray(0, data.length >> 1), () => res.destroy());
      };
    },
    message:
      /update failed: bundle 1\.1\.0: transfer of .* ended early \(truncated\)|connection to .* broke off/,
  },
  {
    name: 'corrupt download (right size, wrong bytes)',
    setup: () => {
      routes['manifest.json'] = serveJson(manifestFor(goodBundle, '1.1.0'));
      routes['bundle.raucb'] = (_q, res) => {
        const data = Buffer.from(readFileSync(goodBundle));
        data[data.length >> 1] = (data[data.length >> 1] ?? 0) ^ 0xff;
        res.writeHead(200, { 'content-length': data.length });
        res.end(data);
      };
    },
    message:
      /update failed: bundle 1\.1\.0 has sha256 [0-9a-f]{64}, the manifest says [0-9a-f]{64} \(corrupt download\)/,
  },
  {
    name: 'disk full (downloads on a 512 KiB tmpfs)',
    setup: async () => {
      mkdirSync(tmpfsDir(), { recursive: true });
      await runOk('mount', ['-t', 'tmpfs', '-o', 'size=512k', 'rk64-test-full', tmpfsDir()]);
      routes['manifest.json'] = serveJson(manifestFor(goodBundle, '1.1.0'));
      routes['bundle.raucb'] = serveFile(goodBundle);
    },
    message: /update failed: not enough space on .*downloads for the 1\.1\.0 bundle .*disk full/,
    cleanup: async () => void (await runOk('umount', [tmpfsDir()])),
  },
  {
    name: 'bundle rejected by rauc (signed by another CA)',
    setup: () => {
      routes['manifest.json'] = serveJson(manifestFor(foreignBundle, '1.2.0'));
      routes['bundle.raucb'] = serveFile(foreignBundle);
    },
    // rauc's own reason, not an empty one.
    message:
      /update failed: rauc rejected the 1\.2\.0 bundle: signature verification failed: .*unable to get local issuer certificate;/,
  },
];

describe('os-upgrade: every failure leaves no partial file and the slots untouched', () => {
  for (const c of FAILURES) {
    it(c.name, async () => {
      await c.setup();
      const beforeSums = rauc.slotSums();
      const beforeEnv = await rauc.fwPrintenv();
      try {
        const r = await osUpgrade(c.env);
        expect(r.code, r.stderr).toBe(1);
        const failLines = r.stderr.split('\n').filter((l) => l.includes('update failed'));
        expect(failLines).toHaveLength(1);
        expect(failLines[0]).toMatch(c.message);
        expect(failLines[0]).toContain('slots untouched');
        expect(leftovers()).toEqual([]);
        expect(rauc.slotSums()).toEqual(beforeSums);
        expect(await rauc.fwPrintenv()).toEqual(beforeEnv);
        expect(existsSync(join(rauc.dir, 'rebooted'))).toBe(false);
      } finally {
        await c.cleanup?.();
      }
    });
  }
});

describe('os-upgrade backs off after failures', () => {
  it('skips runs until the back-off has passed, then tries again', async () => {
    routes['manifest.json'] = (_q, res) => {
      res.writeHead(503);
      res.end();
    };
    const env = { RK64_UPGRADE_BACKOFF: '300' };
    let r = await osUpgrade(env);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('retry after 300s');
    // The timer fires again: the run is skipped without asking the server.
    requests = [];
    r = await osUpgrade(env);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/backing off after 1 failed update\(s\): next try in \d+s/);
    expect(requests).toEqual([]);
    // Once the back-off has passed (state back-dated), it asks again; a second failure doubles the wait.
    const state = join(rauc.dir, 'data', 'rk64', 'os-upgrade.state');
    writeFileSync(state, `failures=1\nlast_failure=${Math.floor(Date.now() / 1000) - 301}\n`);
    r = await osUpgrade(env);
    expect(requests).toEqual(['/manifest.json']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('retry after 600s');
  });
});

describe('os-upgrade installs a newer bundle', () => {
  it('downloads, verifies, installs into slot B and reboots', async () => {
    routes['manifest.json'] = serveJson(manifestFor(goodBundle, '1.1.0'));
    routes['bundle.raucb'] = serveFile(goodBundle);
    const before = rauc.slotSums();
    const r = await osUpgrade();
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain('installing 1.1.0 (installed 1.0.0)');
    expect(requests).toEqual(['/manifest.json', '/bundle.raucb']);
    const after = rauc.slotSums();
    expect(after['rootfs-a']).toBe(before['rootfs-a']);
    expect(after['boot-a']).toBe(before['boot-a']);
    expect(after['rootfs-b']).not.toBe(before['rootfs-b']);
    expect(
      readFileSync(join(rauc.dir, 'slots', 'rootfs-b'))
        .subarray(0, 13)
        .toString(),
    ).toBe('rootfs 1.1.0;');
    expect(
      readFileSync(join(rauc.dir, 'slots', 'boot-b'))
        .subarray(0, 11)
        .toString(),
    ).toBe('boot 1.1.0;');
    const envAfter = await rauc.fwPrintenv();
    expect(envAfter.BOOT_ORDER).toBe('B A');
    expect(envAfter.BOOT_B_LEFT).toBe('3');
    expect(rootfsSlot(await rauc.raucStatus(), 'B').slot_status?.bundle?.version).toBe('1.1.0');
    expect(existsSync(join(rauc.dir, 'rebooted'))).toBe(true);
    expect(leftovers()).toEqual([]);
    expect(execFileSync('ls', [join(rauc.dir, 'data', 'rk64')]).toString()).not.toContain('os-upgrade.state');
  });
});
