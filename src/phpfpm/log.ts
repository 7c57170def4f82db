/**
 * What php-fpm's own error log says about its pools. The wording is php-src's
 * (fpm_process_ctl.c, fpm_request.c, fpm_children.c), as php-fpm 8.2 wrote it
 * here (test/fixtures/php-fpm/*.fpm.log):
 *   [01-Dec-2026 13:59:50] WARNING: [pool www] server reached pm.max_children setting (1), consider raising it
 *   [01-Dec-2026 13:59:28] WARNING: [pool www] child 16563, script '/x/slow.php' (request: "GET /slow.php") executing too slow (1.004128 sec), logging
 *   [01-Dec-2026 13:59:28] WARNING: [pool www] child 16563, script '/x/slow.php' (request: "GET /slow.php") execution timed out (1.337719 sec), terminating
 *   [01-Dec-2026 13:59:28] WARNING: [pool www] child 16563 exited on signal 15 (SIGTERM) after 2.334883 seconds from start
 * Times are local, without a zone, like nginx's.
 */
export interface PoolLogEvents {
  pool: string;
  /** "server reached pm.max_children setting": only dynamic and ondemand pools log it; a static pool says nothing when full. */
  maxChildrenReached: number;
  maxChildrenSetting: number | null;
  /** request_terminate_timeout kills. */
  timedOut: number;
  /** request_slowlog_timeout: requests logged as slow. */
  slow: number;
  /** Children that died on a signal, by signal name ("SIGTERM": the terminate timeout's kill; "SIGKILL": OOM or kill -9). */
  signals: Record<string, number>;
  /** The requests timed out or slow, most frequent first: 'GET /slow.php' (script '/x/slow.php') ×2. */
  requests: string[];
  /** Each request_terminate_timeout kill (up to MAX_KILLS, the latest kept), to match against nginx's errors at that time and the location that served it. */
  kills: FpmKill[];
  /** Children that died on a signal php-fpm did not send them (up to MAX_KILLS, the latest kept): segfaults, aborts, kill -9, OOM kills. */
  crashes: FpmCrash[];
  first: string | null;
  last: string | null;
}

export interface FpmKill {
  /** The log line's time, epoch ms (local, whole seconds). */
  atMs: number;
  /** The time as php-fpm wrote it. */
  at: string;
  /** The request line php-fpm names: 'GET /slow.php' (method, SCRIPT_NAME or PATH_INFO, ?query). */
  request: string;
  script: string;
  /** How long it had run when killed, seconds. */
  sec: number;
}

/**
 * A child that exited on a signal that was not php-fpm's own doing: not SIGTERM or SIGQUIT (what the master sends
 * to stop or reload children), and not any signal of a child php-fpm had just logged "execution timed out" for
 * (request_terminate_timeout's kill, SIGKILL included when the SIGTERM did not work).
 */
export interface FpmCrash {
  atMs: number;
  at: string;
  pid: number;
  /** SIGSEGV, SIGABRT, SIGKILL, … */
  signal: string;
  /** The log line as php-fpm wrote it. */
  line: string;
}

/** Signals the master itself sends its children to stop them (fpm_process_ctl.c, fpm_request.c). */
const OWN_SIGNALS = new Set(['SIGTERM', 'SIGQUIT']);

const MAX_KILLS = 50;
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const LINE = /^\[(\d\d)-(\w{3})-(\d{4}) (\d\d):(\d\d):(\d\d)(?:\.\d+)?\] (\w+): (?:\[pool ([^\]]+)\] )?(.*)$/;
const REACHED = /^server reached (?:pm\.)?max_children setting \((\d+)\), consider raising it/;
const REQUEST = /^child (\d+), script '(.*)' \(request: "(.*)"\) (execution timed out|executing too slow) \(([\d.]+) sec\), (?:terminating|logging)$/;
// fpm_children.c: "child %d exited on signal %d (%s%s) after %ld.%06d seconds from start", the second %s " - core dumped" or "".
const EXITED = /^child (\d+) exited on signal (\d+) \((\w+)(?: - core dumped)?\)/;

/** Local time of a php-fpm log line, epoch ms; null when the line has no time. */
export function fpmLineTime(line: string): number | null {
  const m = LINE.exec(line);
  if (!m) return null;
  const month = MONTHS.indexOf(m[2]!);
  if (month < 0) return null;
  return new Date(Number(m[3]), month, Number(m[1]), Number(m[4]), Number(m[5]), Number(m[6])).getTime();
}

