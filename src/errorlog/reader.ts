import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { RealHost } from '../host/realHost.js';
import type { Host } from '../host/types.js';
import { readLogs, formatLocal, type FileRead, type ReadOptions } from '../logs/readLogs.js';
import { ErrorLogAggregator, type AggregatorSnapshot, type ErrorLogSummary } from './aggregate.js';
import { parseTime } from './line.js';
import { SCAN_BLOCK_BYTES } from './rangeScan.js';
import { scanWorkerScript, type ScanWorkerScript } from './scanWorkerScript.js';

/** gaps: the parts of the window that were not read (also in problems): a signature not found may be there. */
/** clockSkew: logs written in another time zone than this tool's (see clockSkew.ts): their window was not found. */
export type ErrorLogReport = ErrorLogSummary & { files: FileRead[]; problems: string[]; gaps: string[]; clockSkew?: string[] };
export { formatLocal };

/** Below this a full scan is quicker on one thread than the cost of starting workers. */
export const PARALLEL_MIN_BYTES = 32 * 1024 * 1024;

/**
 * Reads error logs (a window, or whole files) into one summary of upstream
 * signatures. A full scan of a large file on the real host is split into
 * byte ranges counted by worker threads, one per core; a recorded or
 * recording host reads sequentially, so every read stays in the recording.
 */
export async function analyzeErrorLogs(host: Host, paths: string[], options: ReadOptions & { parallel?: boolean }): Promise<ErrorLogReport> {
  const aggregator = new ErrorLogAggregator();
  const sink = { timeOf: (line: string) => parseTime(line, 0), add: (line: string) => void aggregator.addRaw(line) };
  const files: FileRead[] = [];
  const problems: string[] = [];
  const gaps: string[] = [];
  const clockSkew: string[] = [];
  let coveredFromMs: number | null = null;
  const worker = scanWorkerScript();
  for (const path of paths) {
    const parallel = options.fromMs === null && options.parallel !== false && host instanceof RealHost && worker !== null;
    const stat = parallel ? await host.stat(path) : null;
    if (worker && stat?.ok && stat.size >= PARALLEL_MIN_BYTES) {
      const result = await scanInWorkers(worker, path, stat.size, options.blockBytes ?? SCAN_BLOCK_BYTES);
      if ('problem' in result) {
        problems.push(result.problem);
        gaps.push(`${path} was not read: ${result.problem}`);
      } else {
        for (const snapshot of result.snapshots) aggregator.merge(snapshot);
        files.push({ path, mode: 'full', bytesRead: result.bytesRead, size: stat.size, reachedStart: true, threads: { workers: result.snapshots.length, counter: result.counter } });
      }
      continue;
    }
    const read = await readLogs(host, [path], options, sink);
    files.push(...read.files);
    problems.push(...read.problems);
    gaps.push(...read.gaps);
    clockSkew.push(...read.clockSkew);
    if (read.coveredFromMs !== null) coveredFromMs = Math.max(coveredFromMs ?? read.coveredFromMs, read.coveredFromMs);
  }
  const format = (ms: number | null) => (ms === null ? null : formatLocal(ms));
  // "No resets since X" must be true of what was read: X is where the oldest log found begins, when that is later.
  const from = options.fromMs === null ? null : Math.max(options.fromMs, coveredFromMs ?? options.fromMs);
  return { ...aggregator.summary({ from: format(from), to: format(options.toMs) }), files, problems, gaps, clockSkew };
}

async function scanInWorkers(script: ScanWorkerScript, path: string, size: number, blockBytes: number): Promise<{ snapshots: AggregatorSnapshot[]; bytesRead: number; counter: 'wasm' | 'js' } | { problem: string }> {
  const count = Math.max(1, Math.min(availableParallelism(), 4));
  const share = Math.ceil(size / count);
  const results = await Promise.all(
    Array.from({ length: count }, (_, i) => {
      const workerData = { path, start: i * share, end: Math.min(size, (i + 1) * share), blockBytes };
      return new Promise<{ snapshot: AggregatorSnapshot; bytesRead: number; counter: 'wasm' | 'js' } | { problem: string }>((resolve) => {
        // Small heaps: each worker holds one block and the counts, and RSS is part of the budget.
        const limits = { workerData, resourceLimits: { maxYoungGenerationSizeMb: 4, maxOldGenerationSizeMb: 48 } };
        const worker = 'code' in script ? new Worker(script.code, { ...limits, eval: true }) : new Worker(script.file, limits);
        worker.once('message', resolve);
        worker.once('error', (error) => resolve({ problem: `scan of ${path} failed: ${error.message}` }));
      });
    }),
  );
  const problem = results.find((r): r is { problem: string } => 'problem' in r);
  if (problem) return problem;
  const ok = results as Array<{ snapshot: AggregatorSnapshot; bytesRead: number; counter: 'wasm' | 'js' }>;
  return { snapshots: ok.map((r) => r.snapshot), bytesRead: ok.reduce((n, r) => n + r.bytesRead, 0), counter: ok.every((r) => r.counter === 'wasm') ? 'wasm' : 'js' };
}
