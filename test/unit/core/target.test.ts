import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { defaultConfigPath, loadConfig, parseConfig, resolveTarget } from '../../../src/core/config.js';
import type { Config } from '../../../src/core/config.js';
import { Rk64Error } from '../../../src/core/errors.js';
import {
  parseExplicitTarget,
  parseJump,
  targetErrorLine,
  targetLabel,
  type Target,
} from '../../../src/core/target.js';

function errorOf(fn: () => unknown): Rk64Error {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(Rk64Error);
    return error as Rk64Error;
  }
  throw new Error('expected an error');
}

const empty: Config = { path: '/home/op/.config/rk64/config.json', profiles: {}, groups: {} };

describe('target parsing', () => {
  it('parses ssh targets with defaults', () => {
    expect(parseExplicitTarget('ssh://192.168.1.10')).toEqual({
      kind: 'ssh',
      name: 'ssh://192.168.1.10',
      host: '192.168.1.10',
      port: 22,
      user: 'operator',
    });
    expect(parseExplicitTarget('ssh://op@gw.example.com:2222')).toMatchObject({
      host: 'gw.example.com',
      port: 2222,
      user: 'op',
    });
    expect(parseExplicitTarget('ssh://root@[fd00::5]:22')).toMatchObject({ host: 'fd00::5', port: 22 });
  });

  it('parses serial targets with the Rock64 default baud', () => {
    expect(parseExplicitTarget('serial:/dev/ttyUSB0')).toEqual({
      kind: 'serial',
      name: 'serial:/dev/ttyUSB0',
      path: '/dev/ttyUSB0',
      baud: 1_500_000,
    });
    expect(parseExplicitTarget('serial:/dev/ttyS2@115200')).toMatchObject({
      path: '/dev/ttyS2',
      baud: 115200,
    });
  });

  it('leaves bare names to profile lookup', () => {
    expect(parseExplicitTarget('shop-17')).toBeUndefined();
  });

  it('rejects bad targets with a message naming the problem', () => {
    expect(errorOf(() => parseExplicitTarget('ssh://root@gw:99999')).message).toMatch(/port '99999'/);
    expect(errorOf(() => parseExplicitTarget('ssh://root@gw:abc')).message).toMatch(/port 'abc'/);
    expect(errorOf(() => parseExplicitTarget('serial:/dev/ttyS2@12345')).message).toMatch(
      /baud rate '12345'/,
    );
    expect(errorOf(() => parseExplicitTarget('serial:ttyS2')).message).toMatch(/absolute path/);
    expect(errorOf(() => parseExplicitTarget('ssh://bad host')).message).toMatch(/not/);
    const weird = errorOf(() => parseExplicitTarget('http://x'));
    expect(weird.kind).toBe('usage');
    expect(weird.exitCode).toBe(2);
  });

  it('parses jump hosts with or without ssh://', () => {
    expect(parseJump('ops@vpn.example.com', 'jump')).toEqual({
      host: 'vpn.example.com',
      port: 22,
      user: 'ops',
    });
    expect(parseJump('ssh://vpn:2200', 'jump')).toEqual({ host: 'vpn', port: 2200, user: 'operator' });
  });
});

