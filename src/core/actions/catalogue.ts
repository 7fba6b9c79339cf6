// The action catalogue: every change the console can make on a gateway, in one place. For each:
// the rk64-action command that makes it (device-scripts/rootfs/rk64-action, contract in
// docs/services.md), the confirmation text (built from facts the gateway reports in its status
// document, never from constants of our own), its title, what it says when done, and what the
// key of the same name (src/core/keybindings.ts) asks for first. The runners (run.ts) carry them out.
import { formatDuration } from '../format.js';
import type { ActionBindingId } from '../keybindings.js';
import { shellQuote } from '../shell.js';
import type { GatewayStatus, SlotName } from '../status/schema.js';
import { DURATION_FORMS, parseDuration } from './duration.js';
import type { Downgrade } from './install-events.js';

export const REMOTE = 'rk64-action';
export const SHORT_ACTION_TIMEOUT_MS = 60_000;

export type SlotRef = 'booted' | 'other';

export type GatewayAction =
  | { kind: 'mark'; verdict: 'good' | 'bad'; slot: SlotRef }
  /** `duration` as the gateway reads it (parseDuration). */
  | { kind: 'ssh-wan'; enable: true; duration: string }
  | { kind: 'ssh-wan'; enable: false }
  | { kind: 'reboot' }
  /**
   * `source` is a local bundle file (uploaded first) or an https URL the gateway downloads.
   * `allowDowngrade` passes --allow-downgrade; `downgrade` is what the gateway said when it refused.
   */
  | { kind: 'install'; source: string; allowDowngrade: boolean; downgrade?: Downgrade }
  /** `source`: a local tar archive of the recovery VPN server's files (make-vpn server), uploaded first. */
  | { kind: 'vpn-config'; source: string };

/** Actions whose source is uploaded first: their command is known only after the upload. */
export type UploadAction = Extract<GatewayAction, { kind: 'install' | 'vpn-config' }>;

/** Which slot a booted/other reference means on this gateway right now, or null when unknown. */
export function resolveSlot(status: GatewayStatus | null, slot: SlotRef): SlotName | null {
  const booted = status?.rauc?.bootedSlot ?? null;
  if (booted === null) return null;
  if (slot === 'booted') return booted;
  return booted === 'A' ? 'B' : 'A';
}

/** The command for every action but install, whose source is known only after the upload. */
export function remoteCommand(action: Exclude<GatewayAction, UploadAction>): string {
  switch (action.kind) {
    case 'mark':
      return `${REMOTE} mark-${action.verdict} ${action.slot}`;
    case 'ssh-wan':
      return action.enable
        ? `${REMOTE} ssh-wan on --for ${/^[0-9a-z]+$/.test(action.duration) ? action.duration : shellQuote(action.duration)}`
        : `${REMOTE} ssh-wan off`;
    case 'reboot':
      return `${REMOTE} reboot`;
  }
}

export function installCommand(remoteSource: string, allowDowngrade: boolean): string {
  return `${REMOTE} install ${allowDowngrade ? '--allow-downgrade ' : ''}${shellQuote(remoteSource)}`;
}

export function vpnConfigCommand(remoteSource: string): string {
  return `${REMOTE} vpn-config install ${shellQuote(remoteSource)}`;
}

/** What a successful action says (install and vpn-config report their own result). */
export function doneText(action: Exclude<GatewayAction, UploadAction>): string {
  switch (action.kind) {
    case 'mark':
      return `Slot (${action.slot}) marked ${action.verdict}.`;
    case 'ssh-wan':
      return action.enable
        ? `SSH on the WAN port is now on; the gateway closes it by itself in ${durationWords(action.duration)}.`
        : 'SSH on the WAN port is now off.';
    case 'reboot':
      return 'The gateway reboots in about a second; the console reconnects when it is back.';
  }
}

function durationWords(duration: string): string {
  const parsed = parseDuration(duration);
  return parsed ? formatDuration(parsed.seconds) : duration;
}

