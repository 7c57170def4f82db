import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RealHost } from '../../src/host/realHost.js';
import { ErrorLogAggregator } from '../../src/errorlog/aggregate.js';
import { AggregatorLineCounter, LONGEST_LINE_BYTES, SCAN_BLOCK_BYTES, scanRange, type LineCounter } from '../../src/errorlog/rangeScan.js';
import { WasmLineCounter } from '../../src/errorlog/wasmCounter.js';
import { analyzeErrorLogs } from '../../src/errorlog/reader.js';
import { generateLog } from '../support/logGen.js';

const host = new RealHost();
let dir: string;
let path: string;
let size: number;
const now = new Date(2026, 10, 21, 12, 0, 0).getTime();

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'rd-range-'));
  path = join(dir, 'error.log');
  const text = generateLog(now - 20 * 60_000, now, 2) + 'junk without a newline at the end';
  size = Buffer.byteLength(text, 'latin1');
  await writeFile(path, text, 'latin1');
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Both counters a range scan can feed: the JS reference and the WebAssembly one of full scans. */
const COUNTERS: Array<[string, () => { counter: LineCounter; snapshot: () => ReturnType<ErrorLogAggregator['snapshot']> }]> = [
  ['js', () => {
    const aggregator = new ErrorLogAggregator();
    return { counter: new AggregatorLineCounter(aggregator), snapshot: () => aggregator.snapshot() };
  }],
  ['wasm', () => {
    const counter = new WasmLineCounter();
    return { counter, snapshot: () => counter.snapshot() };
  }],
];

/** The file scanned in `parts` byte ranges, each by a fresh counter, the counts merged as the reader merges its workers'. */
function scanInParts(file: string, bytes: number, parts: number, make: (typeof COUNTERS)[number][1], blockBytes: number): ErrorLogAggregator {
  const merged = new ErrorLogAggregator();
  const share = Math.ceil(bytes / parts);
  for (let i = 0; i < parts; i++) {
    const { counter, snapshot } = make();
    const opened = host.openBlocks(file);
    if (!opened.ok) throw new Error(opened.error.message);
    scanRange(opened.source, i * share, Math.min(bytes, (i + 1) * share), counter, blockBytes);
    opened.source.close();
    merged.merge(snapshot());
  }
  return merged;
}

describe.each(COUNTERS)('range scan with the %s counter', (_, make) => {
  it('byte ranges that tile a file count every line exactly once, wherever they split', async () => {
    const whole = await analyzeErrorLogs(host, [path], { fromMs: null, toMs: now, parallel: false });
    for (const parts of [1, 2, 3, 7, 64]) {
      const summary = scanInParts(path, size, parts, make, 333).summary(whole.window);
      expect({ parts, lines: summary.linesRead, unparsed: summary.unparsed }).toEqual({ parts, lines: whole.linesRead, unparsed: whole.unparsed });
      expect(summary.signatures).toEqual(whole.signatures);
      expect(summary.perMinute).toEqual(whole.perMinute);
    }
  });

  it('a line longer than any nginx line is counted once as unparsed, and the scan goes on after it', async () => {
    const lines = generateLog(now - 2 * 60_000, now, 2);
    const overlong = join(dir, 'overlong.log');
    // Binary garbage with no line break for more than LONGEST_LINE_BYTES, between real lines.
    const text = lines + 'x'.repeat(LONGEST_LINE_BYTES + 4097) + '\n' + lines + 'y'.repeat(LONGEST_LINE_BYTES * 2);
    await writeFile(overlong, text, 'latin1');
    const realLines = lines.split('\n').filter(Boolean).length;
    const bytes = Buffer.byteLength(text, 'latin1');
    for (const parts of [1, 2, 5]) {
      const merged = scanInParts(overlong, bytes, parts, make, SCAN_BLOCK_BYTES);
      const summary = merged.summary({ from: null, to: null });
      expect({ parts, lines: summary.linesRead, unparsed: summary.unparsed }).toEqual({ parts, lines: 2 * realLines + 2, unparsed: 2 });
    }
  });

});

it('long lines do not grow the WebAssembly counter\'s memory line after line', async () => {
  // Each line over the block size grows the buffer and shrinks it back; 400 of them once leaked 100 MB.
  const long = join(dir, 'long-lines.log');
  const line = generateLog(now - 60_000, now, 1).split('\n')[0]!;
  await writeFile(long, Array.from({ length: 400 }, (_, i) => `${line}${'x'.repeat(100_000 + i)}\n${line}\n`).join(''), 'latin1');
  const counter = new WasmLineCounter();
  const opened = host.openBlocks(long);
  if (!opened.ok) throw new Error(opened.error.message);
  scanRange(opened.source, 0, opened.source.size, counter, SCAN_BLOCK_BYTES);
  opened.source.close();
  expect(counter.totals()).toMatchObject({ linesRead: 800, unparsed: 400 });
  expect(counter.memoryBytes()).toBeLessThan(8 * 1024 * 1024);
});

it('a file that cannot be opened for a full scan is a clear error, not a throw', () => {
  const opened = host.openBlocks(join(dir, 'missing.log'));
  expect(opened).toMatchObject({ ok: false, error: { code: 'ENOENT' } });
});
