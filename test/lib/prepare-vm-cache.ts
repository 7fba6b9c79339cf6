// Fills the vm layer's cache before the vm layer starts: the test gateway's image, the booted
// snapshot every e2e scenario restores (the image's first boot, settled and saved), and the bundle
// variants. scripts/test runs it, bundled by esbuild, beside the unit and integration layers (at
// their priority: see there); on a cold machine these builds otherwise held both VM lanes for about
// eight minutes, one lane waiting on the other's lock. Each artifact is built under its own lock
// and cached by the hash of its inputs, so a vm file that needs one meanwhile waits for it
// instead of building it twice, and a failure here is retried (and reported) by the vm file.
import { bootedSnapshot } from './e2e-gateway.js';
import { e2eVariants } from './e2e-variants.js';
import { buildGateway } from './gateway.js';

const started = Date.now();
const seconds = (): string => ((Date.now() - started) / 1000).toFixed(0);

try {
  const variants = e2eVariants();
  variants.catch(() => undefined); // awaited below; a failure while booting must not go unhandled
  const build = await buildGateway();
  console.log(`prepare-vm-cache: image ${build.dir} (${seconds()} s)`);
  const snapshot = await bootedSnapshot(build);
  console.log(`prepare-vm-cache: booted snapshot ${snapshot.dir} (${seconds()} s)`);
  await variants;
  console.log(`prepare-vm-cache: bundle variants ready (${seconds()} s)`);
} catch (error) {
  console.error(`prepare-vm-cache: ${error instanceof Error ? error.message : String(error)}`);
  process.exitCode = 1;
}
