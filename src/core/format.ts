// The console's one way to write a duration and a byte count, for the dashboard, `rk64 status`
// text, confirmations and error messages alike.

/** Whole seconds, two units at most, a zero second unit left out: `42 s`, `29 min 58 s`, `11 h`, `3 d 4 h`. */
export function formatDuration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  const two = (big: number, bigUnit: string, small: number, smallUnit: string) =>
    small === 0 ? `${big} ${bigUnit}` : `${big} ${bigUnit} ${small} ${smallUnit}`;
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return two(m, 'min', s % 60, 's');
  const h = Math.floor(m / 60);
  if (h < 24) return two(h, 'h', m % 60, 'min');
  return two(Math.floor(h / 24), 'd', h % 24, 'h');
}

/** Binary units: `512 B`, `64.0 KiB`, `200.0 MiB`, `1.25 GiB`. */
export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KiB`;
  if (bytes < 1024 ** 3) return `${(bytes / 1024 ** 2).toFixed(1)} MiB`;
  return `${(bytes / 1024 ** 3).toFixed(2)} GiB`;
}
