import { createGunzip } from 'node:zlib';
import type { Host } from '../host/types.js';
import { clockSkew, FUTURE_SLACK_MS } from './clockSkew.js';

/** Where read lines go: the reader needs each line's time (NaN when it has none) to know where a window starts. */
export interface LineSink {
  timeOf(line: string): number;
  add(line: string): void;
  /** Counts whole byte ranges itself (worker threads, WebAssembly) rather than line by line: then a window is found by bisection and counted as one range. */
  counting?: RangeCounting;
}

/** The times a counted range keeps (epoch ms, both ends included); lines without a time are kept. */
export interface LineWindow {
  fromMs: number;
  toMs: number;
}

type Failure = { problem: string; code: string };

/** A sink's own counting of a file's byte range [start, end) (lines that start in it), or of a .gz as it inflates. */
export interface RangeCounting {
  range(path: string, start: number, end: number, window: LineWindow | null): Promise<{ bytesRead: number; threads?: FileRead['threads'] } | Failure>;
  gzip(path: string, window: LineWindow): Promise<{ bytesRead: number; size: number; head: string } | Failure>;
}

export const BLOCK_BYTES = 1 << 20;
/**
 * Workers cache the time and append independently, so lines can be a little
 * out of order: a windowed read stops only once lines are this much older
 * than the window.
 */
export const DISORDER_SLACK_MS = 5000;

export interface FileRead {
  path: string;
  /** How it was read: from the end until the window's start, streamed whole, or decompressed. */
  mode: 'backward' | 'full' | 'gzip';
  bytesRead: number;
  size: number;
  /** The window starts before this file's first line, so older lines may be in the next rotated file. */
  reachedStart: boolean;
  /** Time of the file's first line, when the read reached it (backward and gzip reads). */
  firstLineMs?: number;
  /** Time of the file's newest timed line (backward reads). */
  lastLineMs?: number;
  /** A range counted by worker threads (full scans and windows): how many, and what counted the lines (WebAssembly, or JS when it was not built). */
  threads?: { workers: number; counter: 'wasm' | 'js' };
  /** A window found by bisection: the byte offset it was counted from. */
  windowStart?: number;
}

export interface ReadOptions {
  /** Window start (epoch ms); null reads every line. */
  fromMs: number | null;
  toMs: number;
  blockBytes?: number;
}

/**
 * Reads logs line by line into a sink. With a window, each log is read
 * backwards in blocks and reading stops at the first line older than the
 * window, so the cost follows the window, not the file; when the window
 * reaches past a file's first line, the rotated files follow (`.1`, then
 * `.2.gz`, `.3.gz`, …). Without a window, each file is streamed once with
 * bounded memory.
 */