/**
 * What rk64-action mark-good|mark-bad does to the U-Boot boot state (RAUC's U-Boot backend plus
 * rk64-action's BOOT_ORDER repair), in the operator's words. The attempts a slot marked good gets
 * are RAUC's `boot-attempts` (its system.conf), as the gateway reports them.
 */
function markEffect(verdict: 'good' | 'bad', slot: SlotRef, status: GatewayStatus | null): string {
  if (verdict === 'bad') {
    const then =
      slot === 'booted'
        ? 'the next reboot starts the other slot, and U-Boot will not boot this one again'
        : 'U-Boot will not boot it, not even as a fallback,';
    return `its boot attempts drop to 0 and it leaves the boot order: ${then} until it is marked good or reinstalled`;
  }
  const max = status?.bootState?.maxAttempts ?? null;
  const attempts =
    max === null
      ? "its boot attempts go back to RAUC's configured maximum (this gateway does not report the number)"
      : `its boot attempts go back to ${max}`;
  const restored = `${attempts} and it is in the boot order again (appended after the first slot if it was taken out; which slot boots first does not change)`;
  return slot === 'booted'
    ? `${restored}; this installation is recorded as committed`
    : `${restored}, so U-Boot can fall back to it`;
}

/** The WAN port as the gateway names it, or a description when it does not report it. */
function wanPort(status: GatewayStatus | null): string {
  const name = status?.sshOnWan?.wanInterface ?? null;
  return name === null ? 'the WAN port' : `the WAN port (${name})`;
}

/** The confirmation text: names the gateway and what will change. */
export function describeAction(action: GatewayAction, status: GatewayStatus | null, gateway: string): string {
  switch (action.kind) {
    case 'mark': {
      const name = resolveSlot(status, action.slot);
      const slot = name === null ? `the ${action.slot} slot` : `slot ${name} (${action.slot})`;
      return `Mark ${slot} ${action.verdict} on ${gateway}: ${markEffect(action.verdict, action.slot, status)}.`;
    }
    case 'ssh-wan':
      return action.enable
        ? `Turn SSH on the WAN port ON on ${gateway} for ${durationWords(action.duration)}: the firewall will accept SSH on ${wanPort(status)} from anywhere until then, and the gateway turns it off again by itself.`
        : `Turn SSH on the WAN port OFF on ${gateway}: the firewall will drop SSH on ${wanPort(status)} and open SSH connections that came in there are closed (LAN and VPN keep SSH).`;
    case 'reboot':
      return `Reboot ${gateway} now: the LAN loses DHCP, DNS and routing until it is back (about a minute).`;
    case 'vpn-config':
      return `Install the recovery VPN configuration ${action.source} on ${gateway}: it is checked first (certificate against its CA, key, CRL); a new CRL alone is applied without a restart, anything else restarts the OpenVPN server (connected NOC clients reconnect, this session too if it runs through the tunnel), and the previous configuration comes back if the new one does not start.`;
    case 'install': {
      const target = resolveSlot(status, 'other');
      const into = target === null ? 'the other slot' : `slot ${target}`;
      const plain = `Install ${action.source} on ${gateway} into ${into}: the running slot stays untouched; the new one boots after a reboot.`;
      if (!action.allowDowngrade) return plain;
      const d = action.downgrade;
      const what =
        d === undefined
          ? 'even if it is not newer than the running system'
          : d.running === d.bundle
            ? `although it is not an upgrade: the bundle and the running system are both version ${d.bundle}`
            : `although it is a DOWNGRADE from ${d.running} (running) to ${d.bundle} (the bundle)`;
      return `Install ${action.source} on ${gateway} into ${into} ${what}. The running slot stays untouched; the older one boots after a reboot.`;
    }
  }
}

