/**
 * The access-log counter in WebAssembly (AssemblyScript, built by
 * `npm run build:wasm` into access.wasm): per status, upstream_status, route,
 * minute and retry, on the bytes of a block in linear memory, for the
 * log_format the config declares. The format comes compiled into a field plan
 * (src/accesslog/plan.ts): literals, and variables that are either "up to the
 * next literal" or of a fixed shape ($status, $time_local, $time_iso8601,
 * $msec). A line is read by the plan without backtracking; a line the plan
 * does not read goes to JS whole (`fallback`), where the regular expression
 * of format.ts decides. When the plan reads a line, it reads it as that
 * expression would (plan.ts says why), so the counts are the JS parser's:
 * test/accesslog/wasm.test.ts holds them equal on real and mutated lines.
 *
 * What needs JS stays in JS, called rarely: a new route key (route.ts), a new
 * upstream_status string (is it a retry?), a new minute of a time, a retried
 * request's example.
 */
import { byte, find, findByte, findByteBack, grown, hashBytes, matches, mix, routeKeyEnd, Slots, Strings } from './bytes';

/** The line [start, end) is not read by the plan: JS reads and counts it (format.ts). */
@external('env', 'fallback')
declare function fallback(start: i32, end: i32): void;
/** The route id of the path [start, end) (route.ts routePrefix and RouteIds). */
@external('env', 'route')
declare function routeOf(start: i32, end: i32): i32;
/** Of the $upstream_status value [start, end): 0 one try, 1 retried, 2 retried and a later try answered below 500. */
@external('env', 'retryKind')
declare function retryKindOf(start: i32, end: i32): i32;
/** Epoch ms of the time value [start, end) of this kind (format.ts parseAccessTime), or NaN. */
@external('env', 'timeMs')
declare function timeMsOf(start: i32, end: i32, kind: i32): f64;
/** A retried request as logged, for the report's examples. */
@external('env', 'example')
declare function example(start: i32, end: i32): void;

// Plan elements: 4 × i32 each (type, a, b, role).
const LITERAL: i32 = 0; // a: address of its bytes, b: length
const UP_TO_NEXT: i32 = 1; // (.*?)
const STATUS: i32 = 2; // \d{3}
const TIME_LOCAL: i32 = 3; // \d\d/[A-Z][a-z]{2}/\d{4}:\d\d:\d\d:\d\d [+-]\d{4}
const TIME_ISO: i32 = 4; // \d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:[+-]\d\d:\d\d|Z)
const MSEC: i32 = 5; // \d+\.\d+

// Roles: which capture the counts use (the first variable of each name, as format.ts's index()).
const ROLE_STATUS: i32 = 1;
const ROLE_UPSTREAM_STATUS: i32 = 2;
const ROLE_REQUEST: i32 = 3;
const ROLE_URI: i32 = 4;
const ROLE_TIME: i32 = 5;
const ROLES: i32 = 6;

let plan: usize = 0;
let planCount: i32 = 0;
let timeKind: i32 = 0; // the type of the time variable, 0 without one
const captureStart = memory.data(ROLES * 4);
const captureEnd = memory.data(ROLES * 4);

let windowed = false;
let windowFrom: f64 = 0;
let windowTo: f64 = 0;

let linesRead: f64 = 0;
let examplesLeft: i32 = 5;

// Per route id (dense, from JS): requests, 502, 504, retried, retried then ok.
const ROUTE_FIELDS: i32 = 5;
let routeCounts: usize = 0; // f64 × ROUTE_FIELDS per id
let routeCapacity: i32 = 0;
let routeTop: i32 = 0; // highest id seen + 1
const routeKeys = new Strings();
const ROUTE_KEY_LIMIT: i32 = 20000;

// Per status 0–999.
const statusCounts = memory.data(1000 * 8);

/** $upstream_status strings, each with its retry kind (value) and count; past the limit, counted together. */
const upstreamStatuses = new Strings();
const UPSTREAM_STATUS_LIMIT: i32 = 1000;
let usCounts: usize = 0; // f64 per id
let usCapacity: i32 = 0;
let usOther: f64 = 0;

// Minutes: epoch minute → requests, 502, 504.
const MINUTE_FIELDS: i32 = 3;
const minuteIndex = new Slots(1024);
let mHashes: usize = 0;
let minuteCount: i32 = 0;
let minuteCapacity: i32 = 0;
let mKeys: usize = 0; // f64
let mCounts: usize = 0; // f64 × MINUTE_FIELDS
let lastMinute: f64 = NaN;
let lastBucket: i32 = -1;

