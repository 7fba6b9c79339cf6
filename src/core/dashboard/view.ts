// The console's one view of a status document, React-free: titled panels of text rows with a tone
// each. The dashboard lays them out (layout.ts, src/ui/Dashboard.tsx) and colours them; `rk64
// status` prints the same panels plainly (src/cli/render.ts); docs/console.md's capture and the
// tests read the same rows. A new panel is a function here and its place in PANEL_LAYOUT.
// Every panel takes a Shown status (src/core/printable.ts): gateway strings arrive printable.
import type { DashboardState } from './controller.js';
import { formatDuration } from '../format.js';
import { describeEvent, explain, lastFallBack, lifecycleLabel } from '../lifecycle.js';
import type { Shown } from '../printable.js';
import { NOT_REPORTED } from '../status/declare.js';
import type { GatewayStatus, VpnStatus } from '../status/schema.js';
import { sshWanDeadline } from '../status/ssh-wan.js';
import { statusNotes } from '../status/validate.js';

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

export type PanelId = 'slots' | 'boot' | 'history' | 'watchdog' | 'health' | 'links' | 'leases' | 'notes';

/** Rows of the screen, each a list of panels side by side when they fit (layout.ts). */
export const PANEL_LAYOUT: readonly (readonly PanelId[])[] = [
  ['slots', 'boot'],
  ['history'],
  ['watchdog', 'health'],
  ['links'],
  ['leases'],
  ['notes'],
];

/** The document's fields each panel shows; a reason about a field no panel shows goes to "notes". */
const PANEL_FIELDS: Record<Exclude<PanelId, 'notes'>, readonly string[]> = {
  slots: ['rauc'],
  history: ['history'],
  boot: ['bootState'],
  watchdog: ['watchdog'],
  health: ['health', 'sshOnWan', 'vpn', 'firstBootCompleted'],
  links: ['links'],
  leases: ['leases'],
};

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

interface Reason {
  field: string;
  reason: string;
}

/** The gateway's errors and the console's reading notes (not reported, unknown value). */
function reasons(status: Shown<GatewayStatus>): Reason[] {
  return [...status.errors, ...statusNotes(status)];
}

const under = (field: string, root: string) =>
  field === root || field.startsWith(`${root}.`) || field.startsWith(`${root}[`);

/** Why `field` (or something under it) is null, or null when nothing says. */
function reasonFor(status: Shown<GatewayStatus>, field: string): string | null {
  const why = reasons(status)
    .filter((r) => under(r.field, field))
    .map((r) => r.reason);
  return why.length === 0 ? null : [...new Set(why)].join('; ');
}

function unavailable(status: Shown<GatewayStatus>, field: string): PanelRow[] {
  const why = reasonFor(status, field);
  return [row(`unavailable${why ? `: ${why}` : ''}`, 'warn')];
}

/**
 * Rows for reasons about `roots` the panel shows (only called for roots that are not null): a
 * skipped lease line, a lease's expiry or a link's role the panel shows only as `?`. One row per
 * field, array indexes folded (`leases[].expiresAt`).
 */
function footnotes(status: Shown<GatewayStatus>, roots: readonly string[]): PanelRow[] {
  const byField = new Map<string, Set<string>>();
  for (const r of reasons(status)) {
    if (!roots.some((root) => under(r.field, root))) continue;
    const field = r.field.replace(/\[\d+\]/g, '[]');
    byField.set(field, (byField.get(field) ?? new Set()).add(r.reason));
  }
  return [...byField].map(([field, why]) => {
    const text = [...why].join('; ');
    return row(`${field}: ${text}`, text.startsWith('not reported') ? 'dim' : 'warn');
  });
}

