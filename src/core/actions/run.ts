// Carrying out a catalogued action (catalogue.ts) over whatever Transport reaches the gateway:
// one rk64-action call, or for install an upload first and then the streamed JSON-lines events.
import { Rk64Error } from '../errors.js';
import type { Transport } from '../transport/transport.js';
import {
  doneText,
  installCommand,
  REMOTE,
  remoteCommand,
  SHORT_ACTION_TIMEOUT_MS,
  vpnConfigCommand,
  type GatewayAction,
} from './catalogue.js';
import { JsonLines, parseInstallEvent, type Downgrade } from './install-events.js';
import { asGatewayRoot, sudoRefusal } from '../privilege.js';
import { remoteFailure } from './remote-failure.js';
import { serialInstallRefusal } from './serial-bandwidth.js';
import { isHttpsUrl, isUrl } from './source.js';
import { localFileSize, uploadBundle, type UploadEvent } from './upload.js';

/** RAUC writes a few hundred MiB to eMMC; generous, the install survives a disconnect anyway. */
const INSTALL_TIMEOUT_MS = 60 * 60_000;

export type ActionEvent = UploadEvent | { phase: 'install'; percent: number; message: string };

export interface ActionOutcome {
  ok: boolean;
  /** One line for the operator. */
  message: string;
  /** A successful install: the new slot boots only after a reboot. */
  offerReboot: boolean;
  /** The gateway refused the bundle as not newer than what it runs (forcing it is the operator's call). */
  downgrade: Downgrade | null;
}

export interface RunActionOptions {
  onEvent?: (event: ActionEvent) => void;
  signal?: AbortSignal;
  /** Where bundles go on the gateway ($RK64_DATA/rk64/uploads). */
  uploadDir?: string;
  now?: () => number;
}

export async function runAction(
  transport: Transport,
  action: GatewayAction,
  options: RunActionOptions = {},
): Promise<ActionOutcome> {
  if (action.kind === 'install') return install(transport, action.source, action.allowDowngrade, options);
  if (action.kind === 'vpn-config') return vpnConfig(transport, action.source, options);
  const command = remoteCommand(action);
  const result = await transport.exec(asGatewayRoot(transport, command), {
    timeoutMs: SHORT_ACTION_TIMEOUT_MS,
    ...(options.signal ? { signal: options.signal } : {}),
  });
  if (result.exitCode === 0)
    return { ok: true, message: doneText(action), offerReboot: false, downgrade: null };
  return {
    ok: false,
    message:
      sudoRefusal(transport, REMOTE, result) ??
      remoteFailure(command, result.exitCode, result.stderr || result.stdout),
    offerReboot: false,
    downgrade: null,
  };
}

/** Upload the archive, then rk64-action vpn-config install: it checks and swaps in, or says why not. */
async function vpnConfig(
  transport: Transport,
  source: string,
  options: RunActionOptions,
): Promise<ActionOutcome> {
  const size = await localFileSize(source, {
    noun: 'VPN configuration archive',
    hint: 'give the path of the archive device-scripts/pki/make-vpn server wrote (docs/remote-access.md)',
  });
  const remote = await uploadBundle(transport, source, size, options);
  const command = vpnConfigCommand(remote);
  // A restart waits for openvpn to come up (systemd Type=notify, at most 90 s) and may restart
  // the previous configuration after it.
  const result = await transport.exec(command, {
    timeoutMs: 4 * SHORT_ACTION_TIMEOUT_MS,
    ...(options.signal ? { signal: options.signal } : {}),
  });
  if (result.exitCode === 0) {
    const said = result.stderr.trim().split('\n').pop() ?? '';
    return {
      ok: true,
      message: said.replace(/^rk64-action: /, '') || 'VPN configuration installed.',
      offerReboot: false,
      downgrade: null,
    };
  }
  return {
    ok: false,
    message: remoteFailure(command, result.exitCode, result.stderr || result.stdout),
    offerReboot: false,
    downgrade: null,
  };
}

async function install(
  transport: Transport,
  source: string,
  allowDowngrade: boolean,
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
    const size = await localFileSize(source);
    if (transport.kind === 'serial') throw serialInstallRefusal(size, transport.baud);
    remoteSource = await uploadBundle(transport, source, size, options);
  }
  return streamInstall(transport, installCommand(remoteSource, allowDowngrade), options);
}

async function streamInstall(
  transport: Transport,
  command: string,
  options: RunActionOptions,
): Promise<ActionOutcome> {
  let result: { ok: boolean; message: string; downgrade: Downgrade | null } | null = null;
  const lines = new JsonLines((value) => {
    const event = parseInstallEvent(value);
    if (event === null) return;
    if (event.event === 'progress') {
      options.onEvent?.({ phase: 'install', percent: event.percent, message: event.message });
    } else {
      result = { ok: event.ok, message: event.message, downgrade: event.downgrade };
    }
  });
  const exec = await transport.exec(asGatewayRoot(transport, command), {
    timeoutMs: INSTALL_TIMEOUT_MS,
    onStdout: (chunk) => lines.push(chunk),
    ...(options.signal ? { signal: options.signal } : {}),
  });
  lines.end();
  const final = result as { ok: boolean; message: string; downgrade: Downgrade | null } | null;
  if (final !== null) {
    const ok = final.ok && exec.exitCode === 0;
    return {
      ok,
      message: final.message || (ok ? 'Installed.' : 'Install failed.'),
      offerReboot: ok,
      downgrade: ok ? null : final.downgrade,
    };
  }
  if (exec.exitCode === 0) return { ok: true, message: 'Installed.', offerReboot: true, downgrade: null };
  return {
    ok: false,
    message:
      sudoRefusal(transport, REMOTE, exec) ??
      remoteFailure(command, exec.exitCode, exec.stderr || exec.stdout),
    offerReboot: false,
    downgrade: null,
  };
}
