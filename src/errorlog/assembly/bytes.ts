/**
 * Byte helpers and tables shared by the WebAssembly counters (scanner.ts for
 * error logs, access.ts for access logs): SIMD byte search, hashing, and
 * open-addressing tables of ids and byte strings in linear memory.
 */

// ---------------------------------------------------------------- byte helpers

@inline export function byte(p: i32): i32 {
  return <i32>load<u8>(<usize>p);
}

/**
 * First position of byte c in [from, to), or -1. Sixteen bytes at a time
 * (WebAssembly SIMD, in Node since 16.4): most of a scan's time is spent
 * looking for line breaks, commas and quotes. Never reads at or past `to`.
 */
export function findByte(from: i32, to: i32, c: i32): i32 {
  let p = from;
  const needle = i8x16.splat(<i8>c);
  for (; p + 16 <= to; p += 16) {
    const hits = i8x16.bitmask(i8x16.eq(v128.load(<usize>p), needle));
    if (hits != 0) return p + ctz(hits);
  }
  for (; p < to; p++) if (byte(p) == c) return p;
  return -1;
}

/** Last position of byte c in [from, to), or -1. */
export function findByteBack(from: i32, to: i32, c: i32): i32 {
  let p = to;
  const needle = i8x16.splat(<i8>c);
  for (; p - 16 >= from; p -= 16) {
    const hits = i8x16.bitmask(i8x16.eq(v128.load(<usize>(p - 16)), needle));
    if (hits != 0) return p - 16 + 31 - clz(hits);
  }
  for (p = p - 1; p >= from; p--) if (byte(p) == c) return p;
  return -1;
}

/** Whether the n bytes at a and at b are the same, eight at a time. */
export function sameBytes(a: i32, b: i32, n: i32): bool {
  let k = 0;
  for (; k + 8 <= n; k += 8) if (load<u64>(<usize>(a + k)) != load<u64>(<usize>(b + k))) return false;
  for (; k < n; k++) if (byte(a + k) != byte(b + k)) return false;
  return true;
}

/** Whether the n bytes at pattern stand at p, all of them before end. */
export function matches(p: i32, end: i32, pattern: usize, n: i32): bool {
  if (p + n > end) return false;
  for (let k = 0; k < n; k++) if (byte(p + k) != <i32>load<u8>(pattern + <usize>k)) return false;
  return true;
}

/** First position in [from, end) where the whole pattern stands, or -1. */
export function find(from: i32, end: i32, pattern: usize, n: i32): i32 {
  const first = <i32>load<u8>(pattern);
  const last = end - n + 1;
  let p = findByte(from, last, first);
  while (p != -1 && !matches(p, end, pattern, n)) p = findByte(p + 1, last, first);
  return p;
}

/** 1–12 decimal digits in [from, to): line.ts toInt. */
export function isInt(from: i32, to: i32): bool {
  if (to <= from || to - from > 12) return false;
  for (let k = from; k < to; k++) {
    const c = byte(k) - 48;
    if (c < 0 || c > 9) return false;
  }
  return true;
}

export function digit(p: i32): i32 {
  return byte(p) - 48;
}

// ---------------------------------------------------------------- tables

export function hashBytes(p: i32, n: i32, seed: u32): u32 {
  let h: u32 = seed ^ (<u32>n * 0x9e3779b1);
  let k = 0;
  for (; k + 8 <= n; k += 8) {
    const w = load<u64>(<usize>(p + k));
    h = rotl<u32>((h ^ <u32>w ^ rotl<u32>(<u32>(w >> 32), 16)) * 0x85ebca77, 13);
  }
  for (; k + 4 <= n; k += 4) h = rotl<u32>((h ^ load<u32>(<usize>(p + k))) * 0x85ebca77, 13);
  for (; k < n; k++) h = rotl<u32>((h ^ <u32>byte(p + k)) * 0xc2b2ae3d, 11);
  h ^= h >> 16;
  h *= 0x7feb352d;
  h ^= h >> 15;
  return h;
}

export function mix(h: u32, v: u32): u32 {
  return rotl<u32>((h ^ v) * 0x9e3779b1, 15);
}

/** Grows an array of `size`-byte entries from `count` used entries to room for `capacity`. */
export function grown(old: usize, count: i32, capacity: i32, size: i32): usize {
  const fresh = heap.alloc(<usize>(capacity * size));
  if (old != 0) {
    memory.copy(fresh, old, <usize>(count * size));
    heap.free(old);
  }
  return fresh;
}

/**
 * The index of a table of ids: open addressing with linear probing, slot →
 * id + 1 (0 when empty), kept at most half full. Each table compares its own
 * keys while probing and keeps each id's hash, so a grown index is rebuilt
 * from the hashes alone.
 */
export class Slots {
  base: usize = 0;
  mask: i32 = 0;

  constructor(size: i32) {
    this.clear(size);
  }

  clear(size: i32): void {
    if (this.base != 0) heap.free(this.base);
    this.base = heap.alloc(<usize>(size * 4));
    memory.fill(this.base, 0, <usize>(size * 4));
    this.mask = size - 1;
  }

