// The dashboard's view-model, React-free: turns a status document (and the controller's state)
// into titled panels of aligned text rows with a tone each. The Ink components only lay these
// out and colour them; docs/console.md's capture and the component tests read the same rows.
// Every panel takes a Shown status (src/core/printable.ts): gateway strings arrive printable.
import type { DashboardState } from './controller.js';
import type { Shown } from '../printable.js';
import type { GatewayStatus, StatusError } from '../status/schema.js';
import { sshWanDeadline } from '../status/ssh-wan.js';

export type Tone = 'normal' | 'ok' | 'warn' | 'bad' | 'dim';

export interface PanelRow {
  text: string;
  tone: Tone;
}

export interface Panel {
  id: PanelId;
  title: string;
  rows: PanelRow[];
}

export type PanelId = 'slots' | 'boot' | 'watchdog' | 'health' | 'links' | 'leases';

export const PANEL_IDS: readonly PanelId[] = ['slots', 'boot', 'watchdog', 'health', 'links', 'leases'];

const row = (text: string, tone: Tone = 'normal'): PanelRow => ({ text, tone });

/** Lays out cells in columns; the header row is dim. */
function table(header: string[], body: { cells: string[]; tone: Tone }[]): PanelRow[] {
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((r) => (r.cells[i] ?? '').length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i] ?? 0)))
      .join('  ')
      .trimEnd();
  return [row(line(header), 'dim'), ...body.map((r) => row(line(r.cells), r.tone))];
}

function unavailable(status: Shown<GatewayStatus>, field: string): PanelRow[] {
  const reasons = status.errors.filter(
    (e: StatusError) => e.field === field || e.field.startsWith(`${field}.`),
  );
  const why = reasons.map((e) => e.reason).join('; ');
  return [row(`unavailable${why ? `: ${why}` : ''}`, 'warn')];
}

