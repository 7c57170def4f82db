/**
 * One nginx error-log line (src/core/ngx_log.c, ngx_http_log_error):
 *   2026/11/21 09:09:37 [error] 10287#10287: *2 connect() failed (111: Connection refused)
 *   while connecting to upstream, client: 127.0.0.1, server: , request: "POST /api HTTP/1.1",
 *   upstream: "http://127.0.0.1:38775/api", host: "example.com", referrer: "…"
 * Local time without a zone; `*CID` only when tied to a connection; the
 * trailing fields only for lines about a request. Parsing is by position and
 * indexOf rather than one large regex: it runs on every line of big logs.
 */
export interface ErrorLine {
  /** Local time as written, "YYYY/MM/DD HH:MM:SS". */
  time: string;
  /** That time as epoch ms in this machine's time zone (nginx wrote it in the same one). */
  timeMs: number;
  level: string;
  pid: number;
  tid: number;
  connection: number | null;
  message: string;
  errno: number | null;
  strerror: string | null;
  action: string | null;
  client: string | null;
  server: string | null;
  request: { method: string; path: string; protocol: string } | null;
  requestLine: string | null;
  upstream: { scheme: string; peer: string; uri: string } | null;
  host: string | null;
  referrer: string | null;
}

/** nginx cuts an error message at NGX_MAX_ERROR_STR (2048) bytes: a longer line is cut short. */
export const MAX_LINE_BYTES = 2048;

let cachedMinute = '';
let cachedMinuteMs = 0;
const cachedCodes = new Uint16Array(16);

/** charCodeAt comparisons: measurably faster than startsWith at an offset in this loop. */
function sameAt(text: string, at: number, codes: ArrayLike<number>, length = codes.length): boolean {
  for (let k = 0; k < length; k++) if (text.charCodeAt(at + k) !== codes[k]) return false;
  return true;
}

/**
 * "2026/11/21 09:09:37" → epoch ms, or NaN. Lines come in time order, so the
 * minute is usually the previous line's: only its seconds are read then.
 */
export function parseTime(text: string, at = 0): number {
  if (cachedMinute !== '' && sameAt(text, at, cachedCodes)) {
    const s1 = text.charCodeAt(at + 17) - 48;
    const s2 = text.charCodeAt(at + 18) - 48;
    if (s1 >= 0 && s1 <= 5 && s2 >= 0 && s2 <= 9 && text.charCodeAt(at + 16) === 58) return cachedMinuteMs + (s1 * 10 + s2) * 1000;
    return Number.NaN;
  }
  return parseTimeSlow(text, at);
}

const DIGITS_AT = [0, 1, 2, 3, 5, 6, 8, 9, 11, 12, 14, 15, 17, 18];

function parseTimeSlow(text: string, at: number): number {
  const d = (i: number) => text.charCodeAt(at + i) - 48;
  for (const i of DIGITS_AT) {
    const v = d(i);
    if (v < 0 || v > 9) return Number.NaN;
  }
  // Seconds up to 59, as the cached-minute path above reads them.
  if (text[at + 4] !== '/' || text[at + 7] !== '/' || text[at + 10] !== ' ' || text[at + 13] !== ':' || text[at + 16] !== ':' || d(17) > 5) return Number.NaN;
  const minuteMs = new Date(d(0) * 1000 + d(1) * 100 + d(2) * 10 + d(3), d(5) * 10 + d(6) - 1, d(8) * 10 + d(9), d(11) * 10 + d(12), d(14) * 10 + d(15)).getTime();
  // A flat copy: a slice would keep the whole block it was cut from alive.
  cachedMinute = Buffer.from(text.slice(at, at + 16), 'latin1').toString('latin1');
  for (let k = 0; k < 16; k++) cachedCodes[k] = cachedMinute.charCodeAt(k);
  cachedMinuteMs = minuteMs;
  return minuteMs + (d(17) * 10 + d(18)) * 1000;
}

/**
 * Where the parts of a line are, as offsets into it (-1 when absent). The
 * scanner fills one of these without cutting any string, so the analyzer
 * can count millions of lines and cut only the few parts it needs.
 */
