import { formatLocal } from '../logs/readLogs.js';
import { RouteIds, routePrefix } from '../errorlog/route.js';
import type { AccessFields, CompiledFormat } from './format.js';

export interface RouteStats {
  route: string;
  requests: number;
  status502: number;
  status504: number;
  /** Requests nginx sent to more than one upstream try ($upstream_status "502, 200"). */
  retried: number;
  /** Of those, the ones a later try answered below 500: the client never saw the failure. */
  retriedThenOk: number;
  rate502: number;
  rate504: number;
}

export interface RetriedExample {
  method: string | null;
  path: string | null;
  status: number | null;
  upstreamStatus: string;
}

/** What one count of access-log lines holds, in a form that crosses a worker boundary and merges into another. */
export interface AccessSnapshot {
  linesRead: number;
  unparsed: number;
  /** route, requests, 502, 504, retried, retried then ok */
  routes: Array<[string, number, number, number, number, number]>;
  statuses: Array<[number, number]>;
  upstreamStatuses: Array<[string, number]>;
  /** epoch minute, requests, 502, 504 */
  minutes: Array<[number, number, number, number]>;
  examples: RetriedExample[];
}

/** Distinct $upstream_status strings one count keeps apart; past it they are counted as OTHER_UPSTREAM_STATUSES. */
export const UPSTREAM_STATUS_LIMIT = 1000;
export const OTHER_UPSTREAM_STATUSES = '(other)';
const EXAMPLES = 5;

/**
 * Of an $upstream_status value: 0 one try (or none), 1 retried ("502, 200":
 * the next try in the group; "502 : 200": the next group, after an internal
 * redirect), 2 retried and answered below 500 by the last try after a failure.
 */
export function retryKind(upstreamStatus: string): 0 | 1 | 2 {
  const tries = upstreamStatus.split(/\s*[,:]\s*/).filter((s) => /^\d{3}$/.test(s)).map(Number);
  if (tries.length <= 1) return 0;
  return tries.at(-1)! < 500 && tries.slice(0, -1).some((s) => s >= 500) ? 2 : 1;
}

/**
 * Counts access-log lines per route, status, $upstream_status and minute,
 * with retries: the JS reference, and where the WebAssembly counter's
 * snapshots merge (src/accesslog/wasmCounter.ts).
 */
export class AccessCounts {
  linesRead = 0;
  unparsed = 0;
  readonly examples: RetriedExample[] = [];
  private readonly routes = new Map<string, [number, number, number, number, number]>();
  private readonly statuses = new Map<number, number>();
  private readonly upstreamStatuses = new Map<string, number>();
  private readonly minutes = new Map<number, [number, number, number]>();

  /**
   * Without a format, a count that only merges others' snapshots. `routeIds`:
   * shared with the WebAssembly counter whose lines JS reads, so the routes
   * past ROUTE_LIMIT fold in the order the lines came, as one count's would.
   */
  constructor(
    private readonly format: CompiledFormat | null = null,
    private readonly routeIds = new RouteIds(),
  ) {}

  /** One line, parsed or not. */
  addLine(line: string): void {
    this.add(this.format!.parseLast(line));
  }

  add(fields: AccessFields | null): void {
    this.linesRead++;
    if (!fields || fields.status === null) {
      this.unparsed++;
      return;
    }
    const route = fields.path ? this.routeIds.limit(routePrefix(fields.path)) : '-';
    const stats = this.route(route);
    stats[0]++;
    if (fields.status === 502) stats[1]++;
    if (fields.status === 504) stats[2]++;
    this.statuses.set(fields.status, (this.statuses.get(fields.status) ?? 0) + 1);
    if (fields.upstreamStatus !== null) {
      const key = this.upstreamStatuses.has(fields.upstreamStatus) || this.upstreamStatuses.size < UPSTREAM_STATUS_LIMIT ? fields.upstreamStatus : OTHER_UPSTREAM_STATUSES;
      this.upstreamStatuses.set(key, (this.upstreamStatuses.get(key) ?? 0) + 1);
    }
    const kind = retryKind(fields.upstreamStatus ?? '');
    if (kind > 0) {
      stats[3]++;
      if (kind === 2) stats[4]++;
      this.example(fields);
    }
    if (!Number.isNaN(fields.timeMs)) {
      const minute = this.minute(Math.floor(fields.timeMs / 60_000));
      minute[0]++;
      if (fields.status === 502) minute[1]++;
      if (fields.status === 504) minute[2]++;
    }
  }

