import { parentPort, workerData } from 'node:worker_threads';
import { RealHost } from '../host/realHost.js';
import { ErrorLogAggregator } from './aggregate.js';
import { AggregatorLineCounter, scanRange, type LineCounter } from './rangeScan.js';
import { scannerAvailable, WasmLineCounter } from './wasmCounter.js';

/** One share of a full scan, in a worker thread: counts its byte range and sends the counts back. */
const { path, start, end, blockBytes } = workerData as { path: string; start: number; end: number; blockBytes: number };
const opened = new RealHost().openBlocks(path);
if (!opened.ok) parentPort!.postMessage({ problem: `cannot read ${opened.error.message}` });
else {
  try {
    // The WebAssembly counter when it was built (npm run build does), else the same counts in JS.
    const wasm = scannerAvailable() ? new WasmLineCounter() : null;
    const counter: LineCounter = wasm ?? new AggregatorLineCounter(new ErrorLogAggregator());
    const result = scanRange(opened.source, start, end, counter, blockBytes);
    const snapshot = wasm ? wasm.snapshot() : (counter as AggregatorLineCounter).aggregator.snapshot();
    parentPort!.postMessage({ ...result, snapshot, counter: wasm ? 'wasm' : 'js' });
  } catch (error) {
    parentPort!.postMessage({ problem: `cannot read ${path}: ${error instanceof Error ? error.message : String(error)}` });
  } finally {
    opened.source.close();
  }
}