export interface LineScan {
  timeMs: number;
  levelStart: number;
  levelEnd: number;
  pid: number;
  tid: number;
  connection: number;
  messageStart: number;
  messageEnd: number;
  errno: number;
  strerrorStart: number;
  strerrorEnd: number;
  actionStart: number;
  actionEnd: number;
  clientStart: number;
  clientEnd: number;
  serverStart: number;
  serverEnd: number;
  requestStart: number;
  requestEnd: number;
  upstreamStart: number;
  upstreamEnd: number;
  hostStart: number;
  hostEnd: number;
  referrerStart: number;
  referrerEnd: number;
}

export function newScan(): LineScan {
  return {
    timeMs: 0, levelStart: 0, levelEnd: 0, pid: 0, tid: 0, connection: -1, messageStart: 0, messageEnd: 0, errno: -1,
    strerrorStart: -1, strerrorEnd: -1, actionStart: -1, actionEnd: -1, clientStart: -1, clientEnd: -1, serverStart: -1,
    serverEnd: -1, requestStart: -1, requestEnd: -1, upstreamStart: -1, upstreamEnd: -1, hostStart: -1, hostEnd: -1,
    referrerStart: -1, referrerEnd: -1,
  };
}

const LEVEL_CODES = ['emerg', 'alert', 'crit', 'error', 'warn', 'notice', 'info', 'debug'].map((name) => [...name].map((c) => c.charCodeAt(0)));

/**
 * Fills `s` for the line text[start, end) and returns true for a line we can
 * read; false for junk, binary, a line cut short, or CRLF. Offsets in `s`
 * index `text`, so a whole read block can be scanned without cutting it into
 * line strings. With `splitHead` false the message is left whole
 * (messageStart to messageEnd, errno and action not split off): the analyzer
 * classifies whole messages from a cache.
 */
export function scanLine(text: string, s: LineScan, splitHead = true, start = 0, end = text.length): boolean {
  const length = end - start;
  if (length < 32 || text.charCodeAt(end - 1) === 13) return false;
  const timeMs = parseTime(text, start);
  if (Number.isNaN(timeMs) || text.charCodeAt(start + 19) !== 32 || text.charCodeAt(start + 20) !== 91) return false;
  const levelStart = start + 21;
  const levelEnd = text.indexOf(']', levelStart);
  if (levelEnd === -1 || levelEnd > levelStart + 7 || text.charCodeAt(levelEnd + 1) !== 32) return false;
  let knownLevel = false;
  for (const codes of LEVEL_CODES) {
    if (codes.length === levelEnd - levelStart && sameAt(text, levelStart, codes)) {
      knownLevel = true;
      break;
    }
  }
  if (!knownLevel) return false;

  let i = levelEnd + 2;
  const hash = text.indexOf('#', i);
  const colon = text.indexOf(': ', i);
  if (hash === -1 || colon === -1 || hash > colon || colon >= end) return false;
  const pid = toInt(text, i, hash);
  const tid = toInt(text, hash + 1, colon);
  if (pid === null || tid === null) return false;
  i = colon + 2;
  let connection = -1;
  if (text.charCodeAt(i) === 42) {
    const space = text.indexOf(' ', i);
    const cid = space === -1 || space >= end ? null : toInt(text, i + 1, space);
    if (cid === null) return false;
    connection = cid;
    i = space + 1;
  }

  s.clientStart = s.clientEnd = s.serverStart = s.serverEnd = -1;
  s.requestStart = s.requestEnd = s.upstreamStart = s.upstreamEnd = -1;
  s.hostStart = s.hostEnd = s.referrerStart = s.referrerEnd = -1;
  let clientAt = text.indexOf(', client: ', i);
  if (clientAt > end - 10) clientAt = -1;
  let headEnd = end;
  if (clientAt !== -1) {
    if (!scanTrailer(text, clientAt, end, s)) return false;
    headEnd = clientAt;
  } else if (length >= MAX_LINE_BYTES - 1) {
    return false; // cut short before its fields
  }
  s.timeMs = timeMs;
  s.levelStart = levelStart;
  s.levelEnd = levelEnd;
  s.pid = pid;
  s.tid = tid;
  s.connection = connection;
  if (splitHead) scanHead(text, i, headEnd, s);
  else {
    s.messageStart = i;
    s.messageEnd = headEnd;
  }
  return true;
}

const scratch = newScan();