export function analyzeFpmLog(text: string, fromMs: number, toMs: number): PoolLogEvents[] {
  const pools = new Map<string, PoolLogEvents & { counts: Map<string, number> }>();
  // Children php-fpm logged a request_terminate_timeout kill for: their exit, on whatever signal, is that kill.
  const timedOutPids = new Set<string>();
  for (const line of text.split('\n')) {
    const m = LINE.exec(line);
    if (!m || !m[8]) continue;
    const at = fpmLineTime(line);
    if (at === null || at < fromMs || at > toMs + 1000) continue;
    const name = m[8];
    let pool = pools.get(name);
    if (!pool) {
      pool = { pool: name, maxChildrenReached: 0, maxChildrenSetting: null, timedOut: 0, slow: 0, signals: {}, requests: [], kills: [], crashes: [], first: null, last: null, counts: new Map() };
      pools.set(name, pool);
    }
    const message = m[9]!;
    const stamp = line.slice(1, line.indexOf(']'));
    let known = true;
    const reached = REACHED.exec(message);
    const request = REQUEST.exec(message);
    const exited = EXITED.exec(message);
    if (reached) {
      pool.maxChildrenReached++;
      pool.maxChildrenSetting = Number(reached[1]);
    } else if (request) {
      if (request[4] === 'execution timed out') {
        pool.timedOut++;
        timedOutPids.add(`${name}/${request[1]}`);
        pool.kills.push({ atMs: at, at: stamp, request: request[3]!, script: request[2]!, sec: Number(request[5]) });
        if (pool.kills.length > MAX_KILLS) pool.kills.shift();
      } else pool.slow++;
      const key = `"${request[3]}" (script ${request[2]})`;
      pool.counts.set(key, (pool.counts.get(key) ?? 0) + 1);
    } else if (exited) {
      const signal = exited[3]!;
      pool.signals[signal] = (pool.signals[signal] ?? 0) + 1;
      if (!OWN_SIGNALS.has(signal) && !timedOutPids.has(`${name}/${exited[1]}`)) {
        pool.crashes.push({ atMs: at, at: stamp, pid: Number(exited[1]), signal, line });
        if (pool.crashes.length > MAX_KILLS) pool.crashes.shift();
      }
    } else known = false;
    if (known) {
      pool.first ??= stamp;
      pool.last = stamp;
    }
  }
  return [...pools.values()]
    .map(({ counts, ...rest }) => ({ ...rest, requests: [...counts].sort((a, b) => b[1] - a[1]).map(([k, n]) => `${k} ×${n}`) }))
    .filter((p) => p.first !== null);
}

/**
 * The slowlog: one entry per slow request, a header, the script and the PHP
 * stack, innermost call first:
 *   [01-Dec-2026 13:59:28]  [pool www] pid 16563
 *   script_filename = /tmp/fpmx/slow.php
 *   [0x00007fc5cf015070] sleep() /tmp/fpmx/slow.php:1
 * Per pool: the calls requests were in when they ran slow, most frequent first.
 */
export function analyzeSlowlog(text: string, fromMs: number, toMs: number): Record<string, string[]> {
  const counts = new Map<string, Map<string, number>>();
  const entries = text.split(/\n(?=\[\d\d-\w{3}-\d{4} )/);
  for (const entry of entries) {
    const lines = entry.split('\n');
    const head = /^\[([^\]]+)\]\s+\[pool ([^\]]+)\] pid \d+/.exec(lines[0] ?? '');
    if (!head) continue;
    const at = fpmLineTime(`[${head[1]}] X: `);
    if (at === null || at < fromMs || at > toMs + 1000) continue;
    const script = lines.find((l) => l.startsWith('script_filename = '))?.slice('script_filename = '.length) ?? '?';
    const frame = lines.find((l) => /^\[0x[0-9a-f]+\] /.test(l))?.replace(/^\[0x[0-9a-f]+\] /, '') ?? 'no stack';
    const key = `${frame} in ${script}`;
    const pool = counts.get(head[2]!) ?? new Map<string, number>();
    pool.set(key, (pool.get(key) ?? 0) + 1);
    counts.set(head[2]!, pool);
  }
  return Object.fromEntries([...counts].map(([pool, calls]) => [pool, [...calls].sort((a, b) => b[1] - a[1]).map(([k, n]) => `${k} ×${n}`)]));
}
