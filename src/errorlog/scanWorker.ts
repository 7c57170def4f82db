import { parentPort, workerData } from 'node:worker_threads';
import { RealHost } from '../host/realHost.js';
import { makeCounter, type CounterSpec } from '../logs/counters.js';
import '../accesslog/counter.js';
import { scanRange, type LineWindow } from './rangeScan.js';

/** One share of a range count, in a worker thread: counts its byte range and sends the counts back. */
const { path, start, end, blockBytes, spec, window } = workerData as { path: string; start: number; end: number; blockBytes: number; spec: CounterSpec; window: LineWindow | null };
const opened = new RealHost().openBlocks(path);
if (!opened.ok) parentPort!.postMessage({ problem: `cannot read ${opened.error.message}` });
else {
  try {
    const made = makeCounter(spec, window);
    // Progress for a terminal (src/logs/progress.ts): what this share has read, a few times a second.
    let reported = Date.now();
    const onBlock = (bytesRead: number) => {
      if (Date.now() - reported < 100) return;
      reported = Date.now();
      parentPort!.postMessage({ progress: { bytes: bytesRead, lines: made.lines() } });
    };
    const result = scanRange(opened.source, start, end, made.counter, blockBytes, onBlock);
    parentPort!.postMessage({ ...result, snapshot: made.snapshot(), counter: made.engine });
  } catch (error) {
    parentPort!.postMessage({ problem: `cannot read ${path}: ${error instanceof Error ? error.message : String(error)}` });
  } finally {
    opened.source.close();
  }
}
