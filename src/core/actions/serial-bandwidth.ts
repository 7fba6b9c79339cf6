// What a bundle upload costs on a serial line, and the refusal that says so.
import { Rk64Error } from '../errors.js';
import { formatBytes, formatDuration } from '../format.js';

/**
 * Seconds an upload of `bytes` takes over a serial line: 8N1 puts 10 bits on the wire per byte,
 * and a console carries text only, so the bundle travels base64-encoded (4/3 the size).
 */
export function serialTransferSeconds(bytes: number, baud: number): number {
  return (bytes * (4 / 3) * 10) / baud;
}

/** `baud` is the transport's line rate (Transport.baud), undefined when the transport does not know it. */
export function serialInstallRefusal(bytes: number, baud: number | undefined): Rk64Error {
  const cost =
    baud === undefined
      ? `uploading ${formatBytes(bytes)} over a serial line of unknown rate`
      : `uploading ${formatBytes(bytes)} at ${baud} baud takes about ${formatDuration(
          serialTransferSeconds(bytes, baud),
        )} (base64 over 8N1)`;
  return new Rk64Error(
    'usage',
    `Install over serial refused: ${cost}`,
    'connect over SSH or the VPN (rk64 tui ssh://root@HOST), or give an https URL the gateway can download',
  );
}
