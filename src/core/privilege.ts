// The gateway's two console programs need root (RAUC's D-Bus policy, the boot state, /data). Root
// has no SSH login; the operator account runs exactly these two through sudo (the sudoers drop-in
// device-scripts/sudoers.d/rk64-operator). `sudo -n`: never a password prompt, a refusal instead.
import type { ExecResult, Transport } from './transport/transport.js';

/** Where the gateway's sudo rule for the operator is (named in every refusal). */
export const SUDOERS_DROPIN = '/etc/sudoers.d/rk64-operator';

/** Whether commands on this transport run as someone other than root. */
export function needsSudo(transport: Pick<Transport, 'user'>): boolean {
  return transport.user !== undefined && transport.user !== 'root';
}

/** `command` as the transport's user runs it as root: through `sudo -n` unless it is root. */
export function asGatewayRoot(transport: Pick<Transport, 'user'>, command: string): string {
  return needsSudo(transport) ? `sudo -n ${command}` : command;
}

/**
 * One line when sudo itself failed (missing, or refused without a password), null otherwise (the
 * program ran; its own exit code and output apply).
 */
export function sudoRefusal(
  transport: Pick<Transport, 'user' | 'description'>,
  program: string,
  result: Pick<ExecResult, 'exitCode' | 'stderr'>,
): string | null {
  if (!needsSudo(transport) || result.exitCode === 0) return null;
  const line =
    result.stderr
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l !== '')
      .at(-1) ?? '';
  const user = transport.user ?? '';
  if (result.exitCode === 127 && /\bsudo\b.*not found|sudo: command not found/.test(line)) {
    return `${transport.description}: sudo is not installed on the gateway, so ${user} cannot run ${program} as root; the gateway needs sudo and the sudoers drop-in ${SUDOERS_DROPIN}`;
  }
  if (/^sudo: /.test(line)) {
    return `${transport.description}: sudo refused ${program} for ${user} (${line.replace(/^sudo: /, '')}); the gateway's sudoers drop-in ${SUDOERS_DROPIN} must allow ${user} to run rk64-status and rk64-action without a password`;
  }
  return null;
}
