// `rk64 log [--gateway G] [--json]`: the audit log (src/core/audit.ts), oldest first. Text lines
// are made printable (gateway names and commands may hold anything); --json prints the entries as
// they are stored, one per line.
import { auditLogPath, formatAuditEntry, readAuditLog } from '../core/audit.js';
import { ExitCode } from '../core/errors.js';

export async function logCommand(
  command: { gateway?: string; json: boolean },
  io: { stdout: NodeJS.WritableStream; stderr: NodeJS.WritableStream; env: NodeJS.ProcessEnv },
): Promise<number> {
  const path = auditLogPath(io.env);
  const { entries, unreadable } = await readAuditLog(path);
  const shown = entries.filter((e) => command.gateway === undefined || e.gateway === command.gateway);
  for (const entry of shown) {
    io.stdout.write(command.json ? `${JSON.stringify(entry)}\n` : `${formatAuditEntry(entry)}\n`);
  }
  if (unreadable > 0) io.stderr.write(`rk64: ${path}: skipped ${unreadable} line(s) that are not entries\n`);
  return ExitCode.ok;
}
