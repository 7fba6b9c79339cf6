// Serial console transport (serialport): the field engineer's cable to UART2 at 1.5 Mbaud.
//
// A console is a stream of characters, not a command channel, so every command is framed:
//   echo "R<m1>""<m2>B"; rm <an interrupted command's error file>; __rk64_err=$(mktemp);
//   ( eval "$(printf %s <base64> | base64 -d)" ) </dev/null
//   2>"${__rk64_err:-/dev/stdout}"; __rk64_rc=$?; echo "R<m1>""<m2>S"; cat "$__rk64_err"; rm …;
//   echo "R<m1>""<m2>E:$__rk64_rc"
// The markers only appear joined (`R<m>B`) in the shell's output, never in the echo of the line
// we typed, so echo is harmless; the exit status rides on the end marker. Standard error is kept
// in a file on the gateway and printed after the `S` marker, so a warning (sudo's, a library's)
// can never corrupt a JSON document on standard output; if the gateway cannot make a temporary
// file it goes with the output, as a plain console would show it. The command travels as
// base64 so quoting, history expansion and multi-line scripts cannot confuse the shell, and it runs
// in a subshell with stdin from /dev/null so `exit` cannot log out the console and nothing it runs
// can swallow what we type next. Terminal escapes are stripped and kernel log lines
// (`[   12.345678] ...`) that the kernel prints onto the same console are removed.
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { StringDecoder } from 'node:string_decoder';
import { Rk64Error } from '../errors.js';
import { shellQuote } from '../shell.js';
import { DEFAULT_SSH_USER, targetLabel, type SerialTarget } from '../target.js';
import { openSerialPort } from './serial-port.js';
import { KEY_LOGIN_PROMPT_RE, keyLogin, loadSigners } from './serial-key-login.js';
import type { SerialLink } from './serial-tap.js';
import { MAX_OUTPUT_BYTES, outputTooLarge } from './transport.js';
import type { ExecOptions, ExecResult, Transport, UploadOptions } from './transport.js';

export interface SerialOptions {
  /** How long to wait for any prompt after waking the console. Default 5 s. */
  wakeTimeoutMs?: number;
  /** Default per-command timeout when exec() gets none. Default 60 s. */
  commandTimeoutMs?: number;
  /** Write pacing for consoles that drop characters: bytes per write and pause between writes. */
  writeChunkBytes?: number;
  writeDelayMs?: number;
  /** The user for the gateway's key-signed login, or for a password login prompt. */
  user?: string;
  /** For a plain `login:` prompt (a console that is not an rk64 gateway's); from RK64_SERIAL_PASSWORD. */
  password?: string;
  /** Keys for the key-signed login (docs/transports.md): ssh-agent first, then these files (default ~/.ssh/id_*). */
  identityFiles?: string[];
  /** ssh-agent socket; default $SSH_AUTH_SOCK; '' for none. */
  agentSocket?: string;
  env?: NodeJS.ProcessEnv;
  log?: (line: string) => void;
  /**
   * A line that is already open and stays open when this transport closes (the flight recorder's,
   * src/core/transport/serial-tap.ts); without it the transport opens and closes the port itself.
   */
  link?: () => Promise<SerialLink>;
}

export type ConsoleState = 'shell' | 'login' | 'key-login' | 'password' | 'uboot';

// CSI, OSC, and two-character escapes; then other C0 controls except \n and \t.
const ANSI_RE =
  // eslint-disable-next-line no-control-regex
  /\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b[@-Z\\-_]|[\x00-\x08\x0b-\x1f\x7f]/g;
/** A kernel log line as printed on the console: `[   12.345678] text`. */
const KERNEL_LINE_RE = /\[ *\d+\.\d{3,}\] [^\n]*\n/g;

export function stripTerminal(text: string): string {
  return text.replace(/\r\n/g, '\n').replace(/\r/g, '').replace(ANSI_RE, '');
}

export function dropKernelLines(text: string): string {
  return text.replace(KERNEL_LINE_RE, '');
}

