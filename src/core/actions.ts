// The console's actions on a gateway, React-free: each one is a call of the device's `rk64-action`
// (device-scripts/rootfs/rk64-action, contract in /docs/services.md) over whatever Transport
// reaches the gateway. The dashboard controller and tests drive these; the UI only renders.
import { stat } from 'node:fs/promises';
import path from 'node:path';

import { Rk64Error } from './errors.js';
import { formatBytes, formatDuration } from './format.js';
import { shellQuote } from './shell.js';
import type { GatewayStatus, SlotName } from './status/schema.js';
import type { Transport } from './transport/transport.js';

export type SlotRef = 'booted' | 'other';

export type GatewayAction =
  | { kind: 'mark'; verdict: 'good' | 'bad'; slot: SlotRef }
  | { kind: 'ssh-wan'; enable: boolean }
  | { kind: 'reboot' }
  /** `source` is a local bundle file (uploaded first) or an https URL the gateway downloads. */
  | { kind: 'install'; source: string };

export type ActionEvent =
  | { phase: 'upload'; bytesSent: number; totalBytes: number; bytesPerSecond: number }
  | { phase: 'install'; percent: number; message: string };

export interface ActionOutcome {
  ok: boolean;
  /** One line for the operator. */
  message: string;
  /** A successful install: the new slot boots only after a reboot. */
  offerReboot: boolean;
}

/** `rk64-action last`: the last install, mirrored to $RK64_DATA/rk64/last-action.json. */
export interface LastAction {
  action: string;
  startedAt: string | null;
  finishedAt: string | null;
  percent: number | null;
  message: string | null;
  ok: boolean | null;
}

export interface RunActionOptions {
  onEvent?: (event: ActionEvent) => void;
  signal?: AbortSignal;
  /** Where bundles go on the gateway ($RK64_DATA/rk64/uploads). */
  uploadDir?: string;
  now?: () => number;
}

export const DEFAULT_UPLOAD_DIR = '/data/rk64/uploads';
/** UART2 on the Rock64. */
export const DEFAULT_SERIAL_BAUD = 1_500_000;
const SHORT_ACTION_TIMEOUT_MS = 60_000;
/** RAUC writes a few hundred MiB to eMMC; generous, the install survives a disconnect anyway. */
const INSTALL_TIMEOUT_MS = 60 * 60_000;

const REMOTE = 'rk64-action';

/** Which slot a booted/other reference means on this gateway right now, or null when unknown. */
export function resolveSlot(status: GatewayStatus | null, slot: SlotRef): SlotName | null {
  const booted = status?.rauc?.bootedSlot ?? null;
  if (booted === null) return null;
  if (slot === 'booted') return booted;
  return booted === 'A' ? 'B' : 'A';
}

/**
 * What rk64-action mark-good|mark-bad does to the U-Boot boot state (RAUC's U-Boot backend plus
 * rk64-action's BOOT_ORDER repair), in the operator's words.
 */
function markEffect(verdict: 'good' | 'bad', slot: SlotRef): string {
  if (verdict === 'bad') {
    const then =
      slot === 'booted'
        ? 'the next reboot starts the other slot, and U-Boot will not boot this one again'
        : 'U-Boot will not boot it, not even as a fallback,';
    return `its boot attempts drop to 0 and it leaves the boot order: ${then} until it is marked good or reinstalled`;
  }
  const restored =
    'its boot attempts go back to 3 and it is in the boot order again (appended after the first slot if it was taken out; which slot boots first does not change)';
  return slot === 'booted'
    ? `${restored}; this installation is recorded as committed`
    : `${restored}, so U-Boot can fall back to it`;
}