// The last time value read and its ms, all but its seconds: lines of one minute differ in those only.
const cachedTime = memory.data(32);
let cachedTimeLength: i32 = -1;
let cachedTimeBase: f64 = 0;

export function alloc(size: i32): i32 {
  return <i32>heap.alloc(<usize>size);
}

export function free(p: i32): void {
  heap.free(<usize>p);
}

/** The plan: `count` elements of 4 × i32 at `elements` (literal bytes allocated by the caller, kept). */
export function setPlan(elements: i32, count: i32, time: i32): void {
  plan = <usize>elements;
  planCount = count;
  timeKind = time;
}

export function setWindow(from: f64, to: f64): void {
  windowed = true;
  windowFrom = from;
  windowTo = to;
}

@inline function element(i: i32, k: i32): i32 {
  return load<i32>(plan + <usize>(i * 16 + k * 4));
}

@inline function isDigit(p: i32): bool {
  return <u32>(byte(p) - 48) <= 9;
}

function digits(p: i32, n: i32): bool {
  for (let k = 0; k < n; k++) if (!isDigit(p + k)) return false;
  return true;
}

/** Bytes of a fixed-shape variable at p (before end), or -1 when it does not stand there. */
function shape(type: i32, p: i32, end: i32): i32 {
  if (type == STATUS) return p + 3 <= end && digits(p, 3) ? 3 : -1;
  if (type == TIME_LOCAL) {
    if (p + 26 > end) return -1;
    const upper = byte(p + 3);
    const l1 = byte(p + 4);
    const l2 = byte(p + 5);
    const sign = byte(p + 21);
    const ok =
      digits(p, 2) && byte(p + 2) == 47 && upper >= 65 && upper <= 90 && l1 >= 97 && l1 <= 122 && l2 >= 97 && l2 <= 122 &&
      byte(p + 6) == 47 && digits(p + 7, 4) && byte(p + 11) == 58 && digits(p + 12, 2) && byte(p + 14) == 58 && digits(p + 15, 2) &&
      byte(p + 17) == 58 && digits(p + 18, 2) && byte(p + 20) == 32 && (sign == 43 || sign == 45) && digits(p + 22, 4);
    return ok ? 26 : -1;
  }
  if (type == TIME_ISO) {
    if (p + 20 > end) return -1;
    if (!(digits(p, 4) && byte(p + 4) == 45 && digits(p + 5, 2) && byte(p + 7) == 45 && digits(p + 8, 2) && byte(p + 10) == 84 && digits(p + 11, 2) && byte(p + 13) == 58 && digits(p + 14, 2) && byte(p + 16) == 58 && digits(p + 17, 2))) return -1;
    const zone = byte(p + 19);
    if ((zone == 43 || zone == 45) && p + 25 <= end && digits(p + 20, 2) && byte(p + 22) == 58 && digits(p + 23, 2)) return 25;
    return zone == 90 ? 20 : -1;
  }
  // MSEC, greedy as \d+\.\d+ is: when what follows needs fewer digits, the plan fails and JS decides.
  let q = p;
  while (q < end && isDigit(q)) q++;
  if (q == p || q >= end || byte(q) != 46) return -1;
  const fraction = q + 1;
  q = fraction;
  while (q < end && isDigit(q)) q++;
  return q == fraction ? -1 : q - p;
}

@inline function capture(role: i32, from: i32, to: i32): void {
  if (role != 0 && load<i32>(captureStart + <usize>(role * 4)) == -1) {
    store<i32>(captureStart + <usize>(role * 4), from);
    store<i32>(captureEnd + <usize>(role * 4), to);
  }
}

/**
 * Reads [start, end) by the plan: each literal where it must stand, each
 * "up to the next literal" variable up to that literal's first occurrence (to
 * the line's end before a final literal), each fixed shape where it stands.
 * Every choice is the one the regular expression tries first, so when they
 * all hold, its match is this one; when one fails, it might still match by
 * backtracking, and the line goes to JS.
 */
function readLine(start: i32, end: i32): bool {
  for (let r = 0; r < ROLES; r++) store<i32>(captureStart + <usize>(r * 4), -1);
  let p = start;
  for (let i = 0; i < planCount; i++) {
    const type = element(i, 0);
    const role = element(i, 3);
    if (type == LITERAL) {
      const n = element(i, 2);
      if (!matches(p, end, <usize>element(i, 1), n)) return false;
      p += n;
    } else if (type == UP_TO_NEXT) {
      if (i + 1 == planCount) {
        capture(role, p, end);
        p = end;
      } else if (element(i + 1, 0) == LITERAL) {
        const literal = <usize>element(i + 1, 1);
        const n = element(i + 1, 2);
        let q: i32;
        if (i + 2 == planCount) {
          q = end - n;
          if (q < p || !matches(q, end, literal, n)) return false;
        } else {
          q = find(p, end, literal, n);
          if (q == -1) return false;
        }
        capture(role, p, q);
        p = q + n;
        i++;
      } else capture(role, p, p); // another variable follows at once: this one is empty first
    } else {
      const n = shape(type, p, end);
      if (n < 0) return false;
      capture(role, p, p + n);
      p += n;
    }
  }
  return p == end;
}

