import { closeSync, openSync, readFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { PACKAGE_ROOT } from '../../src/packageRoot.js';

/** The lab's log_format (test/support/lab.ts), as the recorded lines were written in. */
export const UPSTREAMLOG_FORMAT = readFileSync(join(PACKAGE_ROOT, 'test', 'fixtures', 'accesslog', 'upstreamlog.format.txt'), 'utf8').trimEnd();

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** $time_local of ms in this machine's zone, as nginx writes it: "01/Dec/2026:16:44:40 +0000". */
export function timeLocal(ms: number): string {
  const d = new Date(ms);
  const p = (n: number) => String(n).padStart(2, '0');
  const offset = -d.getTimezoneOffset();
  const zone = `${offset < 0 ? '-' : '+'}${p(Math.floor(Math.abs(offset) / 60))}${p(Math.abs(offset) % 60)}`;
  return `${p(d.getDate())}/${MONTHS[d.getMonth()]}/${d.getFullYear()}:${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())} ${zone}`;
}

/** The lines nginx really wrote in the lab's format (npm run record-access-log), their time cut out: "[TIME]" stays a marker. */
export function realAccessBodies(): string[] {
  return readFileSync(join(PACKAGE_ROOT, 'test', 'fixtures', 'accesslog', 'upstreamlog.access.log'), 'latin1')
    .split('\n')
    .filter(Boolean)
    .map((line) => line.replace(/\[[^\]]+\]/, '[TIME]'));
}

/** The n-th request's version of a line: its own client address and id in the path, as in a real log. */
function vary(body: string, n: number): string {
  const id = (n * 7919) % 1_000_003;
  return body.replace(/^127\.0\.0\.1/, `10.${(n >> 16) & 255}.${(n >> 8) & 255}.${n & 255}`).replace(/("\S+ \/[^ /?"]+\/[^ /?"]+)\/?[^ ?"]*/, `$1/${id}`);
}

/** Writes an access log of about `bytes` whose last line is at `endMs`, `perSecond` lines a second, each request its own. */
export function writeAccessLogOfSize(path: string, bytes: number, endMs: number, perSecond = 100): void {
  const bodies = realAccessBodies();
  const fd = openSync(path, 'w');
  const lineBytes = bodies.reduce((n, b) => n + b.length + 28, 0) / bodies.length;
  const seconds = Math.ceil(bytes / (lineBytes * perSecond));
  let n = 0;
  let chunk: string[] = [];
  for (let s = seconds; s > 0; s--) {
    const stamp = timeLocal(endMs - s * 1000);
    for (let k = 0; k < perSecond; k++, n++) chunk.push(vary(bodies[n % bodies.length]!, n).replace('[TIME]', `[${stamp}]`));
    if (chunk.length >= 50_000) {
      writeSync(fd, chunk.join('\n') + '\n', null, 'latin1');
      chunk = [];
    }
  }
  if (chunk.length) writeSync(fd, chunk.join('\n') + '\n', null, 'latin1');
  closeSync(fd);
}
