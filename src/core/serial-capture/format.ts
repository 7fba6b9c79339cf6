// The capture file format of the serial flight recorder (docs/transports.md, "Serial capture").
// Text, one record per line, safe to `cat`, `less` or `grep` while it grows:
//
//   # rk64 serial capture 1 target=<name> device=<path> baud=<n>     header, and the recorder's notes
//   2026-12-06T05:12:25.123Z | U-Boot 2023.01 (Jun 22 2026)\r           a line of the wire, ended by LF
//   2026-12-06T05:12:40.004Z + rk64-gateway login:\x20                  a fragment: its line goes on
//                                                                        in the next record
//
// The time is when the record's first byte arrived. The text after "| " or "+ " is the wire's
// bytes with every byte that could act on a terminal escaped: `\\`, `\r`, `\t`, `\e` (ESC), `\xNN`
// for other control bytes and bytes that are not valid UTF-8, `\uXXXX` for the Unicode characters
// printable() hides (C1 controls, bidi overrides, line separators), and a trailing space as `\x20`
// (so trimming editors keep it). unescapeBytes() turns the text back into the exact bytes.

/** What the recorder writes first in every file. */
export const CAPTURE_MAGIC = '# rk64 serial capture 1';

export type CaptureRecord =
  { kind: 'line' | 'fragment'; time: Date; bytes: Buffer } | { kind: 'note'; text: string };

// Non-ASCII characters that must not reach a terminal as they are (as printable.ts).
const HIDDEN = /[\u0080-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/;
const fatal = new TextDecoder('utf-8', { fatal: true });

function hex(byte: number): string {
  return `\\x${byte.toString(16).padStart(2, '0')}`;
}

/** Length of the UTF-8 sequence a lead byte starts (0: not a lead byte). */
function sequenceLength(lead: number): number {
  if (lead >= 0xc2 && lead <= 0xdf) return 2;
  if (lead >= 0xe0 && lead <= 0xef) return 3;
  if (lead >= 0xf0 && lead <= 0xf4) return 4;
  return 0;
}

/** The bytes as one printable line (no control character, no newline). */
export function escapeBytes(bytes: Uint8Array): string {
  let out = '';
  let i = 0;
  while (i < bytes.length) {
    const b = bytes[i] ?? 0;
    if (b >= 0x20 && b < 0x7f) {
      out += b === 0x5c ? '\\\\' : String.fromCharCode(b);
      i += 1;
    } else if (b < 0x80) {
      out += b === 0x0d ? '\\r' : b === 0x09 ? '\\t' : b === 0x1b ? '\\e' : hex(b);
      i += 1;
    } else {
      const length = sequenceLength(b);
      let char: string | undefined;
      if (length > 0 && i + length <= bytes.length) {
        try {
          char = fatal.decode(bytes.subarray(i, i + length));
        } catch {
          char = undefined;
        }
      }
      if (char === undefined) {
        out += hex(b);
        i += 1;
      } else {
        const code = char.codePointAt(0) ?? 0;
        out += HIDDEN.test(char) ? `\\u${code.toString(16).padStart(4, '0')}` : char;
        i += length;
      }
    }
  }
  return out.endsWith(' ') ? `${out.slice(0, -1)}\\x20` : out;
}

/** The exact bytes an escaped text stands for; undefined when the text is not a valid escape. */
export function unescapeBytes(text: string): Buffer | undefined {
  const parts: Buffer[] = [];
  let plain = '';
  const flush = (): void => {
    if (plain !== '') parts.push(Buffer.from(plain, 'utf8'));
    plain = '';
  };
  for (let i = 0; i < text.length; i += 1) {
    const c = text[i] ?? '';
    if (c !== '\\') {
      plain += c;
      continue;
    }
    const next = text[i + 1];
    if (next === '\\') plain += '\\';
    else if (next === 'r') plain += '\r';
    else if (next === 't') plain += '\t';
    else if (next === 'e') plain += '\x1b';
    else if (next === 'x' && /^[0-9a-f]{2}$/.test(text.slice(i + 2, i + 4))) {
      flush();
      parts.push(Buffer.from([parseInt(text.slice(i + 2, i + 4), 16)]));
      i += 2;
    } else if (next === 'u' && /^[0-9a-f]{4}$/.test(text.slice(i + 2, i + 6))) {
      plain += String.fromCharCode(parseInt(text.slice(i + 2, i + 6), 16));
      i += 4;
    } else return undefined;
    i += 1;
  }
  flush();
  return Buffer.concat(parts);
}

/** One record as a line of the file, newline included. */
export function formatRecord(record: CaptureRecord): string {
  if (record.kind === 'note') return `# ${escapeBytes(Buffer.from(record.text, 'utf8'))}\n`;
  return `${record.time.toISOString()} ${record.kind === 'line' ? '|' : '+'} ${escapeBytes(record.bytes)}\n`;
}

const RECORD_RE = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z) ([|+]) (.*)$/;

/**
 * The records of a capture file's text. A line that is no record (a torn last line after a crash,
 * a file edited by hand) is skipped and counted, never fatal.
 */
export function parseCapture(text: string): { records: CaptureRecord[]; skipped: number } {
  const records: CaptureRecord[] = [];
  let skipped = 0;
  const lines = text.split('\n');
  // A file that ends without a newline has a torn last record.
  if (lines.at(-1) === '') lines.pop();
  else if (lines.length > 0) {
    lines.pop();
    skipped += 1;
  }
  for (const line of lines) {
    if (line.startsWith('#')) {
      records.push({ kind: 'note', text: line.replace(/^# ?/, '') });
      continue;
    }
    const match = RECORD_RE.exec(line);
    const time = match ? new Date(match[1] ?? '') : undefined;
    const bytes = match ? unescapeBytes(match[3] ?? '') : undefined;
    if (!match || !time || Number.isNaN(time.getTime()) || bytes === undefined) {
      skipped += 1;
      continue;
    }
    records.push({ kind: match[2] === '|' ? 'line' : 'fragment', time, bytes });
  }
  return { records, skipped };
}

export interface CaptureLine {
  /** When the line's first byte arrived. */
  time: Date;
  /** The wire's bytes of the line, without its LF. */
  bytes: Buffer;
  /** False for the last line when the capture ends inside it (a prompt). */
  complete: boolean;
}

/** The wire's lines: fragments joined with the record that finishes them. */
export function captureLines(records: readonly CaptureRecord[]): CaptureLine[] {
  const lines: CaptureLine[] = [];
  let open: { time: Date; parts: Buffer[] } | undefined;
  for (const record of records) {
    if (record.kind === 'note') continue;
    open ??= { time: record.time, parts: [] };
    open.parts.push(record.bytes);
    if (record.kind === 'line') {
      lines.push({ time: open.time, bytes: Buffer.concat(open.parts), complete: true });
      open = undefined;
    }
  }
  if (open) lines.push({ time: open.time, bytes: Buffer.concat(open.parts), complete: false });
  return lines;
}
