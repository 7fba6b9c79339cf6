// How long `ssh-wan on --for` keeps SSH on the WAN open: the same rule as rk64-action's
// duration_seconds (device-scripts/rootfs/rk64-action), so the console never sends what the
// gateway refuses.

/** The forms accepted, for prompts and help. */
export const DURATION_FORMS = 'N (seconds), Ns, Nm, Nmin or Nh; 1 s to 7 days';
export const MAX_DURATION_SECONDS = 7 * 24 * 3600;

/**
 * The duration as the gateway reads it (spaces removed: `30 min` is `30min`), with its length in
 * seconds; null when the gateway would refuse it.
 */
export function parseDuration(text: string): { text: string; seconds: number } | null {
  const compact = text.replace(/\s+/g, '');
  const match = /^(\d{1,7})(s|m|min|h)?$/.exec(compact);
  if (!match) return null;
  const unit = match[2] ?? 's';
  const seconds = Number(match[1]) * (unit === 'h' ? 3600 : unit === 's' ? 1 : 60);
  if (seconds < 1 || seconds > MAX_DURATION_SECONDS) return null;
  return { text: compact, seconds };
}