/** The whole line as fields; null when it is not a line we can read. */
export function parseErrorLine(line: string): ErrorLine | null {
  const s = scratch;
  if (!scanLine(line, s)) return null;
  const cut = (start: number, end: number) => (start === -1 ? null : line.slice(start, end));
  const requestLine = cut(s.requestStart, s.requestEnd);
  const upstream = cut(s.upstreamStart, s.upstreamEnd);
  return {
    time: line.slice(0, 19),
    timeMs: s.timeMs,
    level: line.slice(s.levelStart, s.levelEnd),
    pid: s.pid,
    tid: s.tid,
    connection: s.connection === -1 ? null : s.connection,
    message: line.slice(s.messageStart, s.messageEnd),
    errno: s.errno === -1 ? null : s.errno,
    strerror: cut(s.strerrorStart, s.strerrorEnd),
    action: cut(s.actionStart, s.actionEnd),
    client: cut(s.clientStart, s.clientEnd),
    server: cut(s.serverStart, s.serverEnd),
    request: requestLine === null ? null : parseRequestLine(requestLine),
    requestLine,
    upstream: upstream ? parseUpstream(upstream) : null,
    host: cut(s.hostStart, s.hostEnd),
    referrer: cut(s.referrerStart, s.referrerEnd),
  };
}

/** The fields nginx appends, in the order it appends them; each is optional after server. */
const FIELDS = ['request', 'subrequest', 'upstream', 'host', 'referrer'] as const;
const MARKERS = FIELDS.map((f) => `, ${f}: "`);
const MARKER_CODES = MARKERS.map((m) => [...m].map((c) => c.charCodeAt(0)));

/**
 * `, client: A, server: B[, request: "…"][, subrequest: "…"][, upstream: "…"][, host: "…"][, referrer: "…"]`
 * to the end of the line. A quoted value that may hold quotes itself (request, referrer) ends at
 * the first quote followed by a later field, or at the line's last character.
 */
function scanTrailer(line: string, at: number, end: number, s: LineScan): boolean {
  const serverAt = line.indexOf(', server: ', at + 10);
  if (serverAt === -1 || serverAt > end - 10) return false;
  const commaInClient = line.indexOf(',', at + 10);
  if (commaInClient !== serverAt) return false;
  s.clientStart = at + 10;
  s.clientEnd = serverAt;
  // The server value holds no comma: the next ", " starts a field or the line ends.
  let p = serverAt + 10;
  const comma = line.indexOf(', ', p);
  s.serverStart = p;
  s.serverEnd = p = comma === -1 || comma > end ? end : comma;
  let f = 0;
  while (p < end) {
    const next = fieldAt(line, p);
    if (next < f) return false; // out of order, or not a field
    f = next;
    const start = p + MARKERS[f]!.length;
    const close = f === 2 || f === 3 ? line.indexOf('"', start) : closingQuote(line, start, end, f);
    if (close === -1 || close >= end) return false;
    if (f === 0) (s.requestStart = start), (s.requestEnd = close);
    else if (f === 2) (s.upstreamStart = start), (s.upstreamEnd = close);
    else if (f === 3) (s.hostStart = start), (s.hostEnd = close);
    else if (f === 4) (s.referrerStart = start), (s.referrerEnd = close);
    p = close + 1;
    f++;
  }
  return true;
}

/** Which field marker stands at p (index into FIELDS), or -1. Looks at two letters before comparing the whole marker. */
function fieldAt(line: string, p: number): number {
  if (line.charCodeAt(p) !== 44 || line.charCodeAt(p + 1) !== 32) return -1;
  let f: number;
  switch (line.charCodeAt(p + 2)) {
    case 114: // r: request or referrer
      f = line.charCodeAt(p + 4) === 113 ? 0 : 4;
      break;
    case 115:
      f = 1;
      break;
    case 117:
      f = 2;
      break;
    case 104:
      f = 3;
      break;
    default:
      return -1;
  }
  // The two letters told the fields apart; the rest of the marker must be there too.
  const codes = MARKER_CODES[f]!;
  for (let k = 3; k < codes.length; k++) if (line.charCodeAt(p + k) !== codes[k]) return -1;
  return f;
}

