// Plain-text rendering of a status document for `rk64 status` and `rk64 tui --batch`.
// No React, no Ink: this runs in scripts and over dumb terminals. Colour only when asked for
// (a TTY and NO_COLOR unset), and the text reads the same without it.
import type { Shown } from '../core/printable.js';
import type { GatewayStatus, SlotStatus } from '../core/status/schema.js';
import { sshWanDeadline } from '../core/status/ssh-wan.js';

export interface RenderOptions {
  color: boolean;
}

export function useColor(stream: { isTTY?: boolean }, env: NodeJS.ProcessEnv): boolean {
  return Boolean(stream.isTTY) && env.NO_COLOR === undefined && env.TERM !== 'dumb';
}

function paint(options: RenderOptions, code: string, text: string): string {
  return options.color ? `\x1b[${code}m${text}\x1b[0m` : text;
}

const orDash = (value: string | number | null | undefined): string =>
  value === null || value === undefined || value === '' ? '-' : String(value);

export function formatDuration(seconds: number): string {
  const d = Math.floor(seconds / 86400);
  const h = Math.floor((seconds % 86400) / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  if (d > 0) return `${d}d ${h}h ${m}m`;
  if (h > 0) return `${h}h ${m}m`;
  return `${m}m ${Math.floor(seconds % 60)}s`;
}

function slotLine(slot: SlotStatus, o: RenderOptions): string {
  const marks = [slot.booted ? 'booted' : '', slot.primary ? 'primary' : ''].filter(Boolean).join(', ');
  const state =
    slot.bootStatus === 'good'
      ? paint(o, '32', 'good')
      : slot.bootStatus === 'bad'
        ? paint(o, '31', 'bad')
        : 'unknown';
  return `  slot ${slot.bootname}  ${state.padEnd(o.color ? 16 : 7)} ${orDash(slot.bundleVersion).padEnd(14)} ${marks}`.trimEnd();
}

/** `s` is Shown: every gateway string in it is printable (src/core/printable.ts). */
export function renderStatusText(name: string, s: Shown<GatewayStatus>, o: RenderOptions): string {
  const out: string[] = [];
  out.push(paint(o, '1', `${name}`) + `  (${orDash(s.hostname)}, collected ${s.collectedAt})`);
  out.push(
    `  versions: os ${orDash(s.versions.os)}, bundle ${orDash(s.versions.bundle)}, kernel ${orDash(s.versions.kernel)}, rk64 ${orDash(s.versions.rk64)}`,
  );
  out.push(`  uptime: ${s.uptimeSeconds === null ? '-' : formatDuration(s.uptimeSeconds)}`);
  if (s.rauc) {
    out.push(
      `  rauc: compatible ${orDash(s.rauc.compatible)}, booted ${orDash(s.rauc.bootedSlot)}, primary ${orDash(s.rauc.primarySlot)}`,
    );
    for (const slot of s.rauc.slots) out.push(`  ${slotLine(slot, o)}`);
  } else out.push('  rauc: unavailable');
  if (s.bootState) {
    const b = s.bootState;
    out.push(
      `  boot: order ${b.order.join(' ') || '-'}, A left ${orDash(b.attemptsLeft.A)}, B left ${orDash(b.attemptsLeft.B)}, next ${orDash(b.nextBootSlot)}` +
        (b.breakGlass ? `, ${paint(o, '33', 'break-glass console armed')}` : ''),
    );
  } else out.push('  boot: unavailable');
  if (s.watchdog) {
    const w = s.watchdog;
    out.push(
      `  watchdog: ${w.active ? 'active' : 'inactive'} (${orDash(w.device)} ${orDash(w.identity)}, timeout ${orDash(w.timeoutSeconds)} s, systemd ${orDash(w.runtimeWatchdogSeconds)} s)`,
    );
  } else out.push('  watchdog: unavailable');
  out.push(
    `  health: ${s.health ? `${s.health.state}${s.health.detail ? ` - ${s.health.detail}` : ''}` : 'unavailable'}` +
      `; first boot ${s.firstBootCompleted === null ? 'unknown' : s.firstBootCompleted ? 'completed' : 'not completed'}`,
  );
  if (s.sshOnWan) {
    const fw =
      s.sshOnWan.firewallAllows === null
        ? 'firewall unknown'
        : s.sshOnWan.firewallAllows
          ? 'firewall allows'
          : 'firewall blocks';
    const deadline = sshWanDeadline(s);
    out.push(
      `  ssh on wan: ${s.sshOnWan.enabled ? 'enabled' : 'disabled'} (${fw}${deadline ? `, ${deadline}` : ''})`,
    );
  } else out.push('  ssh on wan: unavailable');
  if (s.links) {
    out.push('  links:');
    for (const l of s.links) {
      out.push(
        `    ${l.name.padEnd(8)} ${l.role.padEnd(5)} ${l.state.padEnd(8)} ${orDash(l.mac).padEnd(17)} ${l.addresses.join(' ')}`.trimEnd(),
      );
    }
  } else out.push('  links: unavailable');
  if (s.leases) {
    out.push(`  leases: ${s.leases.length}`);
    for (const l of s.leases) {
      out.push(
        `    ${l.ip.padEnd(15)} ${l.mac} ${orDash(l.hostname).padEnd(16)} ${l.expiresAt ?? 'infinite'}`,
      );
    }
  } else out.push('  leases: unavailable');
  for (const e of s.errors) out.push(paint(o, '33', `  note: ${e.field}: ${e.reason}`));
  return `${out.join('\n')}\n`;
}
