// Paths of the shipped device scripts, so every services test runs the files that go on the gateway.
import { repoRoot } from './exec.js';

export const deviceScripts = `${repoRoot}/device-scripts`;
export const rootfsBin = (name: string) => `${deviceScripts}/rootfs/${name}`;