export function slotsPanel(status: Shown<GatewayStatus>): Panel {
  const rauc = status.rauc;
  if (!rauc) return { id: 'slots', title: 'RAUC slots', rows: unavailable(status, 'rauc') };
  const body = rauc.slots.map((slot) => {
    const tone: Tone = slot.bootStatus === 'bad' ? 'bad' : slot.bootStatus === 'good' ? 'ok' : 'warn';
    return {
      cells: [
        slot.bootname ?? '?',
        slot.bootStatus ?? 'unknown',
        slot.booted ? 'booted' : '-',
        slot.primary ? 'primary' : '-',
        slot.bundleVersion ?? '-',
        lifecycleLabel(slot.lifecycle),
      ],
      tone,
    };
  });
  const rows = table(['slot', 'state', 'booted', 'primary', 'bundle', 'lifecycle'], body);
  const why = whyLine(status);
  if (why) rows.push(row(why, 'bad'));
  const booted = rauc.slots.find((s) => s.booted);
  const bootname = booted?.bootname ?? null;
  // mark-good resets the booted slot's counter to the maximum; below it, the boot is unconfirmed.
  // The maximum is the gateway's (RAUC's boot-attempts); a gateway that does not report it is
  // judged by RAUC's slot state alone.
  const left = bootname ? status.bootState?.attemptsLeft[bootname] : undefined;
  const max = status.bootState?.maxAttempts ?? null;
  if (
    booted &&
    bootname &&
    (booted.bootStatus !== 'good' || (typeof left === 'number' && max !== null && left < max))
  ) {
    rows.push(row(`slot ${bootname} runs but is not confirmed: press g once it works`, 'warn'));
  }
  if (rauc.bootedSlot && rauc.primarySlot && rauc.bootedSlot !== rauc.primarySlot) {
    rows.push(
      row(`booted ${rauc.bootedSlot} but primary is ${rauc.primarySlot}: the next boot changes slot`, 'warn'),
    );
  }
  rows.push(...footnotes(status, PANEL_FIELDS.slots));
  return { id: 'slots', title: `RAUC slots${rauc.compatible ? ` (${rauc.compatible})` : ''}`, rows };
}

/**
 * The dashboard's answer to "why did it fall back?" while a slot's lifecycle says it fell back:
 * the journal's sentence (src/core/lifecycle.ts), or the slot's own reason when the events the
 * dashboard asked for no longer reach back to the fall-back.
 */
function whyLine(status: Shown<GatewayStatus>): string | null {
  const fell = status.rauc?.slots.find((s) => s.lifecycle?.state === 'fell-back');
  if (!fell) return null;
  const fb = lastFallBack(status.history);
  if (fb && fb.slot === fell.bootname) return `why: ${explain(status.history)}`;
  return `why: slot ${fell.bootname ?? '?'} fell back: ${fell.lifecycle?.reason ?? 'no reason recorded'}`;
}

/** The lifecycle journal's last events, newest first, the last fall-back's explanation on top. */
export function historyPanel(status: Shown<GatewayStatus>): Panel {
  const events = status.history;
  const rows: PanelRow[] = [];
  if (lastFallBack(events)) rows.push(row(`why: ${explain(events)}`, 'bad'));
  for (const e of [...events].reverse()) rows.push(row(describeEvent(e), eventTone(e)));
  if (events.length === 0) rows.push(row('no events (the journal is empty, or not reported)', 'dim'));
  rows.push(...footnotes(status, PANEL_FIELDS.history));
  return { id: 'history', title: `Lifecycle history (${events.length}, newest first)`, rows };
}

function eventTone(e: Shown<GatewayStatus>['history'][number]): Tone {
  if (e.event === 'fell-back' || e.event === 'install-failed') return 'bad';
  if (e.event === 'health' && e.verdict === 'failed') return 'bad';
  if (e.event === 'marked') return e.verdict === 'bad' ? 'bad' : 'ok';
  if (e.event === 'health' && e.verdict === 'passed') return 'ok';
  return e.event === 'up' ? 'dim' : 'normal';
}

export function bootPanel(status: Shown<GatewayStatus>): Panel {
  const boot = status.bootState;
  if (!boot) return { id: 'boot', title: 'Boot counters', rows: unavailable(status, 'bootState') };
  const left = (n: number | null) => (n === null ? 'unset' : String(n));
  const max = boot.maxAttempts;
  const tone = (n: number | null): Tone =>
    n === null ? 'warn' : n === 0 ? 'bad' : max === null ? 'normal' : n < max ? 'warn' : 'ok';
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
      ...footnotes(status, PANEL_FIELDS.boot),
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
      ...footnotes(status, PANEL_FIELDS.watchdog),
    ],
  };
}

