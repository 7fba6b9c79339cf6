// The dashboard's state machine, React-free: the refresh loop (one rk64-status round trip per
// refresh), stale marking with age, reconnecting with back-off, key dispatch through the one
// keybinding table, confirmations, and actions that block input while they run. The Ink UI
// (src/ui/) subscribes to it and only renders; tests drive it with a real or fake Transport.
import {
  answerPrompt,
  describeAction,
  requestFor,
  type ActionPrompt,
  type ActionRequest,
  type GatewayAction,
} from '../actions/catalogue.js';
import { describeLastAction, readLastAction, type LastAction } from '../actions/last-action.js';
import { runAction, type ActionEvent } from '../actions/run.js';
import { auditedTransport, type AuditLog } from '../audit.js';
import { Rk64Error } from '../errors.js';
import { asRk64Error } from '../fleet.js';
import { printableDeep, shown, type Shown } from '../printable.js';
import { bindingFor, type ControlBindingId, type KeyBinding } from '../keybindings.js';
import type { GatewayStatus } from '../status/schema.js';
import type { Transport } from '../transport/transport.js';

export type Overlay =
  | { kind: 'none' }
  | { kind: 'help' }
  | { kind: 'confirm'; action: GatewayAction; text: string }
  /** A question before the action can be named (a bundle, a duration); `error` says why the last answer was refused. */
  | { kind: 'prompt'; prompt: ActionPrompt; value: string; error: string | null }
  | { kind: 'running'; action: GatewayAction; text: string; event: ActionEvent | null };

export type ConnectionState = 'connecting' | 'connected' | 'reconnecting';

export interface Notice {
  level: 'info' | 'ok' | 'error';
  text: string;
}

export interface DashboardState {
  gateway: string;
  /** The transport's description once connected (`ssh://root@10.8.0.5:22`). */
  transport: string | null;
  transportKind: Transport['kind'] | null;
  readOnly: boolean;
  connection: ConnectionState;
  /** The last document, made printable (the dashboard writes it to a terminal). */
  status: Shown<GatewayStatus> | null;
  /** Local clock (ms) of the last successful refresh. */
  lastUpdateAt: number | null;
  /** The last refresh failed: the panels show `status` from `lastUpdateAt`. */
  stale: boolean;
  /** Local clock (ms) when this state was made; the UI shows ages relative to it. */
  now: number;
  /** Why the last refresh or connect failed. */
  error: string | null;
  /** Local clock (ms) of the next reconnect attempt while disconnected. */
  retryAt: number | null;
  overlay: Overlay;
  notice: Notice | null;
  /** An install was running when the connection dropped: re-read `rk64-action last` on reconnect. */
  installOutcomePending: boolean;
  lastAction: LastAction | null;
  /** The history panel (lifecycle journal) is shown. */
  showHistory: boolean;
  /** The exact remote command the last action sent (the command line at the bottom shows it). */
  lastCommand: string | null;
  quit: boolean;
  /** An error reconnecting cannot fix (host key, authentication, bad target): the console exits. */
  fatal: Rk64Error | null;
  /**
   * Serial targets: the last boot event the flight recorder saw (src/core/serial-capture/), and
   * whether a boot is on its way (between U-Boot's banner and the login prompt).
   */
  boot: { text: string; rebooting: boolean } | null;
}

/** A boot event from the serial flight recorder, as far as the dashboard needs it. */
export interface DashboardBootEvent {
  kind: string;
  text: string;
}

// eslint-disable-next-line no-control-regex -- matching control characters is the point
const CONTROL_CHARACTERS = /[\u0000-\u001f\u007f]/g;

export interface KeyPress {
  /** The printable input (`g`, `?`), or '' for special keys. */
  input: string;
  escape?: boolean;
  return?: boolean;
  backspace?: boolean;
  ctrl?: boolean;
}

