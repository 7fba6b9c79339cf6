// `rk64 action`: the words and options that name an action, and running it without a dialog:
// the options stand in for the dashboard's questions (--for, --allow-downgrade).
import { Writable } from 'node:stream';

import { describe, expect, it } from 'vitest';

import { parseActionWords, runActionCommand } from '../../../src/cli/action.js';
import { Rk64Error } from '../../../src/core/errors.js';
import { FakeTransport, ok } from '../../lib/fake-transport.js';

function sink(): NodeJS.WritableStream & { text: () => string } {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      chunks.push(chunk.toString());
      done();
    },
  });
  return Object.assign(stream, { text: () => chunks.join('') });
}

const refusal =
  '{"event":"result","ok":false,"message":"the bundle is version 2026.11.2, not newer than the running 2026.12.0: refusing a downgrade","refused":"downgrade","bundleVersion":"2026.11.2","runningVersion":"2026.12.0"}\n';

describe('rk64 action words', () => {
  it('name one action of the catalogue', () => {
    expect(parseActionWords(['mark-good', 'other'], {})).toEqual({
      kind: 'mark',
      verdict: 'good',
      slot: 'other',
    });
    expect(parseActionWords(['ssh-wan', 'on'], { for: '45 min' })).toEqual({
      kind: 'ssh-wan',
      enable: true,
      duration: '45min',
    });
    expect(parseActionWords(['ssh-wan', 'off'], {})).toEqual({ kind: 'ssh-wan', enable: false });
    expect(parseActionWords(['reboot'], {})).toEqual({ kind: 'reboot' });
    expect(parseActionWords(['install', 'b.raucb'], { allowDowngrade: true })).toEqual({
      kind: 'install',
      source: 'b.raucb',
      allowDowngrade: true,
    });
  });

  it.each([
    [['ssh-wan', 'on'], {}, 'ssh-wan on needs --for DURATION'],
    [['ssh-wan', 'on'], { for: '8d' }, "--for '8d' is not a duration"],
    [['ssh-wan', 'off'], { for: '1h' }, '--for goes with ssh-wan on only'],
    [['reboot'], { allowDowngrade: true }, '--allow-downgrade goes with install only'],
    [['mark-good'], {}, 'mark-good needs booted or other'],
    [['format', 'disk'], {}, "unknown action 'format'"],
  ] as const)('%j %j is a usage error: %s', (words, options, message) => {
    let error: unknown;
    try {
      parseActionWords(words, options);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(Rk64Error);
    expect((error as Rk64Error).exitCode).toBe(2);
    expect((error as Rk64Error).message).toContain(message);
  });
});

describe('rk64 action runs', () => {
  it('ssh-wan on sends --for and prints the outcome on stdout', async () => {
    const t = new FakeTransport().expect('rk64-action ssh-wan on --for 45min', ok());
    const out = sink();
    const code = await runActionCommand(t, parseActionWords(['ssh-wan', 'on'], { for: '45min' }), {
      stdout: out,
      stderr: sink(),
    });
    expect(code).toBe(0);
    expect(out.text()).toBe('SSH on the WAN port is now on; the gateway closes it by itself in 45 min.\n');
  });

  it('a downgrade the gateway refuses fails (exit 6), naming both versions and the flag', async () => {
    const t = new FakeTransport().expect("rk64-action install 'https://u.example/old.raucb'", (_c, o) => {
      o.onStdout?.(refusal);
      return { stdout: '', stderr: '', exitCode: 3 };
    });
    const error = await runActionCommand(
      t,
      parseActionWords(['install', 'https://u.example/old.raucb'], {}),
      {
        stdout: sink(),
        stderr: sink(),
      },
    ).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Rk64Error);
    expect((error as Rk64Error).exitCode).toBe(6);
    expect((error as Rk64Error).toLine()).toBe(
      'ssh://root@gw.test:22: the gateway refused https://u.example/old.raucb: it is a downgrade from 2026.12.0 to 2026.11.2; add --allow-downgrade to install it anyway',
    );
    expect(t.commands).toEqual(["rk64-action install 'https://u.example/old.raucb'"]);
  });

  it('with --allow-downgrade the gateway is told so', async () => {
    const t = new FakeTransport().expect(
      "rk64-action install --allow-downgrade 'https://u.example/old.raucb'",
      (_c, o) => {
        o.onStdout?.(
          '{"event":"progress","percent":0,"message":"installing version 2026.11.2 over the running 2026.12.0: downgrade allowed"}\n',
        );
        o.onStdout?.('{"event":"result","ok":true,"message":"installed; reboot to start the new slot"}\n');
        return { stdout: '', stderr: '', exitCode: 0 };
      },
    );
    const out = sink();
    const err = sink();
    const code = await runActionCommand(
      t,
      parseActionWords(['install', 'https://u.example/old.raucb'], { allowDowngrade: true }),
      { stdout: out, stderr: err },
    );
    expect(code).toBe(0);
    expect(out.text()).toBe('installed; reboot to start the new slot\n');
    expect(err.text()).toContain(
      'rk64: install 0% installing version 2026.11.2 over the running 2026.12.0: downgrade allowed',
    );
  });
});