/** The confirmation text: names the gateway and what will change. */
export function describeAction(action: GatewayAction, status: GatewayStatus | null, gateway: string): string {
  switch (action.kind) {
    case 'mark': {
      const name = resolveSlot(status, action.slot);
      const slot = name === null ? `the ${action.slot} slot` : `slot ${name} (${action.slot})`;
      return `Mark ${slot} ${action.verdict} on ${gateway}: ${markEffect(action.verdict, action.slot)}.`;
    }
    case 'ssh-wan':
      return action.enable
        ? `Turn SSH on the WAN port ON on ${gateway}: the firewall will accept tcp/22 on eth0 from anywhere.`
        : `Turn SSH on the WAN port OFF on ${gateway}: the firewall will drop tcp/22 on eth0 (LAN and VPN keep SSH).`;
    case 'reboot':
      return `Reboot ${gateway} now: the LAN loses DHCP, DNS and routing until it is back (about a minute).`;
    case 'install': {
      const target = resolveSlot(status, 'other');
      const into = target === null ? 'the other slot' : `slot ${target}`;
      return `Install ${action.source} on ${gateway} into ${into}: the running slot stays untouched; the new one boots after a reboot.`;
    }
  }
}

export function actionTitle(action: GatewayAction): string {
  switch (action.kind) {
    case 'mark':
      return `mark ${action.slot} slot ${action.verdict}`;
    case 'ssh-wan':
      return `SSH on WAN ${action.enable ? 'on' : 'off'}`;
    case 'reboot':
      return 'reboot';
    case 'install':
      return 'install bundle';
  }
}

/**
 * The scheme rule, the same on the console and the device (rk64-action's is_url and
 * is_https_url; docs/security.md): a source that starts with `scheme://` (an RFC 3986 scheme: a
 * letter, then letters, digits, `+`, `-`, `.`; any case) is a URL, and of those only https is
 * installed (the gateway fetches it). Anything else is a local file name. So `HTTPS://host/b`
 * is an https URL on both ends, and `ftp://x` or `file:///etc/passwd` is refused, never uploaded.
 */
export function isUrl(source: string): boolean {
  return /^[A-Za-z][A-Za-z0-9+.-]*:\/\//.test(source);
}

export function isHttpsUrl(source: string): boolean {
  return /^https:\/\/[^\s/?#]+(?:[/?#]\S*)?$/i.test(source);
}

/** Baud rate from a serial transport description (`serial:/dev/ttyUSB0@1500000`). */
export function serialBaud(description: string): number {
  const match = /@(\d+)\s*$/.exec(description);
  return match ? Number(match[1]) : DEFAULT_SERIAL_BAUD;
}

/**
 * Seconds an upload of `bytes` takes over a serial line: 8N1 puts 10 bits on the wire per byte,
 * and a console carries text only, so the bundle travels base64-encoded (4/3 the size).
 */
export function serialTransferSeconds(bytes: number, baud: number): number {
  return (bytes * (4 / 3) * 10) / baud;
}

export function serialInstallRefusal(bytes: number, baud: number): Rk64Error {
  return new Rk64Error(
    'usage',
    `Install over serial refused: uploading ${formatBytes(bytes)} at ${baud} baud takes about ${formatDuration(
      serialTransferSeconds(bytes, baud),
    )} (base64 over 8N1)`,
    'connect over SSH or the VPN (rk64 tui ssh://root@HOST), or give an https URL the gateway can download',
  );
}

export async function runAction(
  transport: Transport,
  action: GatewayAction,
  options: RunActionOptions = {},
): Promise<ActionOutcome> {
  switch (action.kind) {
    case 'mark': {
      const verb = action.verdict === 'good' ? 'mark-good' : 'mark-bad';
      return simpleAction(transport, `${REMOTE} ${verb} ${action.slot}`, options, {
        ok: `Slot (${action.slot}) marked ${action.verdict}.`,
      });
    }
    case 'ssh-wan':
      return simpleAction(transport, `${REMOTE} ssh-wan ${action.enable ? 'on' : 'off'}`, options, {
        ok: `SSH on the WAN port is now ${action.enable ? 'on' : 'off'}.`,
      });
    case 'reboot':
      return simpleAction(transport, `${REMOTE} reboot`, options, {
        ok: 'The gateway reboots in about a second; the console reconnects when it is back.',
      });
    case 'install':
      return install(transport, action.source, options);
  }
}

async function simpleAction(
  transport: Transport,
  command: string,
  options: RunActionOptions,
  text: { ok: string },
): Promise<ActionOutcome> {
  const result = await transport.exec(command, {
    timeoutMs: SHORT_ACTION_TIMEOUT_MS,
    ...(options.signal ? { signal: options.signal } : {}),
  });
  if (result.exitCode === 0) return { ok: true, message: text.ok, offerReboot: false };
  return {
    ok: false,
    message: remoteFailure(command, result.exitCode, result.stderr || result.stdout),
    offerReboot: false,
  };
}

/** One line explaining a non-zero rk64-action exit (codes from the rk64-action contract). */
export function remoteFailure(command: string, exitCode: number, output: string): string {
  const detail = lastLine(output);
  switch (exitCode) {
    case 4:
      return `${command}: the gateway refused (not root); connect as root (ssh://root@HOST)`;
    case 2:
      return `${command}: the gateway's rk64-action does not know this request (${detail || 'usage error'}); update the gateway`;
    case 127:
      return `${command}: rk64-action is not on the gateway's PATH; the gateway runs an image without the rk64 device scripts`;
    default:
      return `${command} failed (exit ${exitCode})${detail ? `: ${detail}` : ''}`;
  }
}

function lastLine(text: string): string {
  const lines = text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '');
  return lines.at(-1) ?? '';
}

