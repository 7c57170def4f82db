import { parentPort, workerData } from 'node:worker_threads';
import { RealHost } from '../host/realHost.js';
import { ErrorLogAggregator } from './aggregate.js';
import { scanRange } from './rangeScan.js';

/** One share of a full scan, in a worker thread: counts its byte range and sends the counts back. */
const { path, start, end, blockBytes } = workerData as { path: string; start: number; end: number; blockBytes: number };
const aggregator = new ErrorLogAggregator();
const opened = new RealHost().openBlocks(path);
if (!opened.ok) parentPort!.postMessage({ problem: `cannot read ${opened.error.message}` });
else {
  try {
    const result = scanRange(opened.source, start, end, aggregator, blockBytes);
    parentPort!.postMessage({ ...result, snapshot: aggregator.snapshot() });
  } catch (error) {
    parentPort!.postMessage({ problem: `cannot read ${path}: ${error instanceof Error ? error.message : String(error)}` });
  } finally {
    opened.source.close();
  }
}
