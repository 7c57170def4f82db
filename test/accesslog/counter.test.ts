import { readFileSync } from 'node:fs';
import { mkdtemp, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { analyzeAccessLog, type AccessLogReport } from '../../src/accesslog/analyze.js';
import { AccessCounts, type AccessSnapshot } from '../../src/accesslog/counts.js';
import { compileFormat } from '../../src/accesslog/format.js';
import { inAccessWindow } from '../../src/accesslog/jsCounter.js';
import { planFormat, type FieldPlan } from '../../src/accesslog/plan.js';
import { AccessWasmCounter } from '../../src/accesslog/wasmCounter.js';
import { RealHost } from '../../src/host/realHost.js';
import { fixturePath } from '../support/fixtures.js';
import { mutate, prng } from '../support/mutate.js';

/**
 * The access-log counter in WebAssembly reads lines by a field plan of the
 * log_format (src/accesslog/plan.ts); format.ts's regular expression, line by
 * line, is the reference. On the lines a real nginx wrote in four formats
 * (npm run record-access-log) and on mutations of them, both must count the
 * same: per route, status, $upstream_status, minute and retry.
 */
const FORMATS = ['upstreamlog', 'combined', 'isouri', 'msec'] as const;
const fixture = (name: string, kind: string) => readFileSync(fixturePath('accesslog', `${name}.${kind}`), 'latin1');
const formatText = (name: string) => fixture(name, 'format.txt').trimEnd();
const realLines = (name: string) => fixture(name, 'access.log').split('\n').filter(Boolean);

/** Snapshots in one order, so two counts of the same lines compare equal whatever order they met them in. */
function normal(s: AccessSnapshot) {
  const key = (x: unknown) => JSON.stringify(x);
  const by = <T extends unknown[]>(list: T[]) => [...list].sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0));
  return { ...s, routes: by(s.routes), statuses: by(s.statuses), upstreamStatuses: by(s.upstreamStatuses), minutes: by(s.minutes) };
}

/** Lines of a format: the real ones, each also moved to other minutes and days, and mutated ones. */
function lineSet(name: string, seed: number, n: number): string[] {
  const random = prng(seed);
  const real = realLines(name);
  const out = [...real];
  for (let i = 0; i < n; i++) {
    let line = real[i % real.length]!;
    if (random() < 0.3) line = line.replace(/\d\d:\d\d:(\d\d)/, (_all, s: string) => `${String(Math.floor(random() * 24)).padStart(2, '0')}:${String(Math.floor(random() * 60)).padStart(2, '0')}:${s}`);
    if (random() < 0.1) line = line.replace(/^\d{10}/, (s) => String(Number(s) - Math.floor(random() * 100_000)));
    if (random() < 0.5) line = mutate(line, random).replace(/\n/g, ' ');
    if (line.length > 0) out.push(line);
  }
  return out;
}

function counted(format: ReturnType<typeof compileFormat>, plan: FieldPlan, lines: string[], window: { fromMs: number; toMs: number } | null) {
  const wasm = new AccessWasmCounter(format, plan, window);
  const block = Buffer.from(lines.join('\n') + '\n', 'latin1');
  wasm.resize(block.length, 0, 0);
  block.copy(wasm.buffer());
  expect(wasm.countLines(0, block.length, block.length)).toBe(block.length);
  return wasm;
}

function reference(format: ReturnType<typeof compileFormat>, lines: string[], window: { fromMs: number; toMs: number } | null): AccessCounts {
  const counts = new AccessCounts(format);
  for (const line of lines) if (inAccessWindow(format, line, window)) counts.addLine(line);
  return counts;
}

