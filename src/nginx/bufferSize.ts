/**
 * The buffer for a measured response header: a quarter more (at least 1k)
 * for headers that vary per request (cookies, tokens), rounded up to a power
 * of two kilobytes, never below one page (4k). One rule for the probe's
 * suggestion, the fix text and the plan that applies it.
 */
export function bufferFor(headerBytes: number): number {
  const needed = headerBytes + Math.max(1024, Math.ceil(headerBytes / 4));
  let size = 4096;
  while (size < needed) size *= 2;
  return size;
}
