import type { Tone } from '../theme.js';

export interface PagerLine {
  text: string;
  tone?: Tone;
}

/** A long line in pieces of the screen's width, so nothing of a directive is cut off. */
export function wrapText(text: string, width: number): string[] {
  const chars = [...text];
  if (chars.length <= width) return [text];
  const out: string[] = [];
  for (let i = 0; i < chars.length; i += width) out.push(chars.slice(i, i + width).join(''));
  return out;
}

/**
 * A unified diff as colored lines: what is added in green, removed in red,
 * hunk headers in cyan. The "Index:" and "====" lines createTwoFilesPatch
 * puts first say nothing the ---/+++ lines do not.
 */
export function diffLines(diff: string, width: number): PagerLine[] {
  const out: PagerLine[] = [];
  for (const line of diff.replace(/\n$/, '').split('\n')) {
    if (/^Index: |^={10,}$/.test(line)) continue;
    const tone: Tone | undefined = /^(\+\+\+|---) /.test(line) ? 'muted' : line.startsWith('+') ? 'ok' : line.startsWith('-') ? 'bad' : line.startsWith('@@') ? 'info' : undefined;
    for (const piece of wrapText(line.replace(/\t/g, '    '), width)) out.push(tone ? { text: piece, tone } : { text: piece });
  }
  return out;
}

/** The lines from `scroll` that fit `rows`, and where they are. */
export function pageOf(lines: readonly PagerLine[], scroll: number, rows: number): { lines: PagerLine[]; from: number; to: number } {
  const from = Math.max(0, Math.min(scroll, Math.max(0, lines.length - rows)));
  const to = Math.min(lines.length, from + rows);
  return { lines: lines.slice(from, to), from, to };
}