describe('the access-log counter in WebAssembly', () => {
  for (const name of FORMATS) {
    it(`counts ${name} lines as the JS parser does, real and mutated, in a window and without`, () => {
      const format = compileFormat(formatText(name));
      const plan = planFormat(format);
      if ('why' in plan) throw new Error(plan.why);
      const lines = lineSet(name, 20261201, 20_000);
      const times = lines.map((l) => format.lineTime(l)).filter((t) => !Number.isNaN(t)).sort((a, b) => a - b);
      const window = { fromMs: times[Math.floor(times.length / 3)]!, toMs: times[Math.floor((times.length * 2) / 3)]! };
      for (const w of [null, window]) {
        const wasm = counted(format, plan, lines, w);
        const theirs = reference(format, lines, w).snapshot();
        expect(normal(wasm.snapshot())).toEqual(normal(theirs));
        expect(theirs.unparsed).toBeGreaterThan(100);
        expect(theirs.routes.length).toBeGreaterThan(5);
      }
      // The real lines are read by the plan, not handed to JS.
      const real = counted(format, plan, realLines(name), null);
      expect(real.js.linesRead).toBe(0);
      expect(real.snapshot().linesRead).toBe(realLines(name).length);
    });
  }

  it('reads a line cut anywhere, or followed by stale bytes, as the JS parser reads it', () => {
    const name = 'upstreamlog';
    const format = compileFormat(formatText(name));
    const plan = planFormat(format) as FieldPlan;
    const lines = realLines(name).flatMap((l) => [l, l.slice(0, l.length - 1), l.slice(0, l.indexOf(' us=')), `${l} `, l.replace('" ', '"  '), l.replace('HTTP/1.1"', 'HTTP/1.1" x"')]);
    for (const line of lines) {
      const wasm = new AccessWasmCounter(format, plan, null);
      const block = Buffer.from(`${line}${realLines(name)[3]}`, 'latin1');
      wasm.resize(block.length, 0, 0);
      block.copy(wasm.buffer());
      wasm.countLast(0, line.length);
      const theirs = new AccessCounts(format);
      theirs.addLine(line);
      expect(normal(wasm.snapshot()), line).toEqual(normal(theirs.snapshot()));
    }
  });

  it('a format it cannot plan is said, and read by JS', () => {
    expect(planFormat(compileFormat('$remote_addr $body_bytes_sent'))).toEqual({ why: 'the format has no $status' });
  });
});

describe('access logs counted as byte ranges', () => {
  const host = new RealHost();
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'rd-access-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  /** Two hours of the real lines, 3 a second, times rewritten in order (time_local). */
  function logText(seed: number, end: number): string {
    const random = prng(seed);
    const real = realLines('upstreamlog');
    const out: string[] = [];
    const months = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
    for (let t = end - 2 * 3_600_000; t < end; t += 1000) {
      const d = new Date(t);
      const p = (n: number) => String(n).padStart(2, '0');
      const stamp = `${p(d.getUTCDate())}/${months[d.getUTCMonth()]}/${d.getUTCFullYear()}:${p(d.getUTCHours())}:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())} +0000`;
      for (let k = 0; k < 3; k++) {
        let line = real[Math.floor(random() * real.length)]!.replace(/\[[^\]]+\]/, `[${stamp}]`);
        // Mutated in the client address only, so routes and upstream statuses stay few (the report keeps the top 50 of
        // each, and ties among many would cut differently); mutations that break the format leave unparsed lines.
        const addr = line.indexOf(' [');
        if (random() < 0.2) line = mutate(line.slice(0, addr), random).replace(/\n/g, ' ') + line.slice(addr);
        if (random() < 0.02) line = line.replace('" ', '"x');
        out.push(line);
      }
    }
    return out.join('\n') + '\n';
  }

  const counts = (r: AccessLogReport) => {
    const { files: _f, counter: _c, retriedExamples: _e, routes, ...rest } = r;
    return { ...rest, routes: [...routes].sort((a, b) => (a.route < b.route ? -1 : a.route > b.route ? 1 : 0)) };
  };

  it('a window, the whole file and a rotated .gz count what the JS reader counts', async () => {
    const end = Date.UTC(2026, 11, 1, 12, 0, 0);
    const path = join(dir, 'access.log');
    const text = logText(5, end);
    const lines = text.split('\n').filter(Boolean);
    const format = formatText('upstreamlog');
    await writeFile(path, lines.slice(lines.length / 2).join('\n') + '\n', 'latin1');
    await writeFile(`${path}.1.gz`, gzipSync(Buffer.from(lines.slice(0, lines.length / 2).join('\n') + '\n', 'latin1')));
    // Written when its last line was: a log whose lines lag its last change by hours reads as another time zone's.
    await utimes(path, end / 1000, end / 1000);
    for (const fromMs of [end - 15 * 60_000, end - 90 * 60_000, null]) {
      const window = { fromMs, toMs: end };
      const mine = await analyzeAccessLog(host, path, 'upstreamlog', format, window);
      const theirs = await analyzeAccessLog(host, path, 'upstreamlog', format, { ...window, parallel: false });
      expect(mine.counter).toEqual({ engine: 'wasm' });
      expect(theirs.counter.engine).toBe('js');
      expect(counts(mine)).toEqual(counts(theirs));
      expect(mine.unparsed).toBeGreaterThan(0);
      if (fromMs === end - 90 * 60_000) expect(mine.files.map((f) => [f.mode, f.reachedStart, f.firstLineMs]), JSON.stringify(mine.problems)).toEqual([["backward", true, end - 3_600_000], ["gzip", false, end - 7_200_000]]);
      if (fromMs === null) expect(mine.retriedExamples).toEqual(theirs.retriedExamples);
    }
  });
});