@inline function capturedStart(role: i32): i32 {
  return load<i32>(captureStart + <usize>(role * 4));
}

@inline function capturedEnd(role: i32): i32 {
  return load<i32>(captureEnd + <usize>(role * 4));
}

/** Epoch ms of the captured time: one JS call per minute (per line for $msec), as format.ts parseAccessTime reads it. */
function timeOf(from: i32, to: i32): f64 {
  const n = to - from;
  if (timeKind == MSEC) return timeMsOf(from, to, timeKind);
  // Seconds: bytes 18–19 of $time_local, 17–18 of $time_iso8601.
  const s = timeKind == TIME_LOCAL ? from + 18 : from + 17;
  const seconds = <f64>((byte(s) - 48) * 10 + byte(s + 1) - 48);
  // Date.parse refuses an ISO time with 60 seconds or more: no minute base for those.
  if (timeKind == TIME_ISO && seconds > 59) return timeMsOf(from, to, timeKind);
  if (n == cachedTimeLength) {
    let same = true;
    for (let k = 0; k < n; k++) {
      if (from + k == s || from + k == s + 1) continue;
      if (byte(from + k) != <i32>load<u8>(cachedTime + <usize>k)) {
        same = false;
        break;
      }
    }
    if (same) return cachedTimeBase + seconds * 1000;
  }
  const ms = timeMsOf(from, to, timeKind);
  memory.copy(cachedTime, <usize>from, <usize>n);
  cachedTimeLength = n;
  cachedTimeBase = ms - seconds * 1000;
  return ms;
}

function addTo(base: usize, index: i32): void {
  const at = base + <usize>(index * 8);
  store<f64>(at, load<f64>(at) + 1);
}

function routeSlot(id: i32): usize {
  if (id >= routeCapacity) {
    let capacity = routeCapacity == 0 ? 1024 : routeCapacity * 2;
    while (capacity <= id) capacity *= 2;
    const fresh = grown(routeCounts, routeCapacity, capacity, 8 * ROUTE_FIELDS);
    memory.fill(fresh + <usize>(routeCapacity * 8 * ROUTE_FIELDS), 0, <usize>((capacity - routeCapacity) * 8 * ROUTE_FIELDS));
    routeCounts = fresh;
    routeCapacity = capacity;
  }
  if (id >= routeTop) routeTop = id + 1;
  return routeCounts + <usize>(id * 8 * ROUTE_FIELDS);
}

/** The route id of the path [from, to): route 0 ('-') when there is none. */
function routeId(from: i32, to: i32): i32 {
  if (to <= from) return 0;
  const keyEnd = routeKeyEnd(from, to);
  const h = hashBytes(from, keyEnd - from, 0);
  const id = routeKeys.find(from, keyEnd - from, h, -1);
  if (id != -1) return routeKeys.value(id);
  const route = routeOf(from, keyEnd);
  if (routeKeys.count >= ROUTE_KEY_LIMIT) routeKeys.reset();
  routeKeys.add(from, keyEnd - from, h, route);
  return route;
}

/** The retry kind of the $upstream_status [from, to), counting the string. */
function retryKind(from: i32, to: i32): i32 {
  const n = to - from;
  const h = hashBytes(from, n, 0);
  const id = upstreamStatuses.find(from, n, h, -1);
  if (id != -1) {
    addTo(usCounts, id);
    return upstreamStatuses.value(id);
  }
  const kind = retryKindOf(from, to);
  if (upstreamStatuses.count >= UPSTREAM_STATUS_LIMIT) {
    usOther++;
    return kind;
  }
  const added = upstreamStatuses.add(from, n, h, kind);
  if (added >= usCapacity) {
    const capacity = usCapacity == 0 ? 256 : usCapacity * 2;
    usCounts = grown(usCounts, usCapacity, capacity, 8);
    usCapacity = capacity;
  }
  store<f64>(usCounts + <usize>(added * 8), 1);
  return kind;
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
    mCounts = grown(mCounts, minuteCount, capacity, 8 * MINUTE_FIELDS);
    minuteCapacity = capacity;
  }
  const id = minuteCount++;
  store<f64>(mKeys + <usize>(id * 8), minute);
  store<u32>(mHashes + <usize>(id * 4), h);
  memory.fill(mCounts + <usize>(id * 8 * MINUTE_FIELDS), 0, <usize>(8 * MINUTE_FIELDS));
  minuteIndex.add(id, mHashes);
  return id;
}

