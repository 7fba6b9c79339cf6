// The operator's end of a serial line in tests, as a human with a terminal program has it: what
// arrived (terminal escapes stripped), typing, and the key-signed login done by hand with
// `ssh-keygen -Y sign` (docs/transports.md).
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import type { SerialPort } from 'serialport';
import { stripTerminal } from '../../src/core/transport/serial.js';

const execFileAsync = promisify(execFile);

/**
 * The user the tests log in as on the test gateway's serial console: one with keys in
 * /data/config/ssh-authorized-keys/<user> there (the test gateway provisions root's today).
 */
export const SERIAL_LOGIN_USER = 'operator';

export class SerialLine {
  text = '';
  constructor(readonly port: SerialPort) {
    port.on('data', (data: Buffer) => {
      this.text += stripTerminal(data.toString('latin1'));
    });
  }

  async type(text: string): Promise<void> {
    await new Promise<void>((resolve, reject) => this.port.write(text, (e) => (e ? reject(e) : resolve())));
  }

  /** Wait for `re` in the text after `from`; returns the match. */
  async expect(re: RegExp, ms = 10_000, from = 0): Promise<RegExpExecArray> {
    const deadline = Date.now() + ms;
    for (;;) {
      const match = re.exec(this.text.slice(from));
      if (match) return match;
      if (Date.now() > deadline)
        throw new Error(`no ${String(re)} within ${ms} ms; the line showed:\n${this.text}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  close(): Promise<void> {
    return new Promise<void>((resolve) => (this.port.isOpen ? this.port.close(() => resolve()) : resolve()));
  }
}

/** What a human runs on the laptop: `echo '<challenge>' | ssh-keygen -Y sign -n <namespace> -f <key>`. */
export async function sshKeygenSign(keyPath: string, message: string, namespace: string): Promise<string> {
  const signing = execFileAsync('ssh-keygen', ['-Y', 'sign', '-n', namespace, '-f', keyPath]);
  signing.child.stdin?.end(`${message}\n`);
  return (await signing).stdout;
}

/**
 * Log in by hand at the key login prompt: the user name, the command the challenge prints run as
 * printed (namespace and message taken from that command line), the signature pasted line by line.
 * Resolves once the gateway accepted.
 */
export async function humanKeyLogin(
  line: SerialLine,
  user: string,
  keyPath: string,
  ms = 60_000,
): Promise<void> {
  let from = line.text.length;
  await line.type('\r');
  await line.expect(/rk64-login user: $/, ms, from);
  from = line.text.length;
  await line.type(`${user}\r`);
  const command = await line.expect(
    /\n +echo '([^'\n]+)' \| ssh-keygen -Y sign -n (\S+) -f \S+\n[\s\S]*rk64-signature: [^\n]*\n/,
    ms,
    from,
  );
  const signature = await sshKeygenSign(keyPath, command[1] ?? '', command[2] ?? '');
  from = line.text.length;
  await line.type(`${signature.trim().split('\n').join('\r')}\r`);
  await line.expect(/rk64-login accepted: /, ms, from);
}
