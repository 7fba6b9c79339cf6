// The action catalogue: remote commands, confirmation texts built from facts the gateway reports
// (its maximum boot attempts, its WAN interface) with a wording of their own when it does not
// report them, prompts, and one request for every dangerous key of the keybinding table.
import { describe, expect, it } from 'vitest';

import {
  answerPrompt,
  describeAction,
  installCommand,
  remoteCommand,
  requestFor,
} from '../../../src/core/actions/catalogue.js';
import { parseDuration } from '../../../src/core/actions/duration.js';
import { KEY_BINDINGS } from '../../../src/core/keybindings.js';
import type { GatewayStatus } from '../../../src/core/status/schema.js';
import { loadStatus } from '../../lib/console-fixtures.js';

function withFacts(maxAttempts: number | null, wanInterface: string | null): GatewayStatus {
  const status = loadStatus('rolled-back');
  if (status.bootState) status.bootState.maxAttempts = maxAttempts;
  status.sshOnWan = { enabled: false, firewallAllows: false, expiresAt: null, wanInterface };
  return status;
}

describe('confirmation texts', () => {
  it('names the gateway and the slot', () => {
    const status = loadStatus('rolled-back');
    expect(describeAction({ kind: 'mark', verdict: 'bad', slot: 'booted' }, null, 'gw7')).toContain(
      'Mark the booted slot bad on gw7',
    );
    expect(describeAction({ kind: 'mark', verdict: 'good', slot: 'other' }, status, 'gw7')).toContain(
      'Mark slot B (other) good on gw7: ',
    );
  });

  it('says what each mark action does to the boot state, with the attempts the gateway reports', () => {
    const status = withFacts(5, 'eth0');
    const text = (verdict: 'good' | 'bad', slot: 'booted' | 'other') =>
      describeAction({ kind: 'mark', verdict, slot }, status, 'gw7');
    const restored =
      'its boot attempts go back to 5 and it is in the boot order again ' +
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

  it('a gateway that does not report its maximum attempts gets no invented number', () => {
    const text = describeAction(
      { kind: 'mark', verdict: 'good', slot: 'other' },
      withFacts(null, null),
      'gw',
    );
    expect(text).toContain(
      "its boot attempts go back to RAUC's configured maximum (this gateway does not report the number)",
    );
    expect(text).not.toMatch(/\d/);
  });

  it('SSH on WAN names the interface the gateway reports, and none when it does not', () => {
    const on = { kind: 'ssh-wan', enable: true, duration: '45m' } as const;
    const off = { kind: 'ssh-wan', enable: false } as const;
    expect(describeAction(on, withFacts(3, 'wan0'), 'gw7')).toBe(
      'Turn SSH on the WAN port ON on gw7 for 45 min: the firewall will accept SSH on the WAN port (wan0) ' +
        'from anywhere until then, and the gateway turns it off again by itself.',
    );
    expect(describeAction(off, withFacts(3, 'wan0'), 'gw7')).toBe(
      'Turn SSH on the WAN port OFF on gw7: the firewall will drop SSH on the WAN port (wan0) and open SSH ' +
        'connections that came in there are closed (LAN and VPN keep SSH).',
    );
    for (const action of [on, off]) {
      const text = describeAction(action, withFacts(3, null), 'gw7');
      expect(text).toContain('SSH on the WAN port ');
      expect(text).not.toMatch(/eth0|wan0|tcp\/22|\(\)/);
    }
  });

  it('a forced install says plainly that it is a downgrade, from which version to which', () => {
    const status = withFacts(3, 'eth0');
    const force = (running: string, bundle: string) =>
      describeAction(
        { kind: 'install', source: 'b.raucb', allowDowngrade: true, downgrade: { running, bundle } },
        status,
        'gw7',
      );
    expect(force('2026.12.0', '2026.11.2')).toBe(
      'Install b.raucb on gw7 into slot B although it is a DOWNGRADE from 2026.12.0 (running) to 2026.11.2 ' +
        '(the bundle). The running slot stays untouched; the older one boots after a reboot.',
    );
    expect(force('2026.12.0', '2026.12.0')).toContain(
      'although it is not an upgrade: the bundle and the running system are both version 2026.12.0',
    );
  });
});

describe('remote commands', () => {
  it('one rk64-action call each', () => {
    expect(remoteCommand({ kind: 'mark', verdict: 'good', slot: 'other' })).toBe(
      'rk64-action mark-good other',
    );
    expect(remoteCommand({ kind: 'ssh-wan', enable: true, duration: '30m' })).toBe(
      'rk64-action ssh-wan on --for 30m',
    );
    expect(remoteCommand({ kind: 'ssh-wan', enable: false })).toBe('rk64-action ssh-wan off');
    expect(remoteCommand({ kind: 'reboot' })).toBe('rk64-action reboot');
    expect(installCommand("/data/rk64/uploads/it's.raucb", false)).toBe(
      "rk64-action install '/data/rk64/uploads/it'\\''s.raucb'",
    );
    expect(installCommand('https://u.example/b.raucb', true)).toBe(
      "rk64-action install --allow-downgrade 'https://u.example/b.raucb'",
    );
  });
});

describe('durations (the rule of rk64-action duration_seconds)', () => {
  it.each([
    ['30m', 1800, '30m'],
    ['30 min', 1800, '30min'],
    ['90', 90, '90'],
    ['45s', 45, '45s'],
    ['2h', 7200, '2h'],
    ['168h', 604800, '168h'],
  ])('%s is %i s, sent as %s', (text, seconds, sent) => {
    expect(parseDuration(text)).toEqual({ text: sent, seconds });
  });

  it.each(['0', '169h', '1d', '-5m', '5 m x', '', '1.5h', '12345678'])('%s is refused', (text) => {
    expect(parseDuration(text)).toBeNull();
  });

  it('the prompt answers: an action, an error that keeps the prompt, or nothing for an empty line', () => {
    const request = requestFor('ssh-wan-toggle', { status: withFacts(3, 'eth0') });
    expect(request.kind).toBe('prompt');
    if (request.kind !== 'prompt') return;
    expect(request.prompt.initial).toBe('30m');
    expect(answerPrompt(request.prompt, ' 1 h ')).toEqual({
      action: { kind: 'ssh-wan', enable: true, duration: '1h' },
    });
    expect(answerPrompt(request.prompt, '8d')).toEqual({
      error: "'8d' is not a duration the gateway accepts: N (seconds), Ns, Nm, Nmin or Nh; 1 s to 7 days",
    });
    expect(answerPrompt(request.prompt, '  ')).toBeNull();
  });
});

describe('requests', () => {
  it('every dangerous key has one; SSH on WAN that is on turns off without a question', () => {
    for (const b of KEY_BINDINGS) {
      if (b.dangerous) expect(requestFor(b.id, { status: null }).kind).toMatch(/confirm|prompt|refuse/);
    }
    const on = withFacts(3, 'eth0');
    if (on.sshOnWan) on.sshOnWan.enabled = true;
    expect(requestFor('ssh-wan-toggle', { status: on })).toEqual({
      kind: 'confirm',
      action: { kind: 'ssh-wan', enable: false },
    });
    expect(requestFor('ssh-wan-toggle', { status: null })).toEqual({
      kind: 'refuse',
      reason: 'SSH-on-WAN state is unknown; refresh (r) before toggling it',
    });
  });
});
