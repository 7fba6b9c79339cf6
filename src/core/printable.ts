// Text from a gateway (status fields, remote stderr, RAUC messages, lease host names, serial
// output) is untrusted: a control character in it would reach the operator's terminal and could
// set its title (OSC 0), write its clipboard (OSC 52), hide or rewrite lines (SGR 8, CSI 2J,
// cursor moves, CR, BS) or reorder what is read (bidi overrides). printable() turns every such
// character into a visible escape; the terminal then shows the bytes instead of obeying them.
//
// Where it is applied (docs/security.md): Rk64Error's constructor (every error and hint line),
// showStatus() (the only way to get a status document the text renderer and the dashboard
// accept: see the Shown type), and the dashboard controller's update() (every string in the
// dashboard's state: notices, dialogs, progress messages, errors). `--json` prints the exact data;
// JSON escapes C0 and DEL itself.

/**
 * C0 controls, DEL, C1 controls, and the Unicode characters that reorder or hide text: bidi
 * embeddings, overrides, isolates and marks, and the line/paragraph separators.
 */
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const UNPRINTABLE = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;

const NAMED: Record<string, string> = { '\n': '\\n', '\r': '\\r', '\t': '\\t', '\x1b': '\\e', '\b': '\\b' };

function escape(char: string): string {
  const named = NAMED[char];
  if (named !== undefined) return named;
  const code = char.charCodeAt(0);
  return code <= 0xff
    ? `\\x${code.toString(16).padStart(2, '0')}`
    : `\\u${code.toString(16).padStart(4, '0')}`;
}

/** The text with every control character shown as a visible escape (`\e`, `\r`, `\x9b`, `\u202e`). */
export function printable(text: string): string {
  return text.replace(UNPRINTABLE, escape);
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null) return false;
  const proto = Object.getPrototypeOf(value) as unknown;
  return proto === Object.prototype || proto === null;
}

/**
 * Every string in a JSON-like value (object keys too) made printable. Class instances (an
 * Rk64Error, whose text its constructor already made printable) are kept as they are.
 */
export function printableDeep<T>(value: T): T {
  if (typeof value === 'string') return printable(value) as T;
  if (Array.isArray(value)) return value.map((v: unknown) => printableDeep(v)) as T;
  if (isPlainObject(value)) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[printable(k)] = printableDeep(v);
    // Symbol-keyed properties are the console's own annotations (JSON has no symbols): kept.
    for (const key of Object.getOwnPropertySymbols(value)) {
      const descriptor = Object.getOwnPropertyDescriptor(value, key);
      if (descriptor) Object.defineProperty(out, key, descriptor);
    }
    return out as T;
  }
  return value;
}

declare const shownBrand: unique symbol;

/**
 * A value whose every string is printable. Renderers that write gateway data to a terminal take
 * Shown<GatewayStatus>, so the type checker refuses a status document that skipped printableDeep.
 */
export type Shown<T> = T & { readonly [shownBrand]: true };

/** The value, made printable for a terminal (idempotent). */
export function shown<T>(value: T): Shown<T> {
  return printableDeep(value) as Shown<T>;
}
