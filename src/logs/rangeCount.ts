import { createReadStream } from 'node:fs';
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { createGunzip } from 'node:zlib';
import { RealHost } from '../host/realHost.js';
import { scanRange, SCAN_BLOCK_BYTES, StreamLineFeeder, type LineWindow } from '../errorlog/rangeScan.js';
import { scanWorkerScript } from '../errorlog/scanWorkerScript.js';
import { makeCounter, type CounterSpec } from './counters.js';
import { startRead, type ReadProgress } from './progress.js';

/** Below this a range is quicker counted on one thread than the cost of starting workers. */
export const PARALLEL_MIN_BYTES = 32 * 1024 * 1024;

export interface RangeCount {
  snapshots: unknown[];
  bytesRead: number;
  workers: number;
  engine: 'wasm' | 'js';
}

export type CountFailure = { problem: string; code: string };

/**
 * Counts the lines of a file whose first byte lies in [start, end) and whose
 * time is in the window (every line, when null): split across worker
 * threads, one per core (at most 4), when the range is large and the worker
 * script is there; else on this thread. Full scans and windows take the same
 * counters, so a window costs what its bytes cost.
 */
export async function countRange(path: string, start: number, end: number, spec: CounterSpec, window: LineWindow | null, options: { blockBytes?: number; parallel?: boolean } = {}): Promise<RangeCount | CountFailure> {
  const blockBytes = options.blockBytes ?? SCAN_BLOCK_BYTES;
  const script = options.parallel === false ? null : scanWorkerScript();
  const progress = startRead(end - start);
  try {
    if (script && end - start >= PARALLEL_MIN_BYTES) return await countInWorkers(script, path, start, end, spec, window, blockBytes, progress);
    const opened = new RealHost().openBlocks(path);
    if (!opened.ok) return { problem: `cannot read ${opened.error.message}`, code: opened.error.code };
    try {
      const made = makeCounter(spec, window);
      const result = scanRange(opened.source, start, end, made.counter, blockBytes);
      return { snapshots: [made.snapshot()], bytesRead: result.bytesRead, workers: 0, engine: made.engine };
    } catch (error) {
      return { problem: `cannot read ${path}: ${(error as Error).message}`, code: 'OTHER' };
    } finally {
      opened.source.close();
    }
  } finally {
    progress.end();
  }
}

async function countInWorkers(script: NonNullable<ReturnType<typeof scanWorkerScript>>, path: string, start: number, end: number, spec: CounterSpec, window: LineWindow | null, blockBytes: number, progress: ReadProgress): Promise<RangeCount | CountFailure> {
  const count = Math.max(1, Math.min(availableParallelism(), 4));
  const share = Math.ceil((end - start) / count);
  type Answer = { snapshot: unknown; bytesRead: number; counter: 'wasm' | 'js' } | { problem: string };
  const results = await Promise.all(
    Array.from({ length: count }, (_, i) => {
      const workerData = { path, start: start + i * share, end: Math.min(end, start + (i + 1) * share), blockBytes, spec, window };
      return new Promise<Answer>((resolve) => {
        // Small heaps: each worker holds one block and the counts, and RSS is part of the budget.
        const limits = { workerData, resourceLimits: { maxYoungGenerationSizeMb: 4, maxOldGenerationSizeMb: 48 } };
        const worker = 'code' in script ? new Worker(script.code, { ...limits, eval: true }) : new Worker(script.file, limits);
        let seen = { bytes: 0, lines: 0 };
        worker.on('message', (message: Answer | { progress: { bytes: number; lines: number } }) => {
          if (!('progress' in message)) return resolve(message);
          progress.advance(message.progress.bytes - seen.bytes, message.progress.lines - seen.lines);
          seen = message.progress;
        });
        worker.once('error', (error) => resolve({ problem: `scan of ${path} failed: ${error.message}` }));
      });
    }),
  );
  const problem = results.find((r): r is { problem: string } => 'problem' in r);
  if (problem) return { ...problem, code: 'OTHER' };
  const ok = results as Array<Exclude<Answer, { problem: string }>>;
  return { snapshots: ok.map((r) => r.snapshot), bytesRead: ok.reduce((n, r) => n + r.bytesRead, 0), workers: ok.length, engine: ok.every((r) => r.counter === 'wasm') ? 'wasm' : 'js' };
}

/**
 * Counts a .gz file's lines in the window as it is inflated: the inflated
 * chunks go straight into the counter's blocks, so memory stays one block
 * however large the file. `head` is the start of the inflated text (its first
 * line tells where the file begins).
 */
export async function countGzip(path: string, spec: CounterSpec, window: LineWindow | null, blockBytes = SCAN_BLOCK_BYTES): Promise<(RangeCount & { size: number; head: string }) | CountFailure> {
  // Opened first for the same errors as every other read (no such file, permission denied).
  const opened = new RealHost().openBlocks(path);
  if (!opened.ok) return { problem: `cannot read ${opened.error.message}`, code: opened.error.code };
  opened.source.close();
  const made = makeCounter(spec, window);
  const feeder = new StreamLineFeeder(made.counter, blockBytes);
  const progress = startRead(opened.source.size);
  let head = '';
  let size = 0;
  try {
    await new Promise<void>((resolve, reject) => {
      const file = createReadStream(path);
      file.on('data', (chunk) => {
        size += chunk.length;
        progress.advance(chunk.length, 0);
      });
      file.on('error', reject);
      const gunzip = file.pipe(createGunzip());
      gunzip.on('data', (chunk: Buffer) => {
        if (head.length < 4096) head += chunk.toString('latin1', 0, Math.min(chunk.length, 4096));
        feeder.push(chunk);
      });
      gunzip.on('end', resolve);
      gunzip.on('error', reject);
    });
  } catch (error) {
    return { problem: `cannot decompress ${path}: ${(error as Error).message}`, code: 'OTHER' };
  } finally {
    progress.end();
  }
  feeder.end();
  return { snapshots: [made.snapshot()], bytesRead: size, workers: 0, engine: made.engine, size, head };
}
