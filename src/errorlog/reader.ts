import type { Host } from '../host/types.js';
import { readLogs, formatLocal, type FileRead, type ReadOptions } from '../logs/readLogs.js';
import { ErrorLogAggregator, type ErrorLogSummary } from './aggregate.js';
import { parseTime } from './line.js';

export type ErrorLogReport = ErrorLogSummary & { files: FileRead[]; problems: string[] };
export { formatLocal };

/** Reads error logs (a window, or whole files) into one summary of upstream signatures. */
export async function analyzeErrorLogs(host: Host, paths: string[], options: ReadOptions): Promise<ErrorLogReport> {
  const aggregator = new ErrorLogAggregator();
  const sink = { timeOf: (line: string) => parseTime(line, 0), add: (line: string) => void aggregator.addRaw(line) };
  const { files, problems } = await readLogs(host, paths, options, sink);
  const format = (ms: number | null) => (ms === null ? null : formatLocal(ms));
  return { ...aggregator.summary({ from: format(options.fromMs), to: format(options.toMs) }), files, problems };
}
