// os-upgrade against a real rauc service (private D-Bus, file-backed slots, U-Boot env in a file)
// and an HTTPS update server on 127.0.0.1 (certificate from a CA the test makes and pins in
// update.conf) that the test makes misbehave in every way the issues list: failures, hostile
// manifests, other URL schemes, redirects away from https, oversized answers, another CA,
// downgrades.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  chmodSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  writeFileSync,
  existsSync,
  rmSync,
  statSync,
} from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { RaucEnv } from '../../lib/rauc-env.js';
import { waitFor } from '../../lib/netns.js';
import { devPki, rootfsSlot, startRaucEnv } from '../../lib/rauc-env.js';
import { rootfsBin } from '../../lib/services-paths.js';
import { run, runOk } from '../../lib/exec.js';
import type { TestCa } from '../../lib/tls.js';
import { makeTestCa } from '../../lib/tls.js';

type Handler = (req: http.IncomingMessage, res: http.ServerResponse) => void;

let rauc: RaucEnv;
let server: https.Server;
let ca: TestCa;
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
    RK64_RAUC_CONF: join(rauc.dir, 'system.conf'),
    ...extra,
  };
}

/** Runs os-upgrade expecting exit 1 and exactly one `update failed` line matching `message`; returns it. */
async function failsOnce(
  env: NodeJS.ProcessEnv | (() => NodeJS.ProcessEnv) | undefined,
  message: RegExp,
): Promise<string> {
  const r = await osUpgrade(typeof env === 'function' ? env() : env);
  expect(r.code, r.stderr).toBe(1);
  const failLines = r.stderr.split('\n').filter((l) => l.includes('update failed'));
  expect(failLines, r.stderr).toHaveLength(1);
  expect(failLines[0]).toMatch(message);
  return failLines[0] ?? '';
}

async function osUpgrade(extra: NodeJS.ProcessEnv = {}) {
  return run(rootfsBin('os-upgrade'), [], { env: upgradeEnv(extra), timeoutMs: 60_000 });
}

function configure(manifestUrl: string, caFile = ca.caFile) {
  const conf = join(rauc.dir, 'data', 'config');
  mkdirSync(conf, { recursive: true });
  writeFileSync(
    join(conf, 'update.conf'),
    `# test update source\nmanifest_url = ${manifestUrl}\nca_file=${caFile}\n`,
  );
}