export function healthPanel(status: Shown<GatewayStatus>): Panel {
  const rows: PanelRow[] = [];
  const health = status.health;
  if (!health) rows.push(row(`health   ${unavailable(status, 'health')[0]?.text ?? ''}`, 'warn'));
  else {
    const tone: Tone =
      health.state === 'passed'
        ? 'ok'
        : health.state === 'failed'
          ? 'bad'
          : health.state === 'running' || health.state === null
            ? 'warn'
            : 'dim';
    rows.push(row(`health   ${health.state ?? '?'}${health.detail ? `: ${health.detail}` : ''}`, tone));
  }
  const ssh = status.sshOnWan;
  if (!ssh) rows.push(row(`ssh-wan  ${unavailable(status, 'sshOnWan')[0]?.text ?? ''}`, 'warn'));
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
  const vpn = status.vpn;
  if (vpn) rows.push(...vpnRows(vpn));
  else {
    const why = reasonFor(status, 'vpn');
    // A gateway older than the recovery VPN says nothing about it: no row rather than a warning.
    if (why !== null && why !== NOT_REPORTED) rows.push(row(`vpn      unavailable: ${why}`, 'warn'));
  }
  const firstBoot = status.firstBootCompleted;
  if (firstBoot === null) {
    const why = reasonFor(status, 'firstBootCompleted');
    rows.push(row(`first boot unknown${why ? `: ${why}` : ''}`, 'dim'));
  } else
    rows.push(row(`first boot ${firstBoot ? 'completed' : 'not completed'}`, firstBoot ? 'dim' : 'warn'));
  rows.push(
    ...footnotes(status, [health ? 'health' : '', ssh ? 'sshOnWan' : '', vpn ? 'vpn' : ''].filter(Boolean)),
  );
  return { id: 'health', title: 'Health / SSH on WAN', rows };
}

/** Clients listed under the VPN row; more are counted. */
const VPN_CLIENT_ROWS = 3;

/** The recovery VPN server (part of a Shown status): its state, then one row per connected client. */
function vpnRows(vpn: VpnStatus): PanelRow[] {
  switch (vpn.state) {
    case 'not-configured':
      return [row('vpn      not configured', 'dim')];
    case 'stopped':
    case 'failed':
    case null:
      return [
        row(
          `vpn      ${vpn.state ?? '?'}${vpn.reason ? `: ${vpn.reason}` : ''}`,
          vpn.state === 'stopped' ? 'warn' : 'bad',
        ),
      ];
    case 'running': {
      const clients = vpn.clients;
      if (clients === null) return [row('vpn      running (clients unknown)', 'ok')];
      const rows = [
        row(`vpn      running, ${clients.length} client${clients.length === 1 ? '' : 's'}`, 'ok'),
      ];
      for (const c of clients.slice(0, VPN_CLIENT_ROWS)) {
        const since = c.connectedSince
          ? ` since ${c.connectedSince.replace('T', ' ').replace(/:\d\dZ$/, 'Z')}`
          : '';
        rows.push(row(`         ${c.commonName ?? '?'} from ${c.realAddress ?? '?'}${since}`, 'normal'));
      }
      if (clients.length > VPN_CLIENT_ROWS)
        rows.push(row(`         +${clients.length - VPN_CLIENT_ROWS} more`, 'dim'));
      return rows;
    }
  }
}

export function linksPanel(status: Shown<GatewayStatus>): Panel {
  if (!status.links) return { id: 'links', title: 'Network links', rows: unavailable(status, 'links') };
  if (status.links.length === 0)
    return { id: 'links', title: 'Network links', rows: [row('no links', 'warn')] };
  const body = status.links.map((link): { cells: string[]; tone: Tone } => ({
    cells: [link.name, link.role ?? '?', link.state, link.addresses.join(' ') || '-'],
    tone: link.state === 'up' || link.state === 'unknown' ? 'normal' : 'warn',
  }));
  return {
    id: 'links',
    title: 'Network links',
    rows: [...table(['link', 'role', 'state', 'addresses'], body), ...footnotes(status, PANEL_FIELDS.links)],
  };
}

