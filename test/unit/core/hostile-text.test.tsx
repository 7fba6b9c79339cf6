// Gateway text on the operator's terminal: printable() on each hostile payload, the text renderer
// and the Ink dashboard on the hostile document, and console bugs as their own error kind.
import { cleanup, render } from 'ink-testing-library';
import { afterEach, describe, expect, it } from 'vitest';

import { renderStatusText } from '../../../src/cli/render.js';
import { main } from '../../../src/cli/main.js';
import {
  DashboardController,
  isConnectionError,
  isFatalError,
} from '../../../src/core/dashboard/controller.js';
import { Rk64Error } from '../../../src/core/errors.js';
import { asRk64Error } from '../../../src/core/fleet.js';
import { printable, shown } from '../../../src/core/printable.js';
import type { Transport } from '../../../src/core/transport/transport.js';
import { DashboardView } from '../../../src/ui/Dashboard.js';
import { stateFor } from '../../lib/console-fixtures.js';
import { HOSTILE_STDERR, PAYLOADS, hostileStatus, unsafeTerminalText } from '../../lib/hostile.js';

afterEach(() => cleanup());

describe('printable', () => {
  it.each(Object.entries(PAYLOADS))('%s comes out as visible text', (_name, payload) => {
    const out = printable(payload);
    expect(unsafeTerminalText(out)).toBeNull();
    expect(out).not.toContain('\n');
    expect(out).not.toBe(payload);
    expect(printable(out)).toBe(out); // idempotent
  });

  it('names the escapes so the operator can read them', () => {
    expect(printable(PAYLOADS.osc0Title)).toBe('\\e]0;PWNED-TITLE\\x07');
    expect(printable(PAYLOADS.c1Csi)).toBe('\\x9b2J');
    expect(printable(PAYLOADS.bidiOverride)).toBe('invoice\\u202egnp.exe');
    expect(printable(PAYLOADS.carriageReturn)).toBe('bad\\rGOOD');
    expect(printable('plain 2026.11.20 ümlaut ✓')).toBe('plain 2026.11.20 ümlaut ✓');
  });
});

describe('the hostile document on a terminal', () => {
  it('rk64 status text, with and without colour', () => {
    const doc = shown(hostileStatus());
    for (const color of [false, true]) {
      const text = renderStatusText('gw', doc, { color });
      expect(unsafeTerminalText(text, { allowSgr: color }), text).toBeNull();
      expect(text).toContain('host\\e]0;PWNED-TITLE');
    }
  });

  it('the Ink dashboard, in colour', () => {
    const { lastFrame } = render(
      <DashboardView state={stateFor(hostileStatus())} theme={{ colors: true }} />,
    );
    const frame = lastFrame() ?? '';
    expect(unsafeTerminalText(frame, { allowSgr: true }), frame).toBeNull();
    expect(frame).toContain('host host\\e]0;PWNED-TITLE');
  });

  it('error lines', () => {
    const error = new Rk64Error('remote', `gw: rk64-status exited 1: ${HOSTILE_STDERR}`, HOSTILE_STDERR);
    expect(unsafeTerminalText(error.toLine())).toBeNull();
    expect(error.toLine()).not.toContain('\n');
  });
});

/** A transport that must never be used: any call is a test failure. */
const unusedTransport: Transport = {
  kind: 'ssh',
  description: 'ssh://root@gw.test:22',
  exec: () => Promise.reject(new Error('exec must not be called')),
  upload: () => Promise.reject(new Error('upload must not be called')),
  close: () => Promise.resolve(),
};

describe('a bug in the console', () => {
  it('is kind internal, exit 70, and neither a gateway failure nor a lost connection', () => {
    const bug = asRk64Error(new TypeError("Cannot read properties of undefined (reading 'slots')"));
    expect(bug.kind).toBe('internal');
    expect(bug.exitCode).toBe(70);
    expect(bug.toLine()).toMatch(/^bug in the rk64 console: TypeError: Cannot read/);
    expect(isConnectionError(new TypeError('x'))).toBe(false);
    expect(isFatalError(new TypeError('x'))).toBe(true);
  });

  it('the dashboard stops and reports it instead of reconnecting forever', async () => {
    let fetches = 0;
    const controller = new DashboardController({
      gateway: 'gw',
      connect: () => Promise.resolve(unusedTransport),
      fetchStatus: () => {
        fetches++;
        return Promise.reject(new TypeError('boom'));
      },
      initialBackoffMs: 1,
      refreshIntervalMs: 1,
    });
    controller.start();
    await new Promise((r) => setTimeout(r, 100));
    await controller.stop();
    const state = controller.getState();
    expect(fetches).toBe(1);
    expect(state.quit).toBe(true);
    expect(state.fatal?.kind).toBe('internal');
    expect(state.fatal?.exitCode).toBe(70);
  });

  it('rk64 exits 70, prints the stack only with --debug', async () => {
    const io = (lines: string[]) => ({
      stdout: {
        write: (s: string) => lines.push(s) > 0,
        get isTTY(): boolean {
          throw new TypeError('isTTY exploded');
        },
      } as unknown as NodeJS.WritableStream,
      stderr: { write: (s: string) => lines.push(s) > 0 } as unknown as NodeJS.WritableStream,
      stdin: {},
      env: { HOME: '/nonexistent', XDG_CONFIG_HOME: '/nonexistent' },
    });
    const plain: string[] = [];
    expect(await main(['status', 'ssh://root@127.0.0.1:1'], io(plain))).toBe(70);
    expect(plain.join('')).toContain('rk64: bug in the rk64 console: TypeError: isTTY exploded');
    expect(plain.join('')).not.toContain('    at ');
    const debug: string[] = [];
    expect(await main(['status', '--debug', 'ssh://root@127.0.0.1:1'], io(debug))).toBe(70);
    expect(debug.join('')).toMatch(/TypeError: isTTY exploded\n\s+at /);
  });
});
