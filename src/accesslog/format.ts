/**
 * Turns an nginx log_format into a line reader. Literal text must match as
 * written; each $variable captures up to the next literal. Only the fields
 * the analysis needs are named.
 */
export interface AccessFields {
  status: number | null;
  upstreamStatus: string | null;
  method: string | null;
  path: string | null;
  timeMs: number;
  upstreamAddr: string | null;
}

/** The format as written, in order: literal text between variables (never empty), and variables by name. */
export type FormatElement = { literal: string } | { variable: string };

export interface CompiledFormat {
  variables: string[];
  elements: FormatElement[];
  /** The variable whose value is the line's time ($time_local, else $time_iso8601, else $msec), or null. */
  timeName: string | null;
  parse(line: string): AccessFields | null;
  /** The first time of the time variable's shape anywhere in the line (for lines not in the format). */
  timeOf(line: string): number;
  /** The line's time: its time variable's when the line is in the format, else timeOf's. The last line's fields are kept for parseLast. */
  lineTime(line: string): number;
  /** parse(line), from lineTime's reading when it was the same line. */
  parseLast(line: string): AccessFields | null;
}

const SPECIFIC: Record<string, string> = {
  status: '(\\d{3})',
  time_local: '(\\d\\d/[A-Z][a-z]{2}/\\d{4}:\\d\\d:\\d\\d:\\d\\d [+-]\\d{4})',
  time_iso8601: '(\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d(?:[+-]\\d\\d:\\d\\d|Z))',
  msec: '(\\d+\\.\\d+)',
};
const MONTHS: Record<string, number> = { Jan: 0, Feb: 1, Mar: 2, Apr: 3, May: 4, Jun: 5, Jul: 6, Aug: 7, Sep: 8, Oct: 9, Nov: 10, Dec: 11 };

export function compileFormat(format: string): CompiledFormat {
  const variables: string[] = [];
  const elements: FormatElement[] = [];
  let pattern = '^';
  const token = /\$(?:\{(\w+)\}|(\w+))/g;
  let last = 0;
  for (const match of format.matchAll(token)) {
    pattern += escape(format.slice(last, match.index));
    if (match.index > last) elements.push({ literal: format.slice(last, match.index) });
    const name = match[1] ?? match[2]!;
    variables.push(name);
    elements.push({ variable: name });
    pattern += SPECIFIC[name] ?? '(.*?)';
    last = match.index + match[0].length;
  }
  pattern += `${escape(format.slice(last))}$`;
  if (format.length > last) elements.push({ literal: format.slice(last) });
  const regex = new RegExp(pattern, 's');
  const index = (name: string) => variables.indexOf(name) + 1;
  const at = { status: index('status'), upstream: index('upstream_status'), request: index('request'), uri: index('request_uri') || index('uri'), method: index('request_method'), addr: index('upstream_addr') };
  const timeIndex = index('time_local') || index('time_iso8601') || index('msec');
  const timeName = timeIndex ? variables[timeIndex - 1]! : null;
  // Compiled once: lines not in the format (read by JS, one by one) all search for it.
  const timeSearch = timeName ? new RegExp(SPECIFIC[timeName]!) : null;
  const timeFrom = (value: string | undefined) => (value === undefined || timeName === null ? Number.NaN : parseAccessTime(timeName, value));
  let lastLine: string | null = null;
  let lastFields: AccessFields | null = null;
  const compiled: CompiledFormat = {
    variables,
    elements,
    timeName,
    lineTime(line) {
      lastLine = line;
      lastFields = compiled.parse(line);
      return lastFields ? lastFields.timeMs : compiled.timeOf(line);
    },
    parseLast(line) {
      return line === lastLine ? lastFields : compiled.parse(line);
    },
    parse(line) {
      const m = regex.exec(line);
      if (!m) return null;
      let method = at.method ? (m[at.method] ?? null) : null;
      let path = at.uri ? (m[at.uri] ?? null) : null;
      if (at.request && m[at.request]) {
        const parts = m[at.request]!.split(' ');
        if (parts.length >= 3) {
          method ??= parts[0]!;
          path ??= parts.slice(1, -1).join(' ');
        }
      }
      return {
        status: at.status ? Number(m[at.status]) : null,
        upstreamStatus: at.upstream ? (m[at.upstream] ?? null) : null,
        method,
        path,
        timeMs: timeFrom(timeIndex ? m[timeIndex] : undefined),
        upstreamAddr: at.addr ? (m[at.addr] ?? null) : null,
      };
    },
    timeOf(line) {
      if (!timeName || !timeSearch) return Number.NaN;
      const m = timeSearch.exec(line);
      return m ? parseAccessTime(timeName, m[1]!) : Number.NaN;
    },
  };
  return compiled;
}

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** "21/Nov/2026:09:11:23 +0100", "2026-11-21T09:11:23+01:00", "1763716283.123" → epoch ms. */
export function parseAccessTime(kind: string, value: string): number {
  if (kind === 'msec') return Math.round(Number(value) * 1000);
  if (kind === 'time_iso8601') return Date.parse(value);
  const m = /^(\d\d)\/(\w{3})\/(\d{4}):(\d\d):(\d\d):(\d\d) ([+-])(\d\d)(\d\d)$/.exec(value);
  if (!m || MONTHS[m[2]!] === undefined) return Number.NaN;
  const offset = (Number(m[8]) * 60 + Number(m[9])) * (m[7] === '-' ? -1 : 1);
  return Date.UTC(Number(m[3]), MONTHS[m[2]!]!, Number(m[1]), Number(m[4]), Number(m[5]), Number(m[6])) - offset * 60_000;
}
