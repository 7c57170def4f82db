import type { LineCounter, LineWindow } from '../errorlog/rangeScan.js';
import type { AccessCounts } from './counts.js';
import type { CompiledFormat } from './format.js';

/** Whether a line is read in the window: its time (format.ts lineTime) is in it or unknown. */
export function inAccessWindow(format: CompiledFormat, line: string, window: LineWindow | null): boolean {
  const at = format.lineTime(line);
  return !window || Number.isNaN(at) || (at >= window.fromMs && at <= window.toMs);
}

/** The JS access-log counter over byte ranges: for formats the WebAssembly plan cannot read, or when it was not built. */
export class JsAccessLineCounter implements LineCounter {
  private block = Buffer.alloc(0);

  constructor(
    readonly counts: AccessCounts,
    private readonly format: CompiledFormat,
    private readonly window: LineWindow | null,
  ) {}

  buffer(): Buffer {
    return this.block;
  }

  resize(size: number, from: number, to: number): void {
    const fresh = Buffer.allocUnsafe(size);
    this.block.copy(fresh, 0, from, to);
    this.block = fresh;
  }

  countLines(from: number, used: number, stopAt: number): number {
    const text = this.block.toString('latin1', 0, used);
    while (from < stopAt) {
      const newline = text.indexOf('\n', from);
      if (newline === -1) break;
      if (newline > from) this.line(text.slice(from, newline));
      from = newline + 1;
    }
    return from;
  }

  countLast(from: number, used: number): void {
    this.line(this.block.toString('latin1', from, used));
  }

  countUnreadable(): void {
    this.counts.add(null);
  }

  private line(line: string): void {
    if (inAccessWindow(this.format, line, this.window)) this.counts.addLine(line);
  }
}