export interface DashboardOptions {
  /** As the operator named it (profile name or target string); confirmations name it. */
  gateway: string;
  connect: () => Promise<Transport>;
  fetchStatus: (transport: Transport, signal?: AbortSignal) => Promise<GatewayStatus>;
  readOnly?: boolean;
  refreshIntervalMs?: number;
  /** First reconnect delay; doubles up to `maxBackoffMs`. */
  initialBackoffMs?: number;
  maxBackoffMs?: number;
  /** How often the stale age counts up on screen (each tick redraws one line). */
  staleTickMs?: number;
  uploadDir?: string;
  /** Pre-filled in the install prompt. */
  bundlePath?: string;
  /** Where the commands of actions are recorded (src/core/audit.ts); none in tests that say so. */
  audit?: { log: AuditLog; operator: string } | null;
  /** Opened from the fleet view: Esc goes back to it. */
  onBack?: () => void;
  now?: () => number;
  /** Serial targets: subscribe to the flight recorder's boot events (returns the unsubscribe). */
  bootEvents?: (listener: (event: DashboardBootEvent) => void) => () => void;
}

type Listener = (state: DashboardState) => void;

const CONNECTION_KINDS = new Set(['refused', 'unreachable', 'timeout', 'connection-lost', 'serial-silent']);
const FATAL_KINDS = new Set([
  'host-key-unknown',
  'host-key-changed',
  'auth',
  'usage',
  'config',
  'serial-missing',
  'serial-denied',
  'internal',
]);

/** Reconnecting cannot fix it; a console bug (kind internal, or any non-Rk64Error) included. */
export function isFatalError(error: unknown): boolean {
  return FATAL_KINDS.has(asRk64Error(error).kind);
}

/** Only the transports' connection kinds are retried; a console bug never is. */
export function isConnectionError(error: unknown): boolean {
  return error instanceof Rk64Error && CONNECTION_KINDS.has(error.kind);
}

export function errorLine(error: unknown): string {
  return asRk64Error(error).toLine();
}

export class DashboardController {
  private state: DashboardState;
  private readonly listeners = new Set<Listener>();
  private transport: Transport | null = null;
  private timer: NodeJS.Timeout | null = null;
  private staleTimer: NodeJS.Timeout | null = null;
  private refreshing: Promise<void> | null = null;
  /** Cancels the status round trip in flight, so quitting never waits for a slow gateway. */
  private refreshAbort: AbortController | null = null;
  private actionRunning = false;
  private unsubscribeBoots: (() => void) | undefined;
  private stopped = false;
  private backoffMs: number;
  private readonly now: () => number;
  private readonly intervalMs: number;

  constructor(private readonly options: DashboardOptions) {
    this.now = options.now ?? Date.now;
    this.intervalMs = options.refreshIntervalMs ?? 5000;
    this.backoffMs = options.initialBackoffMs ?? 1000;
    this.state = {
      gateway: options.gateway,
      transport: null,
      transportKind: null,
      readOnly: options.readOnly ?? false,
      connection: 'connecting',
      status: null,
      lastUpdateAt: null,
      stale: false,
      now: this.now(),
      error: null,
      retryAt: null,
      overlay: { kind: 'none' },
      notice: null,
      installOutcomePending: false,
      lastAction: null,
      showHistory: false,
      lastCommand: null,
      quit: false,
      fatal: null,
      boot: null,
    };
  }

  getState = (): DashboardState => this.state;

  subscribe = (listener: Listener): (() => void) => {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  };

  /** First refresh now, then every refresh interval. */
  start(): void {
    this.stopped = false;
    this.unsubscribeBoots ??= this.options.bootEvents?.((event) => this.onBootEvent(event));
    this.schedule(0);
  }

