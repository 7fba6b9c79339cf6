// `rk64 tui` draws its first frame before Ink loads (src/ui/dashboard-screen.ts). That frame must be
// the one Ink draws for the same state, line for line, so Ink's own first frame changes nothing on
// the screen; and the screen must give the terminal back, whatever happens before Ink takes over.
import { EventEmitter } from 'node:events';

import { renderToString } from 'ink';
import { describe, expect, it } from 'vitest';

import { DashboardController, type DashboardState } from '../../../src/core/dashboard/controller.js';
import { DashboardView } from '../../../src/ui/Dashboard.js';
import { firstFrame, openDashboardScreen } from '../../../src/ui/dashboard-screen.js';
import { SCREEN } from '../../../src/ui/frame-writer.js';

function firstState(gateway: string, readOnly: boolean): DashboardState {
  return new DashboardController({
    gateway,
    readOnly,
    connect: () => Promise.reject(new Error('not used')),
    fetchStatus: () => Promise.reject(new Error('not used')),
  }).getState();
}

function inkFrame(state: DashboardState, rows: number, columns: number): string[] {
  return renderToString(
    <DashboardView state={state} theme={{ colors: false }} rows={rows} columns={columns} />,
    {
      columns,
    },
  ).split('\n');
}

const CASES: [string, string, boolean][] = [
  ['an SSH target', 'ssh://operator@10.8.0.1:22', false],
  ['read-only', 'ssh://operator@10.8.0.1:22', true],
  ['a name longer than the screen is wide', `ssh://operator@${'gateway-'.repeat(12)}example.net:22`, false],
  ['a serial target', 'serial:/dev/ttyUSB0@1500000', false],
];

describe("the dashboard's first frame, drawn before Ink loads", () => {
  for (const [name, gateway, readOnly] of CASES) {
    for (const [columns, rows] of [
      [80, 24],
      [120, 40],
    ] as const) {
      it(`is Ink's first frame for ${name} at ${columns}×${rows}`, () => {
        const state = firstState(gateway, readOnly);
        // DashboardView gets one row less than the terminal has (Dashboard.tsx).
        expect(firstFrame(state, { colors: false }, rows - 1, columns)).toEqual(
          inkFrame(state, rows - 1, columns),
        );
      });
    }
  }
});

class Terminal extends EventEmitter {
  columns = 80;
  rows = 24;
  isTTY = true;
  out = '';
  rawMode: boolean[] = [];
  write(text: string): boolean {
    this.out += text;
    return true;
  }
  setRawMode(on: boolean): this {
    this.rawMode.push(on);
    return this;
  }
}

function open(terminal: Terminal, stderr: Terminal) {
  return openDashboardScreen({
    gateway: 'ssh://root@gw.test:22',
    connect: () => Promise.reject(new Error('not used')),
    fetchStatus: () => Promise.reject(new Error('not used')),
    stdin: terminal as unknown as NodeJS.ReadStream,
    stdout: terminal as unknown as NodeJS.WriteStream,
    stderr: stderr as unknown as NodeJS.WriteStream,
  });
}

describe('the dashboard screen before Ink', () => {
  it('enters the alternate screen, draws the first frame at once, keeps keys unechoed; close gives it all back once', () => {
    const terminal = new Terminal();
    const screen = open(terminal, new Terminal());
    expect(screen).not.toBeNull();
    expect(terminal.out.startsWith(SCREEN.enter)).toBe(true);
    expect(terminal.out).toContain('connecting to ssh://root@gw.test:22…');
    expect(terminal.out).toContain('q quit');
    expect(terminal.rawMode).toEqual([true]);
    screen?.close();
    screen?.close();
    expect(terminal.out.endsWith(SCREEN.leave)).toBe(true);
    expect(terminal.out.split(SCREEN.leave)).toHaveLength(2);
    expect(terminal.rawMode).toEqual([true, false]);
  });

  it('without a terminal: no screen, the reason on stderr, nothing written to stdout', () => {
    const terminal = new Terminal();
    terminal.isTTY = false;
    const stderr = new Terminal();
    expect(open(terminal, stderr)).toBeNull();
    expect(terminal.out).toBe('');
    expect(terminal.rawMode).toEqual([]);
    expect(stderr.out).toContain('the dashboard needs a terminal; use --batch or --json');
  });
});
