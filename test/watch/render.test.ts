import { describe, expect, it } from 'vitest';
import { sparkline, watchScreen } from '../../src/watch/render.js';
import type { WatchEvent } from '../../src/watch/events.js';

const NOW = Date.UTC(2026, 11, 1, 12, 0, 5);
const bucket = (ago: number, peers: Record<string, Record<string, number>>, requests = 0, errors5xx = 0) => {
  const startMs = Math.floor(NOW / 10_000) * 10_000 - ago * 10_000;
  const signatures: Record<string, number> = {};
  for (const sigs of Object.values(peers)) for (const [id, n] of Object.entries(sigs)) signatures[id] = (signatures[id] ?? 0) + n;
  return { startMs, signatures, peers, requests, errors5xx };
};

describe('sparkline', () => {
  it('scales each value to the largest, and shows nothing as a dot', () => {
    expect(sparkline([0, 1, 2, 4, 8])).toBe('·▁▂▄█');
    expect(sparkline([0, 0])).toBe('··');
    expect(sparkline([3])).toBe('█');
  });
});

describe('the watch screen', () => {
  const counts = {
    buckets: [bucket(3, { '127.0.0.1:8081': { refused: 8 } }, 20, 8), bucket(1, { '127.0.0.1:8081': { refused: 2 }, 'unix:/run/app.sock': { 'reset-reading-header': 1 } }, 30, 3), bucket(0, {}, 5, 0)],
  };
  const events: WatchEvent[] = [{ atMs: NOW - 15_000, kind: 'nginx-reload', text: 'nginx reloaded: new workers 42 (were 41)' }];

  it('fits 80×24: a row per peer and signature with its last buckets, requests and 5xx, the reload marker, the events', () => {
    const lines = watchScreen({ counts, events, width: 80, height: 23, nowMs: NOW }).map((l) => l.text);
    expect(lines.length).toBeLessThanOrEqual(23);
    expect(lines.every((l) => [...l].length <= 80)).toBe(true);
    const spark = 80 - 30 - 1 - 13;
    expect(lines[2]).toBe(`${'127.0.0.1:8081 refused'.padEnd(30)} ${'·'.repeat(spark - 4)}█·▂· ${'0'.padStart(5)} ${'10'.padStart(6)}`);
    // A long peer is cut from its start: the signature and the socket's name stay whole.
    expect(lines[3]).toMatch(/^…app\.sock reset-reading-header ·+█· +0 +1$/);
    expect(lines[4]).toMatch(/^requests \(access log\) +·+▆·█▂ +5 +55$/);
    expect(lines[5]).toMatch(/^5xx \(access log\) +·+█·▃· +0 +11$/);
    // The reload 15 s ago lies in the bucket before last: its marker stands under that column.
    const marker = lines[6]!;
    expect(marker.indexOf('▲')).toBe(30 + 1 + spark - 2);
    expect(marker).toContain('reload');
    expect(lines).toContain('Events');
    expect(lines.at(-1)).toMatch(/nginx reloaded: new workers 42 \(were 41\)$/);
  });

  it('marks the reload it is given (the verification’s) over the latest one among the events', () => {
    const lines = watchScreen({ counts, events, width: 80, height: 23, nowMs: NOW, reloadAtMs: NOW - 35_000 }).map((l) => l.text);
    const spark = 80 - 30 - 1 - 13;
    expect(lines[6]!.indexOf('▲')).toBe(30 + 1 + spark - 4);
  });

  it('says so when there is nothing in the window, and keeps many rows to the height', () => {
    expect(watchScreen({ counts: { buckets: [] }, events: [], width: 80, height: 23, nowMs: NOW }).map((l) => l.text)).toContain('no upstream error lines in this window'.padEnd(80));
    const many = { buckets: [bucket(0, Object.fromEntries(Array.from({ length: 30 }, (_, i) => [`127.0.0.1:${9000 + i}`, { refused: i + 1 }])))] };
    const lines = watchScreen({ counts: many, events: [], width: 80, height: 23, nowMs: NOW }).map((l) => l.text);
    expect(lines.length).toBeLessThanOrEqual(23);
    expect(lines[2]).toMatch(/^127\.0\.0\.1:9029 refused/);
    expect(lines.some((l) => /^… \d+ more peer\/signature rows/.test(l))).toBe(true);
  });
});

describe('mergeCounts', () => {
  it('adds up the buckets of before and after that share a start, peers too', async () => {
    const { mergeCounts } = await import('../../src/watch/count.js');
    const before = { buckets: [bucket(2, { a: { refused: 2 } }, 4, 2), bucket(1, { a: { refused: 1 } }, 2, 1)] };
    const after = { buckets: [bucket(1, { a: { refused: 1 }, b: { 'timeout-read': 1 } }, 3, 2), bucket(0, {}, 1, 0)] };
    expect(mergeCounts(before, after).buckets).toEqual([
      bucket(2, { a: { refused: 2 } }, 4, 2),
      bucket(1, { a: { refused: 2 }, b: { 'timeout-read': 1 } }, 5, 3),
      bucket(0, {}, 1, 0),
    ]);
  });
});
