import { parentPort, workerData } from 'node:worker_threads';
import { RealHost } from '../host/realHost.js';
import { ErrorLogAggregator } from './aggregate.js';
import { scanRange } from './rangeScan.js';

/** One share of a full scan, in a worker thread: counts its byte range and sends the counts back. */
const { path, start, end, blockBytes } = workerData as { path: string; start: number; end: number; blockBytes: number };
const aggregator = new ErrorLogAggregator();
const result = await scanRange(new RealHost(), path, start, end, aggregator, blockBytes);
parentPort!.postMessage('problem' in result ? result : { ...result, snapshot: aggregator.snapshot() });
