import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ErrorLogAggregator } from '../../src/errorlog/aggregate.js';
import { parseErrorLine } from '../../src/errorlog/line.js';
import { OTHER_ROUTES, ROUTE_LIMIT } from '../../src/errorlog/route.js';
import { WasmLineCounter } from '../../src/errorlog/wasmCounter.js';
import { fixturePath } from '../support/fixtures.js';
import { mutate, prng } from '../support/mutate.js';

/**
 * The full scan counts in WebAssembly (src/errorlog/assembly/scanner.ts); the
 * JS parser is the reference. Every line must be read the same way — parsed
 * or not, about an upstream or not — and the counts must come out identical.
 */
const realLines = readFileSync(fixturePath('errorlog', 'signatures.error.log'), 'latin1').split('\n').filter(Boolean);
const PATHS = ['/a/b/c', '/a//b/c', '//a/b', '/a/b?x=/c/d', '/a?b/c', '/a/b#c/d', '/users/123/orders', '/', '/?q', '/x/', 'noslash/a', '', '/a/550e8400-e29b-41d4-a716-446655440000/z', `/${'l'.repeat(60)}/b/c`, `/${'x'.repeat(50)}/${'y'.repeat(50)}`, `/${'p'.repeat(700)}`];

/** Lines nginx does write, and shapes at the edges of what the parser accepts. */
function edgeLines(): string[] {
  const line = realLines.find((l) => l.includes('upstream: "http://127.0.0.1'))!;
  const unix = realLines.find((l) => l.includes('unix:'));
  const stamp = line.slice(0, 19);
  return [
    line,
    `${line}\r`,
    line.replace(stamp, `${stamp.slice(0, 17)}60`),
    line.replace(stamp, `${stamp.slice(0, 17)}59`),
    line.replace(stamp, '2026/13/40 25:61:00'),
    line.replace(stamp, '1999/01/01 00:00:00'),
    line.replace(stamp, '0001/01/01 00:00:00'),
    line.replace(stamp, '2026/11/21 9:09:37 '),
    line.replace('[error]', '[crit]'),
    line.replace('[error]', '[errorx]'),
    line.replace('[error]', '[]'),
    line.replace(/\d+#\d+/, '#1'),
    line.replace(/\d+#\d+/, '1234567890123#1'),
    line.replace(/\d+#\d+/, '123456789012#1'),
    line.replace(/\*\d+ /, '*123456789012 '),
    line.replace(/\*\d+ /, '*x '),
    line.replace(/\*\d+ /, ''),
    line.replace(/upstream: "http:\/\/[^/"]+/, 'upstream: "http://unix:/run/app.sock:'),
    line.replace(/upstream: "http:\/\/[^/"]+/, 'upstream: "backend'),
    line.replace(/upstream: "http:\/\/[^/"]+/, 'upstream: "://x'),
    line.replace(/upstream: "http:\/\/[^/"]+/, 'upstream: "http://-'),
    line.replace(/request: "\S+/, 'request: "get'),
    line.replace(/request: "\S+ \S+/, 'request: "GET'),
    line.replace(/request: "\S+ \S+/, 'request: "GET  '),
    line.replace(/request: "[^"]*"/, 'request: "GET /a"b" HTTP/1.1"'),
    `${line}, referrer: "http://x/"y", host: "z"`,
    line.replace(', server: ', ', server: a, b'),
    line.replace(', client: ', ', client: a,b'),
    line.replace(/, client: .*/, ''),
    line.replace(/, client: .*/, '').padEnd(2047, 'x'),
    line.replace(/, client: .*/, '').padEnd(2046, 'x'),
    `${line.slice(0, line.indexOf(', client: '))}${' '.repeat(2048)}${line.slice(line.indexOf(', client: '))}`,
    ...[', ', ', r', ', req', ', upstream: ', ', upstream: "http:/', ', upstream: "http://unix', ', s', ', client: ', ', server: '].map((cut) => line.slice(0, line.indexOf(', client: ')) + cut),
    ...[', request: "', ', request: "GET / HTTP/1.1', ', referrer: "', ', referrer: ""'].map((cut) => line.slice(0, line.indexOf(', request: ')) + cut),
    ...[', ', ', up', ', upstream: "http://', ', host: "'].map((cut) => line.slice(0, line.indexOf(', upstream: ')) + cut),
    line.slice(0, 31),
    line.slice(0, 32),
    line.slice(0, line.length - 1),
    ...(unix ? [unix, unix.replace('unix:', 'unix')] : []),
  ];
}

function lineSet(seed: number, n: number): string[] {
  const random = prng(seed);
  const out = edgeLines();
  for (let i = 0; i < n; i++) {
    let line = realLines[i % realLines.length]!.replace(/(request: "\S+ )[^ "]*/, `$1${PATHS[Math.floor(random() * PATHS.length)]!}`);
    // Minutes and days apart, so the histogram has many buckets.
    if (random() < 0.3) line = line.replace(/^(\d{4}\/\d\d\/)\d\d \d\d:\d\d/, (_, ym: string) => `${ym}${String(1 + Math.floor(random() * 28)).padStart(2, '0')} ${String(Math.floor(random() * 24)).padStart(2, '0')}:${String(Math.floor(random() * 60)).padStart(2, '0')}`);
    if (random() < 0.6) line = mutate(line, random);
    out.push(line);
  }
  return out;
}

/** A counter holding `text` as its block (its buffer sized to fit). */
function loaded(text: string, wasm = new WasmLineCounter()): { wasm: WasmLineCounter; length: number } {
  const block = Buffer.from(text, 'latin1');
  wasm.resize(block.length, 0, 0);
  block.copy(wasm.buffer());
  return { wasm, length: block.length };
}

/** The lines counted by the WebAssembly counter and, parsed one by one, by the JS reference. */
function countBoth(lines: string[]) {
  const reference = new ErrorLogAggregator();
  for (const l of lines) reference.add(parseErrorLine(l)!);
  const { wasm, length } = loaded(lines.join('\n') + '\n');
  wasm.countLines(0, length, length);
  return { mine: summaryOf(wasm.snapshot()), theirs: reference.summary({ from: null, to: null }) };
}

const summaryOf = (snapshot: ReturnType<ErrorLogAggregator['snapshot']>) => {
  const merged = new ErrorLogAggregator();
  merged.merge(snapshot);
  return merged.summary({ from: null, to: null });
};

describe('the WebAssembly counter', () => {
  it('reads every line as the JS parser does, and counts the same groups, in the same order', () => {
    const reference = new ErrorLogAggregator();
    const wasm = new WasmLineCounter();
    const disagreements: string[] = [];
    const lines = lineSet(20261121, 30_000);
    const random = prng(5);
    let n = 0;
    for (const raw of lines) {
      // Every other line is read as the last of a file: no line break after it, stale bytes instead.
      const last = n++ % 2 === 1;
      const line = last ? raw.replace(/\n/g, ' ') : raw;
      // The JS reference: each line cut out and parsed whole.
      const before = { linesRead: reference.linesRead, unparsed: reference.unparsed, otherLines: reference.otherLines };
      for (const part of line.split('\n').filter(Boolean)) {
        const parsed = parseErrorLine(part);
        reference.linesRead++;
        if (!parsed) reference.unparsed++;
        else reference.add(parsed);
      }
      // The counter: the line in a block, followed by bytes that are not part of it and that would
      // change its reading if they were (a next line; or, as the last line of a file, stale bytes).
      const start = wasm.totals();
      const other = realLines[n % realLines.length]!;
      const stale = other.slice(Math.floor(random() * other.length));
      const { length } = loaded(`${line}${last ? '' : '\n'}${stale}`, wasm);
      if (last) wasm.countLast(0, line.length);
      else expect(wasm.countLines(0, length, line.length + 1)).toBe(line.length + 1);
      const after = wasm.totals();
      const delta = (a: typeof after, b: typeof after) => [a.linesRead - b.linesRead, a.unparsed - b.unparsed, a.otherLines - b.otherLines];
      const expected = delta({ linesRead: reference.linesRead, unparsed: reference.unparsed, otherLines: reference.otherLines }, before);
      if (JSON.stringify(delta(after, start)) !== JSON.stringify(expected) && disagreements.length < 5) disagreements.push(`${JSON.stringify(line)}: wasm ${delta(after, start)} js ${expected}`);
    }
    expect(disagreements).toEqual([]);
    const mine = summaryOf(wasm.snapshot());
    const theirs = reference.summary({ from: null, to: null });
    expect({ lines: mine.linesRead, unparsed: mine.unparsed, other: mine.otherLines }).toEqual({ lines: theirs.linesRead, unparsed: theirs.unparsed, other: theirs.otherLines });
    expect(theirs.unparsed).toBeGreaterThan(1000);
    expect(theirs.groups.length).toBeGreaterThan(100);
    expect(mine.groups).toEqual(theirs.groups);
    expect(mine.signatures).toEqual(theirs.signatures);
    expect(mine.perMinute).toEqual(theirs.perMinute);
  });

  it('names the first ROUTE_LIMIT routes and counts the rest together, exactly as the JS count does', () => {
    // A path per user: a route per request, which must not become a group per line.
    const line = realLines.find((l) => l.includes('request: "GET '))!;
    const lines = Array.from({ length: ROUTE_LIMIT * 3 }, (_, i) => line.replace(/(request: "\S+ )[^ "]*/, `$1/u/user${i}/orders`));
    const { mine, theirs } = countBoth(lines);
    expect(mine.groups).toEqual(theirs.groups);
    expect(theirs.groups).toHaveLength(ROUTE_LIMIT + 1);
    const signature = theirs.signatures[0]!;
    expect(signature.count).toBe(lines.length);
    expect(signature.routes[OTHER_ROUTES]).toBe(lines.length - ROUTE_LIMIT);
    expect(signature.routes['/u/user0']).toBe(1);
  });

  it('agrees past its caches: more distinct message heads and route keys than they hold', () => {
    // 25,000 heads (an invalid header each) and 25,000 route keys that fold to one route (/users/:id).
    const line = realLines.find((l) => l.includes('request: "GET ') && l.includes('upstream: "http://127.0.0.1'))!;
    const lines = Array.from({ length: 25_000 }, (_, i) =>
      line
        .replace(/\*\d+ .*?, client: /, `*${i} upstream sent invalid header: "X-${i}: y" while reading response header from upstream, client: `)
        .replace(/(request: "\S+ )[^ "]*/, `$1/users/${i}/cart`),
    );
    const { mine, theirs } = countBoth(lines);
    expect(theirs.signatures.map((s) => [s.id, s.count, Object.keys(s.routes)])).toEqual([['invalid-header', 25_000, ['/users/:id']]]);
    expect(mine.groups).toEqual(theirs.groups);
    expect(mine.perMinute).toEqual(theirs.perMinute);
  });

  it('counts the last line of a file, without its line break, and a line too long to read', () => {
    const line = realLines[0]!;
    const { wasm, length } = loaded(`${line}\n\n\n${line}`);
    const from = wasm.countLines(0, length, length + 1);
    expect(from).toBe(line.length + 3);
    wasm.countLast(from, length);
    wasm.countUnreadable();
    expect(wasm.totals()).toEqual({ linesRead: 3, unparsed: 1, otherLines: 0 });
  });

  it('stops at the first line that starts at or past where its range ends', () => {
    const { wasm, length } = loaded(`${realLines[0]}\n${realLines[1]}\n${realLines[2]}\n`);
    const second = realLines[0]!.length + 1;
    expect(wasm.countLines(0, length, second)).toBe(second);
    expect(wasm.countLines(second, length, second + 1)).toBe(second + realLines[1]!.length + 1);
    expect(wasm.totals().linesRead).toBe(2);
  });

  it('keeps its own counts: two counters do not share memory', () => {
    const b = new WasmLineCounter();
    const { wasm: a, length } = loaded(`${realLines[0]}\n`);
    a.countLines(0, length, length);
    expect(a.totals().linesRead).toBe(1);
    expect(b.totals().linesRead).toBe(0);
  });
});
