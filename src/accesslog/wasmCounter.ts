import { hasAsset, readAsset } from '../assets.js';
import type { LineCounter, LineWindow } from '../errorlog/rangeScan.js';
import { RouteIds, routePrefix } from '../errorlog/route.js';
import { AccessCounts, OTHER_UPSTREAM_STATUSES, retryKind, type AccessSnapshot } from './counts.js';
import { parseAccessTime, type CompiledFormat } from './format.js';
import { ELEMENT, type FieldPlan } from './plan.js';

/** Built from src/errorlog/assembly/access.ts by `npm run build:wasm`; tests run from src/ and find it in dist/ too; a bundle embeds it. */
export const ACCESS_WASM = 'dist/src/errorlog/access.wasm';

declare const WebAssembly: {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: Record<string, Record<string, (...args: number[]) => number | void>>) => { exports: unknown };
};

interface AccessExports {
  memory: { buffer: ArrayBuffer };
  alloc(size: number): number;
  free(pointer: number): void;
  setPlan(elements: number, count: number, time: number): void;
  setWindow(from: number, to: number): void;
  countLines(base: number, from: number, used: number, stopAt: number): number;
  countLine(start: number, end: number): void;
  countUnreadable(): void;
  lines(): number;
  routes(): number;
  routeNumber(id: number, k: number): number;
  statusNumber(status: number): number;
  upstreamStatusCount(): number;
  upstreamStatusAt(id: number): number;
  upstreamStatusLength(id: number): number;
  upstreamStatusNumber(id: number): number;
  minutes(): number;
  minuteKey(m: number): number;
  minuteNumber(m: number, k: number): number;
}

let compiled: object | null = null;

export function accessCounterAvailable(): boolean {
  return hasAsset(ACCESS_WASM);
}

const TIME_NAMES: Record<number, string> = { [ELEMENT.time_local]: 'time_local', [ELEMENT.time_iso8601]: 'time_iso8601', [ELEMENT.msec]: 'msec' };

/**
 * The access-log counter in WebAssembly, for one range: lines its plan reads
 * are counted in its memory; the others, read by format.ts's regular
 * expression, in `js` — the snapshot is both.
 */
export class AccessWasmCounter implements LineCounter {
  private readonly scanner: AccessExports;
  private base = 0;
  private size = 0;
  private capacity = 0;
  private view = Buffer.alloc(0);
  private viewOf: ArrayBuffer | null = null;
  private readonly routeIds = new RouteIds();
  readonly js: AccessCounts;

  constructor(format: CompiledFormat, plan: FieldPlan, window: LineWindow | null) {
    const js = new AccessCounts(format, this.routeIds);
    this.js = js;
    compiled ??= new WebAssembly.Module(readAsset(ACCESS_WASM));
    let scanner: AccessExports | null = null;
    const bytes = (start: number, end: number) => Buffer.from(scanner!.memory.buffer, start, end - start).toString('latin1');
    const instance = new WebAssembly.Instance(compiled, {
      env: {
        fallback: (start: number, end: number) => {
          const line = bytes(start, end);
          const at = format.lineTime(line);
          if (window && !Number.isNaN(at) && (at < window.fromMs || at > window.toMs)) return;
          js.addLine(line);
        },
        route: (start: number, end: number) => this.routeIds.id(routePrefix(bytes(start, end))),
        retryKind: (start: number, end: number) => retryKind(bytes(start, end)),
        timeMs: (start: number, end: number, kind: number) => parseAccessTime(TIME_NAMES[kind]!, bytes(start, end)),
        example: (start: number, end: number) => {
          const fields = format.parse(bytes(start, end));
          if (fields) js.example(fields);
        },
        abort: () => {
          throw new Error('access-log counter: internal assertion failed');
        },
      },
    });
    scanner = instance.exports as unknown as AccessExports;
    this.scanner = scanner;
    // The plan and its literals live in the counter's memory for its whole life.
    const elements = new Int32Array(plan.elements);
    plan.literals.forEach((literal, i) => {
      const at = scanner.alloc(Math.max(literal.length, 1));
      new Uint8Array(scanner.memory.buffer).set(literal, at);
      for (let e = 0; e < elements.length; e += 4) if (elements[e] === ELEMENT.literal && elements[e + 1] === i) elements[e + 1] = at;
    });
    const at = scanner.alloc(elements.byteLength);
    new Int32Array(scanner.memory.buffer, at, elements.length).set(elements);
    scanner.setPlan(at, elements.length / 4, plan.timeKind);
    if (window) scanner.setWindow(window.fromMs, window.toMs);
  }