function route(req: http.IncomingMessage, res: http.ServerResponse) {
  requests.push(req.url ?? '');
  const handler = routes[(req.url ?? '').replace(/^\//, '')];
  if (handler) handler(req, res);
  else {
    res.writeHead(404);
    res.end('not found');
  }
}

beforeAll(async () => {
  rauc = await startRaucEnv();
  // The factory image's version, as the root file system reports it (slot A was never installed by
  // rauc). VERSION_ID comes first, as in NixOS's and Debian's os-release: IMAGE_VERSION must win.
  mkdirSync(join(rauc.dir, 'etc'), { recursive: true });
  writeFileSync(join(rauc.dir, 'etc', 'os-release'), 'ID=nixos\nVERSION_ID="25.05"\nIMAGE_VERSION=1.0.0\n');
  goodBundle = await rauc.bundle('1.1.0');
  foreignBundle = await rauc.bundle('1.2.0', { pki: await devPki('foreign') });
  ca = makeTestCa(rauc.dir, 'update-ca');
  server = https.createServer({ key: ca.key, cert: ca.cert }, route);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
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
  env?: NodeJS.ProcessEnv | (() => NodeJS.ProcessEnv);
  cleanup?: () => void | Promise<void>;
  /** More expectations after the run (what the servers saw, names on disk). */
  check?: () => void;
}

const tmpfsDir = () => downloadsDir();
let namesDuringDownload: string[] = [];
let lastFailLine = '';
const FAILURES: FailureCase[] = [
  {
    name: 'connection refused',
    setup: async () => {
      const closed = http.createServer();
      await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
      const port = (closed.address() as AddressInfo).port;
      await new Promise((r) => closed.close(r));
      configure(`https://127.0.0.1:${port}/manifest.json`);
    },
    message: /update failed: manifest: connection refused/,
    cleanup: () => configure(`${base}/manifest.json`),
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
        setTimeout(() => (namesDuringDownload = readdirSync(downloadsDir())), 1500);
      };
    },
    message: /update failed: bundle 1\.1\.0: timed out after 4s/,
    // The server's version never becomes part of a path.
    check: () => expect(namesDuringDownload).toEqual(['bundle.raucb.part']),
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
    // rauc's own reason (the signature is checked when the signed version is read), not an empty one.
    message:
      /update failed: bundle 1\.2\.0: rauc info refused the bundle: .*signature verification failed: .*unable to get local issuer certificate/,
  },
];

describe('os-upgrade: every failure leaves no partial file and the slots untouched', () => {
  for (const c of FAILURES) {
    it(c.name, async () => {
      await c.setup();
      const beforeSums = rauc.slotSums();
      const beforeEnv = await rauc.fwPrintenv();
      try {
        const failLine = await failsOnce(c.env, c.message);
        expect(failLine).toContain('slots untouched');
        expect(leftovers()).toEqual([]);
        expect(rauc.slotSums()).toEqual(beforeSums);
        expect(await rauc.fwPrintenv()).toEqual(beforeEnv);
        expect(existsSync(join(rauc.dir, 'rebooted'))).toBe(false);
        expect(readdirSync(join(rauc.dir, 'run')).filter((f) => f.startsWith('manifest'))).toEqual([]);
        c.check?.();
      } finally {
        await c.cleanup?.();
      }
    });
  }
});

// A plain-http server and a raw TCP listener beside the https update server: hostile manifests
// point at them, and neither may ever see a byte from os-upgrade.
let plain: http.Server;
let plainRequests: string[] = [];
let raw: net.Server;
let rawConnections = 0;
let rogue: https.Server;
let rogueCa: TestCa;
const port = (s: net.Server) => (s.address() as AddressInfo).port;

beforeAll(async () => {
  plain = http.createServer((req, res) => {
    plainRequests.push(req.url ?? '');
    res.writeHead(200, { 'content-type': 'application/octet-stream' });
    res.end(readFileSync(goodBundle));
  });
  raw = net.createServer((socket) => {
    rawConnections += 1;
    socket.destroy();
  });
  rogueCa = makeTestCa(rauc.dir, 'rogue-ca');
  rogue = https.createServer({ key: rogueCa.key, cert: rogueCa.cert }, route);
  for (const s of [plain, raw, rogue]) await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
});

afterAll(async () => {
  for (const s of [plain, raw, rogue]) {
    if (s instanceof http.Server) s.closeAllConnections();
    await new Promise((r) => s.close(r));
  }
});

beforeEach(() => {
  plainRequests = [];
  rawConnections = 0;
});

const nothingElseContacted = () => {
  expect(plainRequests).toEqual([]);
  expect(rawConnections).toBe(0);
};

/** Bytes the last endless() answer sent before the client went away. */
let endlessSent = 0;

/** Stream filler without a length until the client goes away (or `limit` bytes). */
function endless(prefix: Buffer = Buffer.alloc(0), limit = 64 << 20): Handler {
  return (_q, res) => {
    res.writeHead(200, { 'content-type': 'application/octet-stream' });
    let sent = 0;
    endlessSent = 0;
    res.on('close', () => (endlessSent = sent));
    const chunk = Buffer.alloc(64 << 10, 0x7b);
    const pump = () => {
      if (sent === 0 && prefix.length > 0) {
        sent += prefix.length;
        if (!res.write(prefix)) return void res.once('drain', pump);
      }
      while (sent < limit && !res.destroyed) {
        sent += chunk.length;
        if (!res.write(chunk)) return void res.once('drain', pump);
      }
      res.end();
    };
    res.on('error', () => undefined);
    pump();
  };
}

const manifestOf = (fields: Record<string, unknown>) =>
  JSON.stringify({ version: '1.1.0', url: 'bundle.raucb', size: 1000, sha256: 'a'.repeat(64), ...fields });

const HOSTILE: FailureCase[] = [
  ...(
    [
      ['not an object', '[1,2]', /manifest .* is not a JSON object/],
      ['no version', manifestOf({ version: undefined }), /manifest .* has no "version" string/],
      ['a path in the version', manifestOf({ version: '../../../etc/x' }), /has an invalid "version"/],
      [
        'control characters in the version',
        manifestOf({ version: '2.0\u001b]0;pwned\u0007' }),
        /has an invalid "version"/,
      ],
      ['a 65-character version', manifestOf({ version: '9'.repeat(65) }), /has an invalid "version"/],
      ['no url', manifestOf({ url: 7 }), /has no "url" string/],
      ['a url with spaces', manifestOf({ url: 'a b.raucb' }), /has an invalid "url"/],
      ['a fractional size', manifestOf({ size: 1000.5 }), /has an invalid "size" \(an integer/],
      ['a size as a string', manifestOf({ size: '1000' }), /has an invalid "size"/],
      ['a negative size', manifestOf({ size: -1 }), /has an invalid "size"/],
      [
        'a sha256 that is not hex',
        manifestOf({ sha256: 'z'.repeat(64) }),
        /has an invalid "sha256" \(64 hex digits\)/,
      ],
      ['not JSON at all', '<html>', /manifest .* is not valid JSON/],
    ] as const
  ).map(([what, body, message]): FailureCase => ({
    name: `manifest with ${what}`,
    setup: () => {
      routes['manifest.json'] = serveJson(body);
    },
    message,
    check: () => expect(requests).toEqual(['/manifest.json']),
  })),
  {
    name: 'bundle url file:///etc/hostname (a local file "installed")',
    setup: () => {
      routes['manifest.json'] = serveJson(manifestFor(goodBundle, '1.1.0', { url: 'file:///etc/hostname' }));
    },
    message: /bundle 1\.1\.0: refusing to fetch file:\/\/\/etc\/hostname: only https:\/\/ URLs are allowed/,
  },
  {
    name: 'bundle url gopher:// (chosen bytes to a LAN host)',
    setup: () => {
      routes['manifest.json'] = serveJson(
        manifestFor(goodBundle, '1.1.0', { url: `gopher://127.0.0.1:${port(raw)}/_HELO%20evil` }),
      );
    },
    message: /refusing to fetch gopher:.*only https:\/\/ URLs are allowed/,
    check: nothingElseContacted,
  },
  {
    name: 'bundle url over plain http',
    setup: () => {
      routes['manifest.json'] = serveJson(
        manifestFor(goodBundle, '1.1.0', { url: `http://127.0.0.1:${port(plain)}/bundle.raucb` }),
      );
    },
    message: /refusing to fetch http:.*only https:\/\/ URLs are allowed/,
    check: nothingElseContacted,
  },
  {
    name: 'a redirect from https to plain http',
    setup: () => {
      routes['manifest.json'] = serveJson(manifestFor(goodBundle, '1.1.0'));
      routes['bundle.raucb'] = (_q, res) => {
        res.writeHead(302, { location: `http://127.0.0.1:${port(plain)}/bundle.raucb` });
        res.end();
      };
    },
    message: /bundle 1\.1\.0: refused a redirect away from https/,
    check: nothingElseContacted,
  },
  {
    name: 'an endless manifest (no length announced)',
    setup: () => {
      routes['manifest.json'] = endless();
    },
    message: /manifest: https:\/\/.* is larger than the 65536 bytes allowed/,
    // curl stopped early (what socket buffers hold aside), not after the server's 64 MiB.
    check: () => expect(endlessSent).toBeLessThan(16 << 20),
  },
  {
    name: 'a manifest announced as 64 MiB',
    setup: () => {
      routes['manifest.json'] = (_q, res) => {
        res.writeHead(200, { 'content-length': 64 << 20 });
        res.write(Buffer.alloc(1024, 0x20));
        stalled.push(res);
      };
    },
    message: /manifest: https:\/\/.* is larger than the 65536 bytes allowed/,
  },
  {
    name: 'a bundle that goes on past the size in the manifest',
    setup: () => {
      routes['manifest.json'] = serveJson(manifestFor(goodBundle, '1.1.0'));
      routes['bundle.raucb'] = endless(readFileSync(goodBundle));
    },
    message: /bundle 1\.1\.0: https:\/\/.* is larger than the \d+ bytes allowed/,
    check: () => {
      expect(lastFailLine).toContain(`the ${statSync(goodBundle).size} bytes allowed`);
      expect(endlessSent).toBeLessThan(16 << 20);
    },
  },
  {
    name: 'a server certificate from another CA (trusted by the system, not pinned)',
    setup: () => configure(`https://127.0.0.1:${port(rogue)}/manifest.json`),
    // The system trust store holding the rogue CA: curl's own CA directory points at it.
    env: () => ({ CURL: rogueTrustingCurl() }),
    message: /manifest: TLS failure talking to https:\/\/127\.0\.0\.1:\d+\/manifest\.json/,
    check: () => expect(requests).toEqual([]),
    cleanup: () => configure(`${base}/manifest.json`),
  },
  ...(
    [
      ['older than', '0.9.0'],
      ['equal to', '1.0.0'],
    ] as const
  ).map(([what, signed]): FailureCase => ({
    name: `a signed bundle ${what} the running version, offered as 1.5.0 (downgrade)`,
    setup: async () => {
      const bundle = await signedBundle(signed);
      routes['manifest.json'] = serveJson(manifestFor(bundle, '1.5.0'));
      routes['bundle.raucb'] = serveFile(bundle);
    },
    message: new RegExp(
      `the bundle offered as 1\\.5\\.0 is signed as version ${signed.replaceAll('.', '\\.')}, not newer than the running 1\\.0\\.0: refusing a downgrade`,
    ),
  })),
];

const signedBundles = new Map<string, string>();
async function signedBundle(version: string): Promise<string> {
  const known = signedBundles.get(version);
  if (known) return known;
  const made = await rauc.bundle(version);
  signedBundles.set(version, made);
  return made;
}

/** A curl that also trusts the rogue CA, as if the system's trust store held it. */
function rogueTrustingCurl(): string {
  const dir = join(rauc.dir, 'rogue-trust');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'rogue.pem'), readFileSync(rogueCa.caFile));
  execFileSync('openssl', ['rehash', dir]);
  const wrapper = join(rauc.dir, 'bin', 'curl-rogue-trust');
  writeFileSync(wrapper, `#!/bin/sh\nexec curl --capath ${dir} "$@"\n`);
  chmodSync(wrapper, 0o755);
  return wrapper;
}

