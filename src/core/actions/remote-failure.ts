// One line for a non-zero rk64-action exit (codes from the rk64-action contract).

/** The last non-empty line of a command's output, without the program's own log prefix. */
export function lastLine(text: string): string {
  const lines = text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '');
  // rk64-action logs as "rk64-action: LINE" or "rk64-action: error: LINE"; the command already
  // names the program, so the prefix would only repeat it.
  return (lines.at(-1) ?? '').replace(/^rk64-action: (?:error: )?/, '');
}

export function remoteFailure(command: string, exitCode: number, output: string): string {
  const detail = lastLine(output);
  switch (exitCode) {
    case 4:
      return `${command}: the gateway refused (not root); the console runs it through sudo -n unless it connects as root: check the user of the target`;
    case 2:
      return `${command}: the gateway's rk64-action does not know this request (${detail || 'usage error'}); update the gateway`;
    case 127:
      return `${command}: rk64-action is not on the gateway's PATH; the gateway runs an image without the rk64 device scripts`;
    default:
      return `${command} failed (exit ${exitCode})${detail ? `: ${detail}` : ''}`;
  }
}
