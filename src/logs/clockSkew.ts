import { formatLocal } from './readLogs.js';

/** A log's newest line this far past the window's end is "in the future": read in another time zone than written. */
export const FUTURE_SLACK_MS = 5 * 60_000;

/**
 * nginx writes its error log in the local time of its own process (its TZ), with no zone in the line; read here
 * in another zone, every line is hours off and falls outside the window, so the log looks silent. Told by the
 * newest line: later than this machine's clock, or a whole number of quarter hours away from the file's last
 * change (mtime), the moment that line was written. A copy whose mtime is unrelated is seldom a quarter-hour
 * multiple away, and a real skew is at most 14 h (UTC-12 to UTC+14).
 * Returns why the log's times cannot be trusted, or null.
 */
export function clockSkew(path: string, newestMs: number, nowMs: number, mtimeMs: number | null): string | null {
  const quarter = 15 * 60_000;
  const future = newestMs - nowMs > FUTURE_SLACK_MS;
  const offset = mtimeMs === null ? newestMs - nowMs : newestMs - mtimeMs;
  const whole = Math.abs(offset - Math.round(offset / quarter) * quarter) <= 2 * 60_000;
  if (!future && !(mtimeMs !== null && Math.abs(offset) >= 25 * 60_000 && Math.abs(offset) <= 14 * 3_600_000 + 2 * 60_000 && whole)) return null;
  const quarters = Math.round(offset / quarter);
  const hours = `${Math.abs(quarters) / 4} h`;
  const against = future ? "ahead of this machine's clock" : `${offset > 0 ? 'ahead of' : 'behind'} the file's last change (${formatLocal(mtimeMs!)})`;
  // The zone nginx wrote in: this tool's UTC offset plus the skew.
  const ownMinutes = -new Date(mtimeMs ?? nowMs).getTimezoneOffset();
  const nginxMinutes = ownMinutes + quarters * 15;
  const sign = nginxMinutes < 0 ? '-' : '+';
  const hh = Math.floor(Math.abs(nginxMinutes) / 60);
  const mm = Math.abs(nginxMinutes) % 60;
  // Etc/GMT zones have their sign inverted (Etc/GMT-9 is UTC+9), and exist for whole hours only.
  const zone = nginxMinutes === 0 ? 'TZ=UTC' : mm === 0 && whole ? `TZ=Etc/GMT${nginxMinutes > 0 ? '-' : '+'}${hh}` : null;
  const own = Intl.DateTimeFormat().resolvedOptions().timeZone;
  return `${path}: its newest line, ${formatLocal(newestMs)}, is ${hours} ${against}: nginx writes its log in the local time of its own time zone (these lines read as UTC${sign}${String(hh).padStart(2, '0')}:${String(mm).padStart(2, '0')}), not this tool's (${own}), so the window cannot be found in it; run reset-doctor with TZ set as nginx runs${zone ? ` (${zone}, or its zone name)` : ''}`;
}