async function install(
  transport: Transport,
  source: string,
  options: RunActionOptions,
): Promise<ActionOutcome> {
  let remoteSource = source;
  if (isUrl(source) && !isHttpsUrl(source)) {
    throw new Rk64Error(
      'usage',
      `${source} is not an https URL: the gateway fetches bundles over https only`,
      'give an https:// URL, or the path of a .raucb file on this machine (./ before a name that holds ://)',
    );
  }
  if (!isUrl(source)) {
    const size = await localBundleSize(source);
    if (transport.kind === 'serial') throw serialInstallRefusal(size, serialBaud(transport.description));
    remoteSource = await uploadBundle(transport, source, size, options);
  }
  return streamInstall(transport, remoteSource, options);
}

async function localBundleSize(source: string): Promise<number> {
  try {
    const info = await stat(source);
    if (!info.isFile()) throw new Error('not a regular file');
    return info.size;
  } catch (error) {
    throw new Rk64Error(
      'usage',
      `Bundle ${source} cannot be read (${error instanceof Error ? error.message : String(error)})`,
      'give the path of a .raucb file on this machine or an https URL',
    );
  }
}

/**
 * Upload into the gateway's upload folder. The transport writes under a `.part` name and renames
 * when complete, so the gateway never sees half a bundle.
 */
