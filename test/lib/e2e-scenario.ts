// Per-file setup of an end-to-end scenario: the bundle variants (cached), the booted snapshot
// (cached), an update server on 127.0.0.1 and a gateway resumed from a fresh copy of that snapshot.
import { bootedSnapshot, startE2eGateway } from './e2e-gateway.js';
import { buildGateway } from './gateway.js';
import type { BootedSnapshot, E2eGateway } from './e2e-gateway.js';
import { recordMeasurement } from './e2e-measure.js';
import { startUpdateServer } from './e2e-server.js';
import type { UpdateServer } from './e2e-server.js';
import { e2eVariants } from './e2e-variants.js';
import type { Variants } from './e2e-variants.js';

export interface Scenario {
  variants: Variants;
  snapshot: BootedSnapshot;
  server: UpdateServer;
  gw: E2eGateway;
  stop(): Promise<void>;
}

export async function startScenario(label: string, title: string): Promise<Scenario> {
  // The bundles are built on the host while the gateway boots in QEMU.
  const variantsBuilt = e2eVariants();
  variantsBuilt.catch(() => undefined); // awaited below; a failure while booting must not go unhandled
  const snapshot = await bootedSnapshot(await buildGateway());
  if (snapshot.bootSeconds !== null)
    recordMeasurement('setup', 'boot to SSH of the booted snapshot', snapshot.bootSeconds);
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
  recordMeasurement(title, 'restore to SSH', (gw.gateway.state.bootToSshMs ?? 0) / 1000);
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
