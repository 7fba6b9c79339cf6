// The fleet view's state machine, React-free: one row per gateway, refreshed concurrently with at
// most `parallel` connections at a time (runFleet), each gateway's connection kept open between
// refreshes and lent to the one-gateway dashboard when the operator opens it. A gateway that stops
// answering keeps its last data, marked unreachable with the reason and the age of that data.
// Sorting, the `/` filter and the summary line live here; src/ui/Fleet.tsx only renders.
import { isConnectionError, type KeyPress } from './dashboard/controller.js';
import { truncateText } from './dashboard/layout.js';
import { asRk64Error, runFleet } from './fleet.js';
import { bindingFor, type KeyBinding } from './keybindings.js';
import { printable } from './printable.js';
import { bootedLifecycleText, vpnState } from './slot-state.js';
import type { GatewayStatus } from './status/schema.js';
import type { Transport } from './transport/transport.js';

export interface FleetTarget {
  /** As the operator named it (profile name or target). */
  name: string;
  connect: () => Promise<Transport>;
}

/**
 * `unreachable`: the last refresh could not reach it (refused, timeout, connection lost);
 * `error`: it was reached but failed otherwise (authentication, host key, a bad document).
 * Both keep the last data they had, with its age.
 */
export type Reachability = 'connecting' | 'live' | 'unreachable' | 'error';

/** One row, every string printable (they come from gateways and errors). */
export interface FleetRow {
  name: string;
  transport: string | null;
  reach: Reachability;
  /** Why the last refresh failed. */
  reason: string | null;
  /** Local clock (ms) of the last answer. */
  lastSeenAt: number | null;
  slot: string | null;
  version: string | null;
  lifecycle: string | null;
  health: string | null;
  sshWan: string | null;
  vpn: string | null;
}

export const SORT_KEYS = ['name', 'state', 'lifecycle', 'version', 'last seen'] as const;
export type SortKey = (typeof SORT_KEYS)[number];

export interface FleetState {
  rows: FleetRow[];
  /** Index into the visible (filtered, sorted) rows. */
  selected: number;
  filter: string;
  /** Typing into the filter after `/`. */
  filtering: boolean;
  sort: SortKey;
  readOnly: boolean;
  now: number;
  /** The dashboard of this row's gateway is open (name), or null. */
  opened: string | null;
  quit: boolean;
}

export interface FleetViewOptions {
  targets: readonly FleetTarget[];
  fetchStatus: (transport: Transport, signal?: AbortSignal) => Promise<GatewayStatus>;
  parallel: number;
  readOnly?: boolean;
  refreshIntervalMs?: number;
  now?: () => number;
}

const REACH_ORDER: Record<Reachability, number> = { unreachable: 0, error: 1, connecting: 2, live: 3 };

const text = (v: string | null): string | null => (v === null ? null : printable(v));

function rowOf(name: string, status: GatewayStatus, transport: string, now: number): FleetRow {
  const booted = status.rauc?.bootedSlot ?? null;
  const slot = status.rauc?.slots.find((s) => s.bootname === booted);
  const wan = status.sshOnWan;
  const row: FleetRow = {
    name,
    transport,
    reach: 'live',
    reason: null,
    lastSeenAt: now,
    slot: booted,
    version: slot?.bundleVersion ?? status.versions.bundle ?? status.versions.os ?? null,
    lifecycle: bootedLifecycleText(status),
    health: status.health?.state ?? null,
    sshWan: wan ? (wan.enabled ? (wan.firewallAllows === false ? 'on (not loaded)' : 'on') : 'off') : null,
    vpn: vpnState(status),
  };
  // Everything but the name and the clock comes from the gateway.
  return {
    ...row,
    transport: printable(transport),
    version: text(row.version),
    lifecycle: text(row.lifecycle),
    health: text(row.health),
    vpn: text(row.vpn),
  };
}

