// `rk64 status` / `rk64 tui --json` over the serial console: the built CLI opens a socat pty whose
// far end is the scripted console (a real bash behind a login prompt, with kernel log noise),
// which finds the worktree's rk64-status on its PATH.
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { validateStatus } from '../../../src/core/status/validate.js';
import { ensureBuilt, runCli } from '../../lib/cli.js';
import { repoRoot } from '../../lib/exec.js';
import type { ScriptedConsole } from '../../lib/serial-console.js';
import { startConsole } from '../../lib/serial-console.js';

let dir: string;
const consoles: ScriptedConsole[] = [];

beforeAll(async () => {
  await ensureBuilt();
  dir = await mkdtemp(join(tmpdir(), 'rk64-cli-serial-'));
  await mkdir(join(dir, 'bin'));
  await symlink(join(repoRoot, 'device-scripts/rootfs/rk64-status'), join(dir, 'bin', 'rk64-status'));
  await mkdir(join(dir, 'data'));
});

afterAll(async () => {
  await Promise.all(consoles.map((c) => c.stop()));
  if (dir) await rm(dir, { recursive: true, force: true });
});

async function gatewayConsole(): Promise<ScriptedConsole> {
  const c = await startConsole({
    mode: 'login',
    user: 'root',
    password: 'pw',
    kernelNoise: true,
    pathPrepend: [join(dir, 'bin')],
    env: { RK64_DATA: join(dir, 'data') },
  });
  consoles.push(c);
  return c;
}

describe('rk64 over the serial console', () => {
  it('status --json logs in and returns a valid document', async () => {
    const c = await gatewayConsole();
    const config = join(dir, 'config.json');
    await writeFile(
      config,
      JSON.stringify({ profiles: { bench: { type: 'serial', device: c.device, user: 'root' } } }),
    );
    const result = await runCli(['status', '--json', '--config', config, 'bench'], {
      env: { PATH: process.env.PATH, HOME: dir, RK64_SERIAL_PASSWORD: 'pw' },
    });
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const line = JSON.parse(result.stdout) as { target: string; status: unknown };
    expect(line.target).toBe('bench');
    const status = validateStatus(line.status);
    expect(status.firstBootCompleted).toBe(false);
  });

  it('without the password the login prompt is an auth failure (exit 5)', async () => {
    const c = await gatewayConsole();
    const result = await runCli(['tui', '--json', `serial:${c.device}`], {
      env: { PATH: process.env.PATH, HOME: dir },
    });
    expect(result.code).toBe(5);
    expect(result.stderr).toMatch(/^rk64: serial:.*asks for a login/);
  });
});