  /** A retried request, for the examples (the first few, in the order read). */
  example(fields: AccessFields): void {
    if (this.examples.length < EXAMPLES) this.examples.push({ method: fields.method, path: fields.path, status: fields.status, upstreamStatus: fields.upstreamStatus! });
  }

  private route(route: string): [number, number, number, number, number] {
    let stats = this.routes.get(route);
    if (!stats) this.routes.set(route, (stats = [0, 0, 0, 0, 0]));
    return stats;
  }

  private minute(key: number): [number, number, number] {
    let counts = this.minutes.get(key);
    if (!counts) this.minutes.set(key, (counts = [0, 0, 0]));
    return counts;
  }

  snapshot(): AccessSnapshot {
    return {
      linesRead: this.linesRead,
      unparsed: this.unparsed,
      routes: [...this.routes].map(([route, c]) => [route, ...c]),
      statuses: [...this.statuses],
      upstreamStatuses: [...this.upstreamStatuses],
      minutes: [...this.minutes].map(([key, c]) => [key, ...c]),
      examples: this.examples,
    };
  }

  /**
   * Adds another count's snapshot (a worker's range): routes past ROUTE_LIMIT
   * fold as one count's would. `fold: false` for counts whose routes were
   * numbered by the same RouteIds (the WebAssembly counter and the JS reading
   * its fallback lines): they are within the limit already.
   */
  merge(other: AccessSnapshot, fold = true): void {
    this.linesRead += other.linesRead;
    this.unparsed += other.unparsed;
    for (const [route, ...counts] of other.routes) {
      const stats = this.route(fold ? this.routeIds.limit(route) : route);
      counts.forEach((n, i) => (stats[i] = stats[i]! + n));
    }
    for (const [status, n] of other.statuses) this.statuses.set(status, (this.statuses.get(status) ?? 0) + n);
    for (const [value, n] of other.upstreamStatuses) this.upstreamStatuses.set(value, (this.upstreamStatuses.get(value) ?? 0) + n);
    for (const [key, ...counts] of other.minutes) {
      const minute = this.minute(key);
      counts.forEach((n, i) => (minute[i] = minute[i]! + n));
    }
    for (const e of other.examples) if (this.examples.length < EXAMPLES) this.examples.push(e);
  }

  /** The report's counts: totals, routes with the most 502/504 first (top 50), statuses, minutes (the last 180). */
  summary() {
    const routes: RouteStats[] = [...this.routes]
      .map(([route, [requests, status502, status504, retried, retriedThenOk]]) => ({ route, requests, status502, status504, retried, retriedThenOk, rate502: requests ? status502 / requests : 0, rate504: requests ? status504 / requests : 0 }))
      .sort((a, b) => b.status502 + b.status504 - (a.status502 + a.status504) || b.requests - a.requests);
    const sum = (pick: (r: RouteStats) => number) => routes.reduce((n, r) => n + pick(r), 0);
    return {
      linesRead: this.linesRead,
      unparsed: this.unparsed,
      requests: sum((r) => r.requests),
      status502: sum((r) => r.status502),
      status504: sum((r) => r.status504),
      retried: sum((r) => r.retried),
      retriedThenOk: sum((r) => r.retriedThenOk),
      routes: routes.slice(0, 50),
      retriedExamples: this.examples.slice(0, EXAMPLES),
      statuses: Object.fromEntries([...this.statuses].sort((a, b) => a[0] - b[0]).map(([s, n]) => [String(s), n])),
      upstreamStatuses: Object.fromEntries([...this.upstreamStatuses].sort((a, b) => b[1] - a[1]).slice(0, 50)),
      perMinute: [...this.minutes]
        .sort((a, b) => a[0] - b[0])
        .slice(-180)
        .map(([key, [requests, status502, status504]]) => ({ minute: formatLocal(key * 60_000).slice(0, 16), requests, status502, status504 })),
    };
  }
}
