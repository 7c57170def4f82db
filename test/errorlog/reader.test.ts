import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RealHost } from '../../src/host/realHost.js';
import { analyzeErrorLogs, formatLocal } from '../../src/errorlog/reader.js';
import { generateLog } from '../support/logGen.js';

const host = new RealHost();
const MINUTE = 60_000;
const now = new Date(2026, 10, 21, 12, 0, 0).getTime();
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'rd-errorlog-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const total = (report: Awaited<ReturnType<typeof analyzeErrorLogs>>) => report.signatures.reduce((n, s) => n + s.count, 0) + report.otherLines;

describe('error-log reader', () => {
  it('reads a window backwards, block by block, and stops at the window start', async () => {
    const path = join(dir, 'big.log');
    await writeFile(path, generateLog(now - 120 * MINUTE, now, 5), 'latin1');
    const windowed = await analyzeErrorLogs(host, [path], { fromMs: now - 15 * MINUTE, toMs: now, blockBytes: 4096 });
    expect(total(windowed)).toBe(15 * 60 * 5);
    expect(windowed.unparsed).toBe(0);
    expect(windowed.files).toMatchObject([{ path, mode: 'backward', reachedStart: false }]);
    expect(windowed.files[0]!.bytesRead).toBeLessThan(windowed.files[0]!.size / 5);
    expect(windowed.window).toEqual({ from: '2026/11/21 11:45:00', to: '2026/11/21 12:00:00' });

    const full = await analyzeErrorLogs(host, [path], { fromMs: null, toMs: now, blockBytes: 4096 });
    expect(total(full)).toBe(120 * 60 * 5);
    expect(full.files[0]).toMatchObject({ mode: 'full', bytesRead: full.files[0]!.size });
  });

  it('gives the same counts whatever the block size', async () => {
    const path = join(dir, 'blocks.log');
    await writeFile(path, generateLog(now - 30 * MINUTE, now, 3), 'latin1');
    const counts = [];
    for (const blockBytes of [97, 1000, 65536, 1 << 20]) {
      const report = await analyzeErrorLogs(host, [path], { fromMs: now - 10 * MINUTE, toMs: now, blockBytes });
      counts.push(report.signatures.map((s) => `${s.id}:${s.count}`).join(','));
    }
    expect(new Set(counts).size).toBe(1);
  });

  it('continues into error.log.1 and error.log.2.gz when the window reaches past the first line', async () => {
    const path = join(dir, 'rot.log');
    await writeFile(path, generateLog(now - 10 * MINUTE, now, 1), 'latin1');
    await writeFile(`${path}.1`, generateLog(now - 20 * MINUTE, now - 10 * MINUTE, 1), 'latin1');
    await writeFile(`${path}.2.gz`, gzipSync(Buffer.from(generateLog(now - 40 * MINUTE, now - 20 * MINUTE, 1), 'latin1')));
    const report = await analyzeErrorLogs(host, [path], { fromMs: now - 30 * MINUTE, toMs: now, blockBytes: 2048 });
    expect(total(report)).toBe(30 * 60);
    expect(report.files.map((f) => [f.path.split('/').pop(), f.mode, f.reachedStart])).toEqual([
      ['rot.log', 'backward', true],
      ['rot.log.1', 'backward', true],
      ['rot.log.2.gz', 'gzip', false],
    ]);
    const short = await analyzeErrorLogs(host, [path], { fromMs: now - 5 * MINUTE, toMs: now });
    expect(short.files.map((f) => f.path)).toEqual([path]);
  });

  it('follows dateext rotation (error.log-YYYYMMDD, then .gz), the RHEL default', async () => {
    const sub = join(dir, 'dateext');
    await mkdir(sub);
    const path = join(sub, 'error.log');
    await writeFile(path, generateLog(now - 10 * MINUTE, now, 1), 'latin1');
    await writeFile(`${path}-20261121`, generateLog(now - 20 * MINUTE, now - 10 * MINUTE, 1), 'latin1');
    await writeFile(`${path}-20261120.gz`, gzipSync(Buffer.from(generateLog(now - 40 * MINUTE, now - 20 * MINUTE, 1), 'latin1')));
    await writeFile(`${path}-20261119.gz`, gzipSync(Buffer.from(generateLog(now - 60 * MINUTE, now - 40 * MINUTE, 1), 'latin1')));
    await writeFile(join(sub, 'access.log-20261121'), 'not this log\n');
    const report = await analyzeErrorLogs(host, [path], { fromMs: now - 30 * MINUTE, toMs: now, blockBytes: 2048 });
    expect(total(report)).toBe(30 * 60);
    expect(report.files.map((f) => f.path.split('/').pop())).toEqual(['error.log', 'error.log-20261121', 'error.log-20261120.gz']);
    expect(report.problems).toEqual([]);
  });

  it('a rotated file in the window it cannot read (.xz) is a gap, named, and counts start where reading stopped', async () => {
    const sub = join(dir, 'xz');
    await mkdir(sub);
    const path = join(sub, 'error.log');
    await writeFile(path, generateLog(now - 10 * MINUTE, now, 1), 'latin1');
    await writeFile(`${path}.1`, generateLog(now - 20 * MINUTE, now - 10 * MINUTE, 1), 'latin1');
    // Made by the real xz, as logrotate's compresscmd would.
    await writeFile(`${path}.2.xz`, execFileSync('xz', ['-z', '-c'], { input: Buffer.from(generateLog(now - 40 * MINUTE, now - 20 * MINUTE, 1), 'latin1') }));
    const report = await analyzeErrorLogs(host, [path], { fromMs: now - 30 * MINUTE, toMs: now, blockBytes: 2048 });
    expect(report.files.map((f) => f.path.split('/').pop())).toEqual(['error.log', 'error.log.1']);
    expect(report.unparsed).toBe(0);
    const gap = `${path}.2.xz in the window was not read: .xz is not a format this reader reads (plain or .gz); decompress a copy and give it with --error-log`;
    expect(report.gaps).toEqual([gap]);
    expect(report.problems).toEqual([gap]);
    // "since" is the oldest line read, not the window start.
    expect(report.window.from).toBe(formatLocal(now - 20 * MINUTE));
  });

  it('where coverage starts is the oldest line of the whole chain, not of its last file', async () => {
    const sub = join(dir, 'empty-last');
    await mkdir(sub);
    const path = join(sub, 'error.log');
    await writeFile(path, generateLog(now - 10 * MINUTE, now, 1), 'latin1');
    await writeFile(`${path}.1`, '');
    const report = await analyzeErrorLogs(host, [path], { fromMs: now - 30 * MINUTE, toMs: now });
    expect(report.files.map((f) => f.path.split('/').pop())).toEqual(['error.log', 'error.log.1']);
    expect(report.window.from).toBe(formatLocal(now - 10 * MINUTE));
    expect(report.problems).toEqual([`${path}: the window starts before the oldest line found (${formatLocal(now - 10 * MINUTE)} in ${path}; no older rotated file): counts start there`]);
    expect(report.gaps).toEqual([]);
  });

  it('a window reaching past the oldest line found says so, and counts from that line', async () => {
    const path = join(dir, 'short-history.log');
    await writeFile(path, generateLog(now - 10 * MINUTE, now, 1), 'latin1');
    const report = await analyzeErrorLogs(host, [path], { fromMs: now - 60 * MINUTE, toMs: now });
    expect(report.window.from).toBe(formatLocal(now - 10 * MINUTE));
    expect(report.problems).toEqual([`${path}: the window starts before the oldest line found (${formatLocal(now - 10 * MINUTE)} in ${path}; no older rotated file): counts start there`]);
  });

  it('analyzes binary garbage without error, counting it as unparsed', async () => {
    const path = join(dir, 'garbage.log');
    const garbage = Buffer.alloc(200_000);
    for (let i = 0; i < garbage.length; i++) garbage[i] = (i * 7919 + (i >> 3)) & 0xff;
    await writeFile(path, Buffer.concat([garbage, Buffer.from('\n' + generateLog(now - MINUTE, now, 1), 'latin1'), garbage]));
    const report = await analyzeErrorLogs(host, [path], { fromMs: null, toMs: now, blockBytes: 8192 });
    expect(total(report)).toBe(60);
    expect(report.unparsed).toBeGreaterThan(0);
    expect(report.problems).toEqual([]);
  });

  it('says which file it could not read, and goes on with the others', async () => {
    const path = join(dir, 'ok.log');
    await writeFile(path, generateLog(now - MINUTE, now, 1), 'latin1');
    const report = await analyzeErrorLogs(host, [join(dir, 'nope.log'), path], { fromMs: now - 5 * MINUTE, toMs: now });
    expect(report.problems).toEqual([expect.stringContaining('cannot read'), expect.stringContaining('ok.log: the window starts before the oldest line found')]);
    expect(total(report)).toBe(60);
  });
});
