/** Colors go through here so NO_COLOR (https://no-color.org) turns every one of them off. */
const noColor = process.env['NO_COLOR'] !== undefined && process.env['NO_COLOR'] !== '';

export type Tone = 'ok' | 'bad' | 'warn' | 'info' | 'muted' | 'accent';

const TONES: Record<Tone, string> = { ok: 'green', bad: 'red', warn: 'yellow', info: 'cyan', muted: 'gray', accent: 'magenta' };

export function color(tone: Tone): { color?: string } {
  return noColor ? {} : { color: TONES[tone] };
}

export const FINDING_TONE: Record<string, Tone> = { confirmed: 'bad', suspected: 'warn', unknown: 'warn', 'ruled-out': 'ok' };
export const FINDING_MARK: Record<string, string> = { confirmed: '✖', suspected: '!', unknown: '?', 'ruled-out': '✔' };
export const PROBE_MARK: Record<string, { mark: string; tone: Tone }> = {
  ok: { mark: '✔', tone: 'ok' },
  skipped: { mark: '-', tone: 'muted' },
  unavailable: { mark: '✖', tone: 'bad' },
  denied: { mark: '✖', tone: 'bad' },
  timeout: { mark: '✖', tone: 'bad' },
  error: { mark: '✖', tone: 'bad' },
};
