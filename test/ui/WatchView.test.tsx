/** The view the wizard's verification screen embeds: the before/after counts of a change, its reload marked. */
import { describe, expect, it } from 'vitest';
import { WatchView } from '../../src/ui/watch/WatchView.js';
import { mergeCounts } from '../../src/watch/count.js';
import { renderInk } from '../support/inkHarness.js';

describe('WatchView embedded', () => {
  it('draws the before and after buckets as one timeline with the reload marked', () => {
    const reloadAtMs = Date.UTC(2026, 11, 1, 12, 0, 0);
    const before = { buckets: [{ startMs: reloadAtMs - 20_000, signatures: { refused: 6 }, peers: { '127.0.0.1:8081': { refused: 6 } }, requests: 6, errors5xx: 6 }] };
    const after = { buckets: [{ startMs: reloadAtMs, signatures: {}, peers: {}, requests: 5, errors5xx: 0 }] };
    const { frame } = renderInk(<WatchView counts={mergeCounts(before, after)} events={[]} reloadAtMs={reloadAtMs} nowMs={reloadAtMs + 15_000} width={80} height={12} title="verify refused" />);
    const lines = frame().split('\n');
    expect(lines[0]).toContain('verify refused · nginx upstream errors per 10 s');
    expect(lines.find((l) => l.startsWith('127.0.0.1:8081 refused'))).toMatch(/█··· +0 +6$/);
    expect(lines.find((l) => l.startsWith('requests (access log)'))).toMatch(/█·▇· +0 +11$/);
    // Now is 15 s after the reload: its bucket is the one before the newest, and the marker stands under it.
    expect(lines.find((l) => l.includes('▲'))!.indexOf('▲')).toBe(30 + 1 + 36 - 2);
  });
});
