// The serial flight recorder: the capture file format (escaping hostile bytes, reading torn files),
// the recorder (records, fragments, rotation, paths) and boot splitting with stage recognition
// from a recorded real capture: test/fixtures/serial/boot-b-fallback.log was recorded by
// `rk64 capture serial:<pty>@115200 --boots 4` on the test gateway's serial pty while the gateway
// was rebooted with BOOT_ORDER="B A" and an empty slot B: three boots of B that cannot load a
// kernel (boot.scr resets), then U-Boot falls back to A, which boots to its login prompt.
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';

import { splitBoots, summarizeBoots, BootTracker } from '../../../src/core/serial-capture/boots.js';
import {
  captureLines,
  escapeBytes,
  formatRecord,
  parseCapture,
  unescapeBytes,
} from '../../../src/core/serial-capture/format.js';
import { describeBootEvent } from '../../../src/core/serial-capture/follow.js';
import { captureDirName, captureRoot, CaptureRecorder } from '../../../src/core/serial-capture/recorder.js';
import { repoRoot } from '../../lib/exec.js';
import { seededRandom } from '../../lib/seeded-random.js';

const fixture = readFileSync(join(repoRoot, 'test/fixtures/serial/boot-b-fallback.log'), 'utf8');

// Anything a terminal would obey: C0 but LF, DEL, C1, bidi controls and line separators.
const TERMINAL_ACTIVE =
  // eslint-disable-next-line no-control-regex -- matching control characters is the point
  /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/;

const dirs: string[] = [];
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'rk64-capture-'));
  dirs.push(dir);
  return dir;
}
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

describe('capture format', () => {
  const hostile: [string, Buffer][] = [
    ['NUL and BEL', Buffer.from([0x41, 0x00, 0x07, 0x42])],
    ['an OSC 52 clipboard write', Buffer.from('\x1b]52;c;cm0gLXJmIC8K\x07x')],
    ['a screen clear and cursor move', Buffer.from('\x1b[2J\x1b[H\x1b[8mhidden')],
    [
      'invalid UTF-8',
      Buffer.from([0xff, 0xfe, 0xc3, 0x28, 0xc0, 0x80, 0xed, 0xa0, 0x80, 0xf4, 0x90, 0x80, 0x80]),
    ],
    ['a C1 CSI as UTF-8', Buffer.from('a\u009b2Jb', 'utf8')],
    ['a bidi override', Buffer.from('abc\u202edcba', 'utf8')],
    ['CR, BS, TAB, DEL and a backslash', Buffer.from('a\r\b\t\x7f\\x41')],
    ['a torn UTF-8 sequence at the end', Buffer.from([0x61, 0xe2, 0x82])],
    ['a trailing space', Buffer.from('login: ')],
  ];
  it.each(hostile)('%s: escaped to one printable line, unescaped to the same bytes', (_what, bytes) => {
    const text = escapeBytes(bytes);
    expect(text).not.toMatch(TERMINAL_ACTIVE);
    expect(text).not.toContain('\n');
    expect(text.endsWith(' ')).toBe(false);
    expect(unescapeBytes(text)?.equals(bytes)).toBe(true);
  });

  it('keeps readable text readable (UTF-8 included)', () => {
    expect(escapeBytes(Buffer.from('Grüße – U-Boot 2023.01 (Jun 22)', 'utf8'))).toBe(
      'Grüße – U-Boot 2023.01 (Jun 22)',
    );
  });

  it('round-trips random bytes (seeded)', () => {
    const seed = 0x5eed18;
    const random = seededRandom(seed);
    for (let n = 0; n < 300; n += 1) {
      const bytes = Buffer.from(
        Array.from({ length: Math.floor(random() * 64) }, () => Math.floor(random() * 256)),
      );
      const text = escapeBytes(bytes);
      expect(text, `seed ${seed} case ${n}`).not.toMatch(TERMINAL_ACTIVE);
      expect(unescapeBytes(text)?.toString('hex'), `seed ${seed} case ${n}`).toBe(bytes.toString('hex'));
    }
  });

  it('reads records back; a torn last line and garbage lines are skipped, not fatal', () => {
    const time = new Date('2026-12-06T05:17:48.196Z');
    const text =
      '# rk64 serial capture 1 target=x\n' +
      formatRecord({ kind: 'line', time, bytes: Buffer.from('U-Boot 2023.01\r') }) +
      'garbage that is no record\n' +
      '2026-12-06T05:17:48.196Z | bad escape \\q\n' +
      formatRecord({ kind: 'fragment', time, bytes: Buffer.from('gw login: ') }) +
      formatRecord({ kind: 'line', time, bytes: Buffer.from('root') }) +
      '2026-12-06T05:17:49.000Z | torn rec';
    const { records, skipped } = parseCapture(text);
    expect(skipped).toBe(3);
    expect(records.map((r) => r.kind)).toEqual(['note', 'line', 'fragment', 'line']);
    const lines = captureLines(records);
    expect(lines.map((l) => l.bytes.toString())).toEqual(['U-Boot 2023.01\r', 'gw login: root']);
  });
});