  @inline first(h: u32): i32 {
    return <i32>h & this.mask;
  }

  @inline next(slot: i32): i32 {
    return (slot + 1) & this.mask;
  }

  /** id + 1 at the slot, 0 when it is empty. */
  @inline entry(slot: i32): i32 {
    return load<i32>(this.base + <usize>(slot * 4));
  }

  /** Records a new id (ids are 0, 1, 2, … and `hashes` holds a u32 per id), growing the index when it would be more than half full. */
  add(id: i32, hashes: usize): void {
    if ((id + 1) * 2 <= this.mask + 1) {
      this.place(id, hashes);
      return;
    }
    this.clear((this.mask + 1) * 2);
    for (let i = 0; i <= id; i++) this.place(i, hashes);
  }

  private place(id: i32, hashes: usize): void {
    let slot = this.first(load<u32>(hashes + <usize>(id * 4)));
    while (this.entry(slot) != 0) slot = this.next(slot);
    store<i32>(this.base + <usize>(slot * 4), id + 1);
  }
}

/** Byte strings kept once each, with an id per string and an i32 value per id. */
export class Strings {
  index: Slots = new Slots(1024);
  count: i32 = 0;
  capacity: i32 = 0;
  offsets: usize = 0; // i32 per id, into the arena
  lengths: usize = 0;
  hashes: usize = 0;
  values: usize = 0;
  arena: usize = 0;
  arenaUsed: i32 = 0;
  arenaCapacity: i32 = 0;

  /** Forgets every string, keeping the index's size: a cache that filled up starts again. */
  reset(): void {
    this.index.clear(this.index.mask + 1);
    this.count = 0;
    this.arenaUsed = 0;
  }

  ptr(id: i32): i32 {
    return <i32>this.arena + load<i32>(this.offsets + <usize>(id * 4));
  }

  len(id: i32): i32 {
    return load<i32>(this.lengths + <usize>(id * 4));
  }

  value(id: i32): i32 {
    return load<i32>(this.values + <usize>(id * 4));
  }

  /** The id of the n bytes at p with this value tag (for heads: whether the line has a peer), or -1. */
  find(p: i32, n: i32, h: u32, tag: i32): i32 {
    let slot = this.index.first(h);
    for (;;) {
      const entry = this.index.entry(slot);
      if (entry == 0) break;
      const id = entry - 1;
      if (
        load<u32>(this.hashes + <usize>(id * 4)) == h &&
        this.len(id) == n &&
        (tag < 0 || this.value(id) >> 8 == tag) &&
        sameBytes(this.ptr(id), p, n)
      ) return id;
      slot = this.index.next(slot);
    }
    return -1;
  }

  /** Adds the n bytes at p, which are not there yet. */
  add(p: i32, n: i32, h: u32, value: i32): i32 {
    if (this.count == this.capacity) {
      const capacity = this.capacity == 0 ? 256 : this.capacity * 2;
      this.offsets = grown(this.offsets, this.count, capacity, 4);
      this.lengths = grown(this.lengths, this.count, capacity, 4);
      this.hashes = grown(this.hashes, this.count, capacity, 4);
      this.values = grown(this.values, this.count, capacity, 4);
      this.capacity = capacity;
    }
    if (this.arenaUsed + n > this.arenaCapacity) {
      let capacity = this.arenaCapacity == 0 ? 16384 : this.arenaCapacity * 2;
      while (capacity < this.arenaUsed + n) capacity *= 2;
      this.arena = grown(this.arena, this.arenaUsed, capacity, 1);
      this.arenaCapacity = capacity;
    }
    memory.copy(this.arena + <usize>this.arenaUsed, <usize>p, <usize>n);
    const id = this.count++;
    store<i32>(this.offsets + <usize>(id * 4), this.arenaUsed);
    store<i32>(this.lengths + <usize>(id * 4), n);
    store<u32>(this.hashes + <usize>(id * 4), h);
    store<i32>(this.values + <usize>(id * 4), value);
    this.arenaUsed += n;
    this.index.add(id, this.hashes);
    return id;
  }

  /** The id of the n bytes at p, adding them if new. */
  intern(p: i32, n: i32): i32 {
    const h = hashBytes(p, n, 0);
    const id = this.find(p, n, h, -1);
    return id != -1 ? id : this.add(p, n, h, 0);
  }
}

export function isUpper(from: i32, to: i32): bool {
  for (let k = from; k < to; k++) {
    const c = byte(k);
    if (c < 65 || c > 90) return false;
  }
  return true;
}

/** Where the route key of the path [from, to) ends: aggregate.ts routeAt. */
export function routeKeyEnd(from: i32, to: i32): i32 {
  if (from >= to || byte(from) != 47) return to;
  let segments = 0;
  let inSegment = false;
  let at = from;
  for (; at < to; at++) {
    const c = byte(at);
    if (c == 63 || c == 35) break;
    if (c == 47) {
      if (inSegment && segments == 2) break;
      inSegment = false;
    } else if (!inSegment) {
      inSegment = true;
      segments++;
    }
  }
  return at;
}

