// The scheme rule the console shares with rk64-action (docs/security.md): `scheme://` (any case)
// is a URL, only https is installed, anything else is a local file name.
import { describe, expect, it } from 'vitest';

import { runAction } from '../../../src/core/actions/run.js';
import { isHttpsUrl, isUrl } from '../../../src/core/actions/source.js';
import { Rk64Error } from '../../../src/core/errors.js';
import type { ExecOptions, ExecResult, Transport } from '../../../src/core/transport/transport.js';

/** Records the commands; answers an install with one result line. Uploads are a test failure. */
function recordingTransport(commands: string[]): Transport {
  return {
    kind: 'ssh',
    description: 'ssh://root@gw.test:22',
    exec: (command: string, options?: ExecOptions): Promise<ExecResult> => {
      commands.push(command);
      if (!command.startsWith('rk64-action install '))
        return Promise.reject(new Error(`unexpected: ${command}`));
      options?.onStdout?.('{"event":"result","ok":true,"message":"installed"}\n');
      return Promise.resolve({ stdout: '', stderr: '', exitCode: 0 });
    },
    upload: () => Promise.reject(new Error('upload must not be called')),
    close: () => Promise.resolve(),
  };
}

describe('the scheme rule', () => {
  it('scheme:// in any case is a URL; of those only https is fetched', () => {
    for (const url of [
      'https://h/b',
      'HTTPS://h/b',
      'Https://h/b',
      'http://h/b',
      'file:///etc/hostname',
      'gopher://h:70/x',
      'git+ssh://h/x',
    ])
      expect(isUrl(url), url).toBe(true);
    for (const path of ['b.raucb', './https:/x', '/tmp/http:x', 'C:\\b', '1http://x', '-https://x'])
      expect(isUrl(path), path).toBe(false);
    expect(isHttpsUrl('HTTPS://updates.example/b.raucb')).toBe(true);
    expect(isHttpsUrl('https://updates.example')).toBe(true);
    expect(isHttpsUrl('http://updates.example/b')).toBe(false);
    expect(isHttpsUrl('https:///etc/passwd')).toBe(false);
    expect(isHttpsUrl('https://a b/')).toBe(false);
  });

  it('HTTPS:// goes to the gateway as a URL, not uploaded as a file', async () => {
    const commands: string[] = [];
    const outcome = await runAction(recordingTransport(commands), {
      kind: 'install',
      source: 'HTTPS://updates.example/b.raucb',
      allowDowngrade: false,
    });
    expect(outcome.ok).toBe(true);
    expect(commands).toEqual(["rk64-action install 'HTTPS://updates.example/b.raucb'"]);
  });

  it.each(['http://updates.example/b.raucb', 'file:///etc/hostname', 'gopher://10.0.0.1:70/x'])(
    '%s is refused before anything is sent',
    async (source) => {
      const commands: string[] = [];
      const error = await runAction(recordingTransport(commands), {
        kind: 'install',
        source,
        allowDowngrade: false,
      }).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(Rk64Error);
      expect((error as Rk64Error).exitCode).toBe(2);
      expect((error as Rk64Error).message).toContain('is not an https URL');
      expect(commands).toEqual([]);
    },
  );
});
