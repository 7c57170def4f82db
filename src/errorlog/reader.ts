import { RealHost } from '../host/realHost.js';
import type { Host } from '../host/types.js';
import { readLogs, formatLocal, type FileRead, type RangeCounting, type ReadOptions } from '../logs/readLogs.js';
import { countGzip, countRange, PARALLEL_MIN_BYTES, type RangeCount } from '../logs/rangeCount.js';
import type { CounterSpec } from '../logs/counters.js';
import { ErrorLogAggregator, type AggregatorSnapshot, type ErrorLogSummary } from './aggregate.js';
import { parseTime } from './line.js';

/** gaps: the parts of the window that were not read (also in problems): a signature not found may be there. */
/** clockSkew: logs written in another time zone than this tool's (see clockSkew.ts): their window was not found. */
export type ErrorLogReport = ErrorLogSummary & { files: FileRead[]; problems: string[]; gaps: string[]; clockSkew?: string[] };
export { formatLocal, PARALLEL_MIN_BYTES };

const SPEC: CounterSpec = { kind: 'error' };

/**
 * A sink's range counting through rangeCount.ts (worker threads and the
 * WebAssembly counter), merging each range's snapshots with `merge`.
 */
export function rangeCounting(spec: CounterSpec, merge: (snapshot: unknown) => void, options: { blockBytes?: number; parallel?: boolean; onBytes?: (bytes: number) => void }): RangeCounting {
  const taken = (counted: RangeCount) => {
    for (const snapshot of counted.snapshots) merge(snapshot);
    options.onBytes?.(counted.bytesRead);
    return counted.workers > 0 ? { threads: { workers: counted.workers, counter: counted.engine } } : {};
  };
  return {
    range: async (path, start, end, window) => {
      const counted = await countRange(path, start, end, spec, window, options);
      return 'problem' in counted ? counted : { bytesRead: counted.bytesRead, ...taken(counted) };
    },
    gzip: async (path, window) => {
      const counted = await countGzip(path, spec, window, options.blockBytes);
      if ('problem' in counted) return counted;
      taken(counted);
      return { bytesRead: counted.bytesRead, size: counted.size, head: counted.head };
    },
  };
}

/**
 * Reads error logs (a window, or whole files) into one summary of upstream
 * signatures. On the real host, whole files and windows alike are counted as
 * byte ranges by the WebAssembly counter, split across worker threads when
 * large (a window is found by bisection first, readLogs.ts); a recorded or
 * recording host reads line by line in JS, so every read stays in the
 * recording. `parallel: false` takes the JS reader on any host (the reference
 * the counters are held to).
 */
export async function analyzeErrorLogs(host: Host, paths: string[], options: ReadOptions & { parallel?: boolean }): Promise<ErrorLogReport> {
  const aggregator = new ErrorLogAggregator();
  const counting = options.parallel !== false && host instanceof RealHost ? rangeCounting(SPEC, (s) => aggregator.merge(s as AggregatorSnapshot), options) : undefined;
  const sink = { timeOf: (line: string) => parseTime(line, 0), add: (line: string) => void aggregator.addRaw(line), ...(counting ? { counting } : {}) };
  const read = await readLogs(host, paths, options, sink);
  const format = (ms: number | null) => (ms === null ? null : formatLocal(ms));
  // "No resets since X" must be true of what was read: X is where the oldest log found begins, when that is later.
  const from = options.fromMs === null ? null : Math.max(options.fromMs, read.coveredFromMs ?? options.fromMs);
  return { ...aggregator.summary({ from: format(from), to: format(options.toMs) }), files: read.files, problems: read.problems, gaps: read.gaps, clockSkew: read.clockSkew };
}
