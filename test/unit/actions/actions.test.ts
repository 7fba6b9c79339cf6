// The action layer's pure parts and its calls of rk64-action, with a scripted transport.
import { describe, expect, it } from 'vitest';

import {
  describeAction,
  JsonLines,
  parseLastAction,
  RateMeter,
  remoteFailure,
  runAction,
  serialBaud,
  serialInstallRefusal,
  serialTransferSeconds,
} from '../../../src/core/actions.js';
import { Rk64Error } from '../../../src/core/errors.js';
import { loadStatus } from '../../lib/console-fixtures.js';
import { FakeTransport, ok } from '../../lib/fake-transport.js';

describe('serial install refusal', () => {
  it('computes the transfer time at the line rate (base64 over 8N1)', () => {
    // 1.5 Mbaud carries 150 000 bytes/s; base64 makes 3 bytes 4.
    expect(serialTransferSeconds(150_000 * 3, 1_500_000)).toBeCloseTo(4, 5);
    expect(serialBaud('serial:/dev/ttyUSB0@115200')).toBe(115200);
    expect(serialBaud('serial:/dev/ttyUSB0')).toBe(1_500_000);
  });

  it('says why and what to do instead', () => {
    const error = serialInstallRefusal(200 * 1024 * 1024, 1_500_000);
    expect(error.toLine()).toBe(
      'Install over serial refused: uploading 200.0 MiB at 1500000 baud takes about 31 min 4 s (base64 over 8N1); ' +
        'connect over SSH or the VPN (rk64 tui ssh://root@HOST), or give an https URL the gateway can download',
    );
    expect(error.exitCode).toBe(2);
  });

  it('an https URL is passed to the gateway even over serial: nothing is uploaded', async () => {
    const t = new FakeTransport('serial', 'serial:/dev/ttyS9@1500000').expect(
      "rk64-action install 'https://updates.example/b.raucb'",
      () => ok('{"event":"result","ok":true,"message":"installed"}\n'),
    );
    const outcome = await runAction(t, { kind: 'install', source: 'https://updates.example/b.raucb' });
    expect(outcome).toEqual({ ok: true, message: 'installed', offerReboot: true });
    expect(t.commands).toEqual(["rk64-action install 'https://updates.example/b.raucb'"]);
  });
});

describe('install stream', () => {
  it('parses JSON lines split across chunks and skips console noise', () => {
    const seen: unknown[] = [];
    const lines = new JsonLines((v) => seen.push(v));
    lines.push('{"event":"progress","per');
    lines.push('cent":5,"message":"a"}\n[  12.3] usb 1-1: new device\n{"event":"res');
    lines.push('ult","ok":false,"message":"b"}');
    lines.end();
    expect(seen).toEqual([
      { event: 'progress', percent: 5, message: 'a' },
      { event: 'result', ok: false, message: 'b' },
    ]);
  });

  it('a failed install reports the gateway’s message and offers no reboot', async () => {
    const t = new FakeTransport().expect("rk64-action install 'https://10.0.2.2/b.raucb'", (_c, o) => {
      o.onStdout?.('{"event":"progress","percent":20,"message":"Checking bundle"}\n');
      o.onStdout?.('{"event":"result","ok":false,"message":"rauc install failed: signature invalid"}\n');
      return { stdout: '', stderr: '', exitCode: 3 };
    });
    const events: unknown[] = [];
    const outcome = await runAction(
      t,
      { kind: 'install', source: 'https://10.0.2.2/b.raucb' },
      {
        onEvent: (e) => events.push(e),
      },
    );
    expect(outcome).toEqual({
      ok: false,
      message: 'rauc install failed: signature invalid',
      offerReboot: false,
    });
    expect(events).toEqual([{ phase: 'install', percent: 20, message: 'Checking bundle' }]);
  });

  it('a local bundle that does not exist is refused before anything is sent', async () => {
    const t = new FakeTransport();
    await expect(runAction(t, { kind: 'install', source: '/nonexistent/b.raucb' })).rejects.toThrow(
      /Bundle \/nonexistent\/b.raucb cannot be read/,
    );
    expect(t.commands).toEqual([]);
  });
});

describe('rate meter', () => {
  it('reports bytes per second over a sliding window', () => {
    let now = 0;
    const meter = new RateMeter(() => now, 2000);
    expect(meter.sample(0)).toBe(0);
    now = 1000;
    expect(meter.sample(1_000_000)).toBe(1_000_000);
    now = 4000;
    // The first sample left the window: 3 MB over the last 3 s, then over the window only.
    expect(meter.sample(4_000_000)).toBeCloseTo(1_000_000, 0);
  });
});

describe('rk64-action last', () => {
  it('null when nothing ran yet', () => {
    expect(parseLastAction('null\n')).toBeNull();
  });

  it('a finished install', () => {
    expect(
      parseLastAction(
        '{"action":"install","startedAt":"a","finishedAt":"b","percent":100,"message":"done","ok":true}',
      ),
    ).toEqual({
      action: 'install',
      startedAt: 'a',
      finishedAt: 'b',
      percent: 100,
      message: 'done',
      ok: true,
    });
  });

  it('garbage is a protocol error', () => {
    expect(() => parseLastAction('rk64-action: oops')).toThrow(Rk64Error);
  });
});

describe('messages', () => {
  it('names the gateway and the slot in confirmations', () => {
    const status = loadStatus('rolled-back');
    expect(describeAction({ kind: 'mark', verdict: 'bad', slot: 'booted' }, null, 'gw7')).toContain(
      'Mark the booted slot bad on gw7',
    );
    expect(describeAction({ kind: 'mark', verdict: 'good', slot: 'other' }, status, 'gw7')).toContain(
      'Mark slot B (other) good on gw7: ',
    );
  });

  it('says what each mark action does to the boot state', () => {
    const status = loadStatus('rolled-back');
    const text = (verdict: 'good' | 'bad', slot: 'booted' | 'other') =>
      describeAction({ kind: 'mark', verdict, slot }, status, 'gw7');
    const restored =
      'its boot attempts go back to 3 and it is in the boot order again ' +
      '(appended after the first slot if it was taken out; which slot boots first does not change)';
    expect(text('good', 'other')).toBe(
      `Mark slot B (other) good on gw7: ${restored}, so U-Boot can fall back to it.`,
    );
    expect(text('good', 'booted')).toBe(
      `Mark slot A (booted) good on gw7: ${restored}; this installation is recorded as committed.`,
    );
    expect(text('bad', 'booted')).toBe(
      'Mark slot A (booted) bad on gw7: its boot attempts drop to 0 and it leaves the boot order: ' +
        'the next reboot starts the other slot, and U-Boot will not boot this one again until it is marked good or reinstalled.',
    );
    expect(text('bad', 'other')).toBe(
      'Mark slot B (other) bad on gw7: its boot attempts drop to 0 and it leaves the boot order: ' +
        'U-Boot will not boot it, not even as a fallback, until it is marked good or reinstalled.',
    );
  });

  it('explains rk64-action exit codes', () => {
    expect(remoteFailure('rk64-action reboot', 127, 'sh: rk64-action: not found')).toContain(
      'not on the gateway',
    );
    expect(remoteFailure('rk64-action ssh-wan on', 3, 'x\nnft refused the ruleset\n')).toBe(
      'rk64-action ssh-wan on failed (exit 3): nft refused the ruleset',
    );
  });
});
