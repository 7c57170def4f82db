import { closeSync, openSync, readFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { formatLocal } from '../../src/errorlog/reader.js';
import { PACKAGE_ROOT } from '../../src/packageRoot.js';

/** The lines nginx really wrote in the lab, without their timestamps: the shapes generated logs are made of. */
export function realLineBodies(): string[] {
  return readFileSync(join(PACKAGE_ROOT, 'test', 'fixtures', 'errorlog', 'signatures.error.log'), 'latin1')
    .split('\n')
    .filter(Boolean)
    .map((line) => line.slice(19));
}

/**
 * The n-th request's version of a line body: its own connection id, one of
 * four workers, a client address of its own and an id at the end of the
 * request path (and of the upstream URI, as nginx logs both). A real log
 * repeats its shapes, not its lines; a benchmark on verbatim repeats would
 * measure caches, not the analyzer.
 */
export function varyBody(body: string, n: number): string {
  const worker = 21_000 + (n % 4);
  const id = (n * 7919) % 1_000_003;
  return body
    .replace(/ \d+#\d+: \*\d+ /, ` ${worker}#${worker}: *${n + 1} `)
    .replace(/client: 127\.0\.0\.1/, `client: 10.${(n >> 16) & 255}.${(n >> 8) & 255}.${n & 255}`)
    .replace(/(request: "\S+ [^ ?"]*)/, `$1/${id}`)
    .replace(/(upstream: "[^"?]*)/, `$1/${id}`);
}

/** Lines from startMs to endMs, `perSecond` a second, cycling through the real shapes (each request its own with `vary`). */
export function generateLog(startMs: number, endMs: number, perSecond: number, bodies = realLineBodies(), options: { vary?: boolean; first?: number } = {}): string {
  const out: string[] = [];
  let n = 0;
  const first = options.first ?? 0;
  for (let t = startMs; t < endMs; t += 1000) {
    const stamp = formatLocal(t);
    for (let k = 0; k < perSecond; k++, n++) {
      const body = bodies[n % bodies.length]!;
      out.push(stamp + (options.vary ? varyBody(body, first + n) : body));
    }
  }
  return out.length ? out.join('\n') + '\n' : '';
}

/** Writes a log of about `bytes` whose last line is at `endMs`, each request its own: older minutes are prepended until the size is reached. */
export function writeLogOfSize(path: string, bytes: number, endMs: number): void {
  const bodies = realLineBodies();
  const perSecond = 50;
  const sample = generateLog(endMs - 60_000, endMs, perSecond, bodies, { vary: true }).length;
  const minutes = Math.ceil(bytes / sample);
  const fd = openSync(path, 'w');
  for (let m = minutes; m > 0; m--) {
    const from = endMs - m * 60_000;
    writeSync(fd, generateLog(from, from + 60_000, perSecond, bodies, { vary: true, first: (minutes - m) * 60 * perSecond }), null, 'latin1');
  }
  closeSync(fd);
}
