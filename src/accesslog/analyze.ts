import type { Host } from '../host/types.js';
import { readLogs, type FileRead, type ReadOptions } from '../logs/readLogs.js';
import { RouteIds, routePrefix } from '../errorlog/route.js';
import { compileFormat } from './format.js';

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

export interface AccessLogReport {
  path: string;
  format: string;
  hasUpstreamStatus: boolean;
  linesRead: number;
  unparsed: number;
  requests: number;
  status502: number;
  status504: number;
  retried: number;
  retriedThenOk: number;
  routes: RouteStats[];
  /** A few retried requests as logged, to show what happened. */
  retriedExamples: Array<{ method: string | null; path: string | null; status: number | null; upstreamStatus: string }>;
  files: FileRead[];
  problems: string[];
}

/**
 * Per-route 502/504 rates and retried requests from an access log whose
 * log_format records $status (and, for retries, $upstream_status).
 */
export async function analyzeAccessLog(host: Host, path: string, formatName: string, formatText: string, options: ReadOptions): Promise<AccessLogReport> {
  const format = compileFormat(formatText);
  const routes = new Map<string, RouteStats>();
  const routeIds = new RouteIds();
  const report: AccessLogReport = {
    path,
    format: formatName,
    hasUpstreamStatus: format.variables.includes('upstream_status'),
    linesRead: 0,
    unparsed: 0,
    requests: 0,
    status502: 0,
    status504: 0,
    retried: 0,
    retriedThenOk: 0,
    routes: [],
    retriedExamples: [],
    files: [],
    problems: [],
  };
  const sink = {
    timeOf: (line: string) => format.timeOf(line),
    add: (line: string) => {
      report.linesRead++;
      const fields = format.parse(line);
      if (!fields || fields.status === null) {
        report.unparsed++;
        return;
      }
      const route = routeIds.limit(fields.path ? routePrefix(fields.path) : '-');
      let stats = routes.get(route);
      if (!stats) {
        stats = { route, requests: 0, status502: 0, status504: 0, retried: 0, retriedThenOk: 0, rate502: 0, rate504: 0 };
        routes.set(route, stats);
      }
      stats.requests++;
      report.requests++;
      if (fields.status === 502) (stats.status502++, report.status502++);
      if (fields.status === 504) (stats.status504++, report.status504++);
      // "502, 200" (next try in the group) or "502 : 200" (next group, internal redirect).
      const tries = (fields.upstreamStatus ?? '').split(/\s*[,:]\s*/).filter((s) => /^\d{3}$/.test(s)).map(Number);
      if (tries.length > 1) {
        stats.retried++;
        report.retried++;
        if (tries.at(-1)! < 500 && tries.slice(0, -1).some((s) => s >= 500)) (stats.retriedThenOk++, report.retriedThenOk++);
        if (report.retriedExamples.length < 5) report.retriedExamples.push({ method: fields.method, path: fields.path, status: fields.status, upstreamStatus: fields.upstreamStatus! });
      }
    },
  };
  const read = await readLogs(host, [path], options, sink);
  report.files = read.files;
  report.problems = read.problems;
  report.routes = [...routes.values()]
    .map((r) => ({ ...r, rate502: r.requests ? r.status502 / r.requests : 0, rate504: r.requests ? r.status504 / r.requests : 0 }))
    .sort((a, b) => b.status502 + b.status504 - (a.status502 + a.status504) || b.requests - a.requests)
    .slice(0, 50);
  return report;
}