describe('config file', () => {
  const text = JSON.stringify({
    profiles: {
      lab: { type: 'ssh', host: '192.168.1.10', user: 'op', port: 2222, identity: '~/.ssh/id_rk64' },
      'shop-17': { type: 'vpn', vpnAddress: '10.8.0.17', jump: 'ops@vpn.example.com:2200' },
      bench: { type: 'serial', device: '/dev/ttyUSB0' },
    },
  });

  it('resolves ssh, vpn (with jump) and serial profiles', () => {
    const config = parseConfig(text, '/c.json');
    const env = { HOME: '/home/op' };
    expect(resolveTarget('lab', config, env)).toEqual({
      kind: 'ssh',
      name: 'lab',
      host: '192.168.1.10',
      port: 2222,
      user: 'op',
      identityFiles: ['/home/op/.ssh/id_rk64'],
    });
    expect(resolveTarget('shop-17', config, env)).toEqual({
      kind: 'ssh',
      name: 'shop-17',
      host: '10.8.0.17',
      port: 22,
      user: 'operator',
      jump: { host: 'vpn.example.com', port: 2200, user: 'ops' },
    });
    expect(resolveTarget('bench', config, env)).toEqual({
      kind: 'serial',
      name: 'bench',
      path: '/dev/ttyUSB0',
      baud: 1_500_000,
    });
    expect(resolveTarget('ssh://10.0.0.1', config, env)).toMatchObject({ host: '10.0.0.1' });
  });

  it('names the bad field', () => {
    const bad = (profile: object): string =>
      errorOf(() => parseConfig(JSON.stringify({ profiles: { gw: profile } }), '/c.json')).message;
    expect(bad({ type: 'ssh', host: 'x', port: 0 })).toBe(
      '/c.json: profiles.gw.port: must be an integer from 1 to 65535',
    );
    expect(bad({ type: 'ssh' })).toMatch(/profiles\.gw\.host: missing/);
    expect(bad({ type: 'telnet' })).toMatch(/profiles\.gw\.type: 'telnet' is not one of ssh, vpn, serial/);
    expect(bad({ type: 'vpn', vpnAddress: '10.8.0.1', jump: 'a@b:c' })).toMatch(
      /profiles\.gw\.jump: .*port 'c'/,
    );
    expect(bad({ type: 'serial', device: '/dev/ttyS2', baud: 7 })).toMatch(
      /profiles\.gw\.baud: baud rate '7'/,
    );
    expect(bad({ type: 'serial', device: 'ttyS2' })).toMatch(
      /profiles\.gw\.device: must be an absolute path/,
    );
    expect(bad({ type: 'ssh', host: 'x', colour: 'red' })).toMatch(/profiles\.gw\.colour: unknown field/);
    expect(bad({ type: 'ssh', host: 'bad host' })).toMatch(/profiles\.gw\.host/);
    expect(errorOf(() => parseConfig('{', '/c.json')).message).toMatch(/^\/c\.json: not valid JSON/);
    expect(errorOf(() => parseConfig('{"profile": {}}', '/c.json')).message).toMatch(
      /profile: unknown field/,
    );
    expect(errorOf(() => parseConfig('[]', '/c.json')).kind).toBe('config');
    expect(parseConfig('{}', '/c.json').profiles).toEqual({});
  });

  it('an unknown profile lists the known ones', () => {
    const config = parseConfig(text, '/c.json');
    const error = errorOf(() => resolveTarget('nope', config));
    expect(error.message).toContain("unknown target 'nope'");
    expect(error.hint).toContain('lab, shop-17, bench');
    expect(errorOf(() => resolveTarget('nope', empty)).message).toContain(empty.path);
  });

  it('finds the file under XDG_CONFIG_HOME, else ~/.config', async () => {
    expect(defaultConfigPath({ XDG_CONFIG_HOME: '/x/cfg', HOME: '/home/op' })).toBe(
      '/x/cfg/rk64/config.json',
    );
    expect(defaultConfigPath({ HOME: '/home/op' })).toBe('/home/op/.config/rk64/config.json');
    const dir = await mkdtemp(join(tmpdir(), 'rk64-config-'));
    try {
      expect((await loadConfig(join(dir, 'missing.json'), false)).profiles).toEqual({});
      await expect(loadConfig(join(dir, 'missing.json'), true)).rejects.toThrow(/cannot read config file/);
      await writeFile(join(dir, 'c.json'), text);
      expect(Object.keys((await loadConfig(join(dir, 'c.json'), true)).profiles)).toEqual([
        'lab',
        'shop-17',
        'bench',
      ]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('error lines name the target once', () => {
  const parsed = (text: string): Target => {
    const target = parseExplicitTarget(text);
    if (!target) throw new Error(`not a target: ${text}`);
    return target;
  };
  const ssh = parsed('ssh://root@10.0.0.5:2222');
  const short = parsed('ssh://10.0.0.5');
  const serial = parsed('serial:/dev/ttyUSB0');

  it('the transports and the fleet spell a place the same way', () => {
    expect(targetLabel(ssh)).toBe('ssh://root@10.0.0.5:2222');
    expect(targetLabel({ host: 'fe80::1', port: 22, user: 'op' })).toBe('ssh://op@[fe80::1]:22');
    expect(targetLabel(serial)).toBe('serial:/dev/ttyUSB0@1500000');
  });

  it('a line that starts with the target is not prefixed again', () => {
    expect(targetErrorLine(ssh, 'ssh://root@10.0.0.5:2222: connection refused')).toBe(
      'ssh://root@10.0.0.5:2222: connection refused',
    );
    expect(targetErrorLine(short, 'ssh://operator@10.0.0.5:22: connection refused')).toBe(
      'ssh://operator@10.0.0.5:22: connection refused',
    );
    expect(targetErrorLine(serial, 'serial:/dev/ttyUSB0@1500000: no prompt after logging in')).toBe(
      'serial:/dev/ttyUSB0@1500000: no prompt after logging in',
    );
  });

  it('other lines, and every line of a profile, get the name first', () => {
    expect(targetErrorLine(ssh, 'Bundle b.raucb cannot be read')).toBe(
      'ssh://root@10.0.0.5:2222: Bundle b.raucb cannot be read',
    );
    expect(targetErrorLine({ ...ssh, name: 'lab-gw' }, 'ssh://root@10.0.0.5:2222: connection refused')).toBe(
      'lab-gw: ssh://root@10.0.0.5:2222: connection refused',
    );
    // A jump host's failure names the jump host: the target still comes first.
    expect(targetErrorLine(ssh, 'ssh://noc@jump:22: authentication failed')).toBe(
      'ssh://root@10.0.0.5:2222: ssh://noc@jump:22: authentication failed',
    );
  });
});
