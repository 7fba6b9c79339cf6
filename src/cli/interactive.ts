// The one place the interactive dashboard plugs in: a dynamic `import('../ui/…')`, so Ink/React
// load only on this path and never for `rk64 status`, `--batch` or `--json`.
import { auditLogPath, localOperator, openAuditLog } from '../core/audit.js';
import { openTransport } from '../core/connect.js';
import type { ConnectOptions } from '../core/connect.js';
import { DASHBOARD_HISTORY_EVENTS } from '../core/dashboard/view.js';
import { fetchStatus } from '../core/status/fetch.js';
import type { Target } from '../core/target.js';
import { ExitCode } from '../core/errors.js';
import { openDashboardScreen } from '../ui/dashboard-screen.js';
import { headStart } from './head-start.js';
import type { Transport } from '../core/transport/transport.js';

export interface InteractiveOptions {
  target: Target;
  connect: ConnectOptions;
  readOnly: boolean;
  timeoutMs: number;
  /** Print the stack of a console bug (exit 70) after the dashboard ends. */
  debug?: boolean;
  /** For the audit log's place and operator. */
  env?: NodeJS.ProcessEnv;
}

/** Run the interactive dashboard until the user quits; resolves to the process exit code. */
export async function runInteractive(options: InteractiveOptions): Promise<number> {
  const { target } = options;
  // A serial target: the flight recorder holds the line open for the whole run (reboots
  // included), records it, and feeds the dashboard's boot line; the transport borrows the line.
  const line =
    target.kind === 'serial'
      ? new (await import('../core/serial-capture/line.js')).SerialLine(target, process.env)
      : undefined;
  const connect: ConnectOptions = line
    ? { ...options.connect, serial: { ...options.connect.serial, link: () => line.lease() } }
    : options.connect;
  // Connecting and the first status request start before Ink and React load (head-start.ts).
  const head = headStart(
    () => openTransport(target, connect),
    (transport, signal, onStarted) =>
      fetchStatus(transport, {
        timeoutMs: options.timeoutMs,
        history: DASHBOARD_HISTORY_EVENTS,
        ...(signal ? { signal } : {}),
        ...(onStarted ? { onStarted } : {}),
      }),
  );
  let code: number = ExitCode.usage;
  try {
    // The first frame is on the screen before Ink loads (dashboard-screen.ts).
    const screen = openDashboardScreen({
      gateway: target.name,
      connect: head.connect,
      ...(line ? { bootEvents: (listener) => line.onBoot(listener) } : {}),
      fetchStatus: head.fetchStatus,
      readOnly: options.readOnly,
      audit: {
        log: openAuditLog(auditLogPath(options.env ?? process.env)),
        operator: localOperator(options.env ?? process.env),
      },
      lowBandwidth: target.kind === 'serial',
      ...(process.env.RK64_UPLOAD_DIR ? { uploadDir: process.env.RK64_UPLOAD_DIR } : {}),
    });
    if (screen !== null) {
      try {
        await untilGatewayWorks(head.started);
        const { showDashboard } = await import('../ui/run.js');
        code = await showDashboard(screen, { debug: options.debug === true });
      } finally {
        screen.close();
      }
    }
  } finally {
    await head.discard();
  }
  if (line) {
    await line.close();
    process.stderr.write(`rk64 tui: serial capture in ${line.capturePath}\n`);
  }
  // The terminal is restored at this point. A socket still closing (a gateway slow to acknowledge
  // the SSH disconnect) must not keep the operator waiting after q: leave within a grace period.
  // The timer is unref'd, so a process with nothing left to do exits at once as usual.
  setTimeout(() => process.exit(code), QUIT_GRACE_MS).unref();
  return code;
}

const QUIT_GRACE_MS = 500;

/**
 * Loading Ink, React and Yoga keeps the event loop busy for 100-300 ms, and every step of the SSH
 * handshake waits for the event loop. So the code loads once the gateway runs the first
 * rk64-status (the console then only waits for its answer), or after this long at the latest, so
 * that the keys work while a slow connection is still coming up.
 */
const DASHBOARD_LOAD_WAIT_MS = 500;

function untilGatewayWorks(started: Promise<void>): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, DASHBOARD_LOAD_WAIT_MS);
  });
  return Promise.race([started, deadline]).finally(() => clearTimeout(timer));
}

export interface FleetInteractiveOptions {
  targets: Target[];
  connect: ConnectOptions;
  readOnly: boolean;
  timeoutMs: number;
  parallel: number;
  env?: NodeJS.ProcessEnv;
}

/** The fleet view (several gateways) until the operator quits. */
export async function runFleetInteractive(options: FleetInteractiveOptions): Promise<number> {
  const { runFleetView } = await import('../ui/run.js');
  const env = options.env ?? process.env;
  const fetch = (transport: Transport, signal?: AbortSignal) =>
    fetchStatus(transport, { timeoutMs: options.timeoutMs, ...(signal ? { signal } : {}) });
  const code = await runFleetView({
    fleet: {
      targets: options.targets.map((target) => ({
        name: target.name,
        connect: () => openTransport(target, options.connect),
      })),
      fetchStatus: fetch,
      parallel: options.parallel,
      readOnly: options.readOnly,
    },
    dashboard: {
      fetchStatus: fetch,
      readOnly: options.readOnly,
      audit: { log: openAuditLog(auditLogPath(env)), operator: localOperator(env) },
      ...(process.env.RK64_UPLOAD_DIR ? { uploadDir: process.env.RK64_UPLOAD_DIR } : {}),
    },
  });
  setTimeout(() => process.exit(code), QUIT_GRACE_MS).unref();
  return code;
}
