// Keypress flows through the real Ink dashboard and controller, with a scripted transport:
// every dangerous key asks to confirm (and no other key does), every action confirmed and
// cancelled, the SSH-on-WAN duration prompt, the downgrade offer, read-only mode, the help screen,
// blocked input, an install with progress, an install that loses its connection, and reconnecting
// with back-off.
import { mkdtempSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { cleanup, render } from 'ink-testing-library';
import { afterEach, describe, expect, it, vi } from 'vitest';

import { DEFAULT_UPLOAD_DIR } from '../../../src/core/actions/upload.js';
import type { DashboardController, DashboardOptions } from '../../../src/core/dashboard/controller.js';
import { Rk64Error } from '../../../src/core/errors.js';
import { KEY_BINDINGS } from '../../../src/core/keybindings.js';
import type { GatewayStatus } from '../../../src/core/status/schema.js';
import { Dashboard } from '../../../src/ui/Dashboard.js';
import { controllerFor, loadStatus } from '../../lib/console-fixtures.js';
import { FakeTransport, ok } from '../../lib/fake-transport.js';

const ESC = '\u001b';
const ENTER = '\r';

let controllers: DashboardController[] = [];

afterEach(async () => {
  cleanup();
  await Promise.all(controllers.map((c) => c.stop()));
  controllers = [];
});

async function mount(transport: FakeTransport, options: Partial<DashboardOptions> = {}) {
  const controller = controllerFor(transport, options);
  controllers.push(controller);
  const app = render(<Dashboard controller={controller} theme={{ colors: false }} />);
  controller.start();
  const screen = () => (app.lastFrame() ?? '').replace(/[ \t]+/g, ' ');
  const waitFor = (needle: string | RegExp) =>
    vi.waitFor(
      () => {
        const text = screen();
        if (typeof needle === 'string' ? !text.includes(needle) : !needle.test(text)) {
          throw new Error(`screen lacks ${String(needle)}:\n${text}`);
        }
      },
      { timeout: 3000, interval: 10 },
    );
  /** Sends one key and lets Ink process it. */
  const press = async (key: string) => {
    app.stdin.write(key);
    await new Promise((r) => setTimeout(r, 20));
  };
  /** The open confirmation's whole text (the screen wraps it inside the dialog's border). */
  const waitForDialog = (needle: string) =>
    vi.waitFor(
      () => {
        const overlay = controller.getState().overlay;
        expect(overlay.kind === 'confirm' ? overlay.text : `(no confirmation: ${overlay.kind})`).toContain(
          needle,
        );
      },
      { timeout: 3000, interval: 10 },
    );
  await waitFor('live');
  return { app, controller, screen, waitFor, waitForDialog, press };
}

function gateway(status: GatewayStatus = loadStatus('healthy')): FakeTransport {
  return new FakeTransport().status(() => status);
}

const actionCommands = (t: FakeTransport) => t.commands.filter((c) => c.startsWith('rk64-action'));

describe.each([
  ['g', 'Mark slot A (booted) good on lab-gw', 'rk64-action mark-good booted', 'Slot (booted) marked good.'],
  ['G', 'Mark slot B (other) good on lab-gw', 'rk64-action mark-good other', 'Slot (other) marked good.'],
  ['b', 'Mark slot A (booted) bad on lab-gw', 'rk64-action mark-bad booted', 'Slot (booted) marked bad.'],
  ['B', 'Mark slot B (other) bad on lab-gw', 'rk64-action mark-bad other', 'Slot (other) marked bad.'],
  ['R', 'Reboot lab-gw now', 'rk64-action reboot', 'The gateway reboots in about a second'],
])('key %s', (key, confirmText, command, outcome) => {
  it('asks, naming the gateway and the change; n cancels and sends nothing', async () => {
    const t = gateway();
    const ui = await mount(t);
    await ui.press(key);
    await ui.waitFor(confirmText);
    await ui.waitFor('Press y to confirm, n or Esc to cancel.');
    await ui.press('n');
    await ui.waitFor('Cancelled; nothing changed.');
    expect(ui.screen()).not.toContain(confirmText);
    expect(actionCommands(t)).toEqual([]);
  });

  it('Esc cancels too', async () => {
    const t = gateway();
    const ui = await mount(t);
    await ui.press(key);
    await ui.waitFor(confirmText);
    await ui.press(ESC);
    await ui.waitFor('Cancelled; nothing changed.');
    expect(actionCommands(t)).toEqual([]);
  });

  it('y runs exactly that command, says what it did, shows the command sent and refreshes', async () => {
    const t = gateway().expect(command, ok());
    const ui = await mount(t);
    const before = t.commands.filter((c) => c === 'rk64-status').length;
    expect(ui.screen()).not.toContain('$ rk64-action');
    await ui.press(key);
    await ui.waitFor(confirmText);
    await ui.press('y');
    await vi.waitFor(() => expect(actionCommands(t)).toEqual([command]), { timeout: 3000 });
    await vi.waitFor(() => expect(t.commands.filter((c) => c === 'rk64-status').length).toBe(before + 1));
    await ui.waitFor(outcome);
    // The command line at the bottom: the exact remote command, just above the key hints.
    const lines = ui.screen().split('\n');
    expect(lines.at(-2)?.trim()).toBe(`$ ${command}`);
  });
});

describe('the keybinding table decides: dangerous means asks to confirm', () => {
  const dashboardKeys = KEY_BINDINGS.filter((b) => b.scope === 'dashboard');

  it.each(dashboardKeys.filter((b) => b.dangerous).map((b) => [b.label, b.id] as const))(
    'dangerous %s (%s): asks to confirm before anything is sent (a question first is answered with its default)',
    async (label) => {
      const dir = mkdtempSync(path.join(tmpdir(), 'rk64-flow-'));
      const bundle = path.join(dir, 'b.raucb');
      writeFileSync(bundle, 'bundle');
      const t = gateway();
      const ui = await mount(t, { bundlePath: bundle });
      await ui.press(label);
      if (ui.controller.getState().overlay.kind === 'prompt') await ui.press(ENTER);
      await ui.waitFor('Press y to confirm, n or Esc to cancel.');
      await ui.press('n');
      await ui.waitFor('Cancelled; nothing changed.');
      expect(actionCommands(t)).toEqual([]);
      expect(t.uploads).toEqual([]);
    },
  );

  it.each(dashboardKeys.filter((b) => !b.dangerous && b.id !== 'quit').map((b) => [b.label, b.id] as const))(
    'not dangerous %s (%s): never asks to confirm',
    async (label, id) => {
      const t = gateway();
      if (id === 'last-action') t.expect('rk64-action last', ok('null\n'));
      const ui = await mount(t);
      await ui.press(label);
      await new Promise((r) => setTimeout(r, 50));
      expect(ui.controller.getState().overlay.kind).not.toMatch(/confirm|prompt/);
      expect(ui.screen()).not.toContain('Press y to confirm');
    },
  );
});

describe('SSH on WAN with a dead-man switch', () => {
  it('w asks for the duration (30m, editable), confirms it with the WAN interface, sends --for', async () => {
    const status = loadStatus('healthy');
    status.sshOnWan = { enabled: false, firewallAllows: false, expiresAt: null, wanInterface: 'wan0' };
    const t = gateway(status).expect('rk64-action ssh-wan on --for 2h', ok());
    const ui = await mount(t);
    await ui.press('w');
    await ui.waitFor('Keep SSH on the WAN port open for how long?');
    await ui.waitFor('> 30m_');
    await ui.press('\u007f');
    await ui.press('\u007f');
    await ui.press('\u007f');
    await ui.press('2h');
    await ui.press(ENTER);
    await ui.waitForDialog(
      'Turn SSH on the WAN port ON on lab-gw for 2 h: the firewall will accept SSH on the WAN port (wan0) from anywhere until then',
    );
    expect(actionCommands(t)).toEqual([]);
    await ui.press('y');
    await vi.waitFor(() => expect(actionCommands(t)).toEqual(['rk64-action ssh-wan on --for 2h']));
    await ui.waitFor('closes it by itself in 2 h');
  });

  it('the default duration is sent as is; a duration the gateway refuses is refused in the prompt', async () => {
    const t = gateway().expect('rk64-action ssh-wan on --for 30m', ok());
    const ui = await mount(t);
    await ui.press('w');
    await ui.waitFor('> 30m_');
    await ui.press('0');
    await ui.press(ENTER);
    await ui.waitFor("'30m0' is not a duration the gateway accepts");
    expect(ui.controller.getState().overlay.kind).toBe('prompt');
    await ui.press('\u007f');
    await ui.press(ENTER);
    await ui.waitForDialog('Turn SSH on the WAN port ON on lab-gw for 30 min');
    await ui.press('y');
    await vi.waitFor(() => expect(actionCommands(t)).toEqual(['rk64-action ssh-wan on --for 30m']));
  });

  it('without the WAN interface in the status, the confirmation names no interface', async () => {
    const status = loadStatus('healthy');
    status.sshOnWan = { enabled: false, firewallAllows: false, expiresAt: null, wanInterface: null };
    const ui = await mount(gateway(status));
    await ui.press('w');
    await ui.press(ENTER);
    await vi.waitFor(() => expect(ui.controller.getState().overlay.kind).toBe('confirm'));
    const overlay = ui.controller.getState().overlay;
    const text = overlay.kind === 'confirm' ? overlay.text : '';
    expect(text).toContain('the firewall will accept SSH on the WAN port from anywhere');
    expect(text).not.toMatch(/eth0|tcp\/22/);
  });
});

describe('downgrade', () => {
  const refusal =
    '{"event":"result","ok":false,"message":"the bundle is version 2026.11.2, not newer than the running 2026.12.0: refusing a downgrade","refused":"downgrade","bundleVersion":"2026.11.2","runningVersion":"2026.12.0"}\n';

  it('a refused downgrade is offered with a confirmation naming both versions; y passes --allow-downgrade', async () => {
    const t = gateway()
      .expect("rk64-action install 'https://updates.example/old.raucb'", (_c, o) => {
        o.onStdout?.(refusal);
        return { stdout: '', stderr: '', exitCode: 3 };
      })
      .expect("rk64-action install --allow-downgrade 'https://updates.example/old.raucb'", (_c, o) => {
        o.onStdout?.('{"event":"result","ok":true,"message":"installed; reboot to start the new slot"}\n');
        return { stdout: '', stderr: '', exitCode: 0 };
      });
    const ui = await mount(t, { bundlePath: 'https://updates.example/old.raucb' });
    await ui.press('i');
    await ui.press(ENTER);
    await ui.press('y');
    await ui.waitForDialog('although it is a DOWNGRADE from 2026.12.0 (running) to 2026.11.2 (the bundle)');
    expect(actionCommands(t)).toEqual(["rk64-action install 'https://updates.example/old.raucb'"]);
    await ui.press('y');
    await ui.waitFor('installed; reboot to start the new slot');
    expect(actionCommands(t)).toEqual([
      "rk64-action install 'https://updates.example/old.raucb'",
      "rk64-action install --allow-downgrade 'https://updates.example/old.raucb'",
    ]);
  });

  it('n keeps the running version: nothing more is sent', async () => {
    const t = gateway().expect("rk64-action install 'https://updates.example/old.raucb'", (_c, o) => {
      o.onStdout?.(refusal);
      return { stdout: '', stderr: '', exitCode: 3 };
    });
    const ui = await mount(t, { bundlePath: 'https://updates.example/old.raucb' });
    await ui.press('i');
    await ui.press(ENTER);
    await ui.press('y');
    await ui.waitForDialog('DOWNGRADE from 2026.12.0 (running) to 2026.11.2');
    await ui.press('n');
    await ui.waitFor('Cancelled; nothing changed.');
    expect(actionCommands(t)).toEqual(["rk64-action install 'https://updates.example/old.raucb'"]);
  });

  it('an install that fails for another reason offers nothing', async () => {
    const t = gateway().expect("rk64-action install 'https://updates.example/b.raucb'", (_c, o) => {
      o.onStdout?.('{"event":"result","ok":false,"message":"rauc install failed: signature invalid"}\n');
      return { stdout: '', stderr: '', exitCode: 3 };
    });
    const ui = await mount(t, { bundlePath: 'https://updates.example/b.raucb' });
    await ui.press('i');
    await ui.press(ENTER);
    await ui.press('y');
    await ui.waitFor('rauc install failed: signature invalid');
    expect(ui.controller.getState().overlay.kind).toBe('none');
  });
});

describe('actions', () => {
  it('SSH-on-WAN toggles off when it is on', async () => {
    const status = loadStatus('healthy');
    status.sshOnWan = { enabled: true, firewallAllows: true, expiresAt: null, wanInterface: null };
    const t = gateway(status).expect('rk64-action ssh-wan off', ok());
    const ui = await mount(t);
    await ui.press('w');
    await ui.waitFor('Turn SSH on the WAN port OFF on lab-gw');
    await ui.press('y');
    await vi.waitFor(() => expect(actionCommands(t)).toEqual(['rk64-action ssh-wan off']));
  });

  it('a failing action shows the gateway’s reason', async () => {
    const t = gateway().expect('rk64-action mark-good booted', {
      stdout: '',
      stderr: 'rk64-action: rauc status mark-good failed: slot rootfs.0 is busy',
      exitCode: 3,
    });
    const ui = await mount(t);
    await ui.press('g');
    await ui.press('y');
    await ui.waitFor('rk64-action mark-good booted failed (exit 3): rauc status mark-good failed');
  });

  it('not root: says the console runs it through sudo unless it connects as root', async () => {
    const t = gateway().expect('rk64-action mark-bad booted', {
      stdout: '',
      stderr: 'must be root',
      exitCode: 4,
    });
    const ui = await mount(t);
    await ui.press('b');
    await ui.press('y');
    await ui.waitFor('the gateway refused (not root); the console runs it through sudo -n');
  });

  it('install: prompt, confirm, upload progress with rate, RAUC progress, then offers a reboot', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'rk64-flow-'));
    const bundle = path.join(dir, 'rk64 2026.11.26.raucb');
    writeFileSync(bundle, Buffer.alloc(256 * 1024, 7));
    let release = () => {};
    const gate = new Promise<void>((r) => (release = r));
    const t = gateway()
      .expect("mkdir -p '/data/rk64/uploads'", ok())
      .expect("rk64-action install '/data/rk64/uploads/rk64_2026.11.26.raucb'", async (_cmd, options) => {
        options.onStdout?.('{"event":"progress","percent":0,"message":"Installing"}\n');
        options.onStdout?.('{"event":"progress","percent":40,"message":"Copying image to rootfs.1"}\n');
        await gate;
        options.onStdout?.('{"event":"progress","percent":100,"message":"Installing done."}\n');
        const result = '{"event":"result","ok":true,"message":"Installed 2026.11.26 into slot B"}\n';
        options.onStdout?.(result);
        return { stdout: '', stderr: '', exitCode: 0 };
      });
    const ui = await mount(t, { uploadDir: '/data/rk64/uploads' });
    await ui.press('i');
    await ui.waitFor('Bundle to install');
    for (const ch of `${bundle}x`) await ui.press(ch);
    await ui.press('\u007f'); // backspace removes the stray x
    await ui.press(ENTER);
    await ui.waitFor(`Install ${bundle} on lab-gw into slot B`);
    await ui.press('y');
    await ui.waitFor('Copying image to rootfs.1');
    await ui.waitFor('[############..................] 40%');
    const uploadFrames = ui.app.frames.filter((f) => /upload +\[/.test(f));
    expect(uploadFrames.join('\n')).toMatch(
      /upload +\[#+\.*\] +\d+% +[\d.]+ KiB \/ 256\.0 KiB +[\d.]+ (B|KiB|MiB)\/s/,
    );
    // Input is blocked while the action runs.
    await ui.press('g');
    await ui.press('?');
    expect(ui.screen()).not.toContain('Mark slot');
    expect(ui.screen()).not.toContain('Keys (? or Esc closes)');
    release();
    await ui.waitFor('Installed 2026.11.26 into slot B');
    await ui.waitFor('Reboot lab-gw now');
    expect(t.uploads).toEqual([
      { localPath: bundle, remotePath: '/data/rk64/uploads/rk64_2026.11.26.raucb', bytes: 256 * 1024 },
    ]);
    expect(t.commands).toContain("mkdir -p '/data/rk64/uploads'");
    expect(actionCommands(t)).toEqual(["rk64-action install '/data/rk64/uploads/rk64_2026.11.26.raucb'"]);
    await ui.press('n');
    await ui.waitFor('Cancelled; nothing changed.');
    expect(actionCommands(t)).not.toContain('rk64-action reboot');
  });

  it('install prompt: a pasted path that arrives with its line end in one read submits that path', async () => {
    // Seen in a real terminal under load: tmux's typed path and Enter reached Ink as one chunk.
    const t = gateway();
    const ui = await mount(t);
    await ui.press('i');
    await ui.waitFor('Bundle to install');
    await ui.press(`/data/b.raucb${ENTER}`);
    await ui.waitFor('Install /data/b.raucb on lab-gw into slot B');
    expect(ui.app.lastFrame()).not.toContain('\r');
    await ui.press('n');
    await ui.waitFor('Cancelled; nothing changed.');
  });

  it('install over serial is refused with the transfer time at the line rate and what to do', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'rk64-flow-'));
    const bundle = path.join(dir, 'b.raucb');
    writeFileSync(bundle, '');
    truncateSync(bundle, 64 * 1024 * 1024); // sparse: the size is what counts
    const t = new FakeTransport('serial', 'serial:/dev/ttyUSB0@1500000', 1_500_000).status(
      loadStatus('healthy'),
    );
    const ui = await mount(t, { bundlePath: bundle });
    await ui.press('i');
    await ui.waitFor(`> ${bundle}_`);
    await ui.press(ENTER);
    await ui.press('y');
    await ui.waitFor(
      'Install over serial refused: uploading 64.0 MiB at 1500000 baud takes about 9 min 57 s',
    );
    await ui.waitFor('connect over SSH or the VPN');
    expect(t.uploads).toEqual([]);
    expect(actionCommands(t)).toEqual([]);
  });

  it('an install that loses the connection continues on the gateway; the outcome shows after reconnect', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'rk64-flow-'));
    const bundle = path.join(dir, 'b.raucb');
    writeFileSync(bundle, 'bundle');
    const first = gateway()
      .expect(`mkdir -p '${DEFAULT_UPLOAD_DIR}'`, ok())
      .expect(`rk64-action install '${DEFAULT_UPLOAD_DIR}/b.raucb'`, (_cmd, options) => {
        options.onStdout?.('{"event":"progress","percent":10,"message":"Checking bundle"}\n');
        throw new Rk64Error('connection-lost', 'connection to gw.test lost');
      });
    const second = gateway().expect(
      'rk64-action last',
      ok(
        '{"action":"install","startedAt":"2026-11-26T01:00:00Z","finishedAt":"2026-11-26T01:03:00Z","percent":100,"message":"Installed into slot B","ok":true}\n',
      ),
    );
    const transports = [first, second];
    const ui = await mount(first, {
      bundlePath: bundle,
      connect: () => Promise.resolve(transports.shift() ?? second),
    });
    await ui.press('i');
    await ui.press(ENTER);
    await ui.press('y');
    await ui.waitFor('install succeeded at 2026-11-26T01:03:00Z: Installed into slot B');
    await ui.waitFor('Reboot lab-gw now');
    expect(first.closed).toBe(true);
    expect(second.commands).toContain('rk64-action last');
  });

  it('l shows the last install', async () => {
    const t = gateway().expect(
      'rk64-action last',
      ok('{"action":"install","startedAt":"x","finishedAt":null,"percent":55,"message":"Copying","ok":null}'),
    );
    const ui = await mount(t);
    await ui.press('l');
    await ui.waitFor('install still running on the gateway (55%: Copying)');
  });
});