export async function readLogs(host: Host, paths: string[], options: ReadOptions, sink: LineSink): Promise<{ files: FileRead[]; problems: string[]; gaps: string[]; coveredFromMs: number | null; clockSkew: string[] }> {
  const files: FileRead[] = [];
  // Logs whose times are in another zone than this tool's (also in problems and gaps): their window was not found.
  const clockSkewed: string[] = [];
  const problems: string[] = [];
  // Parts of the window that were not read (also in problems): what was not found may be there.
  const gaps: string[] = [];
  let coveredFromMs: number | null = null;
  for (const path of paths) {
    if (options.fromMs === null) {
      const read = sink.counting ? await readCounted(host, path, sink.counting) : await readForward(host, path, sink, null, options.blockBytes);
      if ('problem' in read) {
        problems.push(read.problem);
        gaps.push(`${path} was not read: ${read.problem}`);
      } else files.push(read);
      continue;
    }
    let older: string[] | null = null;
    let last: FileRead | null = null;
    // The oldest line found anywhere in the chain: an empty or undated last file does not say where coverage starts.
    let oldestMs: number | undefined;
    let oldestIn = path;
    let gap: string | null = null;
    const gapsBefore = gaps.length;
    for (let i = 0; ; i++) {
      // The rotated files are looked for only when the window reaches past the live log's first line.
      if (i === 1) older = await rotatedFiles(host, path);
      const candidate = i === 0 ? path : older![i - 1];
      if (candidate === undefined) break;
      const unsupported = UNSUPPORTED_COMPRESSION.exec(candidate);
      if (unsupported) {
        gap = `${candidate} in the window was not read: .${unsupported[1]} is not a format this reader reads (plain or .gz); decompress a copy and give it with --error-log`;
        break;
      }
      const read = candidate.endsWith('.gz')
        ? sink.counting
          ? await countGzip(candidate, sink, sink.counting, options.fromMs, options.toMs)
          : await readGzip(host, candidate, sink, options.fromMs)
        : sink.counting
          ? await readWindow(host, candidate, sink, sink.counting, options.fromMs, options.toMs)
          : await readBackward(host, candidate, sink, options.fromMs, options.toMs, options.blockBytes);
      if ('problem' in read) {
        // A rotated file that is not there just ends the chain; the live log missing is a problem.
        if (candidate === path || read.code !== 'ENOENT') {
          problems.push(read.problem);
          gaps.push(`${candidate}${candidate === path ? '' : ' in the window'} was not read: ${read.problem}`);
        }
        break;
      }
      files.push(read);
      last = read;
      if (i === 0 && read.lastLineMs !== undefined) {
        const stat = await host.stat(candidate);
        const skew = clockSkew(candidate, read.lastLineMs, options.toMs, stat.ok ? stat.mtimeMs : null);
        if (skew) {
          clockSkewed.push(skew);
          gap = skew;
          break;
        }
      }
      if (read.firstLineMs !== undefined && !(read.firstLineMs >= (oldestMs ?? Infinity))) {
        oldestMs = read.firstLineMs;
        oldestIn = read.path;
      }
      if (!read.reachedStart) break;
    }
    if (gap) {
      problems.push(gap);
      gaps.push(gap);
    }
    // The window starts before the oldest line read: say so, and how far back the counts go.
    if (last?.reachedStart && oldestMs !== undefined && oldestMs > options.fromMs) {
      if (gaps.length === gapsBefore) problems.push(`${path}: the window starts before the oldest line found (${formatLocal(oldestMs)} in ${oldestIn}; no older rotated file): counts start there`);
      coveredFromMs = Math.max(coveredFromMs ?? oldestMs, oldestMs);
    }
  }
  return { files, problems, gaps, coveredFromMs, clockSkew: clockSkewed };
}

/** Rotated files compressed in a format read here as no text at all: reading them as lines would count garbage. */
const UNSUPPORTED_COMPRESSION = /\.(xz|bz2|zst|lz4|lzma|lz|Z)$/;

/**
 * The rotated files of a log, newest first, as logrotate names them: numbered
 * (`error.log.1`, `error.log.2.gz`, …) or dated with `dateext`
 * (`error.log-20261120`, `error.log-20261119.gz`, the default on RHEL).
 * Without a directory listing, the numbered names Debian uses are tried.
 */
async function rotatedFiles(host: Host, path: string): Promise<string[]> {
  const slash = path.lastIndexOf('/');
  const dir = slash <= 0 ? '/' : path.slice(0, slash);
  const base = path.slice(slash + 1);
  const listing = await host.listDir(dir);
  if (!listing.ok) return [`${path}.1`, ...Array.from({ length: 29 }, (_, n) => `${path}.${n + 2}.gz`)];
  const numbered: Array<[number, string]> = [];
  const dated: Array<[string, string]> = [];
  for (const name of listing.entries) {
    if (!name.startsWith(base)) continue;
    // Any compression logrotate's compresscmd may use: .gz is read, the others are named as not read.
    const number = /^\.(\d+)(?:\.(?:gz|xz|bz2|zst|lz4|lzma|lz|Z))?$/.exec(name.slice(base.length));
    if (number) numbered.push([Number(number[1]), name]);
    const date = /^-(\d{8,10}|\d{4}-\d\d-\d\d)(?:\.(?:gz|xz|bz2|zst|lz4|lzma|lz|Z))?$/.exec(name.slice(base.length));
    if (date) dated.push([date[1]!.replace(/-/g, ''), name]);
  }
  numbered.sort((a, b) => a[0] - b[0] || a[1].length - b[1].length);
  dated.sort((a, b) => (a[0] < b[0] ? 1 : a[0] > b[0] ? -1 : a[1].length - b[1].length));
  return [...numbered, ...dated].map(([, name]) => `${dir === '/' ? '' : dir}/${name}`);
}

