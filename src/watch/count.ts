/**
 * Error-log lines per signature and peer, and access-log requests and 5xx,
 * per time bucket (10 s by default): what the verification after a reload
 * compares, and what `reset-doctor watch` draws. The same counter takes
 * lines from a windowed read of the logs (countLogs) and from the live
 * follower (follow.ts), so history and live counts agree.
 */
import type { Host } from '../host/types.js';
import type { TrafficCounts } from '../apply/types.js';
import { parseErrorLine, parseTime } from '../errorlog/line.js';
import { classify } from '../errorlog/signatures.js';
import { compileFormat, type CompiledFormat } from '../accesslog/format.js';
import { readLogs } from '../logs/readLogs.js';

export const BUCKET_MS = 10_000;

/** An access log and the log_format text it is written with (nginx-config's accessLogs: path, formatText). */
export interface AccessLogSpec {
  path: string;
  formatText: string;
}

export interface Bucket {
  startMs: number;
  /** Signature id → lines (of the peers asked for, when peers were given). */
  signatures: Record<string, number>;
  requests: number;
  errors5xx: number;
  /** Peer as logged ("127.0.0.1:8081", "unix:/run/app.sock", a group name; "-" when the line names none) → signature id → lines. */
  peers: Record<string, Record<string, number>>;
}

/** TrafficCounts whose buckets also hold the counts per peer. */
export interface BucketCounts extends TrafficCounts {
  buckets: Bucket[];
}

/** A logged peer as one address: nginx logs ::ffff:127.0.0.1 for a dual-stack listener that is 127.0.0.1. */
export function normalizePeer(peer: string): string {
  return peer.replace(/^\[::ffff:(\d+\.\d+\.\d+\.\d+)\]/i, '$1').replace(/^::ffff:(?=\d+\.)/i, '');
}

export interface CounterOptions {
  bucketMs?: number;
  /** Count signatures only for these peers (as nginx logs them); every peer when absent or empty. */
  peers?: string[];
  /** Lines before this time (epoch ms) are not counted. */
  fromMs?: number;
  /** Lines after this time are not counted. */
  toMs?: number;
}

/** Counts lines into buckets. Lines may come in any order (several logs, a catch-up read and a live read). */
export class TrafficCounter {
  readonly bucketMs: number;
  private readonly peers: Set<string> | null;
  private readonly buckets = new Map<number, Bucket>();
  fromMs: number;
  toMs: number;
  /** Error-log lines about an upstream and access-log requests counted. */
  errorLines = 0;
  accessLines = 0;

  constructor(options: CounterOptions = {}) {
    this.bucketMs = options.bucketMs ?? BUCKET_MS;
    this.peers = options.peers && options.peers.length > 0 ? new Set(options.peers.map(normalizePeer)) : null;
    this.fromMs = options.fromMs ?? -Infinity;
    this.toMs = options.toMs ?? Infinity;
  }

  private inWindow(timeMs: number): boolean {
    return !Number.isNaN(timeMs) && timeMs >= this.fromMs && timeMs <= this.toMs;
  }

  private bucket(timeMs: number): Bucket {
    const startMs = Math.floor(timeMs / this.bucketMs) * this.bucketMs;
    let bucket = this.buckets.get(startMs);
    if (!bucket) {
      bucket = { startMs, signatures: {}, requests: 0, errors5xx: 0, peers: {} };
      this.buckets.set(startMs, bucket);
    }
    return bucket;
  }

  /** One error-log line; returns the signature it counted, or null (not an upstream line, another peer, outside the window). */
  addErrorLine(raw: string): string | null {
    const line = parseErrorLine(raw);
    if (!line || !this.inWindow(line.timeMs)) return null;
    const signature = classify(line);
    if (signature === null) return null;
    const peer = line.upstream ? normalizePeer(line.upstream.peer) : '-';
    if (this.peers && !this.peers.has(peer)) return null;
    const bucket = this.bucket(line.timeMs);
    bucket.signatures[signature] = (bucket.signatures[signature] ?? 0) + 1;
    const perPeer = (bucket.peers[peer] ??= {});
    perPeer[signature] = (perPeer[signature] ?? 0) + 1;
    this.errorLines++;
    return signature;
  }

  /** One access-log line in `format`; returns its status, or null when it was not counted. */
  addAccessLine(format: CompiledFormat, raw: string): number | null {
    const fields = format.parse(raw);
    if (!fields || fields.status === null || !this.inWindow(fields.timeMs)) return null;
    const bucket = this.bucket(fields.timeMs);
    bucket.requests++;
    if (fields.status >= 500 && fields.status <= 599) bucket.errors5xx++;
    this.accessLines++;
    return fields.status;
  }