/** The summary line: n good, n trying, n fell back, n unreachable (and the rest). */
export function fleetSummary(rows: readonly FleetRow[]): string {
  const count = (f: (r: FleetRow) => boolean) => rows.filter(f).length;
  const parts = [
    `${rows.length} gateways`,
    `${count((r) => r.reach !== 'unreachable' && r.lifecycle === 'good')} good`,
    `${count((r) => r.reach !== 'unreachable' && (r.lifecycle ?? '').startsWith('trying'))} trying`,
    `${count((r) => r.reach !== 'unreachable' && r.lifecycle === 'fell-back')} fell back`,
    `${count((r) => r.reach !== 'unreachable' && r.lifecycle === 'bad')} bad`,
    `${count((r) => r.reach === 'unreachable')} unreachable`,
    `${count((r) => r.reach === 'error')} error`,
  ];
  return parts.join(' · ');
}

function compare(a: FleetRow, b: FleetRow, key: SortKey): number {
  const text = (x: string | null) => x ?? '\uffff';
  switch (key) {
    case 'name':
      return a.name.localeCompare(b.name);
    case 'state':
      return REACH_ORDER[a.reach] - REACH_ORDER[b.reach];
    case 'lifecycle':
      return text(a.lifecycle).localeCompare(text(b.lifecycle));
    case 'version':
      return text(a.version).localeCompare(text(b.version), undefined, { numeric: true });
    case 'last seen':
      return (a.lastSeenAt ?? 0) - (b.lastSeenAt ?? 0);
  }
}

/** The rows shown: filtered (any column contains the text, case-insensitive), then sorted. */
export function visibleRows(state: Pick<FleetState, 'rows' | 'filter' | 'sort'>): FleetRow[] {
  const needle = state.filter.toLowerCase();
  return state.rows
    .filter(
      (r) =>
        needle === '' ||
        [
          r.name,
          r.transport,
          r.reach,
          r.reason,
          r.slot,
          r.version,
          r.lifecycle,
          r.health,
          r.sshWan,
          r.vpn,
        ].some((v) => v !== null && v.toLowerCase().includes(needle)),
    )
    .sort((a, b) => compare(a, b, state.sort) || a.name.localeCompare(b.name));
}

interface Entry {
  target: FleetTarget;
  transport: Transport | null;
  connecting: Promise<Transport> | null;
}

type Listener = (state: FleetState) => void;

export class FleetController {
  private state: FleetState;
  private readonly entries: Entry[];
  private readonly listeners = new Set<Listener>();
  private readonly now: () => number;
  private timer: NodeJS.Timeout | null = null;
  private refreshing: Promise<void> | null = null;
  private stopped = false;

  constructor(private readonly options: FleetViewOptions) {
    this.now = options.now ?? Date.now;
    this.entries = options.targets.map((target) => ({ target, transport: null, connecting: null }));
    this.state = {
      rows: options.targets.map((t) => ({
        name: printable(t.name),
        transport: null,
        reach: 'connecting',
        reason: null,
        lastSeenAt: null,
        slot: null,
        version: null,
        lifecycle: null,
        health: null,
        sshWan: null,
        vpn: null,
      })),
      selected: 0,
      filter: '',
      filtering: false,
      sort: 'name',
      readOnly: options.readOnly ?? false,
      now: this.now(),
      opened: null,
      quit: false,
    };
  }

  getState = (): FleetState => this.state;

  subscribe = (listener: Listener): (() => void) => {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  };

  start(): void {
    this.stopped = false;
    void this.refreshNow();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    await this.refreshing?.catch(() => undefined);
    await Promise.all(this.entries.map((e) => this.drop(e)));
  }

  refreshNow(): Promise<void> {
    if (this.refreshing) return this.refreshing;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.refreshing = this.refreshAll().finally(() => {
      this.refreshing = null;
      if (!this.stopped) {
        this.timer = setTimeout(() => void this.refreshNow(), this.options.refreshIntervalMs ?? 5000);
        this.timer.unref?.();
      }
    });
    return this.refreshing;
  }

