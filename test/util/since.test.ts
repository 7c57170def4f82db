import { describe, expect, it } from 'vitest';
import { parseSince } from '../../src/util/duration.js';
import { UserError } from '../../src/util/userError.js';

// 2026-12-01 13:30:00 local time, whatever the machine's zone.
const now = new Date(2026, 11, 1, 13, 30, 0).getTime();
const back = (text: string) => parseSince(text, '--since', now);

describe('--since: a duration, or when the window starts', () => {
  it('takes durations as before', () => {
    expect(back('30m')).toBe(30 * 60_000);
    expect(back('1h30m')).toBe(90 * 60_000);
    expect(back('2d')).toBe(2 * 86_400_000);
  });

  it('takes a time of day: today, or yesterday when that is still ahead', () => {
    expect(back('13:00')).toBe(30 * 60_000);
    expect(back('13:29:30')).toBe(30_000);
    expect(back('14:00')).toBe(23.5 * 3_600_000);
  });

  it('takes a local date and time, and ISO 8601 with its zone', () => {
    expect(back('2026-12-01 12:00')).toBe(90 * 60_000);
    expect(back('2026-11-30T13:30')).toBe(86_400_000);
    expect(back(new Date(now - 5 * 60_000).toISOString())).toBe(5 * 60_000);
  });

  it('refuses what is not a time in the past, naming the option and the forms it takes', () => {
    for (const bad of ['13', '25:00', '12:61', '2026-02-30 10:00', '2027-01-01 00:00', 'yesterday', '0m', '1x']) {
      expect(() => back(bad), bad).toThrow(UserError);
    }
    expect(() => back('noon')).toThrow(/--since "noon": expected a duration \(30m, 1h, 2d, 1h30m\) or when the window starts \(13:00/);
  });
});
