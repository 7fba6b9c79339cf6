// A real terminal for end-to-end tests of the dashboard: the rk64 CLI in a tmux pane of a private
// tmux server; tests read the screen with capture-pane and type with send-keys.
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

function tmux(socket: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile('tmux', ['-S', socket, '-f', `${socket}.conf`, ...args], (error, stdout, stderr) =>
      error ? reject(new Error(`tmux ${args.join(' ')}: ${stderr || error.message}`)) : resolve(stdout),
    );
  });
}

export interface TmuxPane {
  /** The visible screen, trailing blanks trimmed. */
  screen(): Promise<string>;
  /** The visible screen with its attributes as escape sequences (`capture-pane -e`), as is. */
  rawScreen(): Promise<string>;
  /** The pane's title (what OSC 0/2 would set). */
  title(): Promise<string>;
  /** tmux paste buffers (what OSC 52 would fill with set-clipboard on). */
  buffers(): Promise<string>;
  /** Keys as tmux send-keys names them: `g`, `y`, `Escape`, `Enter`, or literal text with `literal`. */
  send(keys: string, literal?: boolean): Promise<void>;
  /** Waits until the screen matches; the error shows the last screen. */
  waitFor(pattern: string | RegExp, timeoutMs?: number): Promise<string>;
  /** The exit status once the program ended, else null. */
  exitStatus(): Promise<number | null>;
  stop(): Promise<void>;
}

export async function startPane(
  command: string,
  env: Record<string, string> = {},
  size = { columns: 120, rows: 50 },
  config: string[] = [],
): Promise<TmuxPane> {
  const dir = mkdtempSync(join(tmpdir(), 'rk64-tmux-'));
  const socket = join(dir, 'sock');
  // The pane stays after the program ends, so its last screen can still be read. The exit status
  // is written by the pane's shell: tmux 3.3a's #{pane_dead_status} is often empty when the
  // program did not exit at once (measured: `sleep 0.1; exit 3` reads as dead with no status).
  writeFileSync(`${socket}.conf`, ['set -g remain-on-exit on', ...config, ''].join('\n'));
  const statusFile = join(dir, 'status');
  const envArgs = Object.entries(env).flatMap(([k, v]) => ['-e', `${k}=${v}`]);
  await tmux(socket, [
    'new-session',
    '-d',
    '-x',
    String(size.columns),
    '-y',
    String(size.rows),
    ...envArgs,
    `${command}; echo $? > ${statusFile}`,
  ]);
  const screen = async () =>
    (await tmux(socket, ['capture-pane', '-p', '-t', '0']))
      .split('\n')
      .map((l) => l.trimEnd())
      .join('\n')
      .trimEnd();
  const pane: TmuxPane = {
    screen,
    rawScreen: () => tmux(socket, ['capture-pane', '-e', '-p', '-t', '0']),
    title: async () => (await tmux(socket, ['display-message', '-p', '-t', '0', '#{pane_title}'])).trim(),
    buffers: () => tmux(socket, ['list-buffers']),
    send: async (keys, literal = false) => {
      await tmux(socket, ['send-keys', '-t', '0', ...(literal ? ['-l'] : []), keys]);
    },
    waitFor: async (pattern, timeoutMs = 20_000) => {
      const deadline = Date.now() + timeoutMs;
      let last = '';
      while (Date.now() < deadline) {
        last = await screen();
        if (typeof pattern === 'string' ? last.includes(pattern) : pattern.test(last)) return last;
        await new Promise((r) => setTimeout(r, 100));
      }
      throw new Error(`the terminal never showed ${String(pattern)}; last screen:\n${last}`);
    },
    exitStatus: () => Promise.resolve().then(() => readExitStatus(statusFile)),
    stop: async () => {
      await tmux(socket, ['kill-server']).catch(() => undefined);
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return pane;
}

/** The exit status the pane's shell wrote, or null while the program still runs. */
function readExitStatus(statusFile: string): number | null {
  let text: string;
  try {
    text = readFileSync(statusFile, 'utf8');
  } catch {
    return null; // still running
  }
  if (!text.endsWith('\n')) return null; // the shell is writing it right now
  const status = Number(text.trim());
  if (status > 128) throw new Error(`the program was killed by signal ${status - 128}`);
  return status;
}
