// Per-file setup of an end-to-end scenario: the bundle variants (cached), the first-booted disk
// (cached), an update server on 127.0.0.1 and a gateway booted from a fresh copy of that disk.
import { firstBootedSnapshot, startE2eGateway } from './e2e-gateway.js';
import type { E2eGateway, Snapshot } from './e2e-gateway.js';
import { recordMeasurement } from './e2e-measure.js';
import { startUpdateServer } from './e2e-server.js';
import type { UpdateServer } from './e2e-server.js';
import { e2eVariants } from './e2e-variants.js';
import type { Variants } from './e2e-variants.js';

export interface Scenario {
  variants: Variants;
  snapshot: Snapshot;
  server: UpdateServer;
  gw: E2eGateway;
  stop(): Promise<void>;
}

export async function startScenario(label: string, title: string): Promise<Scenario> {
  const variants = await e2eVariants();
  if (variants.buildSeconds > 0)
    recordMeasurement('setup', 'bundle variants (cold build)', variants.buildSeconds);
  const snapshot = await firstBootedSnapshot(variants.build);
  if (snapshot.firstBootSeconds !== null)
    recordMeasurement('setup', 'first boot to SSH', snapshot.firstBootSeconds);
  const server = await startUpdateServer();
  let gw: E2eGateway;
  try {
    gw = await startE2eGateway(snapshot, label);
  } catch (error) {
    await server.close();
    throw error;
  }
  recordMeasurement(title, 'boot to SSH', (gw.gateway.state.bootToSshMs ?? 0) / 1000);
  return {
    variants,
    snapshot,
    server,
    gw,
    stop: async () => {
      await gw.stop();
      await server.close();
    },
  };
}
