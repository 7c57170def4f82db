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

/** "2026/11/21 09:09:37" → epoch ms, or NaN. Reads digits by char code: this is the hot path. */
export function parseTime(text: string, at = 0): number {
  const d = (i: number) => text.charCodeAt(at + i) - 48;
  for (const i of [0, 1, 2, 3, 5, 6, 8, 9, 11, 12, 14, 15, 17, 18]) {
    const v = d(i);
    if (v < 0 || v > 9) return Number.NaN;
  }
  if (text[at + 4] !== '/' || text[at + 7] !== '/' || text[at + 10] !== ' ' || text[at + 13] !== ':' || text[at + 16] !== ':') return Number.NaN;
  return new Date(d(0) * 1000 + d(1) * 100 + d(2) * 10 + d(3), d(5) * 10 + d(6) - 1, d(8) * 10 + d(9), d(11) * 10 + d(12), d(14) * 10 + d(15), d(17) * 10 + d(18)).getTime();
}

const TRAILER = /^, client: ([^,]*), server: ([^,]*?)(?:, request: "(.*?)")?(?:, subrequest: "(.*?)")?(?:, upstream: "([^"]*)")?(?:, host: "([^"]*)")?(?:, referrer: "(.*)")?$/s;

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
  let trailer: RegExpExecArray | null = null;
  if (clientAt !== -1) {
    trailer = TRAILER.exec(line.slice(clientAt));
    if (!trailer) return null;
  } else if (line.length >= MAX_LINE_BYTES - 1) {
    return null; // cut short before its fields
  }

  const { message, errno, strerror, action } = splitHead(head);
  const requestLine = trailer?.[3] ?? null;
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
    client: trailer ? trailer[1]! : null,
    server: trailer ? trailer[2]! : null,
    request: requestLine === null ? null : parseRequestLine(requestLine),
    requestLine,
    upstream: trailer?.[5] ? parseUpstream(trailer[5]) : null,
    host: trailer?.[6] ?? null,
    referrer: trailer?.[7] ?? null,
  };
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

const ACTION = /^[a-z][a-z ]*[a-z]$/;
const ERRNO = / \((\d+): ([^)]*)\)$/;

/** "recv() failed (104: Connection reset by peer) while reading upstream" → message, errno, action. */
function splitHead(head: string): { message: string; errno: number | null; strerror: string | null; action: string | null } {
  let message = head;
  let action: string | null = null;
  const whileAt = head.lastIndexOf(' while ');
  if (whileAt !== -1 && ACTION.test(head.slice(whileAt + 7))) {
    action = head.slice(whileAt + 7);
    message = head.slice(0, whileAt);
  }
  const errno = ERRNO.exec(message);
  if (errno) return { message: message.slice(0, errno.index), errno: Number(errno[1]), strerror: errno[2]!, action };
  return { message, errno: null, strerror: null, action };
}

/** "GET /path?q HTTP/1.1" → parts; null for a request line that is not one (garbage, HTTP/0.9). */
export function parseRequestLine(text: string): { method: string; path: string; protocol: string } | null {
  const first = text.indexOf(' ');
  const last = text.lastIndexOf(' ');
  if (first <= 0 || last === first) return null;
  const method = text.slice(0, first);
  if (!/^[A-Z]{1,20}$/.test(method)) return null;
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
