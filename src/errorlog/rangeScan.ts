import type { Host } from '../host/types.js';
import type { ErrorLogAggregator } from './aggregate.js';

/**
 * Counts the lines whose first byte lies in [start, end) of a file, reading
 * past `end` to finish the last one. Ranges that tile a file therefore count
 * every line exactly once, whichever range a line break falls in.
 */
export async function scanRange(
  host: Host,
  path: string,
  start: number,
  end: number,
  aggregator: ErrorLogAggregator,
  blockBytes: number,
): Promise<{ bytesRead: number; size: number } | { problem: string }> {
  let position = start;
  let bytesRead = 0;
  // Find where the first line of this range starts.
  if (start > 0) {
    const previous = await host.readFile(path, { position: start - 1, maxBytes: 1, encoding: 'latin1' });
    if (!previous.ok) return { problem: `cannot read ${previous.error.message}` };
    if (previous.content !== '\n') position = -1; // mid-line: skip to the next line break
  }
  let carry = '';
  let textStart = start;
  let size = 0;
  let readAt = start;
  const read = (at: number) => host.readFile(path, { position: at, maxBytes: blockBytes, encoding: 'latin1' });
  let next = read(readAt);
  for (;;) {
    const chunk = await next;
    if (!chunk.ok) return { problem: `cannot read ${chunk.error.message}` };
    size = chunk.size;
    bytesRead += chunk.content.length;
    const text = carry + chunk.content;
    const atEof = chunk.content.length === 0 || readAt + chunk.content.length >= size;
    readAt += chunk.content.length;
    // Read the next block while this one is counted.
    if (!atEof) next = read(readAt);
    let from = 0;
    if (position === -1) {
      const newline = text.indexOf('\n');
      if (newline === -1) {
        if (atEof) break;
        textStart += text.length;
        carry = '';
        continue;
      }
      from = newline + 1;
      position = textStart + from;
    }
    // Lines are counted in place in the block: no string per line.
    for (;;) {
      if (textStart + from >= end) return { bytesRead, size };
      const newline = text.indexOf('\n', from);
      if (newline === -1) break;
      if (newline > from) aggregator.addLine(text, from, newline);
      from = newline + 1;
    }
    if (atEof) {
      if (from < text.length) aggregator.addRaw(text.slice(from));
      break;
    }
    carry = text.slice(from);
    textStart += from;
  }
  return { bytesRead, size };
}
