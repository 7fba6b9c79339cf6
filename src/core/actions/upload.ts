// A local bundle goes to the gateway's upload folder before rk64-action installs it from there.
import { stat } from 'node:fs/promises';
import path from 'node:path';

import { Rk64Error } from '../errors.js';
import { shellQuote } from '../shell.js';
import type { Transport } from '../transport/transport.js';
import { SHORT_ACTION_TIMEOUT_MS } from './catalogue.js';
import { RateMeter } from './rate-meter.js';
import { lastLine } from './remote-failure.js';

/** Where bundles go on the gateway: $RK64_DATA/rk64/uploads. */
export const DEFAULT_UPLOAD_DIR = '/data/rk64/uploads';

export interface UploadEvent {
  phase: 'upload';
  bytesSent: number;
  totalBytes: number;
  bytesPerSecond: number;
}

export interface UploadOptions {
  onEvent?: (event: UploadEvent) => void;
  signal?: AbortSignal;
  uploadDir?: string;
  now?: () => number;
}

/** The size of a local file to upload: a bundle, or a VPN configuration archive (`what`). */
export async function localFileSize(
  source: string,
  what: { noun: string; hint: string } = {
    noun: 'Bundle',
    hint: 'give the path of a .raucb file on this machine or an https URL',
  },
): Promise<number> {
  try {
    const info = await stat(source);
    if (!info.isFile()) throw new Error('not a regular file');
    return info.size;
  } catch (error) {
    throw new Rk64Error(
      'usage',
      `${what.noun} ${source} cannot be read (${error instanceof Error ? error.message : String(error)})`,
      what.hint,
    );
  }
}

/**
 * Upload into the gateway's upload folder; resolves to the path on the gateway. The transport
 * writes under a `.part` name and renames when complete, so the gateway never sees half a bundle.
 */
export async function uploadBundle(
  transport: Transport,
  localPath: string,
  totalBytes: number,
  options: UploadOptions,
): Promise<string> {
  const dir = options.uploadDir ?? DEFAULT_UPLOAD_DIR;
  const name = path.basename(localPath).replace(/[^A-Za-z0-9._-]/g, '_');
  const final = `${dir}/${name}`;
  const signal = options.signal ? { signal: options.signal } : {};
  const mkdir = await transport.exec(`mkdir -p ${shellQuote(dir)}`, {
    timeoutMs: SHORT_ACTION_TIMEOUT_MS,
    ...signal,
  });
  if (mkdir.exitCode !== 0) {
    throw new Rk64Error(
      'remote',
      `Cannot create ${dir} on the gateway: ${lastLine(mkdir.stderr)}`,
      'check /data',
    );
  }
  const rate = new RateMeter(options.now ?? Date.now);
  options.onEvent?.({ phase: 'upload', bytesSent: 0, totalBytes, bytesPerSecond: 0 });
  await transport.upload(localPath, final, {
    ...signal,
    onProgress: ({ bytesSent }) =>
      options.onEvent?.({ phase: 'upload', bytesSent, totalBytes, bytesPerSecond: rate.sample(bytesSent) }),
  });
  return final;
}