export function formatAge(seconds: number): string {
  const s = Math.max(0, Math.floor(seconds));
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m${s % 60 ? ` ${s % 60}s` : ''}`;
  const h = Math.floor(m / 60);
  if (h < 24) return `${h}h ${m % 60}m`;
  return `${Math.floor(h / 24)}d ${h % 24}h`;
}

export function slotsPanel(status: Shown<GatewayStatus>): Panel {
  const rauc = status.rauc;
  if (!rauc) return { id: 'slots', title: 'RAUC slots', rows: unavailable(status, 'rauc') };
  const body = rauc.slots.map((slot) => {
    const state = slot.bootStatus ?? 'unknown';
    const tone: Tone = slot.bootStatus === 'bad' ? 'bad' : slot.bootStatus === 'good' ? 'ok' : 'warn';
    return {
      cells: [
        slot.bootname,
        state,
        slot.booted ? 'booted' : '-',
        slot.primary ? 'primary' : '-',
        slot.bundleVersion ?? '-',
      ],
      tone,
    };
  });
  const rows = table(['slot', 'state', 'booted', 'primary', 'bundle'], body);
  const booted = rauc.slots.find((s) => s.booted);
  // mark-good resets the booted slot's counter to the maximum (3); below it, the boot is unconfirmed.
  const left = booted ? status.bootState?.attemptsLeft[booted.bootname] : undefined;
  if (booted && (booted.bootStatus !== 'good' || (typeof left === 'number' && left < 3))) {
    rows.push(row(`slot ${booted.bootname} runs but is not confirmed: press g once it works`, 'warn'));
  }
  if (rauc.bootedSlot && rauc.primarySlot && rauc.bootedSlot !== rauc.primarySlot) {
    rows.push(
      row(`booted ${rauc.bootedSlot} but primary is ${rauc.primarySlot}: the next boot changes slot`, 'warn'),
    );
  }
  return { id: 'slots', title: `RAUC slots${rauc.compatible ? ` (${rauc.compatible})` : ''}`, rows };
}

export function bootPanel(status: Shown<GatewayStatus>): Panel {
  const boot = status.bootState;
  if (!boot) return { id: 'boot', title: 'Boot counters', rows: unavailable(status, 'bootState') };
  const left = (n: number | null) => (n === null ? 'unset' : String(n));
  const tone = (n: number | null): Tone => (n === null ? 'warn' : n === 0 ? 'bad' : n < 3 ? 'warn' : 'ok');
  return {
    id: 'boot',
    title: 'Boot counters',
    rows: [
      row(`order      ${boot.order.join(' ') || '(empty)'}`),
      row(`A left     ${left(boot.attemptsLeft.A)}`, tone(boot.attemptsLeft.A)),
      row(`B left     ${left(boot.attemptsLeft.B)}`, tone(boot.attemptsLeft.B)),
      row(`next boot  ${boot.nextBootSlot ?? 'none (all counters 0)'}`, boot.nextBootSlot ? 'normal' : 'bad'),
      row(
        `break-glass ${boot.breakGlass ? 'ON (root autologin on serial)' : 'off'}`,
        boot.breakGlass ? 'warn' : 'dim',
      ),
    ],
  };
}

export function watchdogPanel(status: Shown<GatewayStatus>): Panel {
  const wd = status.watchdog;
  if (!wd) return { id: 'watchdog', title: 'Watchdog', rows: unavailable(status, 'watchdog') };
  return {
    id: 'watchdog',
    title: 'Watchdog',
    rows: [
      row(`device   ${wd.device ?? 'none'}${wd.identity ? ` (${wd.identity})` : ''}`),
      row(`timeout  ${wd.timeoutSeconds === null ? 'unknown' : `${wd.timeoutSeconds}s`}`),
      row(
        wd.active
          ? `fed by systemd (RuntimeWatchdog ${wd.runtimeWatchdogSeconds ?? '?'}s)`
          : 'OFF: systemd does not feed it',
        wd.active ? 'ok' : 'bad',
      ),
    ],
  };
}

export function healthPanel(status: Shown<GatewayStatus>): Panel {
  const rows: PanelRow[] = [];
  const health = status.health;
  if (!health) rows.push(...unavailable(status, 'health'));
  else {
    const tone: Tone =
      health.state === 'passed'
        ? 'ok'
        : health.state === 'failed'
          ? 'bad'
          : health.state === 'running'
            ? 'warn'
            : 'dim';
    rows.push(row(`health   ${health.state}${health.detail ? `: ${health.detail}` : ''}`, tone));
  }
  const ssh = status.sshOnWan;
  if (!ssh) rows.push(row('ssh-wan  unavailable', 'warn'));
  else {
    const fw =
      ssh.firewallAllows === null
        ? 'firewall unknown'
        : ssh.firewallAllows
          ? 'firewall allows'
          : 'firewall drops';
    const mismatch = ssh.firewallAllows !== null && ssh.firewallAllows !== ssh.enabled;
    rows.push(
      row(`ssh-wan  ${ssh.enabled ? 'ON' : 'off'} (${fw})`, mismatch ? 'bad' : ssh.enabled ? 'warn' : 'ok'),
    );
    const deadline = sshWanDeadline(status);
    if (deadline) rows.push(row(`         ${deadline}`, 'warn'));
  }
  if (status.firstBootCompleted === false) rows.push(row('first boot not completed', 'warn'));
  return { id: 'health', title: 'Health / SSH on WAN', rows };
}

export function linksPanel(status: Shown<GatewayStatus>): Panel {
  if (!status.links) return { id: 'links', title: 'Network links', rows: unavailable(status, 'links') };
  if (status.links.length === 0)
    return { id: 'links', title: 'Network links', rows: [row('no links', 'warn')] };
  const body = status.links.map((link): { cells: string[]; tone: Tone } => ({
    cells: [link.name, link.role, link.state, link.addresses.join(' ') || '-'],
    tone: link.state === 'up' || link.state === 'unknown' ? 'normal' : 'warn',
  }));
  return { id: 'links', title: 'Network links', rows: table(['link', 'role', 'state', 'addresses'], body) };
}

export function leasesPanel(status: Shown<GatewayStatus>): Panel {
  const leases = status.leases;
  if (!leases) return { id: 'leases', title: 'DHCP leases', rows: unavailable(status, 'leases') };
  if (leases.length === 0) return { id: 'leases', title: 'DHCP leases (0)', rows: [row('no leases', 'dim')] };
  const collected = Date.parse(status.collectedAt);
  const expires = (at: string | null) => {
    if (at === null) return 'never';
    const seconds = (Date.parse(at) - collected) / 1000;
    return Number.isNaN(seconds) ? at : seconds <= 0 ? 'expired' : `in ${formatAge(seconds)}`;
  };
  const body = leases.map((l): { cells: string[]; tone: Tone } => ({
    cells: [l.mac, l.ip, l.hostname ?? '*', expires(l.expiresAt)],
    tone: 'normal',
  }));
  return {
    id: 'leases',
    title: `DHCP leases (${leases.length})`,
    rows: table(['mac', 'ip', 'hostname', 'expires'], body),
  };
}

export function panels(status: Shown<GatewayStatus>): Panel[] {
  return [
    slotsPanel(status),
    bootPanel(status),
    watchdogPanel(status),
    healthPanel(status),
    linksPanel(status),
    leasesPanel(status),
  ];
}

export function identityLine(state: DashboardState): string {
  const s = state.status;
  const parts = [state.gateway];
  if (state.transport && state.transport !== state.gateway) parts.push(state.transport);
  if (s?.hostname) parts.push(`host ${s.hostname}`);
  return parts.join(' · ');
}

export function versionsLine(state: DashboardState): string {
  const s = state.status;
  const parts: string[] = [];
  if (s) {
    if (s.versions.os) parts.push(`os ${s.versions.os}`);
    if (s.versions.bundle) parts.push(`bundle ${s.versions.bundle}`);
    if (s.versions.kernel) parts.push(`kernel ${s.versions.kernel}`);
    if (s.uptimeSeconds !== null) parts.push(`up ${formatAge(s.uptimeSeconds)}`);
  }
  return parts.join(' · ');
}

/** The connection line: live, connecting, or STALE with the data's age and the next retry. */
export function connectionLine(state: DashboardState): PanelRow {
  const age = state.lastUpdateAt === null ? null : formatAge((state.now - state.lastUpdateAt) / 1000);
  const retry =
    state.retryAt === null ? '' : `; retry in ${formatAge(Math.max(0, (state.retryAt - state.now) / 1000))}`;
  if (state.stale) {
    return row(`STALE: data from ${age} ago; ${state.connection}${retry}: ${state.error ?? ''}`, 'bad');
  }
  if (state.status === null) {
    const why = state.error ? `: ${state.error}${retry}` : '';
    return row(`${state.connection} to ${state.gateway}…${why}`, state.error ? 'bad' : 'dim');
  }
  return row(`live${state.readOnly ? ' · read-only' : ''}`, 'ok');
}
