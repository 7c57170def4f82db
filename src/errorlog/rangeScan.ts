import type { BlockSource } from '../host/types.js';
import type { ErrorLogAggregator } from './aggregate.js';

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

/**
 * Counts the lines whose first byte lies in [start, end) of a file, reading
 * past `end` to finish the last one. Ranges that tile a file therefore count
 * every line exactly once, whichever range a line break falls in.
 *
 * One buffer is reused for the whole range and each block becomes one string:
 * a full scan of gigabytes allocates little, so the garbage collector's
 * threads do not compete with the scanning ones for the cores.
 */
export function scanRange(source: BlockSource, start: number, end: number, aggregator: ErrorLogAggregator, blockBytes: number): { bytesRead: number; size: number } {
  const blockSize = Math.max(blockBytes, 16);
  let buffer = Buffer.allocUnsafe(blockSize);
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
    if (carry === buffer.length) {
      // One line fills the buffer: grow it, up to the longest line worth reading.
      if (buffer.length >= LONGEST_LINE_BYTES) {
        if (!overlong && !skipToNewline) aggregator.addRaw('');
        overlong = true;
        carryStart += carry;
        carry = 0;
      } else {
        const bigger = Buffer.allocUnsafe(Math.min(buffer.length * 2, LONGEST_LINE_BYTES));
        buffer.copy(bigger, 0, 0, carry);
        buffer = bigger;
      }
    }
    const n = source.read(buffer, carry, buffer.length - carry, position);
    bytesRead += n;
    position += n;
    const used = carry + n;
    const atEof = n === 0 || position >= source.size;
    const text = buffer.toString('latin1', 0, used);
    let from = 0;
    if (skipToNewline || overlong) {
      const newline = text.indexOf('\n');
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
    // Lines are counted in place in the block: no string per line.
    for (;;) {
      if (carryStart + from >= end) return { bytesRead, size: source.size };
      const newline = text.indexOf('\n', from);
      if (newline === -1) break;
      if (newline > from) aggregator.addLine(text, from, newline);
      from = newline + 1;
    }
    if (atEof) {
      if (from < used && carryStart + from < end) aggregator.addRaw(text.slice(from));
      break;
    }
    if (buffer.length > blockSize && used - from < blockSize) {
      // Past a long line: back to the block size, so later blocks are young strings again.
      const small = Buffer.allocUnsafe(blockSize);
      buffer.copy(small, 0, from, used);
      buffer = small;
    } else buffer.copyWithin(0, from, used);
    carry = used - from;
    carryStart += from;
  }
  return { bytesRead, size: source.size };
}
