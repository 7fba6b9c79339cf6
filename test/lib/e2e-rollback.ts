// The common run of the rollback scenarios (test/vm/e2e/rollback.test.ts):
// install a bundle that must not survive, reboot, and follow the gateway through U-Boot's counted
// attempts until it answers again on slot A. Returns what was observed; the tests assert.
import type { GatewayStatus } from '../../src/core/status/schema.js';
import type { E2eGateway, InstallEvent, TimedAttempt } from './e2e-gateway.js';
import type { UpdateServer } from './e2e-server.js';
import type { Bundle } from './e2e-variants.js';

export interface RollbackRun {
  /** rk64-action install's events and exit (null when a rollout installed it: its events are its own). */
  install: { code: number | null; events: InstallEvent[]; stderr: string } | null;
  /** The boot state right after the install, before the reboot (null when a rollout rebooted at once). */
  envAfterInstall: Record<string, string> | null;
  /** Every U-Boot attempt from the reboot until slot A answered SSH. */
  attempts: TimedAttempt[];
  rebootAt: number;
  backOnA: number;
  /** os-verification's verdict on A after the rollback. */
  health: string;
  status: GatewayStatus;
  env: Record<string, string>;
  /** Serial output from the reboot on. */
  serial: string;
}

/** Puts the bundle at `url` on the gateway and reboots it into the new slot. */
export type RollbackStart = (
  gw: E2eGateway,
  url: string,
) => Promise<Pick<RollbackRun, 'install' | 'envAfterInstall' | 'rebootAt'>>;

/** The console's device end by hand: `rk64-action install URL`, then `rk64-action reboot`. */
export const installThenReboot: RollbackStart = async (gw, url) => {
  const install = await gw.install(url);
  if (install.code !== 0) {
    // What the worker said on its way out, and the state it left: the result line alone may only
    // say that it stopped.
    const why = await gw
      .ssh(
        'journalctl -u rk64-install --no-pager -o cat -n 40; ' +
          'cat /data/rk64/last-action.err 2>/dev/null | tail -n 20; df -h /data /tmp; ls -la /data/rk64',
      )
      .then((r) => `${r.stdout}${r.stderr}`)
      .catch((error: unknown) => `(could not read the journal: ${String(error)})`);
    throw new Error(
      `rk64-action install of ${url} failed (${install.code}): ${JSON.stringify(install.events)} ${install.stderr}\n` +
        `gateway:\n${why}`,
    );
  }
  const envAfterInstall = await gw.bootEnv();
  const rebootAt = Date.now();
  await gw.sshOk('rk64-action reboot');
  return { install, envAfterInstall, rebootAt };
};

export async function installAndRollBack(
  gw: E2eGateway,
  server: UpdateServer,
  bundle: Bundle,
  timeoutMs: number,
  start: RollbackStart = installThenReboot,
): Promise<RollbackRun> {
  server.serveFile(`${bundle.name}.raucb`, bundle.path);
  await gw.sshOk(server.gatewaySetup()); // rk64-action fetches https only, with the pinned CA
  const bootId = await gw.bootId();
  const serialStart = (await gw.serial()).length;
  const watch = await gw.watchAttempts();
  let started: Awaited<ReturnType<RollbackStart>>;
  let backOnA: number;
  try {
    started = await start(gw, server.guestUrl(`${bundle.name}.raucb`));
    await gw.waitForSlot('A', bootId, timeoutMs, (serial) => slotBCommitted(serial.slice(serialStart)));
    backOnA = Date.now();
  } finally {
    await watch.stop();
  }
  const attempts = await watch.stop();
  const health = await gw.waitForHealth(300_000);
  return {
    ...started,
    attempts,
    backOnA,
    health,
    status: await gw.status(),
    env: await gw.bootEnv(),
    serial: (await gw.serial()).slice(serialStart),
  };
}

/**
 * A rollback is impossible once B is committed: os-verification (device-scripts/lib/common.sh,
 * commit_booted_slot) says so on the console, and U-Boot then keeps booting B. Waiting out the
 * timeout would only hide why.
 */
function slotBCommitted(serial: string): string | null {
  const line = /os-verification: slot B \(.*\) marked good and committed/.exec(serial);
  return line ? `slot B was committed ("${line[0]}"), so U-Boot keeps booting it` : null;
}

/** What every rollback must end in: three counted attempts of B, then A, B bad, A confirmed. */
export const expectedAttempts = [
  { slot: 'B', mode: 'normal', left: { A: 3, B: 2 } },
  { slot: 'B', mode: 'normal', left: { A: 3, B: 1 } },
  { slot: 'B', mode: 'normal', left: { A: 3, B: 0 } },
  { slot: 'A', mode: 'normal', left: { A: 2, B: 0 } },
];