  /**
   * The buckets from `fromMs` to `toMs` (default: the counted ones), oldest
   * first, with empty buckets in between: a sparkline needs the quiet ones.
   */
  counts(range: { fromMs?: number; toMs?: number } = {}): BucketCounts {
    const starts = [...this.buckets.keys()];
    const first = range.fromMs !== undefined ? Math.floor(range.fromMs / this.bucketMs) * this.bucketMs : starts.length ? Math.min(...starts) : null;
    const last = range.toMs !== undefined ? Math.floor(range.toMs / this.bucketMs) * this.bucketMs : starts.length ? Math.max(...starts) : null;
    if (first === null || last === null) return { buckets: [] };
    const buckets: Bucket[] = [];
    for (let start = first; start <= last; start += this.bucketMs) {
      const b = this.buckets.get(start);
      buckets.push(b ? copyBucket(b) : { startMs: start, signatures: {}, requests: 0, errors5xx: 0, peers: {} });
    }
    return { buckets };
  }
}

function copyBucket(b: Bucket): Bucket {
  return { startMs: b.startMs, signatures: { ...b.signatures }, requests: b.requests, errors5xx: b.errors5xx, peers: Object.fromEntries(Object.entries(b.peers).map(([p, s]) => [p, { ...s }])) };
}

/**
 * One series from several (the verification's before and after): buckets
 * with the same start are added up, so the view shows one timeline across the
 * reload.
 */
export function mergeCounts(...parts: TrafficCounts[]): BucketCounts {
  const merged = new Map<number, Bucket>();
  for (const part of parts) {
    for (const b of part.buckets as Array<TrafficCounts['buckets'][number] & { peers?: Bucket['peers'] }>) {
      let into = merged.get(b.startMs);
      if (!into) merged.set(b.startMs, (into = { startMs: b.startMs, signatures: {}, requests: 0, errors5xx: 0, peers: {} }));
      for (const [id, n] of Object.entries(b.signatures)) into.signatures[id] = (into.signatures[id] ?? 0) + n;
      for (const [peer, sigs] of Object.entries(b.peers ?? {})) {
        const target = (into.peers[peer] ??= {});
        for (const [id, n] of Object.entries(sigs)) target[id] = (target[id] ?? 0) + n;
      }
      into.requests += b.requests;
      into.errors5xx += b.errors5xx;
    }
  }
  return { buckets: [...merged.values()].sort((a, b) => a.startMs - b.startMs) };
}

/** Sums of buckets: lines per signature, requests, 5xx. */
export function totals(counts: TrafficCounts): { signatures: Record<string, number>; requests: number; errors5xx: number } {
  const signatures: Record<string, number> = {};
  let requests = 0;
  let errors5xx = 0;
  for (const b of counts.buckets) {
    for (const [id, n] of Object.entries(b.signatures)) signatures[id] = (signatures[id] ?? 0) + n;
    requests += b.requests;
    errors5xx += b.errors5xx;
  }
  return { signatures, requests, errors5xx };
}

export interface CountOptions {
  errorLogs: string[];
  accessLogs: AccessLogSpec[];
  fromMs: number;
  toMs: number;
  bucketMs?: number;
  peers?: string[];
}

/**
 * The counts of a past window, read from the logs (backwards from their end,
 * into rotated files when the window reaches that far: readLogs). problems:
 * logs that could not be read, so a zero there means "not seen", not "none".
 */
export async function countLogs(host: Host, options: CountOptions): Promise<BucketCounts & { problems: string[] }> {
  const counter = new TrafficCounter({ bucketMs: options.bucketMs ?? BUCKET_MS, peers: options.peers ?? [], fromMs: options.fromMs, toMs: options.toMs });
  const problems = await readInto(host, counter, options);
  return { ...counter.counts({ fromMs: options.fromMs, toMs: options.toMs }), problems };
}

/** Reads the window's lines of every log into `counter` (which may hold others already); returns what could not be read. */
export async function readInto(host: Host, counter: TrafficCounter, options: Pick<CountOptions, 'errorLogs' | 'accessLogs' | 'fromMs' | 'toMs'>): Promise<string[]> {
  const window = { fromMs: options.fromMs, toMs: options.toMs };
  const inWindow = (at: number) => at >= options.fromMs && at <= options.toMs;
  const problems: string[] = [];
  const errors = await readLogs(host, options.errorLogs, window, { timeOf: (line) => parseTime(line, 0), add: (line) => void (inWindow(parseTime(line, 0)) && counter.addErrorLine(line)) });
  problems.push(...errors.problems);
  for (const log of options.accessLogs) {
    const format = compileFormat(log.formatText);
    if (!format.variables.includes('status')) {
      problems.push(`${log.path}: its log_format records no $status, so requests and 5xx are not counted from it`);
      continue;
    }
    const read = await readLogs(host, [log.path], window, { timeOf: (line) => format.timeOf(line), add: (line) => void (inWindow(format.timeOf(line)) && counter.addAccessLine(format, line)) });
    problems.push(...read.problems);
  }
  return problems;
}
