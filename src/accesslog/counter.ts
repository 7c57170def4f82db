import { registerCounter, type CounterSpec } from '../logs/counters.js';
import type { LineWindow } from '../errorlog/rangeScan.js';
import { AccessCounts, type AccessSnapshot } from './counts.js';
import { compileFormat } from './format.js';
import { planFormat } from './plan.js';
import { accessCounterAvailable, AccessWasmCounter } from './wasmCounter.js';
import { JsAccessLineCounter } from './jsCounter.js';

/** How the lines of an access-log format are counted: by the WebAssembly counter's plan, or, when it cannot, by JS, and why. */
export function accessEngine(formatText: string): { engine: 'wasm' } | { engine: 'js'; why: string } {
  if (!accessCounterAvailable()) return { engine: 'js', why: 'the WebAssembly counter was not built (npm run build)' };
  const plan = planFormat(compileFormat(formatText));
  return 'why' in plan ? { engine: 'js', why: plan.why } : { engine: 'wasm' };
}

registerCounter('access', (spec: CounterSpec, window: LineWindow | null) => {
  const format = compileFormat((spec as Extract<CounterSpec, { kind: 'access' }>).format);
  const plan = accessCounterAvailable() ? planFormat(format) : null;
  if (plan && !('why' in plan)) {
    const wasm = new AccessWasmCounter(format, plan, window);
    return { counter: wasm, engine: 'wasm', snapshot: (): AccessSnapshot => wasm.snapshot(), lines: () => wasm.lines() };
  }
  const js = new JsAccessLineCounter(new AccessCounts(format), format, window);
  return { counter: js, engine: 'js', snapshot: (): AccessSnapshot => js.counts.snapshot(), lines: () => js.counts.linesRead };
});