describe('modes', () => {
  it('read-only: every dangerous key, then y, sends nothing; none is offered', async () => {
    const t = gateway();
    const ui = await mount(t, { readOnly: true });
    const dangerousKeys = KEY_BINDINGS.filter((b) => b.dangerous).flatMap((b) => b.keys);
    expect(dangerousKeys).toEqual(['g', 'G', 'b', 'B', 'w', 'i', 'V', 'R']);
    for (const key of dangerousKeys) {
      // The key, then the confirm key that would send its action (and a line end for the prompt).
      await ui.press(key);
      await ui.press('y');
      await ui.press(ENTER);
      // A refresh is one round trip after the keys before it were handled: then look.
      const polls = t.commands.length;
      await ui.press('r');
      await vi.waitFor(() => expect(t.commands.length).toBe(polls + 1));
      expect(ui.screen()).not.toMatch(/Press y to confirm|Bundle to install|Cancelled/);
    }
    // Only the refreshes went out (the transport fails the test on anything else).
    expect(new Set(t.commands)).toEqual(new Set(['rk64-status']));
    expect(ui.screen()).toContain('live · read-only');
    expect(ui.screen()).toContain('? help r refresh q quit');
    // The controller refuses an action in read-only mode even when one reaches it.
    await ui.controller.execute({ kind: 'reboot' });
    await ui.waitFor('Read-only mode: nothing was sent.');
    await ui.press('?');
    await ui.waitFor('Keys (? or Esc closes)');
    // The dashboard's help: its own keys and the dialog's (the fleet view has its own help).
    for (const b of KEY_BINDINGS.filter((binding) => binding.scope !== 'fleet')) {
      if (b.dangerous) expect(ui.screen()).not.toContain(b.description.replace(/\s+/g, ' '));
      else expect(ui.screen()).toContain(b.description.replace(/\s+/g, ' '));
    }
  });

  it('help lists every binding in the table, and ? closes it', async () => {
    const ui = await mount(gateway());
    await ui.press('?');
    await ui.waitFor('Keys (? or Esc closes)');
    const flat = ui.screen().replace(/\s+/g, ' ');
    for (const b of KEY_BINDINGS.filter((binding) => binding.scope !== 'fleet'))
      expect(flat).toContain(`${b.label} ${b.description}`);
    await ui.press('?');
    await vi.waitFor(() => expect(ui.screen()).toContain('RAUC slots'));
    expect(ui.screen()).not.toContain('Keys (? or Esc closes)');
  });

  it('r refreshes with exactly one round trip', async () => {
    const t = gateway();
    const ui = await mount(t);
    const before = t.commands.length;
    await ui.press('r');
    await vi.waitFor(() => expect(t.commands.length).toBe(before + 1));
    expect(t.commands.slice(before)).toEqual(['rk64-status']);
  });

  it('unreachable: keeps the data, marks it stale with its age, reconnects with back-off', async () => {
    let status = loadStatus('healthy');
    const t = gateway().status(() => status);
    let attempts = 0;
    const ui = await mount(t, {
      connect: () => {
        attempts += 1;
        if (attempts === 1) return Promise.resolve(t);
        if (attempts < 5) return Promise.reject(new Rk64Error('refused', 'connection refused by gw.test:22'));
        return Promise.resolve(gateway(status));
      },
    });
    t.failNext = new Rk64Error('connection-lost', 'connection to gw.test lost');
    status = loadStatus('rolled-back');
    await ui.press('r');
    await ui.waitFor(/STALE: data from \d+ s ago; reconnecting; retry in \d+ s: connection/);
    expect(ui.screen()).toContain('A good booted primary');
    await ui.waitFor('live');
    expect(ui.screen()).toMatch(/B bad - - 2026\.11\.26/);
    expect(attempts).toBe(5);
  });

  it('a changed host key ends the dashboard with its exit code instead of retrying', async () => {
    const t = gateway();
    let attempts = 0;
    const ui = await mount(t, {
      connect: () => {
        attempts += 1;
        if (attempts === 1) return Promise.resolve(t);
        return Promise.reject(new Rk64Error('host-key-changed', 'host key of gw.test changed'));
      },
    });
    t.failNext = new Rk64Error('connection-lost', 'lost');
    await ui.press('r');
    await vi.waitFor(() => expect(ui.controller.getState().fatal?.exitCode).toBe(4));
    expect(attempts).toBe(2);
  });

  it('h shows the lifecycle history panel and hides it again, without a round trip', async () => {
    const t = gateway().status(() => loadStatus('rolled-back'));
    const ui = await mount(t);
    const before = t.commands.length;
    expect(ui.screen()).not.toContain('Lifecycle history');
    await ui.press('h');
    await ui.waitFor('Lifecycle history (12, newest first)');
    expect(ui.screen().replace(/\s+/g, ' ')).toContain('the watchdog reset a hung system three times');
    await ui.press('h');
    await vi.waitFor(() => expect(ui.screen()).not.toContain('Lifecycle history'));
    expect(t.commands.length).toBe(before);
  });

  it('q quits', async () => {
    const ui = await mount(gateway());
    await ui.press('q');
    await vi.waitFor(() => expect(ui.controller.getState().quit).toBe(true));
  });
});