  buffer(): Buffer {
    const memory = this.scanner.memory.buffer;
    if (memory !== this.viewOf) {
      this.view = Buffer.from(memory, this.base, this.size);
      this.viewOf = memory;
    }
    return this.view;
  }

  /** Grows only, as WasmLineCounter.resize does (the allocator frees only its latest block). */
  resize(size: number, from: number, to: number): void {
    if (size > this.capacity) {
      const fresh = this.scanner.alloc(size);
      const memory = new Uint8Array(this.scanner.memory.buffer);
      if (to > from) memory.copyWithin(fresh, this.base + from, this.base + to);
      if (this.capacity > 0) this.scanner.free(this.base);
      this.base = fresh;
      this.capacity = size;
    } else if (to > from) {
      new Uint8Array(this.scanner.memory.buffer).copyWithin(this.base, this.base + from, this.base + to);
    }
    this.size = size;
    this.viewOf = null;
  }

  countLines(from: number, used: number, stopAt: number): number {
    return this.scanner.countLines(this.base, from, used, stopAt);
  }

  countLast(from: number, used: number): void {
    this.scanner.countLine(this.base + from, this.base + used);
  }

  countUnreadable(): void {
    this.js.add(null);
  }

  /** Lines counted so far, by the counter and by JS. */
  lines(): number {
    return this.scanner.lines() + this.js.linesRead;
  }

  /** What the counter counted and what JS counted of the lines it handed over, as one snapshot. */
  snapshot(): AccessSnapshot {
    const s = this.scanner;
    const routes: AccessSnapshot['routes'] = [];
    for (let id = 0; id < s.routes(); id++) {
      const counts = [0, 1, 2, 3, 4].map((k) => s.routeNumber(id, k)) as [number, number, number, number, number];
      if (counts[0] > 0) routes.push([this.routeIds.routes[id]!, ...counts]);
    }
    const statuses: AccessSnapshot['statuses'] = [];
    for (let status = 0; status < 1000; status++) if (s.statusNumber(status) > 0) statuses.push([status, s.statusNumber(status)]);
    const upstreamStatuses: AccessSnapshot['upstreamStatuses'] = [];
    for (let id = 0; id < s.upstreamStatusCount(); id++) upstreamStatuses.push([Buffer.from(s.memory.buffer, s.upstreamStatusAt(id), s.upstreamStatusLength(id)).toString('latin1'), s.upstreamStatusNumber(id)]);
    if (s.upstreamStatusNumber(-1) > 0) upstreamStatuses.push([OTHER_UPSTREAM_STATUSES, s.upstreamStatusNumber(-1)]);
    const minutes: AccessSnapshot['minutes'] = [];
    for (let m = 0; m < s.minutes(); m++) minutes.push([s.minuteKey(m), s.minuteNumber(m, 0), s.minuteNumber(m, 1), s.minuteNumber(m, 2)]);
    const mine: AccessSnapshot = { linesRead: s.lines(), unparsed: 0, routes, statuses, upstreamStatuses, minutes, examples: [] };
    const merged = new AccessCounts();
    merged.merge(mine, false);
    merged.merge(this.js.snapshot(), false);
    // The examples in the order read: the counter's calls put them into `js` as they came.
    return { ...merged.snapshot(), examples: this.js.examples };
  }
}