type ReadResult = FileRead | Failure;

/** A whole file counted as one range by the sink. */
async function readCounted(host: Host, path: string, counting: RangeCounting): Promise<ReadResult> {
  const stat = await host.stat(path, { follow: true });
  if (!stat.ok) return { problem: `cannot read ${stat.error.message}`, code: stat.error.code };
  const counted = await counting.range(path, 0, stat.size, null);
  if ('problem' in counted) return counted;
  return { path, mode: 'full', bytesRead: counted.bytesRead, size: stat.size, reachedStart: true, ...(counted.threads ? { threads: counted.threads } : {}) };
}

/** Bytes read to find a line's time at a probe point: nginx cuts its error lines at 2 KB; a probe that finds no timed line only makes the read start earlier. */
const PROBE_BYTES = 16 * 1024;

/** The first timed line that starts in [from, from + PROBE_BYTES) after a line break (or at 0): where it starts and its time. */
async function timedLineAt(host: Host, path: string, from: number, sink: LineSink): Promise<{ start: number; ms: number; bytes: number } | Failure | null> {
  const block = await host.readFile(path, { position: from, maxBytes: PROBE_BYTES, encoding: 'latin1' });
  if (!block.ok) return { problem: `cannot read ${block.error.message}`, code: block.error.code };
  const text = block.content;
  let at = from === 0 ? 0 : text.indexOf('\n') + 1;
  while (at > 0 || from === 0) {
    const newline = text.indexOf('\n', at);
    // A line cut by the block's end is not read: its time may be cut too.
    if (newline === -1 && from + text.length < block.size) break;
    const line = text.slice(at, newline === -1 ? text.length : newline);
    const ms = line.length > 0 ? sink.timeOf(line) : Number.NaN;
    if (!Number.isNaN(ms)) return { start: from + at, ms, bytes: text.length };
    if (newline === -1) break;
    at = newline + 1;
  }
  return null;
}

/** From the line at `from` (older than the window), the start of the last line older than `stopBefore` before the first that is not. */
async function newestOlderLine(host: Host, path: string, from: number, stopBefore: number, sink: LineSink): Promise<{ start: number; bytes: number } | Failure> {
  const block = await host.readFile(path, { position: from, maxBytes: 2 * PROBE_BYTES, encoding: 'latin1' });
  if (!block.ok) return { problem: `cannot read ${block.error.message}`, code: block.error.code };
  const text = block.content;
  let start = from;
  for (let at = 0; at < text.length; ) {
    const newline = text.indexOf('\n', at);
    if (newline === -1) break;
    const ms = newline > at ? sink.timeOf(text.slice(at, newline)) : Number.NaN;
    if (ms >= stopBefore) break;
    if (ms < stopBefore) start = from + at;
    at = newline + 1;
  }
  return { start, bytes: text.length };
}

/**
 * A window of a plain file, for a sink that counts ranges: the newest line's
 * time from the file's end (a log of another time zone is told, not read), then
 * the window's start by bisection on line times (log₂ of the size in probes of
 * 16 KB), then [start, end of file) counted in one go. Lines older than the
 * window between the start found and the window are dropped by their time, as
 * the backward read drops them; lines out of order by up to DISORDER_SLACK_MS
 * are kept, as there.
 */
