import { ErrorLogAggregator, type AggregatorSnapshot } from '../errorlog/aggregate.js';
import { AggregatorLineCounter, type LineCounter, type LineWindow } from '../errorlog/rangeScan.js';
import { scannerAvailable, WasmLineCounter } from '../errorlog/wasmCounter.js';

/** What a range of a log is counted as: an nginx error log, or an access log in a log_format (its text). */
export type CounterSpec = { kind: 'error' } | { kind: 'access'; format: string };

/** A counter for one range, and how to read out what it counted (a snapshot that crosses a worker boundary). */
export interface MadeCounter {
  counter: LineCounter;
  engine: 'wasm' | 'js';
  snapshot(): unknown;
  /** Lines counted so far (for progress). */
  lines(): number;
}

/** Access-log counters register here (src/accesslog/counter.ts), so this file does not import the access-log side's WebAssembly. */
const makers = new Map<CounterSpec['kind'], (spec: CounterSpec, window: LineWindow | null) => MadeCounter>();

export function registerCounter(kind: CounterSpec['kind'], make: (spec: CounterSpec, window: LineWindow | null) => MadeCounter): void {
  makers.set(kind, make);
}

/** The error-log counter: WebAssembly when it was built (npm run build does), else the same counts in JS. */
registerCounter('error', (_spec, window) => {
  if (scannerAvailable()) {
    const wasm = new WasmLineCounter(window);
    return { counter: wasm, engine: 'wasm', snapshot: (): AggregatorSnapshot => wasm.snapshot(), lines: () => wasm.totals().linesRead };
  }
  const js = new AggregatorLineCounter(new ErrorLogAggregator(), window);
  return { counter: js, engine: 'js', snapshot: (): AggregatorSnapshot => js.aggregator.snapshot(), lines: () => js.aggregator.linesRead };
});

export function makeCounter(spec: CounterSpec, window: LineWindow | null): MadeCounter {
  const make = makers.get(spec.kind);
  if (!make) throw new Error(`no counter for ${spec.kind} logs`);
  return make(spec, window);
}
