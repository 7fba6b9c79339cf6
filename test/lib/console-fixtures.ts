// Recorded status documents and helpers for the console's unit tests.
import { readFileSync } from 'node:fs';

import {
  DashboardController,
  type DashboardOptions,
  type DashboardState,
} from '../../src/core/dashboard/controller.js';
import type { GatewayStatus } from '../../src/core/status/schema.js';
import { shown } from '../../src/core/printable.js';
import type { Transport } from '../../src/core/transport/transport.js';
import { repoRoot } from './exec.js';

export type FixtureName =
  'healthy' | 'updated-unconfirmed' | 'rolled-back' | 'watchdog-off' | 'no-leases' | 'plain-linux';

export const FIXTURE_NAMES: readonly FixtureName[] = [
  'healthy',
  'updated-unconfirmed',
  'rolled-back',
  'watchdog-off',
  'no-leases',
  'plain-linux',
];

export function loadStatus(name: FixtureName): GatewayStatus {
  return JSON.parse(
    readFileSync(`${repoRoot}/test/unit/ui/fixtures/status-${name}.json`, 'utf8'),
  ) as GatewayStatus;
}

/** Parses rk64-status output the way the dashboard needs it (the core's fetch validates fully). */
export async function fetchStatusJson(transport: Transport): Promise<GatewayStatus> {
  const result = await transport.exec('rk64-status', { timeoutMs: 10_000 });
  if (result.exitCode !== 0) throw new Error(`rk64-status exited ${result.exitCode}`);
  return JSON.parse(result.stdout) as GatewayStatus;
}

/** A dashboard state as the controller makes it, for rendering panels directly. */
export function stateFor(status: GatewayStatus | null, patch: Partial<DashboardState> = {}): DashboardState {
  const controller = new DashboardController({
    gateway: 'lab-gw',
    connect: () => Promise.reject(new Error('not used')),
    fetchStatus: () => Promise.reject(new Error('not used')),
  });
  const now = Date.parse('2026-11-26T01:00:05Z');
  return {
    ...controller.getState(),
    transport: 'ssh://root@gw.test:22',
    transportKind: 'ssh',
    connection: 'connected',
    status: status === null ? null : shown(status),
    lastUpdateAt: now,
    now,
    ...patch,
  };
}

export function controllerFor(
  transport: Transport,
  options: Partial<DashboardOptions> = {},
): DashboardController {
  return new DashboardController({
    gateway: 'lab-gw',
    connect: () => Promise.resolve(transport),
    fetchStatus: fetchStatusJson,
    refreshIntervalMs: 60_000,
    initialBackoffMs: 20,
    maxBackoffMs: 80,
    staleTickMs: 50,
    ...options,
  });
}