async function readWindow(host: Host, path: string, sink: LineSink, counting: RangeCounting, fromMs: number, toMs: number): Promise<ReadResult> {
  const tail = await host.readFile(path, { tailBytes: PROBE_BYTES, encoding: 'latin1' });
  if (!tail.ok) return { problem: `cannot read ${tail.error.message}`, code: tail.error.code };
  const size = tail.size;
  let bytesRead = tail.content.length;
  let lastLineMs: number | undefined;
  const lines = tail.content.split('\n');
  // The tail's first line may be cut.
  for (let i = lines.length - 1; i >= (tail.content.length < size ? 1 : 0) && lastLineMs === undefined; i--) {
    const ms = lines[i]!.length > 0 ? sink.timeOf(lines[i]!) : Number.NaN;
    if (!Number.isNaN(ms)) lastLineMs = ms;
  }
  const last = lastLineMs !== undefined ? { lastLineMs } : {};
  // Lines later than now were written in another time zone: the caller tells why, reading on finds no window.
  if (lastLineMs !== undefined && lastLineMs > toMs + FUTURE_SLACK_MS) return { path, mode: 'backward', bytesRead, size, reachedStart: false, ...last };
  const stopBefore = fromMs - DISORDER_SLACK_MS;
  const first = await timedLineAt(host, path, 0, sink);
  if (first && 'problem' in first) return first;
  bytesRead += first?.bytes ?? 0;
  // lo: a line older than the window starts there (or it is 0); hi: no line that old starts at or after it, as far as the probes tell.
  let lo = 0;
  let hi = size;
  const reachedStart = !first || first.ms >= stopBefore;
  if (!reachedStart) {
    lo = first.start;
    while (hi - lo > PROBE_BYTES) {
      const mid = lo + Math.floor((hi - lo) / 2);
      const probe = await timedLineAt(host, path, mid, sink);
      if (probe && 'problem' in probe) return probe;
      bytesRead += probe?.bytes ?? 0;
      if (probe && probe.start < hi && probe.ms < stopBefore) lo = probe.start;
      else hi = mid;
    }
    // The read starts at the newest line older than the window, as the backward read stops there: lines without a
    // time after it are read, those before it are not.
    const near = await newestOlderLine(host, path, lo, stopBefore, sink);
    if ('problem' in near) return near;
    lo = near.start;
    bytesRead += near.bytes;
  }
  const counted = await counting.range(path, lo, size, { fromMs, toMs: toMs + DISORDER_SLACK_MS });
  if ('problem' in counted) return counted;
  return {
    path,
    mode: 'backward',
    bytesRead: bytesRead + counted.bytesRead,
    size,
    reachedStart,
    windowStart: lo,
    ...(reachedStart && first ? { firstLineMs: first.ms } : {}),
    ...last,
    ...(counted.threads ? { threads: counted.threads } : {}),
  };
}

/** A .gz counted by the sink as it inflates. */
async function countGzip(path: string, sink: LineSink, counting: RangeCounting, fromMs: number, toMs: number): Promise<ReadResult> {
  const counted = await counting.gzip(path, { fromMs, toMs: toMs + DISORDER_SLACK_MS });
  if ('problem' in counted) return counted;
  const firstLineMs = sink.timeOf(counted.head.split('\n')[0] ?? '');
  return { path, mode: 'gzip', bytesRead: counted.bytesRead, size: counted.size, reachedStart: !(firstLineMs < fromMs), ...(Number.isNaN(firstLineMs) ? {} : { firstLineMs }) };
}

async function readBackward(host: Host, path: string, sink: LineSink, fromMs: number, toMs: number, blockBytes = BLOCK_BYTES): Promise<ReadResult> {
  const first = await host.readFile(path, { tailBytes: blockBytes, encoding: 'latin1' });
  if (!first.ok) return { problem: `cannot read ${first.error.message}`, code: first.error.code };
  const size = first.size;
  let position = size - first.content.length;
  let block = first.content;
  let carry = '';
  let bytesRead = first.content.length;
  const stopBefore = fromMs - DISORDER_SLACK_MS;
  let earliestMs: number | undefined;
  let lastLineMs: number | undefined;
  for (;;) {
    const text = block + carry;
    // The first line of a block may be cut: keep it for the next (earlier) block unless this is the file's start.
    const cut = position > 0 ? text.indexOf('\n') : -1;
    carry = cut === -1 ? (position > 0 ? text : '') : text.slice(0, cut);
    const body = cut === -1 ? (position > 0 ? '' : text) : text.slice(cut + 1);
    let end = body.length;
    if (end > 0 && body.charCodeAt(end - 1) === 10) end--;
    while (end > 0) {
      const start = body.lastIndexOf('\n', end - 1) + 1;
      const line = body.slice(start, end);
      const at = sink.timeOf(line);
      if (!Number.isNaN(at) && lastLineMs === undefined) {
        lastLineMs = at;
        // Lines later than now were written in another time zone: the caller tells why, reading on finds no window.
        if (at > toMs + FUTURE_SLACK_MS) return { path, mode: 'backward', bytesRead, size, reachedStart: false, lastLineMs };
      }
      if (!Number.isNaN(at) && at < stopBefore) return { path, mode: 'backward', bytesRead, size, reachedStart: false, ...(lastLineMs !== undefined ? { lastLineMs } : {}) };
      if (!Number.isNaN(at)) earliestMs = at;
      if (Number.isNaN(at) || (at >= fromMs && at <= toMs + DISORDER_SLACK_MS)) sink.add(line);
      end = start > 0 ? start - 1 : 0;
      if (start === 0) break;
    }
    if (position <= 0) break;
    const length = Math.min(blockBytes, position);
    position -= length;
    const next = await host.readFile(path, { position, maxBytes: length, encoding: 'latin1' });
    if (!next.ok) return { problem: `cannot read ${next.error.message}`, code: next.error.code };
    block = next.content;
    bytesRead += next.content.length;
  }
  return { path, mode: 'backward', bytesRead, size, reachedStart: true, ...(earliestMs !== undefined ? { firstLineMs: earliestMs } : {}), ...(lastLineMs !== undefined ? { lastLineMs } : {}) };
}

