// The update server for the end-to-end scenarios: HTTPS on 127.0.0.1 (an ephemeral port), which
// the gateway reaches as 10.0.2.2 through QEMU user networking, with a certificate from a CA made
// for this run; the gateway pins that CA (ca_file in update.conf, written by gatewaySetup()), as it
// accepts https only. It serves files registered by name and the manifest os-upgrade reads
// ({"version","url","size","sha256"}), and records every request so a test can tell what the
// gateway fetched.
import { createReadStream, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { stat } from 'node:fs/promises';
import { createServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeTestCa } from './tls.js';

/** The host as seen from inside QEMU's user network. */
export const GUEST_HOST_ADDRESS = '10.0.2.2';
/** Where gatewaySetup() puts the update server's CA on the gateway. */
export const GATEWAY_CA_FILE = '/data/config/update-ca.pem';

export interface Manifest {
  version: string;
  url: string;
  size: number;
  sha256: string;
}

export interface ServedRequest {
  method: string;
  path: string;
  status: number;
  bytes: number;
  at: number;
}

export interface UpdateServer {
  port: number;
  /** URL of a path as the gateway must use it (https://10.0.2.2:PORT/path). */
  guestUrl(path: string): string;
  /**
   * A shell command for the gateway: the server's CA to GATEWAY_CA_FILE and update.conf with the
   * manifest URL and that CA pinned (ca_file), as an operator configures a gateway.
   */
  gatewaySetup(): string;
  /** Serve a file at /name. */
  serveFile(name: string, file: string): void;
  /** Serve the manifest at /manifest.json. */
  setManifest(manifest: Manifest): void;
  requests: ServedRequest[];
  close(): Promise<void>;
}

export async function startUpdateServer(): Promise<UpdateServer> {
  const files = new Map<string, string>();
  let manifest: Manifest | null = null;
  const requests: ServedRequest[] = [];
  const caDir = mkdtempSync(join(tmpdir(), 'rk64-e2e-ca-'));
  const ca = makeTestCa(caDir, 'update-server', [`IP:${GUEST_HOST_ADDRESS}`, 'IP:127.0.0.1']);
  const caPem = readFileSync(ca.caFile);

  const server = createServer({ key: ca.key, cert: ca.cert }, (req, res) => {
    const path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
    const record = (status: number, bytes: number): void => {
      requests.push({ method: req.method ?? 'GET', path, status, bytes, at: Date.now() });
    };
    if (path === '/manifest.json' && manifest) {
      const body = Buffer.from(JSON.stringify(manifest));
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': body.length });
      res.end(body);
      record(200, body.length);
      return;
    }
    const file = files.get(path.replace(/^\//, ''));
    if (!file) {
      res.writeHead(404).end();
      record(404, 0);
      return;
    }
    stat(file).then(
      (st) => {
        res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': st.size });
        if (req.method === 'HEAD') {
          res.end();
          record(200, 0);
          return;
        }
        const stream = createReadStream(file);
        stream.pipe(res);
        stream.on('end', () => record(200, st.size));
        stream.on('error', () => res.destroy());
      },
      () => {
        res.writeHead(404).end();
        record(404, 0);
      },
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  return {
    port,
    guestUrl: (path) => `https://${GUEST_HOST_ADDRESS}:${port}/${path.replace(/^\//, '')}`,
    gatewaySetup: () =>
      `mkdir -p /data/config && echo '${caPem.toString('base64')}' | base64 -d >${GATEWAY_CA_FILE} && ` +
      `printf 'manifest_url=%s\\nca_file=%s\\n' 'https://${GUEST_HOST_ADDRESS}:${port}/manifest.json' '${GATEWAY_CA_FILE}' >/data/config/update.conf`,
    serveFile: (name, file) => files.set(name.replace(/^\//, ''), file),
    setManifest: (m) => {
      manifest = m;
    },
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
        rmSync(caDir, { recursive: true, force: true });
      }),
  };
}
