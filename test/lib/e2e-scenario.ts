// Per-file setup of an end-to-end scenario: the bundle variants (cached), the first-booted disk
// (cached), an update server on 127.0.0.1 and a gateway booted from a fresh copy of that disk.
import { firstBootedSnapshot, startE2eGateway } from './e2e-gateway.js';
import { buildGateway } from './gateway.js';
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
  // The bundles are built on the host while the gateway boots in QEMU.
  const variantsBuilt = e2eVariants();
  variantsBuilt.catch(() => undefined); // awaited below; a failure while booting must not go unhandled
  const snapshot = await firstBootedSnapshot(await buildGateway());
  if (snapshot.firstBootSeconds !== null)
    recordMeasurement('setup', 'first boot to SSH', snapshot.firstBootSeconds);
  const gw = await startE2eGateway(snapshot, label);
  let variants: Variants;
  let server: UpdateServer;
  try {
    variants = await variantsBuilt;
    server = await startUpdateServer();
  } catch (error) {
    await gw.stop();
    throw error;
  }
  if (variants.buildSeconds > 0)
    recordMeasurement('setup', 'bundle variants (cold build)', variants.buildSeconds);
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
