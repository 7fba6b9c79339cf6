// The dashboard's minimal-redraw sink: only changed lines reach the terminal, addressed absolutely,
// at most maxFps frames a second; a resize redraws everything.
import { EventEmitter } from 'node:events';

import { describe, expect, it } from 'vitest';

import { FrameSink } from '../../../src/ui/frame-writer.js';

class Terminal extends EventEmitter {
  columns = 80;
  rows = 24;
  out: string[] = [];
  write(text: string): boolean {
    this.out.push(text);
    return true;
  }
}

function frameOf(sink: FrameSink, text: string): void {
  sink.write(text);
  sink.flush();
}

describe('FrameSink', () => {
  it('reports a usable size for a terminal that says 0 × 0 (an unsized pty)', () => {
    const term = new Terminal();
    term.columns = 0;
    term.rows = 0;
    const saved = { COLUMNS: process.env.COLUMNS, LINES: process.env.LINES };
    try {
      delete process.env.COLUMNS;
      delete process.env.LINES;
      const sink = new FrameSink(term, 1000);
      expect([sink.columns, sink.rows]).toEqual([80, 24]);
      process.env.COLUMNS = '132';
      process.env.LINES = '43';
      expect([sink.columns, sink.rows]).toEqual([132, 43]);
      term.columns = 100;
      term.rows = 30;
      expect([sink.columns, sink.rows]).toEqual([100, 30]);
    } finally {
      for (const [k, v] of Object.entries(saved)) {
        if (v === undefined) delete process.env[k];
        else process.env[k] = v;
      }
    }
  });

  it('writes the first frame in full, then only the lines that changed', () => {
    const term = new Terminal();
    const sink = new FrameSink(term, 1000);
    frameOf(sink, 'one\ntwo\nthree\n');
    expect(term.out.join('')).toBe('\u001b[1;1Hone\u001b[K\u001b[2;1Htwo\u001b[K\u001b[3;1Hthree\u001b[K');
    term.out = [];
    frameOf(sink, 'one\nTWO\nthree\n');
    expect(term.out).toEqual(['\u001b[2;1HTWO\u001b[K']);
    term.out = [];
    frameOf(sink, 'one\nTWO\nthree\n');
    expect(term.out).toEqual([]);
    frameOf(sink, 'one\n');
    expect(term.out).toEqual(['\u001b[2;1H\u001b[K\u001b[3;1H\u001b[K']);
    const all = [
      '\u001b[1;1Hone\u001b[K\u001b[2;1Htwo\u001b[K\u001b[3;1Hthree\u001b[K',
      '\u001b[2;1HTWO\u001b[K',
      '\u001b[2;1H\u001b[K\u001b[3;1H\u001b[K',
    ];
    expect(sink.bytesWritten).toBe(all.reduce((n, t) => n + Buffer.byteLength(t), 0));
  });

  it('keeps at most maxFps frames a second: intermediate frames are skipped', async () => {
    const term = new Terminal();
    const sink = new FrameSink(term, 5);
    sink.write('a\n');
    await new Promise((r) => setTimeout(r, 20));
    for (const f of ['b\n', 'c\n', 'd\n']) sink.write(f);
    await new Promise((r) => setTimeout(r, 100));
    expect(term.out).toEqual(['\u001b[1;1Ha\u001b[K']);
    await new Promise((r) => setTimeout(r, 200));
    expect(term.out).toEqual(['\u001b[1;1Ha\u001b[K', '\u001b[1;1Hd\u001b[K']);
    sink.detach();
  });

  it('a resize clears the screen and redraws every line', () => {
    const term = new Terminal();
    const sink = new FrameSink(term, 1000);
    frameOf(sink, 'x\ny\n');
    term.out = [];
    term.emit('resize');
    frameOf(sink, 'x\ny\n');
    expect(term.out.join('')).toBe('\u001b[2J\u001b[1;1Hx\u001b[K\u001b[2;1Hy\u001b[K');
    sink.detach();
  });
});
