// The hot-path parser (src/cli/command.ts) must mean exactly what yargs (src/cli/usage.ts) means
// for every command line it accepts, and must leave everything else to yargs.
import { describe, expect, it } from 'vitest';
import type { CliCommand, GlobalArgs } from '../../../src/cli/command.js';
import { parseHotPath } from '../../../src/cli/command.js';
import { parseWithYargs } from '../../../src/cli/usage.js';

const GLOBAL_KEYS = [
  'config',
  'accept-new-host-key',
  'identity',
  'jump',
  'baud',
  'timeout',
  'known-hosts',
  'debug',
] as const;

/** The command with only the options rk64 reads (yargs adds camelCase aliases, `_` and `$0`). */
function normalized(command: CliCommand | undefined): unknown {
  if (!command) return command;
  const args: Partial<Record<keyof GlobalArgs, unknown>> = {};
  for (const key of GLOBAL_KEYS) if (command.args[key] !== undefined) args[key] = command.args[key];
  return { ...command, args };
}

const accepted: string[][] = [
  ['status', 'ssh://root@127.0.0.1:2222'],
  ['status', '--debug', 'ssh://root@127.0.0.1:2222'],
  ['status', '--json', 'ssh://root@127.0.0.1:2222', '--identity', '/k/id_ed25519', '--known-hosts', '/k/kh'],
  ['status', '--json', 'ssh://127.0.0.1', '--identity=/k/a', '--known-hosts=/k/kh', '--timeout=5'],
  ['status', 'lab', 'serial:/dev/ttyUSB0@115200', 'ssh://[::1]:22', '--parallel', '4', '--timeout', '2.5'],
  ['status', 'gw-1', '--identity', '/k/a', '--identity', '/k/b', '--accept-new-host-key'],
  ['status', 'gw', '--config', '/etc/rk64.json', '--jump', 'ops@bastion:2200', '--baud', '9600'],
  ['status', 'gw', '--parallel', '0'],
  ['tui', 'serial:/dev/ttyUSB0'],
  ['tui', '--batch', 'ssh://gw', '--read-only'],
  ['tui', 'lab', '--json', '--batch', '--baud=1500000', '--timeout', '10', '--known-hosts', '~/kh'],
];

const leftToYargs: string[][] = [
  [],
  ['--help'],
  ['--version'],
  ['help'],
  ['break-glass', 'serial:/dev/ttyUSB0'],
  ['--timeout', '5', 'status', 'gw'],
  ['status'],
  ['status', '--help', 'gw'],
  ['status', 'gw', '--bogus'],
  ['status', 'gw', '-j'],
  ['status', 'gw', '--no-json'],
  ['status', 'gw', '--json=false'],
  ['status', 'gw', '--json', 'true'],
  ['status', 'gw', '--json', '--json'],
  ['status', 'gw', '--timeout', '5', '--timeout', '6'],
  ['status', 'gw', '--knownHosts', '/k/kh'],
  ['status', 'gw', '--batch'],
  ['status', '123'],
  ['status', '0x10'],
  ['status', ''],
  ['status', 'has space'],
  ['status', '--', 'gw'],
  ['status', 'gw', '--timeout', '0'],
  ['status', 'gw', '--timeout', '1e3'],
  ['status', 'gw', '--timeout', 'abc'],
  ['status', 'gw', '--timeout', '-1'],
  ['status', 'gw', '--timeout'],
  ['status', 'gw', '--identity'],
  ['status', 'gw', '--identity='],
  ['status', 'gw', '--identity', '-x'],
  ['status', 'gw', '--baud', '12'],
  ['status', 'gw', '--parallel', '1.5e2'],
  ['tui'],
  ['tui', 'a', 'b'],
  ['tui', 'gw', '--parallel', '3'],
  ['tui', 'gw', '--batch=true'],
];

describe('hot-path command line parser', () => {
  it.each(accepted.map((argv) => [argv]))('means what yargs means: %j', async (argv) => {
    const hot = parseHotPath(argv);
    expect(hot).toBeDefined();
    expect(normalized(hot)).toEqual(normalized(await parseWithYargs(argv)));
  });

  it.each(leftToYargs.map((argv) => [argv]))('leaves %j to yargs', (argv) => {
    expect(parseHotPath(argv)).toBeUndefined();
  });
});