describe('capture recorder', () => {
  const env = (dir: string): NodeJS.ProcessEnv => ({ XDG_STATE_HOME: dir, HOME: '/nonexistent' });

  it('puts the file under $XDG_STATE_HOME/rk64/serial/<target>, private, with the target made a path component', () => {
    expect(captureDirName('serial:/dev/ttyUSB0@1500000')).toBe('serial_dev_ttyUSB0_1500000');
    expect(captureDirName('../../etc/passwd')).toBe('etc_passwd');
    expect(captureDirName('..')).toBe('serial');
    expect(captureRoot({ HOME: '/home/op' })).toBe('/home/op/.local/state/rk64/serial');
    expect(captureRoot({ HOME: '/home/op', XDG_STATE_HOME: 'relative' })).toBe(
      '/home/op/.local/state/rk64/serial',
    );
    const dir = tempDir();
    const recorder = new CaptureRecorder({ target: 'gw/1', device: '/dev/x', baud: 115200, env: env(dir) });
    recorder.close();
    expect(recorder.path.startsWith(join(dir, 'rk64', 'serial', 'gw_1') + '/')).toBe(true);
    expect(recorder.path).toMatch(/\/\d{4}-\d\d-\d\dT\d\d-\d\d-\d\d\.\d{3}Z\.log$/);
    expect(statSync(recorder.path).mode & 0o777).toBe(0o600);
    expect(statSync(join(dir, 'rk64', 'serial', 'gw_1')).mode & 0o777).toBe(0o700);
  });

  it('records every byte in lines, a prompt after silence, a long line in pieces', async () => {
    const dir = tempDir();
    const recorder = new CaptureRecorder({
      target: 't',
      device: '/dev/x',
      baud: 1,
      env: env(dir),
      idleFlushMs: 20,
    });
    const wire = Buffer.concat([
      Buffer.from('U-Boot 2023.01\r\nDRAM:'),
      Buffer.from('  1 GiB\r\n\x00\x1b[2J\xff\n'),
      Buffer.from('x'.repeat(9000)),
      Buffer.from('\ngw login: '),
    ]);
    recorder.write(wire.subarray(0, 20));
    recorder.write(wire.subarray(20, 40));
    recorder.write(wire.subarray(40));
    await new Promise((r) => setTimeout(r, 80));
    recorder.close();
    const file = readFileSync(recorder.path, 'utf8');
    expect(file).not.toMatch(TERMINAL_ACTIVE);
    const { records, skipped } = parseCapture(file);
    expect(skipped).toBe(0);
    const data = records.filter((r) => r.kind !== 'note');
    expect(data.map((r) => r.kind)).toEqual([
      'line',
      'line',
      'line',
      'fragment',
      'fragment',
      'line',
      'fragment',
    ]);
    // Nothing lost, nothing added: the records put back together are the wire's bytes.
    const joined = Buffer.concat(
      data.flatMap((r) =>
        r.kind === 'line' ? [r.bytes, Buffer.from('\n')] : r.kind === 'fragment' ? [r.bytes] : [],
      ),
    );
    expect(joined.equals(wire)).toBe(true);
  });

  it('rotates by size: the run keeps its newest parts, the oldest is dropped', () => {
    const dir = tempDir();
    const recorder = new CaptureRecorder({
      target: 't',
      device: '/dev/x',
      baud: 1,
      env: env(dir),
      maxFileBytes: 2000,
      partsKept: 3,
    });
    for (let n = 0; n < 200; n += 1)
      recorder.write(Buffer.from(`line ${String(n).padStart(3, '0')} ${'.'.repeat(40)}\n`));
    recorder.close();
    const base = recorder.path.split('/').at(-1) ?? '';
    const files = readdirSync(join(dir, 'rk64', 'serial', 't')).sort();
    expect(files).toEqual([base, `${base}.1`, `${base}.2`]);
    for (const f of files)
      expect(statSync(join(dir, 'rk64', 'serial', 't', f)).size).toBeLessThanOrEqual(2000);
    // Oldest part first: the parts hold consecutive lines ending with the last one written.
    const parts = [`${base}.2`, `${base}.1`, base].map((f) =>
      readFileSync(join(dir, 'rk64', 'serial', 't', f), 'utf8'),
    );
    expect(parts.every((p) => p.startsWith('# rk64 serial capture 1'))).toBe(true);
    const numbers = parts
      .flatMap((p) => captureLines(parseCapture(p).records))
      .map((l) => Number(/line (\d+)/.exec(l.bytes.toString())?.[1]));
    expect(numbers.at(-1)).toBe(199);
    expect(numbers).toEqual(numbers.map((_, i) => (numbers[0] ?? 0) + i));
    expect(numbers[0]).toBeGreaterThan(0);
  });
});