async function readForward(host: Host, path: string, sink: LineSink, fromMs: number | null, blockBytes = BLOCK_BYTES): Promise<ReadResult> {
  let position = 0;
  let carry = '';
  let size = 0;
  for (;;) {
    const chunk = await host.readFile(path, { position, maxBytes: blockBytes, encoding: 'latin1' });
    if (!chunk.ok) return { problem: `cannot read ${chunk.error.message}`, code: chunk.error.code };
    size = chunk.size;
    position += chunk.content.length;
    const done = chunk.content.length === 0 || position >= size;
    carry = feedLines(carry + chunk.content, sink, fromMs, done);
    if (done) break;
  }
  return { path, mode: 'full', bytesRead: position, size, reachedStart: true };
}

/** Feeds complete lines, returns the unfinished tail (everything, when final). */
function feedLines(text: string, sink: LineSink, fromMs: number | null, final: boolean): string {
  // One native split per block is much cheaper than an indexOf and a slice per line.
  const lines = text.split('\n');
  const rest = lines.pop() ?? '';
  for (const line of lines) feed(line, sink, fromMs);
  if (final && rest.length > 0) {
    feed(rest, sink, fromMs);
    return '';
  }
  return rest;
}

function feed(line: string, sink: LineSink, fromMs: number | null): void {
  if (line.length === 0) return;
  if (fromMs !== null) {
    const at = sink.timeOf(line);
    if (!Number.isNaN(at) && at < fromMs) return;
  }
  sink.add(line);
}

async function readGzip(host: Host, path: string, sink: LineSink, fromMs: number): Promise<ReadResult> {
  const file = await host.readFile(path, { encoding: 'latin1' });
  if (!file.ok) return { problem: `cannot read ${file.error.message}`, code: file.error.code };
  let firstLineMs = Number.NaN;
  let carry = '';
  try {
    await new Promise<void>((resolve, reject) => {
      const gunzip = createGunzip();
      gunzip.on('data', (chunk: Buffer) => {
        const text = carry + chunk.toString('latin1');
        if (Number.isNaN(firstLineMs)) firstLineMs = sink.timeOf(text);
        carry = feedLines(text, sink, fromMs, false);
      });
      gunzip.on('end', () => {
        feedLines(carry, sink, fromMs, true);
        resolve();
      });
      gunzip.on('error', reject);
      gunzip.end(Buffer.from(file.content, 'latin1'));
    });
  } catch (error) {
    return { problem: `cannot decompress ${path}: ${(error as Error).message}`, code: 'OTHER' };
  }
  return { path, mode: 'gzip', bytesRead: file.size, size: file.size, reachedStart: !(firstLineMs < fromMs), ...(Number.isNaN(firstLineMs) ? {} : { firstLineMs }) };
}

export function formatLocal(ms: number): string {
  const d = new Date(ms);
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}/${p(d.getMonth() + 1)}/${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
}
