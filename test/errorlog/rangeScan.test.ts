import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { RealHost } from '../../src/host/realHost.js';
import { ErrorLogAggregator } from '../../src/errorlog/aggregate.js';
import { scanRange } from '../../src/errorlog/rangeScan.js';
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

it('byte ranges that tile a file count every line exactly once, wherever they split', async () => {
  const whole = await analyzeErrorLogs(host, [path], { fromMs: null, toMs: now, parallel: false });
  for (const parts of [1, 2, 3, 7, 64]) {
    const merged = new ErrorLogAggregator();
    const share = Math.ceil(size / parts);
    for (let i = 0; i < parts; i++) {
      const aggregator = new ErrorLogAggregator();
      const result = await scanRange(host, path, i * share, Math.min(size, (i + 1) * share), aggregator, 333);
      expect(result).not.toHaveProperty('problem');
      merged.merge(aggregator.snapshot());
    }
    const summary = merged.summary(whole.window);
    expect({ parts, lines: summary.linesRead, unparsed: summary.unparsed }).toEqual({ parts, lines: whole.linesRead, unparsed: whole.unparsed });
    expect(summary.signatures).toEqual(whole.signatures);
    expect(summary.perMinute).toEqual(whole.perMinute);
  }
});