describe('os-upgrade: hostile update servers and manifests are refused, nothing written', () => {
  for (const c of HOSTILE) {
    it(c.name, async () => {
      await c.setup();
      const beforeSums = rauc.slotSums();
      try {
        const failLine = await failsOnce(c.env, c.message);
        // eslint-disable-next-line no-control-regex -- the point: no raw control byte in the log line
        expect(failLine).not.toMatch(/[\u0000-\u001f\u007f]/);
        lastFailLine = failLine;
        expect(leftovers()).toEqual([]);
        expect(readdirSync(join(rauc.dir, 'run')).filter((f) => f.startsWith('manifest'))).toEqual([]);
        expect(rauc.slotSums()).toEqual(beforeSums);
        expect(existsSync(join(rauc.dir, 'rebooted'))).toBe(false);
        c.check?.();
      } finally {
        await c.cleanup?.();
      }
    });
  }

  it('refuses a manifest_url that is not https (exit 4, nothing fetched)', async () => {
    for (const url of [`http://127.0.0.1:${port(plain)}/manifest.json`, 'file:///etc/passwd']) {
      configure(url);
      try {
        const r = await osUpgrade();
        expect(r.code, r.stderr).toBe(4);
        expect(r.stderr).toContain('must be an https:// URL');
        nothingElseContacted();
      } finally {
        configure(`${base}/manifest.json`);
      }
    }
  });
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
    // An absolute URL with the scheme in capitals: schemes are case-insensitive (RFC 3986).
    routes['manifest.json'] = serveJson(
      manifestFor(goodBundle, '1.1.0', { url: `${base.replace('https', 'HTTPS')}/bundle.raucb` }),
    );
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