  /**
   * The gateway's connection for its dashboard: the fleet's own, opened if needed. Closing it
   * does nothing (the fleet keeps it); a dashboard that lost it asks again and gets a new one.
   */
  lend(name: string): () => Promise<Transport> {
    const entry = this.entries.find((e) => printable(e.target.name) === name);
    if (!entry) throw new Error(`no gateway ${name} in the fleet`);
    return async () => {
      const transport = await this.connected(entry);
      return {
        kind: transport.kind,
        description: transport.description,
        ...(transport.baud !== undefined ? { baud: transport.baud } : {}),
        exec: (command, options) => transport.exec(command, options),
        upload: (local, remote, options) => transport.upload(local, remote, options),
        // The fleet keeps it: going back to the table must not close it. One a dashboard found
        // broken fails the fleet's next refresh too, which drops it.
        close: () => Promise.resolve(),
      };
    };
  }

  /** The dashboard of the selected gateway closed (Esc): back to the table. */
  back(): void {
    this.update({ opened: null });
  }

  handleKey(key: KeyPress & { upArrow?: boolean; downArrow?: boolean }): void {
    if (key.ctrl && key.input === 'c') return this.quit();
    if (this.state.opened !== null) return; // the dashboard has the keys
    if (this.state.filtering) return this.filterKey(key);
    const name = key.return
      ? 'return'
      : key.escape
        ? 'escape'
        : key.upArrow
          ? 'up'
          : key.downArrow
            ? 'down'
            : key.input;
    const binding = bindingFor(name, 'fleet', this.state.readOnly);
    if (binding) this.dispatch(binding);
    else if (key.escape && this.state.filter !== '') this.update({ filter: '', selected: 0 });
  }

  private dispatch(binding: KeyBinding): void {
    const visible = visibleRows(this.state);
    switch (binding.id) {
      case 'fleet-open': {
        const row = visible[this.state.selected];
        if (row) this.update({ opened: row.name });
        return;
      }
      case 'fleet-next':
        return this.update({ selected: Math.min(visible.length - 1, this.state.selected + 1) });
      case 'fleet-previous':
        return this.update({ selected: Math.max(0, this.state.selected - 1) });
      case 'fleet-filter':
        return this.update({ filtering: true });
      case 'fleet-sort': {
        const next = SORT_KEYS[(SORT_KEYS.indexOf(this.state.sort) + 1) % SORT_KEYS.length] ?? 'name';
        return this.update({ sort: next, selected: 0 });
      }
      case 'fleet-refresh':
        void this.refreshNow();
        return;
      case 'fleet-quit':
        return this.quit();
      default:
        return;
    }
  }

  private filterKey(key: KeyPress): void {
    if (key.escape) return this.update({ filtering: false, filter: '', selected: 0 });
    if (key.return) return this.update({ filtering: false, selected: 0 });
    if (key.backspace) return this.update({ filter: this.state.filter.slice(0, -1), selected: 0 });
    if (key.input !== '' && !key.ctrl) {
      // eslint-disable-next-line no-control-regex -- control characters never enter the filter
      const typed = key.input.replace(/[\u0000-\u001f\u007f]/g, '');
      this.update({ filter: this.state.filter + typed, selected: 0 });
    }
  }

  quit(): void {
    this.update({ quit: true });
    void this.stop();
  }

  private async connected(entry: Entry): Promise<Transport> {
    if (entry.transport) return entry.transport;
    entry.connecting ??= entry.target.connect().finally(() => {
      entry.connecting = null;
    });
    const transport = await entry.connecting;
    if (this.stopped) {
      await transport.close().catch(() => undefined);
      throw new Error('the fleet view stopped');
    }
    entry.transport ??= transport;
    if (entry.transport !== transport) await transport.close().catch(() => undefined);
    return entry.transport;
  }

  private async drop(entry: Entry): Promise<void> {
    const transport = entry.transport;
    entry.transport = null;
    await transport?.close().catch(() => undefined);
  }

  private async refreshAll(): Promise<void> {
    await runFleet(this.entries, this.options.parallel, async (entry) => {
      const index = this.entries.indexOf(entry);
      try {
        const transport = await this.connected(entry);
        const status = await this.options.fetchStatus(transport);
        if (this.stopped) return;
        this.setRow(index, rowOf(printable(entry.target.name), status, transport.description, this.now()));
      } catch (error) {
        if (this.stopped) return;
        await this.drop(entry);
        const previous = this.state.rows[index];
        if (!previous) return;
        const reason = asRk64Error(error).toLine();
        this.setRow(index, {
          ...previous,
          reach: isConnectionError(error) ? 'unreachable' : 'error',
          reason,
        });
      }
    });
  }

