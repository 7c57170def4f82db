/**
 * The full scan's counting loop in WebAssembly (AssemblyScript, built by
 * `npm run build:wasm`). It counts exactly what ErrorLogAggregator.addLine
 * counts — same line checks (line.ts scanLine), same keys — on the bytes of a
 * block in linear memory, without a JS string per block or per line. In JS,
 * V8's per-character string work held a full scan at ~7× grep; here it is
 * byte loads. test/errorlog/wasmScan.test.ts holds the two equal on real and
 * mutated lines.
 *
 * What needs JS stays in JS, called rarely: a new message head is classified
 * by signatures.ts through `classify` (once per distinct head), a new minute
 * is turned into epoch ms in the local time zone by `minuteMs`, and a new
 * route key is folded and numbered by route.ts through `route`.
 *
 * Positions are i32 addresses in linear memory; every read is bounded by the
 * line's end, so what follows a line (the next line, stale buffer bytes) never
 * changes how it is read.
 */

@external('env', 'minuteMs')
declare function minuteMs(year: i32, month: i32, day: i32, hour: i32, minute: i32): f64;
/** The signature index of the line [start, end), or -1 when it is not about an upstream. */
@external('env', 'classify')
declare function classifyLine(start: i32, end: i32): i32;
/** The id of the route of the path [start, end) (route.ts RouteIds: folded, and bounded). */
@external('env', 'route')
declare function routeOf(start: i32, end: i32): i32;

const NO_SIGNATURE: i32 = 255;
const HEAD_LIMIT: i32 = 20000;
const MAX_LINE_BYTES: i32 = 2048;
const EXAMPLE_BYTES: i32 = 512;

// ---------------------------------------------------------------- byte helpers

@inline function byte(p: i32): i32 {
  return <i32>load<u8>(<usize>p);
}

/**
 * First position of byte c in [from, to), or -1. Sixteen bytes at a time
 * (WebAssembly SIMD, in Node since 16.4): most of a scan's time is spent
 * looking for line breaks, commas and quotes. Never reads at or past `to`.
 */