/** Counts the line [start, end): analyze.ts AccessCounts.add, for a line the plan reads; else JS counts it. */
export function countLine(start: i32, end: i32): void {
  if (!readLine(start, end)) {
    fallback(start, end);
    return;
  }
  let at: f64 = NaN;
  if (timeKind != 0 && capturedStart(ROLE_TIME) != -1) at = timeOf(capturedStart(ROLE_TIME), capturedEnd(ROLE_TIME));
  if (windowed && !isNaN(at) && (at < windowFrom || at > windowTo)) return;
  linesRead++;
  const s = capturedStart(ROLE_STATUS);
  const status = (byte(s) - 48) * 100 + (byte(s + 1) - 48) * 10 + byte(s + 2) - 48;
  addTo(statusCounts, status);

  // The path: $request_uri or $uri when the format has one, else the request line's middle ("GET /a b HTTP/1.1").
  let route = 0;
  if (capturedStart(ROLE_URI) != -1) route = routeId(capturedStart(ROLE_URI), capturedEnd(ROLE_URI));
  else if (capturedStart(ROLE_REQUEST) != -1) {
    const from = capturedStart(ROLE_REQUEST);
    const to = capturedEnd(ROLE_REQUEST);
    const first = findByte(from, to, 32);
    const last = findByteBack(from, to, 32);
    if (first != -1 && last > first) route = routeId(first + 1, last);
  }
  const r = routeSlot(route);
  addTo(r, 0);
  if (status == 502) addTo(r, 1);
  if (status == 504) addTo(r, 2);

  if (capturedStart(ROLE_UPSTREAM_STATUS) != -1) {
    const kind = retryKind(capturedStart(ROLE_UPSTREAM_STATUS), capturedEnd(ROLE_UPSTREAM_STATUS));
    if (kind > 0) {
      addTo(r, 3);
      if (kind == 2) addTo(r, 4);
      if (examplesLeft > 0) {
        examplesLeft--;
        example(start, end);
      }
    }
  }

  if (!isNaN(at)) {
    const minute = Math.floor(at / 60000);
    if (minute != lastMinute || lastBucket == -1) {
      lastBucket = bucketOf(minute);
      lastMinute = minute;
    }
    const m = mCounts + <usize>(lastBucket * 8 * MINUTE_FIELDS);
    addTo(m, 0);
    if (status == 502) addTo(m, 1);
    if (status == 504) addTo(m, 2);
  }
}

/** A line too long to read: JS counts it as unparsed, as it counts every line the plan does not read. */
export function countUnreadable(): void {
  fallback(0, 0);
}

/** Counts the whole lines of [base + from, base + used) that start before base + stopAt: scanner.ts countLines. */
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

export function lines(): f64 {
  return linesRead;
}

export function routes(): i32 {
  return routeTop;
}

/** Field k of route id: 0 requests, 1 answered 502, 2 answered 504, 3 retried, 4 retried then ok. */
export function routeNumber(id: i32, k: i32): f64 {
  return load<f64>(routeCounts + <usize>((id * ROUTE_FIELDS + k) * 8));
}

export function statusNumber(status: i32): f64 {
  return load<f64>(statusCounts + <usize>(status * 8));
}

export function upstreamStatusCount(): i32 {
  return upstreamStatuses.count;
}

export function upstreamStatusAt(id: i32): i32 {
  return upstreamStatuses.ptr(id);
}

export function upstreamStatusLength(id: i32): i32 {
  return upstreamStatuses.len(id);
}

/** Lines with upstream status id; id -1: those past the limit of distinct strings. */
export function upstreamStatusNumber(id: i32): f64 {
  return id < 0 ? usOther : load<f64>(usCounts + <usize>(id * 8));
}

export function minutes(): i32 {
  return minuteCount;
}

export function minuteKey(m: i32): f64 {
  return load<f64>(mKeys + <usize>(m * 8));
}

/** Field k of minute m: 0 requests, 1 answered 502, 2 answered 504. */
export function minuteNumber(m: i32, k: i32): f64 {
  return load<f64>(mCounts + <usize>((m * MINUTE_FIELDS + k) * 8));
}
