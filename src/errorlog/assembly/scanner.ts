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

import { byte, findByte, findByteBack, sameBytes, matches, find, isInt, digit, hashBytes, mix, grown, Slots, Strings, isUpper, routeKeyEnd } from "./bytes";

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
  if (cachedMinuteValid && load<u64>(<usize>p) == load<u64>(cachedMinute) && load<u64>(<usize>p + 8) == load<u64>(cachedMinute + 8)) {
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

// The window of a windowed read (readLogs.ts): lines timed outside [windowFrom, windowTo] are not read at all.
let windowed = false;
let windowFrom: f64 = 0;
let windowTo: f64 = 0;

export function setWindow(from: f64, to: f64): void {
  windowed = true;
  windowFrom = from;
  windowTo = to;
}

/** Counts the line [start, end): aggregate.ts addLine; in a window, only when its time (line.ts parseTime) is in it or unknown. */
export function countLine(start: i32, end: i32): void {
  // The time is read once: the window's check hands it on to the count.
  let at: f64 = NaN;
  if (windowed && end - start >= 19) {
    at = parseTime(start);
    if (!isNaN(at) && (at < windowFrom || at > windowTo)) return;
  }
  linesRead++;
  if (!countParsed(start, end, at)) unparsed++;
}

/** A line too long to read (rangeScan.ts LONGEST_LINE_BYTES): counted, unparsed. */
export function countUnreadable(): void {
  linesRead++;
  unparsed++;
}

/** `known`: the line's time when the window's check read it (NaN when it did not, or found none). */
function countParsed(start: i32, end: i32, known: f64): bool {
  const length = end - start;
  if (length < 32 || byte(end - 1) == 13) return false;
  const at = isNaN(known) ? parseTime(start) : known;
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