export function actionTitle(action: GatewayAction): string {
  switch (action.kind) {
    case 'vpn-config':
      return 'install VPN configuration';
    case 'mark':
      return `mark ${action.slot} slot ${action.verdict}`;
    case 'ssh-wan':
      return `SSH on WAN ${action.enable ? 'on' : 'off'}`;
    case 'reboot':
      return 'reboot';
    case 'install':
      return action.allowDowngrade ? 'install bundle (downgrade allowed)' : 'install bundle';
  }
}

/** A question the console asks before it can name the action (a bundle, a duration). */
export interface ActionPrompt {
  id: 'install-source' | 'ssh-wan-duration' | 'vpn-config-source';
  question: string;
  /** Pre-filled, editable. */
  initial: string;
}

/** What a dangerous key asks for: a confirmation, a question first, or nothing (with why). */
export type ActionRequest =
  | { kind: 'confirm'; action: GatewayAction }
  | { kind: 'prompt'; prompt: ActionPrompt }
  | { kind: 'refuse'; reason: string };

export interface RequestContext {
  status: GatewayStatus | null;
  /** Pre-filled in the install prompt. */
  bundlePath?: string;
}

/** SSH on the WAN stays open this long unless the operator types another duration. */
export const DEFAULT_SSH_WAN_DURATION = '30m';

const mark = (verdict: 'good' | 'bad', slot: SlotRef) => (): ActionRequest => ({
  kind: 'confirm',
  action: { kind: 'mark', verdict, slot },
});

/** Each dangerous key's request; the compiler holds this to the keybinding table. */
const REQUESTS: Record<ActionBindingId, (context: RequestContext) => ActionRequest> = {
  'mark-good-booted': mark('good', 'booted'),
  'mark-good-other': mark('good', 'other'),
  'mark-bad-booted': mark('bad', 'booted'),
  'mark-bad-other': mark('bad', 'other'),
  'ssh-wan-toggle': ({ status }) => {
    const current = status?.sshOnWan;
    if (!current)
      return { kind: 'refuse', reason: 'SSH-on-WAN state is unknown; refresh (r) before toggling it' };
    if (current.enabled) return { kind: 'confirm', action: { kind: 'ssh-wan', enable: false } };
    return {
      kind: 'prompt',
      prompt: {
        id: 'ssh-wan-duration',
        question: `Keep SSH on the WAN port open for how long? (${DURATION_FORMS}); the gateway closes it by itself then. Enter to continue, Esc to cancel:`,
        initial: DEFAULT_SSH_WAN_DURATION,
      },
    };
  },
  install: ({ bundlePath }) => ({
    kind: 'prompt',
    prompt: {
      id: 'install-source',
      question: 'Bundle to install (local .raucb path or https URL), Enter to continue, Esc to cancel:',
      initial: bundlePath ?? '',
    },
  }),
  reboot: () => ({ kind: 'confirm', action: { kind: 'reboot' } }),
  'vpn-config': () => ({
    kind: 'prompt',
    prompt: {
      id: 'vpn-config-source',
      question:
        'Recovery VPN configuration to install (local tar archive of make-vpn server output), Enter to continue, Esc to cancel:',
      // The archive's name in the NOC workflow (docs/remote-access.md).
      initial: 'vpn.tar',
    },
  }),
};

export function requestFor(id: ActionBindingId, context: RequestContext): ActionRequest {
  return REQUESTS[id](context);
}

/** The answer to a prompt: the action to confirm, an error to show (the prompt stays), or null for an empty answer. */
export function answerPrompt(
  prompt: ActionPrompt,
  value: string,
): { action: GatewayAction } | { error: string } | null {
  const text = value.trim();
  if (text === '') return null;
  switch (prompt.id) {
    case 'install-source':
      return { action: { kind: 'install', source: text, allowDowngrade: false } };
    case 'vpn-config-source':
      return { action: { kind: 'vpn-config', source: text } };
    case 'ssh-wan-duration': {
      const duration = parseDuration(text);
      return duration === null
        ? { error: `'${text}' is not a duration the gateway accepts: ${DURATION_FORMS}` }
        : { action: { kind: 'ssh-wan', enable: true, duration: duration.text } };
    }
  }
}
