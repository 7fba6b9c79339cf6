// The audit log: every command the console sends to a gateway to change it (mark, install, reboot,
// ssh-wan, vpn-config, rollout steps) is appended as one JSON line to
// $XDG_STATE_HOME/rk64/audit.jsonl (default ~/.local/state/rk64/audit.jsonl): when, which local
// user, which gateway over which transport, the exact remote command, and how it ended.
// Appends are one write(2) each with O_APPEND, so concurrent consoles never interleave lines.
// Reads of status documents are not recorded: they change nothing.
import { appendFile, mkdir, open, readFile } from 'node:fs/promises';
import { homedir, userInfo } from 'node:os';
import { dirname, join } from 'node:path';

import { Rk64Error } from './errors.js';
import { printable } from './printable.js';
import type { ExecOptions, ExecResult, Transport, UploadOptions } from './transport/transport.js';

export const AUDIT_SCHEMA = 'rk64.audit/1';

export interface AuditEntry {
  schema: typeof AUDIT_SCHEMA;
  /** ISO 8601, UTC. */
  time: string;
  /** The local user who ran the console. */
  operator: string;
  /** The gateway as the operator named it (profile name or target). */
  gateway: string;
  /** The transport's description (`ssh://root@10.8.0.5:22`). */
  transport: string;
  /** The exact remote command, or `upload LOCAL -> REMOTE` for a file copy. */
  command: string;
  /** What started it: `tui`, `action`, `rollout ID`. */
  source: string;
  /** `ok`, `exit N` (the remote command's status) or `error: …` (it never finished). */
  result: string;
  durationMs: number;
}

/** The state directory: $XDG_STATE_HOME/rk64 (an absolute XDG_STATE_HOME only), else ~/.local/state/rk64. */
export function stateDir(env: NodeJS.ProcessEnv = process.env): string {
  const base = env.XDG_STATE_HOME && env.XDG_STATE_HOME.startsWith('/') ? env.XDG_STATE_HOME : undefined;
  return join(base ?? join(env.HOME ?? homedir(), '.local', 'state'), 'rk64');
}

export function auditLogPath(env: NodeJS.ProcessEnv = process.env): string {
  return join(stateDir(env), 'audit.jsonl');
}

export function localOperator(env: NodeJS.ProcessEnv = process.env): string {
  try {
    return userInfo().username;
  } catch {
    return env.USER ?? env.LOGNAME ?? `uid ${process.getuid?.() ?? '?'}`;
  }
}

export interface AuditLog {
  readonly path: string;
  /** Creates the directory and file if needed; throws when they cannot be written. */
  ensureWritable(): Promise<void>;
  append(entry: Omit<AuditEntry, 'schema'>): Promise<void>;
}

export function openAuditLog(path: string): AuditLog {
  let ready: Promise<void> | null = null;
  const ensureWritable = (): Promise<void> => {
    ready ??= (async () => {
      await mkdir(dirname(path), { recursive: true, mode: 0o700 });
      await (await open(path, 'a', 0o600)).close();
    })();
    return ready;
  };
  return {
    path,
    ensureWritable,
    async append(entry) {
      await ensureWritable();
      await appendFile(path, `${JSON.stringify({ schema: AUDIT_SCHEMA, ...entry })}\n`, {
        mode: 0o600,
        flag: 'a',
      });
    },
  };
}

export interface AuditContext {
  /** Null: nothing is recorded, only onCommand is told (tests, or a console told not to log). */
  log: AuditLog | null;
  operator: string;
  gateway: string;
  source: string;
  /** Called with each command as it is sent (the dashboard shows the last one). */
  onCommand?: (command: string) => void;
  now?: () => number;
}

function resultOf(error: unknown): string {
  return `error: ${error instanceof Error ? error.message : String(error)}`;
}

/**
 * The transport with every exec and upload recorded. Only the commands that change a gateway
 * should go through it: the action runners get it, the status refresh keeps the plain one.
 * A log that cannot be written fails the command before it is sent: an action nobody can
 * account for is not taken.
 */
export function auditedTransport(transport: Transport, context: AuditContext): Transport {
  const now = context.now ?? Date.now;
  const log = context.log;
  // The log was writable before the command went out (writable()); a later failure (a full disk)
  // must not turn an action the gateway carried out into a reported failure.
  const record = async (command: string, started: number, result: string): Promise<void> => {
    await log
      ?.append({
        time: new Date(started).toISOString(),
        operator: context.operator,
        gateway: context.gateway,
        transport: transport.description,
        command,
        source: context.source,
        result,
        durationMs: Math.max(0, now() - started),
      })
      .catch(() => undefined);
  };
  const writable = async (): Promise<void> => {
    try {
      await log?.ensureWritable();
    } catch (error) {
      throw new Rk64Error(
        'config',
        `cannot write the audit log ${log?.path ?? ''}: ${error instanceof Error ? error.message : String(error)}`,
        'fix the directory (XDG_STATE_HOME) or its permissions; nothing was sent',
      );
    }
  };
  let checked: Promise<void> | null = null;
  const wrapper: Transport = {
    kind: transport.kind,
    description: transport.description,
    ...(transport.baud !== undefined ? { baud: transport.baud } : {}),
    // Who the commands run as decides whether they go through sudo (src/core/privilege.ts); the
    // serial transport learns it only once logged in, so it is read through, not copied.
    get user() {
      return transport.user;
    },
    async exec(command: string, options?: ExecOptions): Promise<ExecResult> {
      checked ??= writable();
      await checked;
      context.onCommand?.(command);
      const started = now();
      try {
        const result = await transport.exec(command, options);
        await record(command, started, result.exitCode === 0 ? 'ok' : `exit ${result.exitCode}`);
        return result;
      } catch (error) {
        await record(command, started, resultOf(error));
        throw error;
      }
    },
    async upload(localPath: string, remotePath: string, options?: UploadOptions): Promise<void> {
      checked ??= writable();
      await checked;
      const command = `upload ${localPath} -> ${remotePath}`;
      context.onCommand?.(command);
      const started = now();
      try {
        await transport.upload(localPath, remotePath, options);
        await record(command, started, 'ok');
      } catch (error) {
        await record(command, started, resultOf(error));
        throw error;
      }
    },
    close: () => transport.close(),
  };
  return wrapper;
}

function isEntry(value: unknown): value is AuditEntry {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Record<string, unknown>;
  return (
    v.schema === AUDIT_SCHEMA &&
    ['time', 'operator', 'gateway', 'transport', 'command', 'source', 'result'].every(
      (k) => typeof v[k] === 'string',
    ) &&
    typeof v.durationMs === 'number'
  );
}

/**
 * The entries of the log, oldest first. A line that is not
 * an entry (a torn write, an edit by hand) is counted, never fatal.
 */
export async function readAuditLog(path: string): Promise<{ entries: AuditEntry[]; unreadable: number }> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { entries: [], unreadable: 0 };
    throw new Rk64Error('config', `cannot read the audit log ${path}: ${(error as Error).message}`);
  }
  const entries: AuditEntry[] = [];
  let unreadable = 0;
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch {
      unreadable++;
      continue;
    }
    if (isEntry(value)) entries.push(value);
    else unreadable++;
  }
  return { entries, unreadable };
}

/** One line for a terminal; every field made printable (the log holds gateway text). */
export function formatAuditEntry(entry: AuditEntry): string {
  return [entry.time, entry.operator, entry.gateway, entry.source, entry.result, `$ ${entry.command}`]
    .map(printable)
    .join('  ');
}
