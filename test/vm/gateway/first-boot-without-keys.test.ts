// A first boot without any key: the test gateway's image flashed without --authorized-keys warns
// on the serial console and leaves first-boot's sentinel unwritten, so keys put on boot-a later
// are imported at the next boot. Two real boots of the image (a first and a second); it needs no
// booted snapshot, so it runs while the vm layer's cache is still being filled
// (test/lib/vm-file-order.ts).
import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { repoRoot, run, runOk } from '../../lib/exec.js';
import { buildGateway, gatewayCommand, sshArgsFor, withoutEscapes } from '../../lib/gateway.js';
import type { GatewayState } from '../../lib/gateway.js';
import { instanceDir } from '../../lib/e2e-gateway.js';

beforeAll(async () => {
  const started = Date.now();
  const build = await buildGateway();
  console.log(
    `first boot without keys: image ready after ${((Date.now() - started) / 1000).toFixed(0)} s (base ${build.baseSeconds} s, image ${build.imageSeconds} s when built)`,
  );
});

describe('test gateway: a first boot without any key (flash without --authorized-keys)', () => {
  it('warns on the serial console and writes no sentinel: keys put on boot-a later (flash --provision-only) are imported at the next boot', async () => {
    const name = `nokeys-${process.pid}`;
    const gatewayUp = (extra: string[]) =>
      run('bash', [gatewayCommand, 'up', '--name', name, '--json', '--isolated', ...extra], {
        timeoutMs: 900_000,
      });
    try {
      const first = await gatewayUp(['--fresh', '--no-keys']);
      expect(first.code, first.stderr).toBe(0);
      const state = JSON.parse(first.stdout) as GatewayState;
      // host keys are printed after sshd started; first-boot ran before sshd
      const log = withoutEscapes(await readFile(state.serialLog, 'utf8'));
      expect(log).toMatch(/first-boot: NO SSH KEY: nobody can log in over SSH/);
      expect(log).toMatch(/first-boot: .*setenv _RUT_OH_ 1; boot/);
      const refused = await run('ssh', [...sshArgsFor(state, 'operator'), 'true'], { timeoutMs: 60_000 });
      expect(refused.code).toBe(255);
      await runOk('bash', [gatewayCommand, 'down', '--name', name], { timeoutMs: 60_000 });
      // The same disk, keys added on boot-a only: the next boot's first-boot imports them, which
      // it can only do if the first boot left no sentinel.
      const provisioned = await run('bash', [
        join(repoRoot, 'device-scripts/provision/flash'),
        '--provision-only',
        '--authorized-keys',
        `${state.identity}.pub`,
        '--user',
        state.testUser,
        state.disk,
      ]);
      expect(provisioned.code, provisioned.stderr).toBe(0);
      const second = await gatewayUp([]);
      expect(second.code, second.stderr).toBe(0);
      const again = JSON.parse(second.stdout) as GatewayState;
      const check = await run(
        'ssh',
        [
          ...sshArgsFor(again),
          'systemctl is-active first-boot.service; test -e /data/.completed_first_boot && echo sentinel',
        ],
        { timeoutMs: 120_000 },
      );
      expect(check.stdout.trim().split('\n'), check.stderr).toEqual(['active', 'sentinel']);
    } finally {
      await run('bash', [gatewayCommand, 'down', '--name', name], { timeoutMs: 60_000 });
      await rm(instanceDir(name), { recursive: true, force: true });
    }
  });
});