  /**
   * A reboot seen on the serial line: show it as it happens; the line itself took the console away
   * from the transport (so nothing is typed into U-Boot). At the login prompt, reattach and refresh.
   */
  private onBootEvent(event: DashboardBootEvent): void {
    if (this.stopped) return;
    const rebooting = event.kind !== 'login';
    this.update({ boot: { text: event.text, rebooting } });
    if (event.kind === 'new-boot') {
      this.refreshAbort?.abort();
      void this.dropTransport();
    } else if (event.kind === 'login') {
      // The refresh in flight may be one that was refused during the boot: refresh again after it.
      void this.refreshNow().then(() => (this.transport || this.stopped ? undefined : this.refreshNow()));
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.unsubscribeBoots?.();
    this.unsubscribeBoots = undefined;
    if (this.timer) clearTimeout(this.timer);
    if (this.staleTimer) clearInterval(this.staleTimer);
    this.timer = null;
    this.staleTimer = null;
    this.refreshAbort?.abort();
    await this.refreshing?.catch(() => undefined);
    await this.dropTransport();
  }

  /** Resolves when the refresh in flight (if any) has finished. */
  async settled(): Promise<void> {
    await this.refreshing;
  }

  refreshNow(): Promise<void> {
    if (this.refreshing) return this.refreshing;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    return this.refresh();
  }

  handleKey(key: KeyPress): void {
    if (key.ctrl && key.input === 'c') return this.quit();
    const overlay = this.state.overlay;
    switch (overlay.kind) {
      case 'running':
        return; // Input is blocked while an action runs.
      case 'help':
        if (key.escape || key.input === '?' || key.input === 'q') this.update({ overlay: { kind: 'none' } });
        return;
      case 'confirm':
        return this.handleConfirmKey(key, overlay.action);
      case 'prompt':
        return this.handlePromptKey(key, overlay.prompt, overlay.value);
      case 'none': {
        const binding = bindingFor(key.escape ? 'escape' : key.input, 'dashboard', this.state.readOnly);
        if (binding) this.dispatch(binding);
        return;
      }
    }
  }

  /**
   * Every dangerous key goes the same way: its catalogue request (a question first, or straight
   * to the confirmation), and nothing runs before `y`. bindingFor() never returns one in read-only mode.
   */
  private dispatch(binding: KeyBinding): void {
    if (binding.dangerous) {
      return this.request(
        requestFor(binding.id, {
          status: this.state.status,
          ...(this.options.bundlePath !== undefined ? { bundlePath: this.options.bundlePath } : {}),
        }),
      );
    }
    this.control(binding.id);
  }

  private request(request: ActionRequest): void {
    switch (request.kind) {
      case 'confirm':
        return this.confirm(request.action);
      case 'prompt':
        return this.update({
          overlay: { kind: 'prompt', prompt: request.prompt, value: request.prompt.initial, error: null },
          notice: null,
        });
      case 'refuse':
        return this.update({ notice: { level: 'error', text: request.reason } });
    }
  }

  private control(id: ControlBindingId): void {
    switch (id) {
      case 'help':
        return this.update({ overlay: { kind: 'help' } });
      case 'refresh':
        void this.refreshNow();
        return;
      case 'last-action':
        void this.showLastAction();
        return;
      case 'history':
        return this.update({ showHistory: !this.state.showHistory });
      case 'quit':
        return this.quit();
      case 'back':
        this.options.onBack?.();
        return;
      case 'confirm':
      case 'cancel':
        return; // dialog keys, handled by the dialog
      case 'fleet-open':
      case 'fleet-next':
      case 'fleet-previous':
      case 'fleet-filter':
      case 'fleet-sort':
      case 'fleet-refresh':
      case 'fleet-quit':
        return; // fleet view keys (src/core/fleet-view.ts)
    }
  }

  private confirm(action: GatewayAction): void {
    this.update({
      overlay: {
        kind: 'confirm',
        action,
        text: describeAction(action, this.state.status, this.state.gateway),
      },
      notice: null,
    });
  }

  private handleConfirmKey(key: KeyPress, action: GatewayAction): void {
    const name = key.escape ? 'escape' : key.input;
    const binding = bindingFor(name, 'dialog', this.state.readOnly);
    if (binding?.id === 'confirm') {
      void this.execute(action);
    } else if (binding?.id === 'cancel') {
      this.update({
        overlay: { kind: 'none' },
        notice: { level: 'info', text: 'Cancelled; nothing changed.' },
      });
    }
  }

  private handlePromptKey(key: KeyPress, prompt: ActionPrompt, value: string): void {
    if (key.escape) {
      this.update({
        overlay: { kind: 'none' },
        notice: { level: 'info', text: 'Cancelled; nothing changed.' },
      });
    } else if (key.return) {
      this.submitPrompt(prompt, value);
    } else if (key.backspace) {
      this.update({ overlay: { kind: 'prompt', prompt, value: value.slice(0, -1), error: null } });
    } else if (key.input !== '' && !key.ctrl) {
      // A paste, or keys typed faster than they are read, arrive as one input that may hold the
      // line end: what comes before it is typed, the line end submits. Control characters never
      // reach the value (a CR in it would be written to the terminal as-is).
      const end = key.input.search(/[\r\n]/);
      const typed = (end === -1 ? key.input : key.input.slice(0, end)).replace(CONTROL_CHARACTERS, '');
      if (end === -1) this.update({ overlay: { kind: 'prompt', prompt, value: value + typed, error: null } });
      else this.submitPrompt(prompt, value + typed);
    }
  }

  private submitPrompt(prompt: ActionPrompt, value: string): void {
    const answer = answerPrompt(prompt, value);
    if (answer === null) this.update({ overlay: { kind: 'prompt', prompt, value: '', error: null } });
    else if ('error' in answer)
      this.update({ overlay: { kind: 'prompt', prompt, value, error: answer.error } });
    else this.confirm(answer.action);
  }

  private quit(): void {
    this.update({ quit: true });
    void this.stop();
  }

  /** Runs one action; input is blocked (overlay `running`) until it ends. */
  async execute(action: GatewayAction): Promise<void> {
    const transport = this.transport;
    const text = describeAction(action, this.state.status, this.state.gateway);
    if (this.state.readOnly) {
      this.update({
        overlay: { kind: 'none' },
        notice: { level: 'error', text: 'Read-only mode: nothing was sent.' },
      });
      return;
    }
    if (!transport) {
      this.update({
        overlay: { kind: 'none' },
        notice: {
          level: 'error',
          text: `Not connected to ${this.state.gateway}; nothing was sent. Wait for the reconnect.`,
        },
      });
      return;
    }
    this.actionRunning = true;
    await this.refreshing?.catch(() => undefined);
    this.update({ overlay: { kind: 'running', action, text, event: null }, notice: null });
    let installStarted = false;
    const sent = auditedTransport(transport, {
      log: this.options.audit?.log ?? null,
      operator: this.options.audit?.operator ?? '',
      gateway: this.state.gateway,
      source: 'tui',
      onCommand: (command) => this.update({ lastCommand: command }),
      now: this.now,
    });
    try {
      const outcome = await runAction(sent, action, {
        onEvent: (event) => {
          if (event.phase === 'install') installStarted = true;
          if (this.state.overlay.kind === 'running')
            this.update({ overlay: { ...this.state.overlay, event } });
        },
        ...(this.options.uploadDir ? { uploadDir: this.options.uploadDir } : {}),
        now: this.now,
      });
      const notice: Notice = { level: outcome.ok ? 'ok' : 'error', text: outcome.message };
      if (outcome.downgrade && action.kind === 'install' && !action.allowDowngrade) {
        // Refused as a downgrade: forcing it is offered, with its own confirmation naming both versions.
        const force: GatewayAction = { ...action, allowDowngrade: true, downgrade: outcome.downgrade };
        this.update({
          notice,
          overlay: {
            kind: 'confirm',
            action: force,
            text: describeAction(force, this.state.status, this.state.gateway),
          },
        });
      } else if (outcome.offerReboot) {
        const reboot: GatewayAction = { kind: 'reboot' };
        this.update({
          notice,
          overlay: {
            kind: 'confirm',
            action: reboot,
            text: `${outcome.message} ${describeAction(reboot, this.state.status, this.state.gateway)}`,
          },
        });
      } else {
        this.update({ notice, overlay: { kind: 'none' } });
      }
    } catch (error) {
      const lost = isConnectionError(error);
      const detached = lost && action.kind === 'install' && installStarted;
      this.update({
        overlay: { kind: 'none' },
        installOutcomePending: this.state.installOutcomePending || detached,
        notice: {
          level: 'error',
          text: detached
            ? `Connection lost during the install; it continues on ${this.state.gateway}. Its outcome shows after the reconnect.`
            : errorLine(error),
        },
      });
      if (lost) await this.dropTransport();
    } finally {
      this.actionRunning = false;
    }
    if (!this.stopped) void this.refreshNow();
  }

  private async showLastAction(): Promise<void> {
    if (!this.transport) return;
    try {
      const last = await readLastAction(this.transport);
      this.update({ lastAction: last, notice: { level: 'info', text: describeLastAction(last) } });
    } catch (error) {
      this.update({ notice: { level: 'error', text: errorLine(error) } });
    }
  }

  private schedule(delayMs: number): void {
    if (this.stopped) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = null;
      void this.refresh();
    }, delayMs);
  }

  private refresh(): Promise<void> {
    if (this.refreshing) return this.refreshing;
    this.refreshing = this.refreshOnce().finally(() => {
      this.refreshing = null;
    });
    return this.refreshing;
  }

  private async refreshOnce(): Promise<void> {
    if (this.stopped) return;
    if (this.actionRunning) return this.schedule(this.intervalMs);
    try {
      if (!this.transport) {
        this.update({ connection: this.state.status ? 'reconnecting' : 'connecting' });
        const transport = await this.options.connect();
        if (this.stopped) {
          await transport.close().catch(() => undefined);
          return;
        }
        this.transport = transport;
        this.update({ transport: transport.description, transportKind: transport.kind });
      }
      this.refreshAbort = new AbortController();
      const status = await this.options.fetchStatus(this.transport, this.refreshAbort.signal);
      this.refreshAbort = null;
      this.backoffMs = this.options.initialBackoffMs ?? 1000;
      this.setStaleTicking(false);
      this.update({
        status: shown(status),
        lastUpdateAt: this.now(),
        stale: false,
        connection: 'connected',
        error: null,
        retryAt: null,
      });
      if (this.state.installOutcomePending) await this.collectInstallOutcome(this.transport);
      this.schedule(this.intervalMs);
    } catch (error) {
      this.refreshAbort = null;
      if (this.stopped) return; // cancelled by stop(): nothing to report
      if (isFatalError(error)) {
        await this.dropTransport();
        this.update({ fatal: asRk64Error(error), error: errorLine(error), quit: true });
        this.stopped = true;
        return;
      }
      const lost = isConnectionError(error);
      if (lost) await this.dropTransport();
      const delay = lost ? this.nextBackoff() : this.intervalMs;
      this.update({
        stale: this.state.status !== null,
        connection: lost ? 'reconnecting' : this.state.connection,
        error: errorLine(error),
        retryAt: this.now() + delay,
      });
      this.setStaleTicking(this.state.status !== null);
      this.schedule(delay);
    }
  }

  /** After a reconnect: how did the install that lost its connection end? */
  private async collectInstallOutcome(transport: Transport): Promise<void> {
    const last = await readLastAction(transport).catch((error: unknown) => {
      this.update({ notice: { level: 'error', text: errorLine(error) } });
      return undefined;
    });
    if (last === undefined) return;
    const finished = last === null || (last.finishedAt !== null && last.ok !== null);
    const notice: Notice = {
      level: last?.ok === false ? 'error' : last?.ok ? 'ok' : 'info',
      text: describeLastAction(last),
    };
    this.update({ lastAction: last, installOutcomePending: !finished, notice });
    if (finished && last?.ok && this.state.overlay.kind === 'none') {
      const reboot: GatewayAction = { kind: 'reboot' };
      this.update({
        overlay: {
          kind: 'confirm',
          action: reboot,
          text: `${describeLastAction(last)}. ${describeAction(reboot, this.state.status, this.state.gateway)}`,
        },
      });
    }
  }

  private nextBackoff(): number {
    const delay = this.backoffMs;
    this.backoffMs = Math.min(this.backoffMs * 2, this.options.maxBackoffMs ?? 30_000);
    return delay;
  }

  private setStaleTicking(on: boolean): void {
    if (on && !this.staleTimer && !this.stopped) {
      this.staleTimer = setInterval(() => this.update({}), this.options.staleTickMs ?? 1000);
      this.staleTimer.unref();
    } else if (!on && this.staleTimer) {
      clearInterval(this.staleTimer);
      this.staleTimer = null;
    }
  }

  private async dropTransport(): Promise<void> {
    const transport = this.transport;
    this.transport = null;
    await transport?.close().catch(() => undefined);
  }

  /**
   * The one way into the dashboard's state: every string in it (notices, dialog texts, progress
   * messages, errors, the status document) is made printable here, so nothing a gateway sends
   * reaches the terminal as a control character (src/core/printable.ts). The action an overlay
   * holds is kept exact: it is what runs, and is shown only through actionTitle().
   */
  private update(patch: Partial<DashboardState>): void {
    const clean = printableDeep(patch);
    const overlay = patch.overlay;
    if (overlay && clean.overlay && 'action' in overlay) {
      clean.overlay = { ...clean.overlay, action: overlay.action } as Overlay;
    }
    this.state = { ...this.state, ...clean, now: this.now() };
    for (const listener of this.listeners) listener(this.state);
  }
}
