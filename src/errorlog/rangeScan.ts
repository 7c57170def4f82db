import type { BlockSource } from '../host/types.js';
import type { ErrorLogAggregator } from './aggregate.js';
import { parseTime } from './line.js';

import type { LineWindow } from '../logs/readLogs.js';

export type { LineWindow };

/** Whether the line text[start, end) is read in the window: its time (line.ts parseTime, 19 bytes) is in it or unknown. */
export function inErrorWindow(text: string, start: number, end: number, window: LineWindow | null): boolean {
  if (!window || end - start < 19) return true;
  const at = parseTime(text, start);
  return Number.isNaN(at) || (at >= window.fromMs && at <= window.toMs);
}

/**
 * Block size of a full scan: small enough that each block's string is a
 * young-generation object, which the scavenger frees almost for nothing;
 * larger blocks measured no faster (16 KB–1 MB on a 266 MB log).
 */
export const SCAN_BLOCK_BYTES = 64 * 1024;

/**
 * A line longer than this is no nginx line (nginx cuts its own at 2048
 * bytes): it is counted once as unparsed and skipped, so a file of binary
 * garbage without line breaks cannot make the scan hold it all.
 */
export const LONGEST_LINE_BYTES = 1 << 20;

/** Where a range scan's bytes go: the buffer it reads into, and what counts the lines in it. */
export interface LineCounter {
  /** The buffer to read into. Asked again after every count: a WebAssembly counter's memory may have moved. */
  buffer(): Buffer;
  /** Replaces the buffer by one of `size` bytes that starts with the old one's bytes [from, to). */
  resize(size: number, from: number, to: number): void;
  /** Counts the whole lines of buffer[from, used) that start before `stopAt`; returns where the first line not counted starts. */
  countLines(from: number, used: number, stopAt: number): number;
  /** Counts buffer[from, used) as one line: the last of a file, without a line break. */
  countLast(from: number, used: number): void;
  /** Counts one line too long to read, as unparsed. */
  countUnreadable(): void;
}

/** The JS counter: lines counted in place in one latin1 string per block (the reference the WebAssembly counter is held to). */
export class AggregatorLineCounter implements LineCounter {
  private block = Buffer.alloc(0);
  constructor(
    readonly aggregator: ErrorLogAggregator,
    private readonly window: LineWindow | null = null,
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
      if (newline > from && inErrorWindow(text, from, newline, this.window)) this.aggregator.addLine(text, from, newline);
      from = newline + 1;
    }
    return from;
  }

  countLast(from: number, used: number): void {
    const line = this.block.toString('latin1', from, used);
    if (inErrorWindow(line, 0, line.length, this.window)) this.aggregator.addRaw(line);
  }

  countUnreadable(): void {
    this.aggregator.addRaw('');
  }
}

/**
 * Counts the lines whose first byte lies in [start, end) of a file, reading
 * past `end` to finish the last one. Ranges that tile a file therefore count
 * every line exactly once, whichever range a line break falls in.
 *
 * One buffer is reused for the whole range: a full scan of gigabytes
 * allocates little, so the garbage collector's threads do not compete with
 * the scanning ones for the cores.
 */
export function scanRange(source: BlockSource, start: number, end: number, counter: LineCounter, blockBytes: number, onBlock?: (bytesRead: number) => void): { bytesRead: number; size: number } {
  const blockSize = Math.max(blockBytes, 16);
  counter.resize(blockSize, 0, 0);
  let position = start;
  let bytesRead = 0;
  // Where the first line of this range starts: at `start` after a line break, else after the next one.
  let skipToNewline = false;
  if (start > 0) {
    const previous = Buffer.allocUnsafe(1);
    skipToNewline = source.read(previous, 0, 1, start - 1) === 1 && previous[0] !== 10;
  }
  let carry = 0; // bytes of an unfinished line at the front of the buffer
  let carryStart = start; // file offset of buffer[0]
  let overlong = false; // inside a line longer than LONGEST_LINE_BYTES: skip to its end
  for (;;) {
    const capacity = counter.buffer().length;
    if (carry === capacity) {
      // One line fills the buffer: grow it, up to the longest line worth reading.
      if (capacity >= LONGEST_LINE_BYTES) {
        if (!overlong && !skipToNewline) counter.countUnreadable();
        overlong = true;
        carryStart += carry;
        carry = 0;
      } else counter.resize(Math.min(capacity * 2, LONGEST_LINE_BYTES), 0, carry);
    }
    const buffer = counter.buffer();
    const n = source.read(buffer, carry, buffer.length - carry, position);
    bytesRead += n;
    position += n;
    onBlock?.(bytesRead);
    const used = carry + n;
    const atEof = n === 0 || position >= source.size;
    let from = 0;
    if (skipToNewline || overlong) {
      const newline = buffer.subarray(0, used).indexOf(10);
      if (newline === -1) {
        if (atEof) break;
        carryStart += used;
        carry = 0;
        continue;
      }
      from = newline + 1;
      skipToNewline = false;
      overlong = false;
    }
    // Lines starting at or past `end` belong to the next range.
    from = counter.countLines(from, used, Math.max(0, Math.min(end - carryStart, used + 1)));
    if (carryStart + from >= end) return { bytesRead, size: source.size };
    if (atEof) {
      if (from < used) counter.countLast(from, used);
      break;
    }
    if (counter.buffer().length > blockSize && used - from < blockSize) {
      // Past a long line: back to the block size.
      counter.resize(blockSize, from, used);
    } else counter.buffer().copyWithin(0, from, used);
    carry = used - from;
    carryStart += from;
  }
  return { bytesRead, size: source.size };
}

/**
 * Counts the lines of a stream (a .gz being inflated) pushed in chunks of any
 * size: scanRange's loop for bytes that arrive rather than are read, through
 * the same counter and buffer.
 */
export class StreamLineFeeder {
  private carry = 0;
  private overlong = false;
  bytes = 0;

  constructor(
    private readonly counter: LineCounter,
    blockBytes: number,
  ) {
    counter.resize(Math.max(blockBytes, 16), 0, 0);
  }

  push(chunk: Uint8Array): void {
    this.bytes += chunk.length;
    let offset = 0;
    while (offset < chunk.length) {
      let buffer = this.counter.buffer();
      if (this.carry === buffer.length) {
        // One line fills the buffer: grow it, up to the longest line worth reading.
        if (buffer.length >= LONGEST_LINE_BYTES) {
          if (!this.overlong) this.counter.countUnreadable();
          this.overlong = true;
          this.carry = 0;
        } else this.counter.resize(Math.min(buffer.length * 2, LONGEST_LINE_BYTES), 0, this.carry);
        buffer = this.counter.buffer();
      }
      const n = Math.min(buffer.length - this.carry, chunk.length - offset);
      buffer.set(chunk.subarray(offset, offset + n), this.carry);
      offset += n;
      const used = this.carry + n;
      let from = 0;
      if (this.overlong) {
        const newline = buffer.subarray(0, used).indexOf(10);
        if (newline === -1) {
          this.carry = 0;
          continue;
        }
        from = newline + 1;
        this.overlong = false;
      }
      from = this.counter.countLines(from, used, used + 1);
      this.counter.buffer().copyWithin(0, from, used);
      this.carry = used - from;
    }
  }

  /** The last line, without a line break. */
  end(): void {
    if (this.carry > 0 && !this.overlong) this.counter.countLast(0, this.carry);
    this.carry = 0;
  }
}
