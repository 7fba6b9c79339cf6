// A hostile gateway on loopback: a real sshd whose rk64-status and rk64-action print the
// hostile fixtures (test/lib/hostile.ts): terminal control sequences in every text field, in
// remote stderr and in RAUC's progress and result messages. The built CLI's text output, its
// error lines and the dashboard in a real terminal (tmux, colours on, read with escapes kept)
// must never carry a raw control byte, while --json stays the exact document.
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { ensureBuilt, runCli } from '../../lib/cli.js';
import { startLoopbackGateway, type LoopbackGateway } from '../../lib/console-gateway.js';
import { startPane, type TmuxPane } from '../../lib/console-tmux.js';
import { repoRoot } from '../../lib/exec.js';
import {
  HOSTILE_STDERR,
  hostileInstallEvents,
  hostileStatus,
  unsafeTerminalText,
} from '../../lib/hostile.js';

let gw: LoopbackGateway;
let fakeBin: string;
const failFlag = () => join(fakeBin, 'status-fails');

/** Fake device scripts that print the fixtures (the real ones never print such text). */
function writeFakeDevice(dir: string): void {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'status.json'), `${JSON.stringify(hostileStatus(), null, 2)}\n`);
  writeFileSync(join(dir, 'stderr.txt'), HOSTILE_STDERR);
  writeFileSync(join(dir, 'install.jsonl'), hostileInstallEvents());
  const status = join(dir, 'rk64-status');
  writeFileSync(
    status,
    `#!/bin/sh\nif [ -e ${failFlag()} ]; then cat ${dir}/stderr.txt >&2; exit 1; fi\ncat ${dir}/status.json\n`,
  );
  const action = join(dir, 'rk64-action');
  writeFileSync(
    action,
    [
      '#!/bin/sh',
      'case $1 in',
      `  install) cat ${dir}/install.jsonl; exit 1 ;;`,
      '  last) echo null ;;',
      `  *) cat ${dir}/stderr.txt >&2; exit 1 ;;`,
      'esac',
      '',
    ].join('\n'),
  );
  chmodSync(status, 0o755);
  chmodSync(action, 0o755);
}

const cliArgs = () => ['--identity', gw.key.path, '--known-hosts', gw.knownHostsPath];
const cliEnv = () => ({ ...process.env, SSH_AUTH_SOCK: '' });

function expectSafe(text: string, allowSgr = false): void {
  expect(unsafeTerminalText(text, { allowSgr }), text).toBeNull();
}

beforeAll(async () => {
  await ensureBuilt();
  fakeBin = mkdtempSync(join(tmpdir(), 'rk64-hostile-bin-'));
  writeFakeDevice(fakeBin);
  gw = await startLoopbackGateway({ pathPrefix: [fakeBin] });
}, 60_000);

afterAll(async () => {
  await gw?.stop();
  rmSync(fakeBin, { recursive: true, force: true });
});

describe('a hostile gateway, batch output', () => {
  it('rk64 status shows every control sequence as visible text', async () => {
    const r = await runCli(['status', gw.url, ...cliArgs()], { env: cliEnv() });
    expect(r.code, r.stderr).toBe(0);
    expectSafe(r.stdout);
    expectSafe(r.stderr);
    expect(r.stdout).toContain('host\\e]0;PWNED-TITLE\\x07|\\e]52;c;');
    expect(r.stdout).toContain('leasehost');
    expect(r.stdout).toContain('invoice\\u202egnp.exe');
    expect(r.stdout).toContain('bad\\rGOOD');
    expect(r.stdout).toContain('\\x9b2J');
  });

  it('rk64 tui --batch too', async () => {
    const r = await runCli(['tui', '--batch', gw.url, ...cliArgs()], { env: cliEnv() });
    expect(r.code, r.stderr).toBe(0);
    expectSafe(r.stdout);
    expect(r.stdout).toContain('healthdetail\\e]0;PWNED-TITLE');
  });

  it('--json prints the exact document', async () => {
    const r = await runCli(['status', '--json', gw.url, ...cliArgs()], { env: cliEnv() });
    expect(r.code, r.stderr).toBe(0);
    const line = JSON.parse(r.stdout) as { status: unknown };
    // The document as served, plus the optional sections it lacks as this console fills them in
    // (null, or an empty list): the recorded fixture predates the VPN and history sections.
    expect(line.status).toEqual({ ...hostileStatus(), vpn: null, history: [] });
  });

  it('a failing rk64-status: the error lines carry its stderr as visible text', async () => {
    writeFileSync(failFlag(), '');
    try {
      const r = await runCli(['status', gw.url, ...cliArgs()], { env: cliEnv() });
      expect(r.code).toBe(6);
      expectSafe(r.stdout);
      expectSafe(r.stderr);
      expect(r.stderr).toContain('rk64-action: refused \\e]0;PWNED-TITLE\\x07');
    } finally {
      rmSync(failFlag(), { force: true });
    }
  });
});

describe('a hostile gateway in the dashboard (tmux, colours on)', () => {
  let pane: TmuxPane;

  beforeAll(async () => {
    const cli = [process.execPath, `${repoRoot}/bin/rk64.js`, 'tui', gw.url, ...cliArgs()].join(' ');
    pane = await startPane(
      cli,
      { SSH_AUTH_SOCK: '', TERM: 'xterm-256color', COLORTERM: 'truecolor' },
      { columns: 200, rows: 60 },
      ['set -g set-clipboard on', 'set -g allow-rename on', 'set -g default-terminal xterm-256color'],
    );
    await pane.waitFor(/^live$/m, 30_000);
  }, 60_000);

  afterAll(async () => {
    await pane?.stop();
  });

  async function expectCleanScreen(): Promise<void> {
    expectSafe(await pane.rawScreen(), true);
    expect(await pane.title()).not.toContain('PWNED');
    expect(await pane.title()).not.toContain('C1-TITLE');
    expect(await pane.buffers()).toBe('');
  }

  it('panels: every field shows the sequences as text', async () => {
    const screen = await pane.screen();
    expect(screen).toContain('host host\\e]0;PWNED-TITLE\\x07');
    expect(screen).toContain('mac\\e]0;PWNED-TITLE');
    await expectCleanScreen();
  });

  it('an action the gateway refuses: its stderr in the notice is visible text', async () => {
    await pane.send('g');
    await pane.waitFor('Press y to confirm');
    await pane.send('y');
    // The command names rk64-action; the line of its stderr follows without its own prefix.
    await pane.waitFor(/rk64-action mark-good booted failed \(exit \d+\): refused/);
    await expectCleanScreen();
  });

  it('an install: RAUC’s progress and result messages are visible text', async () => {
    await pane.send('i');
    await pane.waitFor('Bundle to install');
    await pane.send('https://updates.example/b.raucb', true);
    await pane.send('Enter');
    await pane.waitFor('Press y to confirm');
    await pane.send('y');
    await pane.waitFor('rauc result');
    await expectCleanScreen();
    await pane.send('q');
  });
});