  private setRow(index: number, row: FleetRow): void {
    const rows = [...this.state.rows];
    rows[index] = row;
    this.update({ rows });
  }

  private update(patch: Partial<FleetState>): void {
    // Every row is made printable where it is built (rowOf, error lines); the filter is typed here.
    this.state = { ...this.state, ...patch, now: this.now() };
    for (const listener of this.listeners) listener(this.state);
  }
}

const pad = (text: string, width: number): string => truncateText(text, width).padEnd(width);

function age(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  return s < 60 ? `${s}s` : s < 3600 ? `${Math.floor(s / 60)}m` : `${Math.floor(s / 3600)}h`;
}

/** The SEEN column: how fresh the row is; a failed row's reason goes on a line of its own. */
function seenText(row: FleetRow, now: number): string {
  const ago = row.lastSeenAt === null ? '' : ` ${age(now - row.lastSeenAt)}`;
  return row.reach === 'unreachable' || row.reach === 'error' ? `${row.reach}${ago}` : row.reach;
}

const COLUMNS: readonly { title: string; width: number; cell: (r: FleetRow) => string }[] = [
  { title: 'GATEWAY', width: 12, cell: (r) => r.name },
  {
    title: 'VIA',
    width: 3,
    cell: (r) => (r.transport === null ? '' : r.transport.startsWith('serial:') ? 'ser' : 'ssh'),
  },
  { title: 'S', width: 1, cell: (r) => r.slot ?? '-' },
  { title: 'VERSION', width: 10, cell: (r) => r.version ?? '-' },
  { title: 'LIFECYCLE', width: 12, cell: (r) => r.lifecycle ?? '-' },
  { title: 'HEALTH', width: 7, cell: (r) => r.health ?? '-' },
  { title: 'WAN', width: 3, cell: (r) => r.sshWan ?? '-' },
  { title: 'VPN', width: 7, cell: (r) => r.vpn ?? '-' },
];

/**
 * The table as lines of at most `columns` characters: the header, then per visible row one line
 * (the selected one marked `>`) and, for a gateway that failed, a line with the reason; scrolled
 * so the selection stays within `height` lines. SEEN takes what is left of the width.
 */
export function fleetTable(state: FleetState, columns: number, height: number): string[] {
  const visible = visibleRows(state);
  const fit = (text: string) => pad(text, columns).trimEnd();
  const line = (mark: string, cells: string[], seen: string) => fit(`${mark} ${cells.join(' ')} ${seen}`);
  const header = line(
    ' ',
    COLUMNS.map((c) => pad(c.title, c.width)),
    'SEEN',
  );
  const groups = visible.map((r, i) => [
    line(
      i === state.selected ? '>' : ' ',
      COLUMNS.map((c) => pad(c.cell(r), c.width)),
      seenText(r, state.now),
    ),
    ...(r.reason !== null && r.reach !== 'live' ? [fit(`    ${r.reason}`)] : []),
  ]);
  const room = Math.max(1, height - 1);
  // From the selected row upwards, as many whole rows as fit; then downwards.
  let first = Math.min(state.selected, Math.max(0, groups.length - 1));
  let used = groups[first]?.length ?? 0;
  while (first > 0 && used + (groups[first - 1]?.length ?? 0) <= room) used += groups[--first]?.length ?? 0;
  const body: string[] = [];
  for (const group of groups.slice(first)) {
    if (body.length + group.length > room) break;
    body.push(...group);
  }
  return [header, ...body];
}

/** The line under the table: the summary, the sort, the filter. */
export function fleetStatusLine(state: FleetState): string {
  const shown = visibleRows(state).length;
  const filter = state.filtering
    ? `  /${state.filter}_`
    : state.filter
      ? `  filter: ${state.filter} (${shown} shown)`
      : '';
  return `${fleetSummary(state.rows)} · sort: ${state.sort}${filter}`;
}
