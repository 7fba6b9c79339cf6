// The audit log (src/core/audit.ts): what an action's commands leave in the JSON-lines file, that
// a log that cannot be written stops the action before anything is sent, how `rk64 log` shows
// hostile text, and that damaged lines are counted instead of ending the read.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterEach, describe, expect, it } from 'vitest';

import { runAction } from '../../../src/core/actions/run.js';
import {
  AUDIT_SCHEMA,
  auditedTransport,
  auditLogPath,
  formatAuditEntry,
  openAuditLog,
  readAuditLog,
  stateDir,
  type AuditEntry,
} from '../../../src/core/audit.js';
import { FakeTransport } from '../../lib/fake-transport.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});
function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'rk64-audit-'));
  dirs.push(d);
  return d;
}

describe('audit log', () => {
  it('lives in $XDG_STATE_HOME/rk64, else ~/.local/state/rk64 (a relative XDG_STATE_HOME is ignored)', () => {
    expect(auditLogPath({ XDG_STATE_HOME: '/s', HOME: '/h' })).toBe('/s/rk64/audit.jsonl');
    expect(auditLogPath({ HOME: '/h' })).toBe('/h/.local/state/rk64/audit.jsonl');
    expect(stateDir({ XDG_STATE_HOME: 'rel', HOME: '/h' })).toBe('/h/.local/state/rk64');
  });

  it('records each command of an action: time, operator, gateway, transport, exact command, result', async () => {
    const path = join(tempDir(), 'state', 'rk64', 'audit.jsonl');
    const transport = new FakeTransport().expect('rk64-action mark-good booted', {
      stdout: '',
      stderr: '',
      exitCode: 0,
    });
    const seen: string[] = [];
    const sent = auditedTransport(transport, {
      log: openAuditLog(path),
      operator: 'alice',
      gateway: 'shop-17',
      source: 'action',
      onCommand: (c) => seen.push(c),
      now: () => Date.parse('2026-12-06T05:00:00Z'),
    });
    const outcome = await runAction(sent, { kind: 'mark', verdict: 'good', slot: 'booted' });
    expect(outcome.ok).toBe(true);
    expect(seen).toEqual(['rk64-action mark-good booted']);
    const lines = readFileSync(path, 'utf8').trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0] ?? '')).toEqual({
      schema: AUDIT_SCHEMA,
      time: '2026-12-06T05:00:00.000Z',
      operator: 'alice',
      gateway: 'shop-17',
      transport: 'ssh://root@gw.test:22',
      command: 'rk64-action mark-good booted',
      source: 'action',
      result: 'ok',
      durationMs: 0,
    });
  });

  it('a failed command is recorded with its exit status; a lost one with its error', async () => {
    const path = join(tempDir(), 'audit.jsonl');
    const transport = new FakeTransport()
      .expect('rk64-action reboot', { stdout: '', stderr: 'nope', exitCode: 4 })
      .expect('rk64-action ssh-wan off', () => {
        throw new Error('connection lost');
      });
    const sent = auditedTransport(transport, {
      log: openAuditLog(path),
      operator: 'o',
      gateway: 'g',
      source: 'tui',
    });
    await runAction(sent, { kind: 'reboot' });
    await expect(runAction(sent, { kind: 'ssh-wan', enable: false })).rejects.toThrow('connection lost');
    const { entries } = await readAuditLog(path);
    expect(entries.map((e) => [e.command, e.result])).toEqual([
      ['rk64-action reboot', 'exit 4'],
      ['rk64-action ssh-wan off', 'error: connection lost'],
    ]);
  });

  it("keeps the connection's user, so an operator's action still goes through sudo -n", async () => {
    const transport = Object.assign(new FakeTransport(), { user: 'operator' }).expect(
      'sudo -n rk64-action mark-good booted',
      { stdout: '', stderr: '', exitCode: 0 },
    );
    const sent = auditedTransport(transport, {
      log: openAuditLog(join(tempDir(), 'audit.jsonl')),
      operator: 'o',
      gateway: 'g',
      source: 'tui',
    });
    expect(sent.user).toBe('operator');
    await runAction(sent, { kind: 'mark', verdict: 'good', slot: 'booted' });
    expect(transport.commands).toEqual(['sudo -n rk64-action mark-good booted']);
  });

  it('a log that cannot be written stops the action before anything is sent', async () => {
    const dir = tempDir();
    mkdirSync(join(dir, 'ro'));
    // A file where the directory should be (root ignores permission bits, this blocks everyone).
    writeFileSync(join(dir, 'ro', 'rk64'), 'not a directory');
    const transport = new FakeTransport(); // any command sent fails the test
    const sent = auditedTransport(transport, {
      log: openAuditLog(join(dir, 'ro', 'rk64', 'audit.jsonl')),
      operator: 'o',
      gateway: 'g',
      source: 'tui',
    });
    await expect(runAction(sent, { kind: 'reboot' })).rejects.toMatchObject({
      message: expect.stringMatching(/^cannot write the audit log /) as unknown,
      hint: expect.stringContaining('nothing was sent') as unknown,
    });
    expect(transport.commands).toEqual([]);
  });

  it('rk64 log text makes every field printable; damaged lines are counted, not fatal', async () => {
    const path = join(tempDir(), 'audit.jsonl');
    const hostile: AuditEntry = {
      schema: AUDIT_SCHEMA,
      time: '2026-12-06T05:00:00.000Z',
      operator: 'op',
      gateway: 'gw\u001b]0;pwned\u0007',
      transport: 'ssh://x',
      command: "rk64-action install '/data/rk64/uploads/a\u001b[2Jb.raucb'",
      source: 'tui',
      result: 'error: bad\r\nline',
      durationMs: 5,
    };
    writeFileSync(path, `${JSON.stringify(hostile)}\n{"torn":\n\n{"schema":"other"}\n`);
    const { entries, unreadable } = await readAuditLog(path);
    expect(entries).toEqual([hostile]);
    expect(unreadable).toBe(2);
    const line = formatAuditEntry(hostile);
    // eslint-disable-next-line no-control-regex -- the point: none may reach the terminal
    expect(line).not.toMatch(/[\u0000-\u001f\u007f]/);
    expect(line).toContain("$ rk64-action install '/data/rk64/uploads/a");
  });

  it('a missing log reads as empty', async () => {
    expect(await readAuditLog(join(tempDir(), 'none.jsonl'))).toEqual({ entries: [], unreadable: 0 });
  });
});
