import { UserError } from './userError.js';

const UNITS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** "90s", "30m", "1h", "2d", or combined "1h30m". */
export function parseDuration(text: string, option: string): number {
  const parts = [...text.matchAll(/(\d+)([smhd])/g)];
  if (parts.length === 0 || parts.map((p) => p[0]).join('') !== text) {
    throw new UserError(`${option} "${text}": expected a duration such as 30m, 1h, 2d or 1h30m`);
  }
  return parts.reduce((total, p) => total + Number(p[1]) * UNITS[p[2]!]!, 0);
}

/**
 * --since: a duration back from now ("30m", "1h30m"), or when the window starts — what an on-call knows at
 * 3 a.m. is when the page fired: "13:00" (today, local time, or yesterday when that is still ahead),
 * "2026-12-01 13:00" (local), or ISO 8601 ("2026-12-01T13:00:00Z", "…+01:00"). Returns milliseconds back from now.
 */
export function parseSince(text: string, option: string, nowMs: number): number {
  if (/^\d+[smhd]/.test(text)) return positive(parseDuration(text, option), text, option);
  const clock = /^(\d{1,2}):(\d{2})(?::(\d{2}))?$/.exec(text);
  if (clock) {
    const [h, m, sec] = [Number(clock[1]), Number(clock[2]), Number(clock[3] ?? 0)];
    if (h > 23 || m > 59 || sec > 59) throw new UserError(`${option} "${text}": not a time of day`);
    const at = new Date(nowMs);
    at.setHours(h, m, sec, 0);
    if (at.getTime() > nowMs) at.setDate(at.getDate() - 1);
    return positive(nowMs - at.getTime(), text, option);
  }
  const local = /^(\d{4})-(\d{2})-(\d{2})[ T](\d{1,2}):(\d{2})(?::(\d{2}))?$/.exec(text);
  if (local) {
    const [y, mo, d, h, m, sec] = local.slice(1).map((v) => Number(v ?? 0)) as [number, number, number, number, number, number];
    const at = new Date(y, mo - 1, d, h, m, sec);
    if (at.getMonth() !== mo - 1 || at.getDate() !== d || h > 23 || m > 59 || sec > 59) throw new UserError(`${option} "${text}": not a date and time`);
    return positive(nowMs - at.getTime(), text, option);
  }
  if (/^\d{4}-\d{2}-\d{2}T[\d:.]+(Z|[+-]\d{2}:?\d{2})$/.test(text) && Number.isFinite(Date.parse(text))) return positive(nowMs - Date.parse(text), text, option);
  throw new UserError(`${option} "${text}": expected a duration (30m, 1h, 2d, 1h30m) or when the window starts (13:00, 2026-12-01 13:00, 2026-12-01T13:00:00Z)`);
}

function positive(ms: number, text: string, option: string): number {
  if (ms <= 0) throw new UserError(`${option} "${text}": that is not in the past`);
  return ms;
}

export function formatDuration(ms: number): string {
  if (ms < 1000) return `${ms} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  const minutes = Math.round(ms / 60_000);
  return minutes < 120 ? `${minutes} min` : `${(minutes / 60).toFixed(1)} h`;
}
