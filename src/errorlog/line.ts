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

const LEVELS = new Set(['emerg', 'alert', 'crit', 'error', 'warn', 'notice', 'info', 'debug']);

let cachedMinute = '';
let cachedMinuteMs = 0;

/**
 * "2026/11/21 09:09:37" → epoch ms, or NaN. Lines come in time order, so the
 * minute is usually the previous line's: only its seconds are read then.
 */
export function parseTime(text: string, at = 0): number {
  if (cachedMinute !== '' && text.startsWith(cachedMinute, at)) {
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
  if (text[at + 4] !== '/' || text[at + 7] !== '/' || text[at + 10] !== ' ' || text[at + 13] !== ':' || text[at + 16] !== ':') return Number.NaN;
  const minuteMs = new Date(d(0) * 1000 + d(1) * 100 + d(2) * 10 + d(3), d(5) * 10 + d(6) - 1, d(8) * 10 + d(9), d(11) * 10 + d(12), d(14) * 10 + d(15)).getTime();
  // A flat copy: a slice would keep the whole block it was cut from alive.
  cachedMinute = Buffer.from(text.slice(at, at + 16), 'latin1').toString('latin1');
  cachedMinuteMs = minuteMs;
  return minuteMs + (d(17) * 10 + d(18)) * 1000;
}

/** null when the line is not an nginx error-log line we can read (junk, binary, cut short, CRLF). */
export function parseErrorLine(line: string): ErrorLine | null {
  if (line.length < 32 || line.charCodeAt(line.length - 1) === 13) return null;
  const timeMs = parseTime(line, 0);
  if (Number.isNaN(timeMs) || line[19] !== ' ' || line[20] !== '[') return null;
  const levelEnd = line.indexOf(']', 21);
  if (levelEnd === -1 || levelEnd > 28) return null;
  const level = line.slice(21, levelEnd);
  if (!LEVELS.has(level) || line[levelEnd + 1] !== ' ') return null;

  let i = levelEnd + 2;
  const hash = line.indexOf('#', i);
  const colon = line.indexOf(': ', i);
  if (hash === -1 || colon === -1 || hash > colon) return null;
  const pid = toInt(line, i, hash);
  const tid = toInt(line, hash + 1, colon);
  if (pid === null || tid === null) return null;
  i = colon + 2;

  let connection: number | null = null;
  if (line[i] === '*') {
    const space = line.indexOf(' ', i);
    if (space === -1) return null;
    connection = toInt(line, i + 1, space);
    if (connection === null) return null;
    i = space + 1;
  }

  const clientAt = line.indexOf(', client: ', i);
  const head = clientAt === -1 ? line.slice(i) : line.slice(i, clientAt);
  let trailer: Trailer | null = null;
  if (clientAt !== -1) {
    trailer = parseTrailer(line, clientAt);
    if (!trailer) return null;
  } else if (line.length >= MAX_LINE_BYTES - 1) {
    return null; // cut short before its fields
  }

  const { message, errno, strerror, action } = splitHead(head);
  const requestLine = trailer?.request ?? null;
  return {
    time: line.slice(0, 19),
    timeMs,
    level,
    pid,
    tid,
    connection,
    message,
    errno,
    strerror,
    action,
    client: trailer ? trailer.client : null,
    server: trailer ? trailer.server : null,
    request: requestLine === null ? null : parseRequestLine(requestLine),
    requestLine,
    upstream: trailer?.upstream ? parseUpstream(trailer.upstream) : null,
    host: trailer?.host ?? null,
    referrer: trailer?.referrer ?? null,
  };
}

interface Trailer {
  client: string;
  server: string;
  request: string | null;
  upstream: string | null;
  host: string | null;
  referrer: string | null;
}

/** The fields nginx appends, in the order it appends them; each is optional after server. */
const FIELDS = ['request', 'subrequest', 'upstream', 'host', 'referrer'] as const;
const MARKERS = FIELDS.map((f) => `, ${f}: "`);

/**
 * `, client: A, server: B[, request: "…"][, subrequest: "…"][, upstream: "…"][, host: "…"][, referrer: "…"]`
 * to the end of the line. A quoted value that may hold quotes itself (request, referrer) ends at
 * the first quote followed by a later field, or at the line's last character.
 */
function parseTrailer(line: string, at: number): Trailer | null {
  const serverAt = line.indexOf(', server: ', at + 10);
  if (serverAt === -1) return null;
  const client = line.slice(at + 10, serverAt);
  if (client.includes(',')) return null;
  // The server value holds no comma: the next ", " starts a field or the line ends.
  let p = serverAt + 10;
  const comma = line.indexOf(', ', p);
  const serverEnd = comma === -1 ? line.length : comma;
  const server = line.slice(p, serverEnd);
  p = serverEnd;
  let request: string | null = null;
  let upstream: string | null = null;
  let host: string | null = null;
  let referrer: string | null = null;
  let f = 0;
  while (p < line.length) {
    const next = fieldAt(line, p);
    if (next < f) return null; // out of order, or not a field
    f = next;
    const start = p + MARKERS[f]!.length;
    const end = f === 2 || f === 3 ? line.indexOf('"', start) : closingQuote(line, start, f);
    if (end === -1) return null;
    const value = line.slice(start, end);
    if (f === 0) request = value;
    else if (f === 2) upstream = value;
    else if (f === 3) host = value;
    else if (f === 4) referrer = value;
    p = end + 1;
    f++;
  }
  return { client, server, request, upstream, host, referrer };
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
  return line.startsWith(MARKERS[f]!, p) ? f : -1;
}

/** The quote ending a value that may hold quotes: the first one followed by a later field, else the line's last character. */
function closingQuote(line: string, start: number, field: number): number {
  let from = start;
  for (;;) {
    const quote = line.indexOf('", ', from);
    if (quote === -1) break;
    if (fieldAt(line, quote + 1) > field) return quote;
    from = quote + 1;
  }
  return line.length > start && line.charCodeAt(line.length - 1) === 34 ? line.length - 1 : -1;
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
function isAction(text: string): boolean {
  if (text.length < 3) return false;
  for (let k = 0; k < text.length; k++) {
    const c = text.charCodeAt(k);
    if (!((c >= 97 && c <= 122) || (c === 32 && k > 0 && k < text.length - 1))) return false;
  }
  return true;
}

/** "recv() failed (104: Connection reset by peer) while reading upstream" → message, errno, action. */
function splitHead(head: string): { message: string; errno: number | null; strerror: string | null; action: string | null } {
  let message = head;
  let action: string | null = null;
  const whileAt = head.lastIndexOf(' while ');
  if (whileAt !== -1 && isAction(head.slice(whileAt + 7))) {
    action = head.slice(whileAt + 7);
    message = head.slice(0, whileAt);
  }
  // " (104: Connection reset by peer)" at the end of the message.
  if (message.charCodeAt(message.length - 1) === 41) {
    const open = message.lastIndexOf(' (');
    const colon = open === -1 ? -1 : message.indexOf(': ', open);
    if (colon !== -1) {
      const errno = toInt(message, open + 2, colon);
      const strerror = message.slice(colon + 2, message.length - 1);
      if (errno !== null && !strerror.includes(')')) return { message: message.slice(0, open), errno, strerror, action };
    }
  }
  return { message, errno: null, strerror: null, action };
}

/** "GET /path?q HTTP/1.1" → parts; null for a request line that is not one (garbage, HTTP/0.9). */
export function parseRequestLine(text: string): { method: string; path: string; protocol: string } | null {
  const first = text.indexOf(' ');
  const last = text.lastIndexOf(' ');
  if (first <= 0 || last === first) return null;
  if (first > 20) return null;
  for (let k = 0; k < first; k++) {
    const c = text.charCodeAt(k);
    if (c < 65 || c > 90) return null;
  }
  const method = text.slice(0, first);
  return { method, path: text.slice(first + 1, last), protocol: text.slice(last + 1) };
}

/** "http://127.0.0.1:3000/uri", "http://unix:/run/app.sock:/uri", "http://backend/uri" (group name). */
export function parseUpstream(text: string): { scheme: string; peer: string; uri: string } | null {
  const sep = text.indexOf('://');
  if (sep <= 0) return null;
  const scheme = text.slice(0, sep);
  const rest = text.slice(sep + 3);
  if (rest.startsWith('unix:')) {
    const colon = rest.indexOf(':', 5);
    return colon === -1 ? { scheme, peer: rest, uri: '' } : { scheme, peer: rest.slice(0, colon), uri: rest.slice(colon + 1) };
  }
  const slash = rest.indexOf('/');
  return slash === -1 ? { scheme, peer: rest, uri: '' } : { scheme, peer: rest.slice(0, slash), uri: rest.slice(slash) };
}
