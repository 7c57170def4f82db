import { RealHost } from '../host/realHost.js';
import type { Host } from '../host/types.js';
import { readLogs, type FileRead, type ReadOptions } from '../logs/readLogs.js';
import { rangeCounting } from '../errorlog/reader.js';
import { AccessCounts, type AccessSnapshot, type RetriedExample, type RouteStats } from './counts.js';
import { accessEngine } from './counter.js';
import { compileFormat } from './format.js';

export type { RouteStats };

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
  /** A few retried requests as logged, to show what happened (the first read). */
  retriedExamples: RetriedExample[];
  /** Requests per status code. */
  statuses: Record<string, number>;
  /** Requests per $upstream_status value as logged ("502, 200"), most first (top 50). */
  upstreamStatuses: Record<string, number>;
  /** Requests, 502s and 504s per minute (the last 180 minutes read). */
  perMinute: Array<{ minute: string; requests: number; status502: number; status504: number }>;
  /** What counted the lines: the WebAssembly counter's field plan, or the JS parser, and why (a format the plan cannot read, a recorded host). */
  counter: { engine: 'wasm' | 'js'; why?: string };
  files: FileRead[];
  problems: string[];
}

/**
 * Per-route 502/504 rates and retried requests from an access log whose
 * log_format records $status (and, for retries, $upstream_status). On the
 * real host the log is counted as byte ranges — a window found by bisection,
 * threads for large ranges — by the WebAssembly counter when the format can
 * be planned (plan.ts), else by JS; a recorded host reads line by line.
 */
export async function analyzeAccessLog(host: Host, path: string, formatName: string, formatText: string, options: ReadOptions & { parallel?: boolean; onBytes?: (bytes: number) => void }): Promise<AccessLogReport> {
  const format = compileFormat(formatText);
  const counts = new AccessCounts(format);
  const real = options.parallel !== false && host instanceof RealHost;
  const engine = real ? accessEngine(formatText) : { engine: 'js' as const, why: 'read line by line (a recorded host, or --no-parallel)' };
  const counting = real ? rangeCounting({ kind: 'access', format: formatText }, (s) => counts.merge(s as AccessSnapshot), options) : undefined;
  const sink = { timeOf: (line: string) => format.lineTime(line), add: (line: string) => counts.addLine(line), ...(counting ? { counting } : {}) };
  const read = await readLogs(host, [path], options, sink);
  return {
    path,
    format: formatName,
    hasUpstreamStatus: format.variables.includes('upstream_status'),
    ...counts.summary(),
    counter: engine,
    files: read.files,
    problems: read.problems,
  };
}