async function uploadBundle(
  transport: Transport,
  localPath: string,
  totalBytes: number,
  options: RunActionOptions,
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

async function streamInstall(
  transport: Transport,
  remoteSource: string,
  options: RunActionOptions,
): Promise<ActionOutcome> {
  const command = `${REMOTE} install ${shellQuote(remoteSource)}`;
  let result: { ok: boolean; message: string } | null = null;
  const lines = new JsonLines((value) => {
    const event = parseInstallEvent(value);
    if (event === null) return;
    if (event.event === 'progress') {
      options.onEvent?.({ phase: 'install', percent: event.percent, message: event.message });
    } else {
      result = { ok: event.ok, message: event.message };
    }
  });
  const exec = await transport.exec(command, {
    timeoutMs: INSTALL_TIMEOUT_MS,
    onStdout: (chunk) => lines.push(chunk),
    ...(options.signal ? { signal: options.signal } : {}),
  });
  lines.end();
  const final = result as { ok: boolean; message: string } | null;
  if (final !== null) {
    const ok = final.ok && exec.exitCode === 0;
    return { ok, message: final.message || (ok ? 'Installed.' : 'Install failed.'), offerReboot: ok };
  }
  if (exec.exitCode === 0) return { ok: true, message: 'Installed.', offerReboot: true };
  return {
    ok: false,
    message: remoteFailure(command, exec.exitCode, exec.stderr || exec.stdout),
    offerReboot: false,
  };
}

type InstallEvent =
  { event: 'progress'; percent: number; message: string } | { event: 'result'; ok: boolean; message: string };

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function parseInstallEvent(value: unknown): InstallEvent | null {
  if (!isRecord(value)) return null;
  const message = typeof value.message === 'string' ? value.message : '';
  if (value.event === 'progress' && typeof value.percent === 'number') {
    return { event: 'progress', percent: Math.min(100, Math.max(0, value.percent)), message };
  }
  if (value.event === 'result' && typeof value.ok === 'boolean')
    return { event: 'result', ok: value.ok, message };
  return null;
}

/** Splits streamed stdout into JSON lines; lines that are not JSON (console noise) are skipped. */
export class JsonLines {
  private buffer = '';
  constructor(private readonly onValue: (value: unknown) => void) {}

  push(chunk: string): void {
    this.buffer += chunk;
    let newline = this.buffer.indexOf('\n');
    while (newline >= 0) {
      this.emit(this.buffer.slice(0, newline));
      this.buffer = this.buffer.slice(newline + 1);
      newline = this.buffer.indexOf('\n');
    }
  }

  end(): void {
    this.emit(this.buffer);
    this.buffer = '';
  }

  private emit(line: string): void {
    const trimmed = line.trim();
    if (!trimmed.startsWith('{')) return;
    try {
      this.onValue(JSON.parse(trimmed));
    } catch {
      // Not a JSON line (an interleaved kernel message over serial): not ours.
    }
  }
}

/** Bytes per second over the last ~2 s of samples. */
export class RateMeter {
  private samples: { at: number; bytes: number }[] = [];
  constructor(
    private readonly now: () => number,
    private readonly windowMs = 2000,
  ) {}

  sample(bytes: number): number {
    const at = this.now();
    this.samples.push({ at, bytes });
    while (this.samples.length > 2 && at - (this.samples[0]?.at ?? at) > this.windowMs) this.samples.shift();
    const first = this.samples[0];
    if (!first || at === first.at) return 0;
    return ((bytes - first.bytes) * 1000) / (at - first.at);
  }
}

/** `rk64-action last`, re-read after a reconnect to learn how an interrupted install ended. */
export async function readLastAction(transport: Transport, signal?: AbortSignal): Promise<LastAction | null> {
  const result = await transport.exec(`${REMOTE} last`, {
    timeoutMs: SHORT_ACTION_TIMEOUT_MS,
    ...(signal ? { signal } : {}),
  });
  if (result.exitCode !== 0) {
    if (result.stdout.trim() === '' && result.exitCode === 3) return null;
    throw new Rk64Error(
      'remote',
      remoteFailure(`${REMOTE} last`, result.exitCode, result.stderr || result.stdout),
    );
  }
  return parseLastAction(result.stdout);
}

export function parseLastAction(stdout: string): LastAction | null {
  const text = stdout.trim();
  if (text === '' || text === 'null' || text === '{}') return null;
  let value: unknown;
  try {
    value = JSON.parse(text.slice(text.indexOf('{')));
  } catch {
    throw new Rk64Error('protocol', `rk64-action last printed something that is not JSON: ${lastLine(text)}`);
  }
  if (!isRecord(value) || typeof value.action !== 'string') {
    throw new Rk64Error('protocol', 'rk64-action last printed JSON without an "action" field');
  }
  const str = (v: unknown): string | null => (typeof v === 'string' ? v : null);
  return {
    action: value.action,
    startedAt: str(value.startedAt),
    finishedAt: str(value.finishedAt),
    percent: typeof value.percent === 'number' ? value.percent : null,
    message: str(value.message),
    ok: typeof value.ok === 'boolean' ? value.ok : null,
  };
}

export function describeLastAction(last: LastAction | null): string {
  if (last === null) return 'No install has run on this gateway yet.';
  if (last.finishedAt === null || last.ok === null) {
    return `${last.action} still running on the gateway (${last.percent ?? 0}%${last.message ? `: ${last.message}` : ''})`;
  }
  return `${last.action} ${last.ok ? 'succeeded' : 'FAILED'} at ${last.finishedAt}${last.message ? `: ${last.message}` : ''}`;
}