describe('boots in a recorded capture of the test gateway', () => {
  const boots = splitBoots(captureLines(parseCapture(fixture).records));

  it('splits at each U-Boot banner and reads the slot and attempts boot.scr chose', () => {
    expect(boots.map((b) => [b.slot, b.attemptsLeftBefore, b.attemptsLeftAfter])).toEqual([
      ['B', 3, 2],
      ['B', 2, 1],
      ['B', 1, 0],
      ['A', 3, 2],
    ]);
    expect(boots.every((b) => /^U-Boot 2023\.01/.test(b.banner))).toBe(true);
  });

  it('recognises how far each boot got and how it ended', () => {
    expect(boots.map((b) => [b.reached, b.end])).toEqual([
      ['boot-script', 'restart'],
      ['boot-script', 'restart'],
      ['boot-script', 'restart'],
      ['login', 'running'],
    ]);
    const a = boots[3];
    expect(a?.stages.map((s) => s.stage)).toEqual(['uboot', 'boot-script', 'kernel', 'user-space', 'login']);
  });

  it('summarises the last boots in a sentence and a typed record', () => {
    const summary = summarizeBoots(boots);
    expect(summary.trouble).toMatchObject({ slot: 'B', trouble: 'kernel did not start', count: 3 });
    expect(summary.last).toMatchObject({ slot: 'A', reached: 'login', end: 'running' });
    expect(summary.sentence).toMatch(
      /^three boots of B never started the kernel \(\d\d:\d\d–\d\d:\d\d UTC\); now login prompt of slot A$/,
    );
  });

  it('describes each stage as it happens', () => {
    const a = boots[3];
    if (!a) throw new Error('no boot of A');
    expect(describeBootEvent('kernel', a)).toBe(
      'boot 4: kernel starting (slot A, normal; attempts left 3 → 2)',
    );
  });
});

describe('stage recognition on lines the gateway prints', () => {
  const at = new Date('2026-12-06T05:00:00.000Z');
  const feed = (tracker: BootTracker, lines: string[]): void => {
    for (const l of lines) tracker.line(Buffer.from(l), at);
  };

  it('a health check that fails names the failing check; three such boots are summarised', () => {
    const tracker = new BootTracker();
    for (let n = 0; n < 3; n += 1) {
      feed(tracker, [
        'U-Boot 2023.01 (Jun 22 2026)\r',
        'rk64: boot script on mmc 0\r',
        'rk64: BOOT_ORDER=B A BOOT_A_LEFT=3 BOOT_B_LEFT=3\r',
        'rk64: booting slot B from mmc 0:0x5 (normal)\r',
        'Starting kernel ...\r',
        '\x1b[0;1;39mWelcome to \x1b[1mDebian GNU/Linux 12 (bookworm)\x1b[0m!\r',
        '[   46.104679] os-verification[322]: os-verification: health check FAILED, slot B stays uncommitted: dnsmasq: dnsmasq not running\x1b]0;owned\x07\r',
        '[   47.0] reboot: Restarting system\r',
      ]);
    }
    const summary = summarizeBoots(tracker.boots);
    expect(tracker.boots[0]?.health).toEqual({ verdict: 'failed', reason: 'dnsmasq: dnsmasq not running' });
    expect(summary.trouble).toMatchObject({ slot: 'B', trouble: 'health check failed', count: 3 });
    expect(summary.sentence).toMatch(
      /^three boots of B failed the health check: dnsmasq: dnsmasq not running/,
    );
  });

  it('a boot cut short in user space (no restart line before the next banner) reads as a reset', () => {
    const tracker = new BootTracker();
    feed(tracker, [
      'U-Boot SPL 2023.01 (x)',
      'U-Boot 2023.01 (x)',
      'Starting kernel ...',
      'Run /sbin/init as init process',
    ]);
    feed(tracker, ['U-Boot TPL 2023.01 (x)', 'U-Boot SPL 2023.01 (x)', 'U-Boot 2023.01 (x)']);
    expect(tracker.boots.map((b) => [b.reached, b.end])).toEqual([
      ['user-space', 'reset'],
      ['uboot', 'running'],
    ]);
  });

  it('a login prompt without its newline is seen as a fragment', () => {
    const tracker = new BootTracker();
    feed(tracker, ['U-Boot 2023.01 (x)']);
    expect(tracker.partial(Buffer.from('rk64-gateway login: '), at)).toBe('login');
  });
});
