import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RealHost } from '../../src/host/realHost.js';
import { ErrorLogAggregator } from '../../src/errorlog/aggregate.js';
import { parseTime } from '../../src/errorlog/line.js';
import { analyzeErrorLogs, formatLocal } from '../../src/errorlog/reader.js';
import { DISORDER_SLACK_MS } from '../../src/logs/readLogs.js';
import { fixturePath } from '../support/fixtures.js';
import { mutate, prng } from '../support/mutate.js';

/**
 * A window on the real host is found by bisection and counted by the same
 * WebAssembly counter as a full scan (readLogs.ts readWindow). The JS parser,
 * reading the window line by line backwards, is the reference: both must count
 * the same lines the same way, on real lines and on mutated ones.
 */
const host = new RealHost();
const MINUTE = 60_000;
const now = new Date(2026, 10, 21, 12, 0, 0).getTime();
const bodies = readFileSync(fixturePath('errorlog', 'signatures.error.log'), 'latin1').split('\n').filter(Boolean).map((l) => l.slice(19));
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'rd-window-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Two hours of lines in time order, `perSecond` a second, a share of them mutated after their timestamp (and a few timestamps broken). */
function logText(seed: number, perSecond: number, mutated: number, untimed = 0.002): string {
  const random = prng(seed);
  const out: string[] = [];
  for (let t = now - 120 * MINUTE; t < now; t += 1000) {
    const stamp = formatLocal(t);
    for (let k = 0; k < perSecond; k++) {
      let body = bodies[Math.floor(random() * bodies.length)]!;
      if (random() < mutated) body = mutate(body, random).replace(/\n/g, ' ');
      // A line without a readable time is read in any window, by both readers.
      out.push(random() < untimed ? `${stamp.slice(0, 5)}x${stamp.slice(6)}${body}` : stamp + body);
    }
  }
  return out.join('\n') + '\n';
}

const counts = (r: Awaited<ReturnType<typeof analyzeErrorLogs>>) => ({ linesRead: r.linesRead, unparsed: r.unparsed, otherLines: r.otherLines, signatures: r.signatures, groups: r.groups, perMinute: r.perMinute, window: r.window });
/**
 * The backward reader meets a group's lines newest first: its example is the
 * newest line's path and groups of equal counts come in another order. The
 * counts are what must agree.
 */
const unordered = (r: Awaited<ReturnType<typeof analyzeErrorLogs>>) => ({
  ...counts(r),
  groups: r.groups.map(({ examplePath: _, ...g }) => g).sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b))),
  signatures: [...r.signatures].sort((a, b) => a.id.localeCompare(b.id)),
});

describe('windows counted as byte ranges', () => {
  it('count what the JS parser counts reading the window backwards, on real and mutated lines', async () => {
    const path = join(dir, 'mutated.log');
    const text = logText(20261201, 4, 0.4);
    await writeFile(path, text, 'latin1');
    for (const [minutes, blockBytes] of [[15, 4096], [61, 65536], [1, 997], [119, 1 << 20]] as const) {
      const window = { fromMs: now - minutes * MINUTE, toMs: now };
      const counted = await analyzeErrorLogs(host, [path], { ...window, blockBytes });
      const reference = await analyzeErrorLogs(host, [path], { ...window, blockBytes, parallel: false });
      expect(counted.files[0]).toMatchObject({ mode: 'backward', reachedStart: false });
      expect(counted.files[0]!.windowStart).toBeGreaterThan(0);
      expect(counted.files[0]!.bytesRead).toBeLessThan(text.length * ((minutes + 2) / 120) + 1_000_000);
      expect(unordered(counted)).toEqual(unordered(reference));
      expect(reference.unparsed).toBeGreaterThan(10);
    }
  });

  it('count each line of the window once, as the JS aggregator fed those lines counts them', async () => {
    const path = join(dir, 'lines.log');
    // Lines without a time are read wherever the read starts: here every line has one.
    const text = logText(7, 3, 0.5, 0);
    await writeFile(path, text, 'latin1');
    const window = { fromMs: now - 20 * MINUTE, toMs: now - 5 * MINUTE };
    const aggregator = new ErrorLogAggregator();
    for (const line of text.split('\n').filter(Boolean)) {
      const at = parseTime(line, 0);
      if (Number.isNaN(at) || (at >= window.fromMs && at <= window.toMs + DISORDER_SLACK_MS)) aggregator.addRaw(line);
    }
    const counted = await analyzeErrorLogs(host, [path], window);
    const reference = aggregator.summary({ from: formatLocal(window.fromMs), to: formatLocal(window.toMs) });
    expect(counts(counted)).toEqual({ ...counts({ ...reference, files: [], problems: [], gaps: [] }) });
  });

  it('a window that covers the whole file counts what the full scan counts', async () => {
    const path = join(dir, 'whole.log');
    await writeFile(path, logText(11, 2, 0.3), 'latin1');
    const windowed = await analyzeErrorLogs(host, [path], { fromMs: now - 48 * 60 * MINUTE, toMs: now });
    const full = await analyzeErrorLogs(host, [path], { fromMs: null, toMs: now });
    expect(windowed.files[0]).toMatchObject({ mode: 'backward', reachedStart: true, windowStart: 0 });
    expect({ ...counts(windowed), window: null }).toEqual({ ...counts(full), window: null });
    expect(windowed.linesRead).toBe(120 * 60 * 2);
  });

  it('a rotated .gz in the window is inflated into the counter and counts as the JS reader counts it', async () => {
    const path = join(dir, 'rot.log');
    const text = logText(3, 2, 0.3);
    const lines = text.split('\n');
    const half = lines.findIndex((l) => parseTime(l, 0) >= now - 60 * MINUTE);
    await writeFile(path, lines.slice(half).join('\n'), 'latin1');
    await writeFile(`${path}.1.gz`, gzipSync(Buffer.from(lines.slice(0, half).join('\n') + '\n', 'latin1')));
    const window = { fromMs: now - 90 * MINUTE, toMs: now };
    const counted = await analyzeErrorLogs(host, [path], window);
    const reference = await analyzeErrorLogs(host, [path], { ...window, parallel: false });
    expect(counted.files.map((f) => [f.mode, f.reachedStart])).toEqual([
      ['backward', true],
      ['gzip', false],
    ]);
    expect(unordered(counted)).toEqual(unordered(reference));
  });
});
