// The action runners (src/core/actions/): their calls of rk64-action with a scripted transport,
// the install event stream, the rate meter, `rk64-action last`, serial bandwidth, failure lines.
import { describe, expect, it } from 'vitest';

import { JsonLines } from '../../../src/core/actions/install-events.js';
import { parseLastAction } from '../../../src/core/actions/last-action.js';
import { RateMeter } from '../../../src/core/actions/rate-meter.js';
import { remoteFailure } from '../../../src/core/actions/remote-failure.js';
import { runAction } from '../../../src/core/actions/run.js';
import { serialInstallRefusal, serialTransferSeconds } from '../../../src/core/actions/serial-bandwidth.js';
import { Rk64Error } from '../../../src/core/errors.js';
import { FakeTransport, ok } from '../../lib/fake-transport.js';

describe('serial install refusal', () => {
  it('computes the transfer time at the line rate (base64 over 8N1)', () => {
    // 1.5 Mbaud carries 150 000 bytes/s; base64 makes 3 bytes 4.
    expect(serialTransferSeconds(150_000 * 3, 1_500_000)).toBeCloseTo(4, 5);
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
    const t = new FakeTransport('serial', 'serial:/dev/ttyS9@1500000', 1_500_000).expect(
      "rk64-action install 'https://updates.example/b.raucb'",
      () => ok('{"event":"result","ok":true,"message":"installed"}\n'),
    );
    const outcome = await runAction(t, {
      kind: 'install',
      source: 'https://updates.example/b.raucb',
      allowDowngrade: false,
    });
    expect(outcome).toEqual({ ok: true, message: 'installed', offerReboot: true, downgrade: null });
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
      { kind: 'install', source: 'https://10.0.2.2/b.raucb', allowDowngrade: false },
      {
        onEvent: (e) => events.push(e),
      },
    );
    expect(outcome).toEqual({
      ok: false,
      message: 'rauc install failed: signature invalid',
      offerReboot: false,
      downgrade: null,
    });
    expect(events).toEqual([{ phase: 'install', percent: 20, message: 'Checking bundle' }]);
  });

  it('a local bundle that does not exist is refused before anything is sent', async () => {
    const t = new FakeTransport();
    await expect(
      runAction(t, { kind: 'install', source: '/nonexistent/b.raucb', allowDowngrade: false }),
    ).rejects.toThrow(/Bundle \/nonexistent\/b.raucb cannot be read/);
    expect(t.commands).toEqual([]);
  });

  it('a VPN archive that does not exist is named as one, not as a bundle', async () => {
    const t = new FakeTransport();
    await expect(runAction(t, { kind: 'vpn-config', source: '/nonexistent/gw.tar' })).rejects.toThrow(
      /^VPN configuration archive \/nonexistent\/gw.tar cannot be read/,
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

describe('failure lines', () => {
  it('explains rk64-action exit codes', () => {
    expect(remoteFailure('rk64-action reboot', 127, 'sh: rk64-action: not found')).toContain(
      'not on the gateway',
    );
    expect(remoteFailure('rk64-action ssh-wan on', 3, 'x\nnft refused the ruleset\n')).toBe(
      'rk64-action ssh-wan on failed (exit 3): nft refused the ruleset',
    );
  });

  it('names rk64-action once: its own log prefix is not repeated after the command', () => {
    expect(
      remoteFailure(
        'rk64-action mark-good booted',
        3,
        'rk64-action: error: rauc status mark-good failed: busy\n',
      ),
    ).toBe('rk64-action mark-good booted failed (exit 3): rauc status mark-good failed: busy');
  });
});
