import { setTimeout as delay } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { progressWanted, showReadProgress, startRead } from '../../src/logs/progress.js';

/** A stream that keeps what is written to it. */
function sink(): NodeJS.WriteStream & { text: string } {
  const stream = { text: '', write: (chunk: string) => ((stream.text += chunk), true) };
  return stream as unknown as NodeJS.WriteStream & { text: string };
}

describe('read progress', () => {
  afterEach(() => showReadProgress(null));

  it('shows bytes, lines and rate once reads take over a second, as one total, and wipes its line at the end', async () => {
    const out = sink();
    showReadProgress(out);
    const a = startRead(2e9);
    const b = startRead(1e9);
    a.advance(500e6, 1_500_000);
    await delay(600);
    expect(out.text).toBe('');
    b.advance(250e6, 500_000);
    await delay(700);
    expect(out.text).toMatch(/reading logs: 750 MB of 3\.00 GB, 2\.0 M lines, \d+ MB\/s$/);
    a.end();
    expect(out.text.endsWith('\r\x1b[K')).toBe(false);
    b.end();
    expect(out.text.endsWith('\r\x1b[K')).toBe(true);
  });

  it('is wanted only when stdout and stderr are both terminals: not when output is piped or --json goes to a file', () => {
    const saved = [process.stdout.isTTY, process.stderr.isTTY];
    try {
      for (const [out, err, wanted] of [[true, true, true], [false, true, false], [true, false, false], [false, false, false]] as const) {
        process.stdout.isTTY = out;
        process.stderr.isTTY = err;
        expect(progressWanted()).toBe(wanted);
      }
    } finally {
      [process.stdout.isTTY, process.stderr.isTTY] = saved as [true, true];
    }
  });
});