/** The quote ending a value that may hold quotes: the first one followed by a later field, else the line's last character. */
function closingQuote(line: string, start: number, end: number, field: number): number {
  let from = start;
  for (;;) {
    const quote = line.indexOf('", ', from);
    if (quote === -1 || quote >= end) break;
    if (fieldAt(line, quote + 1) > field) return quote;
    from = quote + 1;
  }
  return end > start && line.charCodeAt(end - 1) === 34 ? end - 1 : -1;
}

function toInt(text: string, from: number, to: number): number | null {
  if (to <= from || to - from > 12) return null;
  let value = 0;
  for (let k = from; k < to; k++) {
    const c = text.charCodeAt(k) - 48;
    if (c < 0 || c > 9) return null;
    value = value * 10 + c;
  }
  return value;
}

/** "reading response header from upstream": lower-case words. */
function isAction(text: string, from: number, to: number): boolean {
  if (to - from < 3) return false;
  for (let k = from; k < to; k++) {
    const c = text.charCodeAt(k);
    if (!((c >= 97 && c <= 122) || (c === 32 && k > from && k < to - 1))) return false;
  }
  return true;
}

/** "recv() failed (104: Connection reset by peer) while reading upstream" → message, errno, action. */
function scanHead(line: string, from: number, to: number, s: LineScan): void {
  s.actionStart = s.actionEnd = -1;
  s.errno = s.strerrorStart = s.strerrorEnd = -1;
  let end = to;
  const whileAt = line.lastIndexOf(' while ', to - 1);
  if (whileAt >= from && isAction(line, whileAt + 7, to)) {
    s.actionStart = whileAt + 7;
    s.actionEnd = to;
    end = whileAt;
  }
  s.messageStart = from;
  s.messageEnd = end;
  // " (104: Connection reset by peer)" at the end of the message.
  if (end > from && line.charCodeAt(end - 1) === 41) {
    const open = line.lastIndexOf(' (', end - 1);
    const colon = open < from ? -1 : line.indexOf(': ', open);
    if (colon !== -1 && colon < end) {
      const errno = toInt(line, open + 2, colon);
      const close = line.indexOf(')', colon + 2);
      if (errno !== null && close === end - 1) {
        s.errno = errno;
        s.strerrorStart = colon + 2;
        s.strerrorEnd = end - 1;
        s.messageEnd = open;
      }
    }
  }
}

/** A request method: 1–20 upper-case letters between from and to. */
export function isMethod(text: string, from: number, to: number): boolean {
  if (to - from < 1 || to - from > 20) return false;
  for (let k = from; k < to; k++) {
    const c = text.charCodeAt(k);
    if (c < 65 || c > 90) return false;
  }
  return true;
}

/** "GET /path?q HTTP/1.1" → parts; null for a request line that is not one (garbage, HTTP/0.9). */
export function parseRequestLine(text: string): { method: string; path: string; protocol: string } | null {
  const first = text.indexOf(' ');
  const last = text.lastIndexOf(' ');
  if (last === first || !isMethod(text, 0, first)) return null;
  return { method: text.slice(0, first), path: text.slice(first + 1, last), protocol: text.slice(last + 1) };
}

/**
 * Where the peer is in "scheme://peer/uri", "scheme://unix:/run/app.sock:/uri" or "scheme://group/uri"
 * between from and to: [schemeEnd, peerStart, peerEnd], or null without a scheme.
 */
export function peerBounds(text: string, from: number, to: number): [number, number, number] | null {
  const sep = text.indexOf('://', from);
  if (sep === -1 || sep + 3 > to || sep === from) return null;
  const start = sep + 3;
  const unix = text.startsWith('unix:', start);
  const end = unix ? text.indexOf(':', start + 5) : text.indexOf('/', start);
  return [sep, start, end === -1 || end > to ? to : end];
}

/** "http://127.0.0.1:3000/uri", "http://unix:/run/app.sock:/uri", "http://backend/uri" (group name). */
export function parseUpstream(text: string): { scheme: string; peer: string; uri: string } | null {
  const bounds = peerBounds(text, 0, text.length);
  if (!bounds) return null;
  const [sep, start, end] = bounds;
  const uriStart = end < text.length && text.charCodeAt(end) === 58 ? end + 1 : end;
  return { scheme: text.slice(0, sep), peer: text.slice(start, end), uri: text.slice(uriStart) };
}