/** What is the console showing at the end of `text` (already stripped)? */
export function detectPrompt(text: string): ConsoleState | undefined {
  // A kernel message printed after the prompt leaves the prompt on the line before it.
  const cleaned = dropKernelLines(text);
  const lines = (cleaned === text ? cleaned : cleaned.replace(/\n+$/, '')).split('\n');
  const last = (lines.at(-1) ?? '').trimEnd();
  if (/^(?:=> *)*=>$/.test(last)) return 'uboot';
  if (KEY_LOGIN_PROMPT_RE.test(last)) return 'key-login';
  if (/login:$/i.test(last)) return 'login';
  if (/password:$/i.test(last)) return 'password';
  if (/[#$%]$/.test(last)) return 'shell';
  return undefined;
}

/**
 * The shell's user from its prompt: `#` is root (break-glass, or a root login); any other prompt
 * is the user the console logged in as (the key-signed login's, or the profile's).
 */
export function shellUser(text: string, loggedIn: string): string {
  const last = (dropKernelLines(text).replace(/\n+$/, '').split('\n').at(-1) ?? '').trimEnd();
  return last.endsWith('#') ? 'root' : loggedIn;
}

/** Build the framed line for a command, and the markers to look for. */
/** Shell text that removes the error file an interrupted command left in the session, if any. */
const REMOVE_LEFT_ERROR_FILE = '[ -z "${__rk64_err:-}" ] || rm -f "$__rk64_err";';

export function frameCommand(
  command: string,
  marker = randomBytes(6).toString('hex'),
): {
  line: string;
  begin: string;
  stderr: string;
  end: string;
} {
  const head = marker.slice(0, 4);
  const tail = marker.slice(4);
  const encoded = Buffer.from(command, 'utf8').toString('base64');
  // Two shell variables of the console's own session carry the error file and the status. A
  // command interrupted earlier (Ctrl+C ends the whole line) left its error file: removed first.
  const line =
    `echo "R${head}""${tail}B"; ${REMOVE_LEFT_ERROR_FILE} __rk64_err=$(mktemp 2>/dev/null); ` +
    `( eval "$(printf %s ${encoded} | base64 -d)" ) </dev/null 2>"\${__rk64_err:-/dev/stdout}"; ` +
    `__rk64_rc=$?; echo "R${head}""${tail}S"; ` +
    `if [ -n "$__rk64_err" ]; then cat "$__rk64_err"; rm -f "$__rk64_err"; fi; ` +
    `echo "R${head}""${tail}E:$__rk64_rc"\r`;
  return { line, begin: `R${marker}B`, stderr: `R${marker}S`, end: `R${marker}E:` };
}

/**
 * Find the framed output in what the console printed so far; undefined until the end marker
 * arrived. What came between the `S` marker and the end is the command's standard error.
 */
export function parseFramed(
  raw: string,
  begin: string,
  end: string,
  stderrMarker?: string,
): { output: string; stderr: string; exitCode: number } | undefined {
  const text = dropKernelLines(stripTerminal(raw));
  const beginMatch = new RegExp(`(?:^|\\n)${begin}\\n?`).exec(text);
  if (!beginMatch) return undefined;
  const after = text.slice(beginMatch.index + beginMatch[0].length);
  const endMatch = new RegExp(`${end}(\\d+)\\n`).exec(after);
  if (!endMatch) return undefined;
  const body = after.slice(0, endMatch.index);
  const exitCode = Number(endMatch[1]);
  const split = stderrMarker ? new RegExp(`${stderrMarker}\\n?`).exec(body) : null;
  if (!split) return { output: body, stderr: '', exitCode };
  return { output: body.slice(0, split.index), stderr: body.slice(split.index + split[0].length), exitCode };
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

export async function connectSerial(
  target: SerialTarget,
  options: SerialOptions = {},
): Promise<SerialTransport> {
  const port = options.link ? await options.link() : await openSerialPort(target.path, target.baud);
  const transport = new SerialTransport(target, port, options);
  try {
    await transport.wake();
  } catch (error) {
    await transport.close();
    throw error;
  }
  return transport;
}

export class SerialTransport implements Transport {
  readonly kind = 'serial' as const;
  readonly description: string;
  readonly baud: number;
  private raw = '';
  private readonly decoder = new StringDecoder('utf8');
  private listeners = new Set<() => void>();
  private queue: Promise<unknown> = Promise.resolve();
  private lostError: Rk64Error | undefined;
  private closed = false;
  private received = 0;
  private lastDataAt = 0;
  private loggedInWithKey = false;
  /** Who the shell runs as (from its prompt once awake): root runs the gateway's programs directly, anyone else through sudo (src/core/privilege.ts). */
  user: string | undefined;

  constructor(
    target: SerialTarget,
    private readonly port: SerialLink,
    private readonly options: SerialOptions,
  ) {
    this.description = targetLabel(target);
    this.baud = target.baud;
    port.on('data', (data: Buffer) => {
      this.received += data.length;
      this.lastDataAt = Date.now();
      this.raw += this.decoder.write(data);
      // Bound memory on a chatty console between commands: keep the tail only (a command's own
      // output is capped at MAX_OUTPUT_BYTES by execNow, which sees it pass that first).
      if (this.raw.length > 2 * MAX_OUTPUT_BYTES) this.raw = this.raw.slice(-MAX_OUTPUT_BYTES);
      for (const listener of [...this.listeners]) listener();
    });
    port.on('close', () => {
      if (!this.closed) {
        this.lostError = new Rk64Error(
          'connection-lost',
          `${this.description}: the serial device went away`,
          'check the USB cable',
        );
      }
      for (const listener of [...this.listeners]) listener();
    });
    port.on('error', () => undefined);
  }

  private async write(text: string): Promise<void> {
    const chunk = this.options.writeChunkBytes ?? 0;
    const delay = this.options.writeDelayMs ?? 0;
    const pieces = chunk > 0 ? (text.match(new RegExp(`[\\s\\S]{1,${chunk}}`, 'g')) ?? []) : [text];
    for (const [index, piece] of pieces.entries()) {
      await new Promise<void>((resolve, reject) => {
        this.port.write(piece, (error) => (error ? reject(error) : resolve()));
      });
      await new Promise<void>((resolve) => this.port.drain(() => resolve()));
      if (delay > 0 && index < pieces.length - 1) await sleep(delay);
    }
  }

  /** Wait until `check` returns a value, re-checking on every byte; reject after `ms`. */
  private waitFor<T>(
    check: () => T | undefined,
    ms: number,
    onTimeout: () => Rk64Error,
    signal?: AbortSignal,
  ): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const cleanup = (): void => {
        clearTimeout(timer);
        this.listeners.delete(listener);
        signal?.removeEventListener('abort', onAbort);
      };
      const listener = (): void => {
        if (this.lostError) {
          cleanup();
          reject(this.lostError);
          return;
        }
        let value: T | undefined;
        try {
          value = check();
        } catch (error) {
          cleanup();
          reject(error instanceof Error ? error : new Error(String(error)));
          return;
        }
        if (value !== undefined) {
          cleanup();
          resolve(value);
        }
      };
      const onAbort = (): void => {
        cleanup();
        reject(new Rk64Error('aborted', `${this.description}: cancelled`));
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(onTimeout());
      }, ms);
      signal?.addEventListener('abort', onAbort, { once: true });
      this.listeners.add(listener);
      listener();
    });
  }

  private state(): ConsoleState | undefined {
    return detectPrompt(stripTerminal(this.raw.slice(-4096)));
  }

  /**
   * The prompt the console settled on: a prompt at the end of the output and nothing new for a
   * moment, so a second prompt still on its way (e.g. the answer to our wake-up CR) is not missed.
   */
  private settledPrompt(ms: number, onTimeout: () => Rk64Error): Promise<ConsoleState> {
    const quietMs = 250;
    return new Promise<ConsoleState>((resolve, reject) => {
      const deadline = Date.now() + ms;
      const poll = (): void => {
        if (this.lostError) return reject(this.lostError);
        const state = this.state();
        if (state !== undefined && Date.now() - this.lastDataAt >= quietMs) return resolve(state);
        if (Date.now() > deadline) return reject(onTimeout());
        setTimeout(poll, 50);
      };
      poll();
    });
  }

  /** Wake the console and get to a shell prompt, logging in if it asks. */
  async wake(): Promise<void> {
    const total = this.options.wakeTimeoutMs ?? 5000;
    const deadline = Date.now() + total;
    let state: ConsoleState | undefined;
    while (Date.now() < deadline && state === undefined) {
      this.raw = '';
      await this.write('\r');
      // Give a prompt time to appear and settle (a login banner may still be arriving).
      state = await this.settledPrompt(
        Math.min(1500, Math.max(100, deadline - Date.now())),
        () => new Rk64Error('serial-silent', ''),
      ).catch((error: unknown) => {
        if (error instanceof Rk64Error && error.kind === 'serial-silent') return undefined;
        throw error;
      });
    }
    if (state === undefined) {
      if (this.received === 0) {
        throw new Rk64Error(
          'serial-silent',
          `${this.description}: no answer from the console within ${Math.round(total / 1000)} s`,
          'check the cable (TX/RX crossed? GND?), the baud rate (Rock64: 1500000) and that the gateway is powered',
        );
      }
      const last = stripTerminal(this.raw).trim().split('\n').at(-1) ?? '';
      throw new Rk64Error(
        'protocol',
        `${this.description}: the console answered but shows no prompt rk64 recognises (last line: ${JSON.stringify(last.slice(-80))})`,
        'check the baud rate, or open the console with a terminal program to see what it shows',
      );
    }
    if (state === 'uboot') {
      throw new Rk64Error(
        'remote',
        `${this.description}: the gateway is at the U-Boot prompt (=>), not in Linux`,
        "type 'boot' on the console (or power-cycle the gateway) and try again",
      );
    }
    if (state === 'key-login') await this.keyLogin();
    if (state === 'login' || state === 'password') await this.login(state);
    this.user = shellUser(stripTerminal(this.raw), this.options.user ?? DEFAULT_SSH_USER);
  }

  /** The gateway's key-signed login (src/core/transport/serial-key-login.ts), then its shell prompt. */
  private async keyLogin(): Promise<void> {
    const { user = DEFAULT_SSH_USER, identityFiles, agentSocket, env, log } = this.options;
    const signers = await loadSigners({
      ...(identityFiles ? { identityFiles } : {}),
      ...(agentSocket !== undefined ? { agentSocket } : {}),
      ...(env ? { env } : {}),
      ...(log ? { log } : {}),
    });
    await keyLogin(
      {
        description: this.description,
        write: (text) => this.write(text),
        reset: () => {
          this.raw = '';
        },
        waitFor: (check, ms, what) =>
          this.waitFor(
            () => check(dropKernelLines(stripTerminal(this.raw))),
            ms,
            () =>
              new Rk64Error('timeout', `${this.description}: no ${what} within ${Math.round(ms / 1000)} s`),
          ),
      },
      user,
      signers,
      log,
    );
    const state = await this.settledPrompt(15_000, () => this.silentAfterLogin());
    if (state !== 'shell') {
      throw new Rk64Error(
        'auth',
        `${this.description}: no shell prompt after the key-signed login as '${user}'`,
      );
    }
    this.loggedInWithKey = true;
  }

  private async login(initial: ConsoleState): Promise<void> {
    const user = this.options.user;
    if (initial === 'login') {
      if (!user) {
        throw new Rk64Error(
          'auth',
          `${this.description}: the console asks for a login`,
          'give a user (profile field "user") and the password in RK64_SERIAL_PASSWORD',
        );
      }
      this.raw = '';
      await this.write(`${user}\r`);
    }
    let state = await this.settledPrompt(10_000, () => this.silentAfterLogin());
    if (state === 'password') {
      if (this.options.password === undefined) {
        throw new Rk64Error(
          'auth',
          `${this.description}: the console asks for a password`,
          'set RK64_SERIAL_PASSWORD',
        );
      }
      this.raw = '';
      await this.write(`${this.options.password}\r`);
      state = await this.settledPrompt(15_000, () => this.silentAfterLogin());
    }
    if (state !== 'shell') {
      throw new Rk64Error(
        'auth',
        `${this.description}: login as '${user ?? ''}' failed`,
        'check the user and RK64_SERIAL_PASSWORD',
      );
    }
  }

  private silentAfterLogin(): Rk64Error {
    return new Rk64Error('serial-silent', `${this.description}: no prompt after logging in`);
  }

  /** Run one command at a time: the console is a single stream. */
  private serialize<T>(task: () => Promise<T>): Promise<T> {
    const result = this.queue.then(task, task);
    this.queue = result.catch(() => undefined);
    return result;
  }

  exec(command: string, options: ExecOptions = {}): Promise<ExecResult> {
    return this.serialize(() => this.execNow(command, options));
  }

  private async execNow(command: string, options: ExecOptions): Promise<ExecResult> {
    if (this.lostError) throw this.lostError;
    if (this.closed) throw new Rk64Error('connection-lost', `${this.description}: already closed`);
    const { line, begin, stderr, end } = frameCommand(command);
    const timeoutMs = options.timeoutMs ?? this.options.commandTimeoutMs ?? 60_000;
    this.raw = '';
    const receivedBefore = this.received;
    let streamed = 0;
    await this.write(line);
    options.onStarted?.();
    try {
      const max = options.maxOutputBytes ?? MAX_OUTPUT_BYTES;
      const result = await this.waitFor(
        () => {
          if (this.raw.length > max) throw outputTooLarge(this.description, command, 'the console', max);
          const framed = parseFramed(this.raw, begin, end, stderr);
          if (options.onStdout) {
            const partial = partialOutput(this.raw, begin, stderr);
            if (partial.length > streamed) {
              options.onStdout(partial.slice(streamed));
              streamed = partial.length;
            }
          }
          return framed;
        },
        timeoutMs,
        () =>
          this.received === receivedBefore
            ? new Rk64Error(
                'serial-silent',
                `${this.description}: the console went silent (no echo, no output for ${Math.round(timeoutMs / 1000)} s)`,
                'check the cable and that the gateway is running',
              )
            : new Rk64Error(
                'timeout',
                `${this.description}: '${command}' did not finish within ${Math.round(timeoutMs / 1000)} s`,
                'raise --timeout or check the gateway',
              ),
        options.signal,
      );
      if (options.onStdout && result.output.length > streamed)
        options.onStdout(result.output.slice(streamed));
      return { stdout: result.output, stderr: result.stderr, exitCode: result.exitCode };
    } catch (error) {
      // Interrupt whatever is still running so the console returns to its prompt.
      if (!this.lostError && !this.closed) await this.write('\x03').catch(() => undefined);
      throw error;
    }
  }

  /** Small files only: base64 lines appended to `<remote>.part.b64`, decoded, checked, renamed. */
  async upload(localPath: string, remotePath: string, options: UploadOptions = {}): Promise<void> {
    const data = await readFile(localPath);
    const encoded = data.toString('base64');
    const part = `${remotePath}.part`;
    const must = async (command: string, what: string): Promise<string> => {
      if (options.signal?.aborted) throw new Rk64Error('aborted', `upload of ${localPath} was cancelled`);
      const result = await this.exec(command, { signal: options.signal });
      if (result.exitCode !== 0) {
        await this.exec(`rm -f ${shellQuote(part)} ${shellQuote(`${part}.b64`)}`).catch(() => undefined);
        throw new Rk64Error(
          'remote',
          `${this.description}: ${what} failed: ${(result.stderr || result.stdout).trim().split('\n').at(-1) ?? ''}`,
        );
      }
      return result.stdout;
    };
    await must(`: > ${shellQuote(`${part}.b64`)}`, `creating ${part}.b64`);
    const lineChars = 1024;
    for (let offset = 0; offset < encoded.length; offset += lineChars * 2) {
      const lines = [
        encoded.slice(offset, offset + lineChars),
        encoded.slice(offset + lineChars, offset + lineChars * 2),
      ]
        .filter((l) => l.length > 0)
        .join('\n');
      await must(
        `printf '%s\\n' ${lines.split('\n').join(' ')} >> ${shellQuote(`${part}.b64`)}`,
        'writing a chunk',
      );
      const bytesSent = Math.min(data.length, Math.floor(((offset + lineChars * 2) * 3) / 4));
      options.onProgress?.({ bytesSent, totalBytes: data.length });
    }
    if (data.length === 0) options.onProgress?.({ bytesSent: 0, totalBytes: 0 });
    const { createHash } = await import('node:crypto');
    const sum = createHash('sha256').update(data).digest('hex');
    await must(
      `base64 -d ${shellQuote(`${part}.b64`)} > ${shellQuote(part)} && rm -f ${shellQuote(`${part}.b64`)} && ` +
        `[ "$(sha256sum < ${shellQuote(part)} | cut -d' ' -f1)" = ${sum} ] && mv -f ${shellQuote(part)} ${shellQuote(remotePath)}`,
      'decoding and checking the upload',
    );
  }

  async close(): Promise<void> {
    if (this.closed) return;
    if (this.loggedInWithKey && this.port.isOpen && !this.lostError) {
      // Leave the line at the login prompt, not at a shell the next person on the cable could use.
      // The shell is idle here (a command that failed was interrupted then), so no Ctrl+C goes
      // first: the tty discards what follows a Ctrl+C in the same write, `exit` included (seen).
      await this.serialize(() => this.write(`${REMOVE_LEFT_ERROR_FILE} exit\r`)).catch(() => undefined);
    }
    this.closed = true;
    if (!this.port.isOpen) return;
    await new Promise<void>((resolve) => this.port.close(() => resolve()));
  }
}

/** Output seen so far after the begin marker (for streaming); may end mid-line. */
function partialOutput(raw: string, begin: string, stderrMarker: string): string {
  const text = dropKernelLines(stripTerminal(raw));
  const match = new RegExp(`(?:^|\\n)${begin}\\n`).exec(text);
  if (!match) return '';
  let after = text.slice(match.index + match[0].length);
  const split = after.indexOf(stderrMarker);
  if (split !== -1) after = after.slice(0, split);
  const cut = after.lastIndexOf('\n');
  const complete = cut === -1 ? '' : after.slice(0, cut + 1);
  return complete.replace(/R[0-9a-f]{12}E:\d+\n?$/, '');
}