function findByte(from: i32, to: i32, c: i32): i32 {
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
function findByteBack(from: i32, to: i32, c: i32): i32 {
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
function sameBytes(a: i32, b: i32, n: i32): bool {
  let k = 0;
  for (; k + 8 <= n; k += 8) if (load<u64>(<usize>(a + k)) != load<u64>(<usize>(b + k))) return false;
  for (; k < n; k++) if (byte(a + k) != byte(b + k)) return false;
  return true;
}

/** Whether the n bytes at pattern stand at p, all of them before end. */
function matches(p: i32, end: i32, pattern: usize, n: i32): bool {
  if (p + n > end) return false;
  for (let k = 0; k < n; k++) if (byte(p + k) != <i32>load<u8>(pattern + <usize>k)) return false;
  return true;
}

/** First position in [from, end) where the whole pattern stands, or -1. */
function find(from: i32, end: i32, pattern: usize, n: i32): i32 {
  const first = <i32>load<u8>(pattern);
  const last = end - n + 1;
  let p = findByte(from, last, first);
  while (p != -1 && !matches(p, end, pattern, n)) p = findByte(p + 1, last, first);
  return p;
}

/** 1–12 decimal digits in [from, to): line.ts toInt. */
function isInt(from: i32, to: i32): bool {
  if (to <= from || to - from > 12) return false;
  for (let k = from; k < to; k++) {
    const c = byte(k) - 48;
    if (c < 0 || c > 9) return false;
  }
  return true;
}

function digit(p: i32): i32 {
  return byte(p) - 48;
}

// Markers of line.ts, as bytes.
const CLIENT = memory.data<u8>([44, 32, 99, 108, 105, 101, 110, 116, 58, 32]); // ", client: "
const SERVER = memory.data<u8>([44, 32, 115, 101, 114, 118, 101, 114, 58, 32]); // ", server: "
const SCHEME_END = memory.data<u8>([58, 47, 47]); // "://"
const UNIX = memory.data<u8>([117, 110, 105, 120, 58]); // "unix:"
const QUOTE_COMMA = memory.data<u8>([34, 44, 32]); // '", '
const COMMA_SPACE = memory.data<u8>([44, 32]); // ", "
// ', request: "', ', subrequest: "', ', upstream: "', ', host: "', ', referrer: "'
const MARKERS = memory.data<u8>([
  44, 32, 114, 101, 113, 117, 101, 115, 116, 58, 32, 34, 0, 0, 0, 0,
  44, 32, 115, 117, 98, 114, 101, 113, 117, 101, 115, 116, 58, 32, 34, 0,
  44, 32, 117, 112, 115, 116, 114, 101, 97, 109, 58, 32, 34, 0, 0, 0,
  44, 32, 104, 111, 115, 116, 58, 32, 34, 0, 0, 0, 0, 0, 0, 0,
  44, 32, 114, 101, 102, 101, 114, 114, 101, 114, 58, 32, 34, 0, 0, 0,
]);
const MARKER_LENGTHS = memory.data<u8>([12, 15, 13, 9, 13]);
// emerg alert crit error warn notice info debug
const LEVELS = memory.data<u8>([
  101, 109, 101, 114, 103, 0, 0, 0, 97, 108, 101, 114, 116, 0, 0, 0, 99, 114, 105, 116, 0, 0, 0, 0, 101, 114, 114, 111, 114, 0, 0, 0,
  119, 97, 114, 110, 0, 0, 0, 0, 110, 111, 116, 105, 99, 101, 0, 0, 105, 110, 102, 111, 0, 0, 0, 0, 100, 101, 98, 117, 103, 0, 0, 0,
]);
const LEVEL_LENGTHS = memory.data<u8>([5, 5, 4, 5, 4, 6, 4, 5]);

function markerLength(f: i32): i32 {
  return <i32>load<u8>(MARKER_LENGTHS + <usize>f);
}

/** Which field marker stands at p (0 request … 4 referrer), or -1: line.ts fieldAt. */
function fieldAt(p: i32, end: i32): i32 {
  if (p + 2 >= end || byte(p) != 44 || byte(p + 1) != 32) return -1;
  let f: i32;
  const c = byte(p + 2);
  if (c == 114) f = p + 4 < end && byte(p + 4) == 113 ? 0 : 4;
  else if (c == 115) f = 1;
  else if (c == 117) f = 2;
  else if (c == 104) f = 3;
  else return -1;
  return matches(p, end, MARKERS + <usize>(f * 16), markerLength(f)) ? f : -1;
}

/** The quote ending a value that may hold quotes: line.ts closingQuote. */
function closingQuote(start: i32, end: i32, field: i32): i32 {
  let from = start;
  for (;;) {
    const quote = find(from, end, QUOTE_COMMA, 3);
    if (quote == -1) break;
    if (fieldAt(quote + 1, end) > field) return quote;
    from = quote + 1;
  }
  return end > start && byte(end - 1) == 34 ? end - 1 : -1;
}

// ---------------------------------------------------------------- time

const cachedMinute = memory.data(16);
let cachedMinuteValid = false;
let cachedMinuteMs: f64 = 0;

/** Epoch ms of "YYYY/MM/DD HH:MM:SS" at p, or NaN: line.ts parseTime (the line holds at least 32 bytes). */
function parseTime(p: i32): f64 {
  if (cachedMinuteValid && memory.compare(<usize>p, cachedMinute, 16) == 0) {
    const s1 = digit(p + 17);
    const s2 = digit(p + 18);
    if (s1 >= 0 && s1 <= 5 && s2 >= 0 && s2 <= 9 && byte(p + 16) == 58) return cachedMinuteMs + <f64>(s1 * 10 + s2) * 1000;
    return NaN;
  }
  for (let i = 0; i < 19; i++) {
    if (i == 4 || i == 7 || i == 10 || i == 13 || i == 16) continue;
    const v = digit(p + i);
    if (v < 0 || v > 9) return NaN;
  }
  if (byte(p + 4) != 47 || byte(p + 7) != 47 || byte(p + 10) != 32 || byte(p + 13) != 58 || byte(p + 16) != 58 || digit(p + 17) > 5) return NaN;
  const ms = minuteMs(
    digit(p) * 1000 + digit(p + 1) * 100 + digit(p + 2) * 10 + digit(p + 3),
    digit(p + 5) * 10 + digit(p + 6),
    digit(p + 8) * 10 + digit(p + 9),
    digit(p + 11) * 10 + digit(p + 12),
    digit(p + 14) * 10 + digit(p + 15),
  );
  if (isNaN(ms)) return NaN;
  memory.copy(cachedMinute, <usize>p, 16);
  cachedMinuteValid = true;
  cachedMinuteMs = ms;
  return ms + <f64>(digit(p + 17) * 10 + digit(p + 18)) * 1000;
}

// ---------------------------------------------------------------- tables

function hashBytes(p: i32, n: i32, seed: u32): u32 {
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

function mix(h: u32, v: u32): u32 {
  return rotl<u32>((h ^ v) * 0x9e3779b1, 15);
}

/** Grows an array of `size`-byte entries from `count` used entries to room for `capacity`. */
function grown(old: usize, count: i32, capacity: i32, size: i32): usize {
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
class Slots {
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
class Strings {
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

/** Message heads ("recv() failed (104: …) while reading …"), tagged by whether the line names a peer → signature. */
let heads = new Strings();
const peers = new Strings();
const methods = new Strings();
/**
 * Route keys (the path up to its third segment, query or fragment: aggregate.ts
 * routeAt) → route id, asked of JS once per distinct key. A cache: cleared
 * when full, as a log of per-request paths would fill it.
 */
const routeKeys = new Strings();
const ROUTE_KEY_LIMIT: i32 = 20000;
const NONE = memory.data<u8>([45]); // "-"

let signatureCount: i32 = 0;
let linesRead: f64 = 0;
let unparsed: f64 = 0;
let otherLines: f64 = 0;

// Groups: signature × peer × method × route id, in the order they were first seen.
const groupIndex = new Slots(1024);
let gHashes: usize = 0; // u32
let groupCount: i32 = 0;
let groupCapacity: i32 = 0;
let gKeys: usize = 0; // 4 × i32: signature, peer, method, route id
let gCounts: usize = 0; // f64
let gFirst: usize = 0; // f64
let gLast: usize = 0; // f64
let gPaths: usize = 0; // 2 × i32: offset into the path arena, length
let pathArena: usize = 0;
let pathUsed: i32 = 0;
let pathCapacity: i32 = 0;

// Minutes: epoch minute → signatureCount counters.
const minuteIndex = new Slots(1024);
let mHashes: usize = 0; // u32
let minuteCount: i32 = 0;
let minuteCapacity: i32 = 0;
let mKeys: usize = 0; // f64
let mCounts: usize = 0; // u32 × signatureCount
let lastMinute: f64 = NaN;
let lastBucket: i32 = -1;

export function init(signatures: i32): void {
  signatureCount = signatures;
  peers.intern(<i32>NONE, 1);
  methods.intern(<i32>NONE, 1);
}

function groupHash(signature: i32, peer: i32, method: i32, route: i32): u32 {
  let h = mix(0x2545f491, <u32>signature);
  h = mix(h, <u32>peer);
  h = mix(h, <u32>method);
  h = mix(h, <u32>route);
  return h ^ (h >> 16);
}

function count(signature: i32, peer: i32, method: i32, route: i32, pathStart: i32, pathEnd: i32, at: f64): void {
  const h = groupHash(signature, peer, method, route);
  let slot = groupIndex.first(h);
  let id = -1;
  for (;;) {
    const entry = groupIndex.entry(slot);
    if (entry == 0) break;
    const k = gKeys + <usize>((entry - 1) * 16);
    if (load<i32>(k) == signature && load<i32>(k + 4) == peer && load<i32>(k + 8) == method && load<i32>(k + 12) == route) {
      id = entry - 1;
      break;
    }
    slot = groupIndex.next(slot);
  }
  if (id != -1) {
    const c = gCounts + <usize>(id * 8);
    store<f64>(c, load<f64>(c) + 1);
    const f = gFirst + <usize>(id * 8);
    if (at < load<f64>(f)) store<f64>(f, at);
    const l = gLast + <usize>(id * 8);
    if (at > load<f64>(l)) store<f64>(l, at);
  } else {
    if (groupCount == groupCapacity) {
      const capacity = groupCapacity == 0 ? 256 : groupCapacity * 2;
      gKeys = grown(gKeys, groupCount, capacity, 16);
      gHashes = grown(gHashes, groupCount, capacity, 4);
      gCounts = grown(gCounts, groupCount, capacity, 8);
      gFirst = grown(gFirst, groupCount, capacity, 8);
      gLast = grown(gLast, groupCount, capacity, 8);
      gPaths = grown(gPaths, groupCount, capacity, 8);
      groupCapacity = capacity;
    }
    id = groupCount++;
    store<u32>(gHashes + <usize>(id * 4), h);
    const k = gKeys + <usize>(id * 16);
    store<i32>(k, signature);
    store<i32>(k + 4, peer);
    store<i32>(k + 8, method);
    store<i32>(k + 12, route);
    store<f64>(gCounts + <usize>(id * 8), 1);
    store<f64>(gFirst + <usize>(id * 8), at);
    store<f64>(gLast + <usize>(id * 8), at);
    // The group's example: its first line's path, at most EXAMPLE_BYTES of it.
    const n = min(pathEnd - pathStart, EXAMPLE_BYTES);
    if (pathUsed + n > pathCapacity) {
      let capacity = pathCapacity == 0 ? 65536 : pathCapacity * 2;
      while (capacity < pathUsed + n) capacity *= 2;
      pathArena = grown(pathArena, pathUsed, capacity, 1);
      pathCapacity = capacity;
    }
    if (n > 0) memory.copy(pathArena + <usize>pathUsed, <usize>pathStart, <usize>n);
    store<i32>(gPaths + <usize>(id * 8), pathUsed);
    store<i32>(gPaths + <usize>(id * 8 + 4), n);
    pathUsed += n;
    groupIndex.add(id, gHashes);
  }

  const minute = Math.floor(at / 60000);
  if (minute != lastMinute || lastBucket == -1) {
    lastBucket = bucketOf(minute);
    lastMinute = minute;
  }
  const c = mCounts + <usize>((lastBucket * signatureCount + signature) * 4);
  store<u32>(c, load<u32>(c) + 1);
}

function minuteHash(minute: f64): u32 {
  const bits = reinterpret<u64>(minute);
  return mix(mix(0x68e31da4, <u32>bits), <u32>(bits >> 32));
}

function bucketOf(minute: f64): i32 {
  const h = minuteHash(minute);
  for (let slot = minuteIndex.first(h); minuteIndex.entry(slot) != 0; slot = minuteIndex.next(slot)) {
    const id = minuteIndex.entry(slot) - 1;
    if (load<f64>(mKeys + <usize>(id * 8)) == minute) return id;
  }
  if (minuteCount == minuteCapacity) {
    const capacity = minuteCapacity == 0 ? 256 : minuteCapacity * 2;
    mKeys = grown(mKeys, minuteCount, capacity, 8);
    mHashes = grown(mHashes, minuteCount, capacity, 4);
    mCounts = grown(mCounts, minuteCount, capacity, 4 * signatureCount);
    minuteCapacity = capacity;
  }
  const id = minuteCount++;
  store<f64>(mKeys + <usize>(id * 8), minute);
  store<u32>(mHashes + <usize>(id * 4), h);
  memory.fill(mCounts + <usize>(id * 4 * signatureCount), 0, <usize>(4 * signatureCount));
  minuteIndex.add(id, mHashes);
  return id;
}

// ---------------------------------------------------------------- one line

/** Counts the line [start, end): aggregate.ts addLine. */
export function countLine(start: i32, end: i32): void {
  linesRead++;
  if (!countParsed(start, end)) unparsed++;
}

/** A line too long to read (rangeScan.ts LONGEST_LINE_BYTES): counted, unparsed. */
export function countUnreadable(): void {
  linesRead++;
  unparsed++;
}

function countParsed(start: i32, end: i32): bool {
  const length = end - start;
  if (length < 32 || byte(end - 1) == 13) return false;
  const at = parseTime(start);
  if (isNaN(at) || byte(start + 19) != 32 || byte(start + 20) != 91) return false;

  // [level]
  const levelStart = start + 21;
  const levelEnd = findByte(levelStart, levelStart + 8, 93);
  if (levelEnd == -1 || byte(levelEnd + 1) != 32) return false;
  let knownLevel = false;
  for (let l = 0; l < 8; l++) {
    const n = <i32>load<u8>(LEVEL_LENGTHS + <usize>l);
    if (n == levelEnd - levelStart && matches(levelStart, levelEnd, LEVELS + <usize>(l * 8), n)) {
      knownLevel = true;
      break;
    }
  }
  if (!knownLevel) return false;

  // pid#tid: [*cid ]
  let i = levelEnd + 2;
  const colon = findColonSpace(i, end);
  if (colon == -1) return false;
  const hash = findByte(i, colon, 35);
  if (hash == -1 || !isInt(i, hash) || !isInt(hash + 1, colon)) return false;
  i = colon + 2;
  if (i < end && byte(i) == 42) {
    const space = findByte(i, end, 32);
    if (space == -1 || !isInt(i + 1, space)) return false;
    i = space + 1;
  }

  // , client: A, server: B[, request: "…"][, subrequest: "…"][, upstream: "…"][, host: "…"][, referrer: "…"]
  let requestStart = -1;
  let requestEnd = -1;
  let upstreamStart = -1;
  let upstreamEnd = -1;
  const clientAt = find(i, end, CLIENT, 10);
  let headEnd = end;
  if (clientAt != -1) {
    const serverAt = find(clientAt + 10, end, SERVER, 10);
    if (serverAt == -1 || findByte(clientAt + 10, end, 44) != serverAt) return false;
    let p = serverAt + 10;
    const comma = find(p, end, COMMA_SPACE, 2);
    p = comma == -1 ? end : comma;
    let f = 0;
    while (p < end) {
      const next = fieldAt(p, end);
      if (next < f) return false;
      f = next;
      const valueStart = p + markerLength(f);
      const close = f == 2 || f == 3 ? findByte(valueStart, end, 34) : closingQuote(valueStart, end, f);
      if (close == -1) return false;
      if (f == 0) {
        requestStart = valueStart;
        requestEnd = close;
      } else if (f == 2) {
        upstreamStart = valueStart;
        upstreamEnd = close;
      }
      p = close + 1;
      f++;
    }
    headEnd = clientAt;
  } else if (length >= MAX_LINE_BYTES - 1) {
    return false; // cut short before its fields
  }

  // The peer: line.ts peerBounds.
  let peerStart = -1;
  let peerEnd = -1;
  if (upstreamStart != -1) {
    const sep = find(upstreamStart, upstreamEnd, SCHEME_END, 3);
    if (sep != -1 && sep != upstreamStart) {
      peerStart = sep + 3;
      const unix = matches(peerStart, upstreamEnd, UNIX, 5);
      const stop = unix ? findByte(peerStart + 5, upstreamEnd, 58) : findByte(peerStart, upstreamEnd, 47);
      peerEnd = stop == -1 ? upstreamEnd : stop;
    }
  }
  const hasPeer = peerStart != -1 ? 1 : 0;

  // The signature of the head, classified once per distinct head.
  const headHash = hashBytes(i, headEnd - i, <u32>hasPeer);
  let id = heads.find(i, headEnd - i, headHash, hasPeer);
  let signature: i32;
  if (id != -1) signature = heads.value(id) & 255;
  else {
    signature = classifyLine(start, end);
    if (signature < 0) signature = NO_SIGNATURE;
    if (heads.count >= HEAD_LIMIT) heads.reset();
    heads.add(i, headEnd - i, headHash, (hasPeer << 8) | signature);
  }
  if (signature == NO_SIGNATURE) {
    otherLines++;
    return true;
  }

  const peer = hasPeer ? peers.intern(peerStart, peerEnd - peerStart) : 0;
  let method = 0;
  let route = 0;
  let pathStart = 0;
  let pathEnd = 0;
  if (requestStart != -1) {
    const space = findByte(requestStart, requestEnd, 32);
    const last = findByteBack(requestStart, requestEnd, 32);
    if (space != -1 && last > space && space - requestStart >= 1 && space - requestStart <= 20 && isUpper(requestStart, space)) {
      method = methods.intern(requestStart, space - requestStart);
      pathStart = space + 1;
      pathEnd = last;
      route = routeId(pathStart, routeKeyEnd(pathStart, pathEnd));
    }
  }
  count(signature, peer, method, route, pathStart, pathEnd, at);
  return true;
}

const COLON_SPACE = memory.data<u8>([58, 32]); // ": "

/** First ": " in [from, end) with both bytes inside, or -1. */
function findColonSpace(from: i32, end: i32): i32 {
  return find(from, end, COLON_SPACE, 2);
}

function routeId(from: i32, to: i32): i32 {
  const h = hashBytes(from, to - from, 0);
  const id = routeKeys.find(from, to - from, h, -1);
  if (id != -1) return routeKeys.value(id);
  const route = routeOf(from, to);
  if (routeKeys.count >= ROUTE_KEY_LIMIT) routeKeys.reset();
  routeKeys.add(from, to - from, h, route);
  return route;
}

function isUpper(from: i32, to: i32): bool {
  for (let k = from; k < to; k++) {
    const c = byte(k);
    if (c < 65 || c > 90) return false;
  }
  return true;
}

/** Where the route key of the path [from, to) ends: aggregate.ts routeAt. */
function routeKeyEnd(from: i32, to: i32): i32 {
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

// ---------------------------------------------------------------- a block

/**
 * Counts the whole lines of [base + from, base + used) that start before
 * base + stopAt, skipping empty ones; returns where the first line not
 * counted starts (relative to base): rangeScan.ts's loop over a block.
 */
export function countLines(base: i32, from: i32, used: i32, stopAt: i32): i32 {
  let p = base + from;
  const end = base + used;
  const stop = base + stopAt;
  while (p < stop) {
    const newline = findByte(p, end, 10);
    if (newline == -1) break;
    if (newline > p) countLine(p, newline);
    p = newline + 1;
  }
  return p - base;
}

// ---------------------------------------------------------------- reading out

export function alloc(size: i32): i32 {
  return <i32>heap.alloc(<usize>size);
}

export function free(p: i32): void {
  heap.free(<usize>p);
}

export function totals(which: i32): f64 {
  return which == 0 ? linesRead : which == 1 ? unparsed : otherLines;
}

export function groups(): i32 {
  return groupCount;
}

/** Field k of group g: 0 signature, 1 peer, 2 method, 3 route id, 4 path address, 5 path length. */
export function groupField(g: i32, k: i32): i32 {
  if (k < 4) return load<i32>(gKeys + <usize>(g * 16 + k * 4));
  if (k == 4) return <i32>pathArena + load<i32>(gPaths + <usize>(g * 8));
  return load<i32>(gPaths + <usize>(g * 8 + 4));
}

/** 0 count, 1 first seen, 2 last seen (epoch ms). */
export function groupNumber(g: i32, k: i32): f64 {
  return load<f64>((k == 0 ? gCounts : k == 1 ? gFirst : gLast) + <usize>(g * 8));
}

/** Address and length of string id of table t (0 peers, 1 methods). */
export function stringAt(t: i32, id: i32): i32 {
  return (t == 0 ? peers : methods).ptr(id);
}

export function stringLength(t: i32, id: i32): i32 {
  return (t == 0 ? peers : methods).len(id);
}

export function minutes(): i32 {
  return minuteCount;
}

export function minuteKey(m: i32): f64 {
  return load<f64>(mKeys + <usize>(m * 8));
}

export function minuteCounter(m: i32, signature: i32): i32 {
  return load<i32>(mCounts + <usize>((m * signatureCount + signature) * 4));
}