export function leasesPanel(status: Shown<GatewayStatus>): Panel {
  const leases = status.leases;
  if (!leases) return { id: 'leases', title: 'DHCP leases', rows: unavailable(status, 'leases') };
  if (leases.length === 0) return { id: 'leases', title: 'DHCP leases (0)', rows: [row('no leases', 'dim')] };
  const collected = Date.parse(status.collectedAt);
  const expires = (at: string | null, i: number) => {
    // null is an infinite lease only when nothing says why it is null (not reported, unusable).
    if (at === null) return reasonFor(status, `leases[${i}].expiresAt`) === null ? 'never' : '?';
    const seconds = (Date.parse(at) - collected) / 1000;
    return Number.isNaN(seconds) ? at : seconds <= 0 ? 'expired' : `in ${formatDuration(seconds)}`;
  };
  const body = leases.map((l, i): { cells: string[]; tone: Tone } => ({
    cells: [l.mac, l.ip, l.hostname ?? '*', expires(l.expiresAt, i)],
    tone: 'normal',
  }));
  return {
    id: 'leases',
    title: `DHCP leases (${leases.length})`,
    rows: [...table(['mac', 'ip', 'hostname', 'expires'], body), ...footnotes(status, PANEL_FIELDS.leases)],
  };
}

/** Reasons about fields no panel shows (host name, versions, a field this console does not know). */
export function notesPanel(status: Shown<GatewayStatus>): Panel | null {
  const shownByPanels = Object.values(PANEL_FIELDS).flat();
  const rest = reasons(status).filter((r) => !shownByPanels.some((root) => under(r.field, root)));
  if (rest.length === 0) return null;
  return {
    id: 'notes',
    title: 'Notes',
    rows: rest.map((r) =>
      row(`${r.field}: ${r.reason}`, r.reason.startsWith('not reported') ? 'dim' : 'warn'),
    ),
  };
}

/** How many journal events the dashboard asks for with each refresh (rk64-status --history). */
export const DASHBOARD_HISTORY_EVENTS = 12;

export function panels(status: Shown<GatewayStatus>, options: { history?: boolean } = {}): Panel[] {
  const all = [
    slotsPanel(status),
    bootPanel(status),
    options.history ? historyPanel(status) : null,
    watchdogPanel(status),
    healthPanel(status),
    linksPanel(status),
    leasesPanel(status),
    notesPanel(status),
  ];
  return all.filter((p): p is Panel => p !== null);
}

export function identityLine(state: DashboardState): string {
  const s = state.status;
  const parts = [state.gateway];
  if (state.transport && state.transport !== state.gateway) parts.push(state.transport);
  if (s?.hostname) parts.push(`host ${s.hostname}`);
  return parts.join(' · ');
}

/** Versions and uptime, for the dashboard's second line and under the name in `rk64 status`. */
export function versionsText(s: Shown<GatewayStatus>): string {
  const parts: string[] = [];
  if (s.versions.os) parts.push(`os ${s.versions.os}`);
  if (s.versions.bundle) parts.push(`bundle ${s.versions.bundle}`);
  if (s.versions.kernel) parts.push(`kernel ${s.versions.kernel}`);
  if (s.versions.rk64) parts.push(`rk64 ${s.versions.rk64}`);
  if (s.uptimeSeconds !== null) parts.push(`up ${formatDuration(s.uptimeSeconds)}`);
  return parts.join(' · ');
}

export function versionsLine(state: DashboardState): string {
  return state.status ? versionsText(state.status) : '';
}

/** The connection line: live, connecting, or STALE with the data's age and the next retry. */
export function connectionLine(state: DashboardState): PanelRow {
  const age = state.lastUpdateAt === null ? null : formatDuration((state.now - state.lastUpdateAt) / 1000);
  const retry =
    state.retryAt === null
      ? ''
      : `; retry in ${formatDuration(Math.max(0, (state.retryAt - state.now) / 1000))}`;
  if (state.stale) {
    return row(`STALE: data from ${age} ago; ${state.connection}${retry}: ${state.error ?? ''}`, 'bad');
  }
  if (state.status === null) {
    const why = state.error ? `: ${state.error}${retry}` : '';
    return row(`${state.connection} to ${state.gateway}…${why}`, state.error ? 'bad' : 'dim');
  }
  return row(`live${state.readOnly ? ' · read-only' : ''}`, 'ok');
}

/** Serial targets: the flight recorder's last boot event (a reboot as it happens), or null. */
export function bootLine(state: DashboardState): PanelRow | null {
  if (!state.boot) return null;
  return row(`serial ${state.boot.text}`, state.boot.rebooting ? 'bad' : 'dim');
}
