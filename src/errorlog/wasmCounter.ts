import { hasAsset, readAsset } from '../assets.js';
import type { AggregatorSnapshot } from './aggregate.js';
import { parseErrorLine } from './line.js';
import type { LineCounter, LineWindow } from './rangeScan.js';
import { RouteIds, routePrefix } from './route.js';
import { classify, SIGNATURE_IDS, type SignatureId } from './signatures.js';

/** Built from src/errorlog/assembly/scanner.ts by `npm run build:wasm`; tests run from src/ and find it in dist/ too; a bundle embeds it. */
export const SCANNER_WASM = 'dist/src/errorlog/scanner.wasm';

/** The part of the WebAssembly API used here (lib ES2023 and @types/node 20 do not declare it). */
declare const WebAssembly: {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: Record<string, Record<string, (...args: number[]) => number | void>>) => { exports: unknown };
};

interface ScannerExports {
  memory: { buffer: ArrayBuffer };
  init(signatures: number): void;
  setWindow(from: number, to: number): void;
  alloc(size: number): number;
  free(pointer: number): void;
  countLines(base: number, from: number, used: number, stopAt: number): number;
  countLine(start: number, end: number): void;
  countUnreadable(): void;
  totals(which: number): number;
  groups(): number;
  groupField(group: number, field: number): number;
  groupNumber(group: number, field: number): number;
  stringAt(table: number, id: number): number;
  stringLength(table: number, id: number): number;
  minutes(): number;
  minuteKey(minute: number): number;
  minuteCounter(minute: number, signature: number): number;
}

let compiled: object | null = null;

export function scannerAvailable(): boolean {
  return hasAsset(SCANNER_WASM);
}

const SIGNATURE_INDEX = new Map<SignatureId, number>(SIGNATURE_IDS.map((id, i) => [id, i]));
const NONE = '-';

/**
 * The full scan's counter in WebAssembly: the same counts as
 * ErrorLogAggregator.addLine, at several times its speed (assembly/scanner.ts
 * says why). One instance per range: its counts live in its own memory.
 */
export class WasmLineCounter implements LineCounter {
  private readonly scanner: ScannerExports;
  private base = 0;
  /** The buffer's length as the range scan sees it, within `capacity` bytes allocated at `base`. */
  private size = 0;
  private capacity = 0;
  private view = Buffer.alloc(0);
  private viewOf: ArrayBuffer | null = null;
  private readonly routeIds = new RouteIds();

  /** With a window, lines timed outside [fromMs, toMs] are not read at all (readLogs.ts's windowed reads). */
  constructor(window: LineWindow | null = null) {
    compiled ??= new WebAssembly.Module(readAsset(SCANNER_WASM));
    let scanner: ScannerExports | null = null;
    const bytes = (start: number, end: number) => Buffer.from(scanner!.memory.buffer, start, end - start).toString('latin1');
    const instance = new WebAssembly.Instance(compiled, {
      env: {
        // The same local-time conversion as line.ts parseTime.
        minuteMs: (year: number, month: number, day: number, hour: number, minute: number) => new Date(year, month - 1, day, hour, minute).getTime(),
        classify: (start: number, end: number) => {
          const line = parseErrorLine(bytes(start, end));
          const signature = line ? classify(line) : null;
          return signature ? SIGNATURE_INDEX.get(signature)! : -1;
        },
        route: (start: number, end: number) => this.routeIds.id(routePrefix(bytes(start, end))),
        abort: () => {
          throw new Error('error-log scanner: internal assertion failed');
        },
      },
    });
    scanner = instance.exports as unknown as ScannerExports;
    this.scanner = scanner;
    scanner.init(SIGNATURE_IDS.length);
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

  /**
   * The allocation only grows: the scanner's allocator frees only its most
   * recent block, so giving back the block after each long line would leak
   * it (256 KB a line, until a large file exhausted the 4 GB address space).
   */
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

  /** Bytes of WebAssembly memory in use: bounded by the counts, not by the file. */
  memoryBytes(): number {
    return this.scanner.memory.buffer.byteLength;
  }

  countLines(from: number, used: number, stopAt: number): number {
    return this.scanner.countLines(this.base, from, used, stopAt);
  }

  countLast(from: number, used: number): void {
    this.scanner.countLine(this.base + from, this.base + used);
  }

  countUnreadable(): void {
    this.scanner.countUnreadable();
  }

  /** Lines counted so far: all, unparsed, and parsed but not about an upstream. */
  totals(): { linesRead: number; unparsed: number; otherLines: number } {
    return { linesRead: this.scanner.totals(0), unparsed: this.scanner.totals(1), otherLines: this.scanner.totals(2) };
  }

  /** The counts in the form the JS aggregator merges, groups in the order first seen. */
  snapshot(): AggregatorSnapshot {
    const s = this.scanner;
    const text = (start: number, length: number) => Buffer.from(s.memory.buffer, start, length).toString('latin1');
    const strings = [0, 1].map(() => new Map<number, string>());
    const string = (table: number, id: number): string => {
      let value = strings[table]!.get(id);
      if (value === undefined) {
        value = text(s.stringAt(table, id), s.stringLength(table, id));
        strings[table]!.set(id, value);
      }
      return value;
    };
    const groups: AggregatorSnapshot['groups'] = [];
    for (let g = 0; g < s.groups(); g++) {
      const method = string(1, s.groupField(g, 2));
      groups.push({
        signature: SIGNATURE_IDS[s.groupField(g, 0)]!,
        peer: string(0, s.groupField(g, 1)),
        method,
        route: this.routeIds.routes[s.groupField(g, 3)]!,
        // A line without a request has no method (a request's method is never '-').
        examplePath: method === NONE ? NONE : text(s.groupField(g, 4), s.groupField(g, 5)),
        count: s.groupNumber(g, 0),
        firstMs: s.groupNumber(g, 1),
        lastMs: s.groupNumber(g, 2),
      });
    }
    const minutes: AggregatorSnapshot['minutes'] = [];
    for (let m = 0; m < s.minutes(); m++) {
      const counts: Array<[SignatureId, number]> = [];
      SIGNATURE_IDS.forEach((id, i) => {
        const n = s.minuteCounter(m, i);
        if (n > 0) counts.push([id, n]);
      });
      minutes.push([s.minuteKey(m), counts]);
    }
    return { ...this.totals(), groups, minutes };
  }
}
