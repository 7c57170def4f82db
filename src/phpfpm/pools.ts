import { isAbsolute, join } from 'node:path';
import { parseFpmSeconds, type IniFile } from './ini.js';

/**
 * From parsed php-fpm config files to pools with their effective settings and
 * where each comes from. Defaults are php-src's (sapi/fpm/fpm/fpm_conf.c,
 * fpm_sockets.h) for Linux: listen.backlog -1, which listen() caps at
 * net.core.somaxconn (confirmed here: a pool without it shows Send-Q 4096 =
 * somaxconn in `ss -lx`); request_terminate_timeout and
 * request_slowlog_timeout 0 (off); error_log "log/php-fpm.log" under the
 * prefix.
 */
export interface Setting<T> {
  value: T;
  /** Where it is set; null for php-fpm's default. */
  file: string | null;
  line: number | null;
}

export interface FpmPool {
  name: string;
  /** The file and line of its (first) [name] header. */
  file: string;
  line: number;
  listen: Setting<string> | null;
  /** listen as nginx would name it: unix:/path or host:port ("*:9000" for a port alone); null when unresolved. */
  address: string | null;
  pm: Setting<string> | null;
  maxChildren: Setting<number> | null;
  /** listen.backlog as configured: -1 (the Linux default) means "as many as somaxconn allows". */
  backlog: Setting<number>;
  terminateTimeoutSec: Setting<number>;
  slowlogTimeoutSec: Setting<number>;
  slowlog: Setting<string> | null;
}

export interface FpmConfig {
  config: string;
  /** The error_log file, or "syslog" when php-fpm logs to syslog. */
  errorLog: Setting<string>;
  /** syslog.ident: the tag php-fpm's syslog lines carry (journalctl -t IDENT); php-fpm's default "php-fpm". */
  syslogIdent: Setting<string>;
  pools: FpmPool[];
  /** Files read, in order. */
  files: string[];
  /** What could not be resolved (an unreadable include, a ${VAR} left as is, an assumed prefix). */
  notes: string[];
}

/** What php-fpm falls back to without -p: PHP_LOCALSTATEDIR for logs, PHP_PREFIX for includes and pool paths (Debian's build). */
export const DEFAULT_LOG_PREFIX = '/var';
export const DEFAULT_PREFIX = '/usr';

export type ReadConfig = (path: string) => IniFile | { error: string };
export type Glob = (pattern: string) => string[] | { error: string };

/** include= patterns of a parsed file, resolved to absolute patterns. */
export function includePatterns(file: IniFile, prefix: string | null): Array<{ pattern: string; line: number }> {
  return file.sections.flatMap((s) => s.entries.filter((e) => e.key === 'include').map((e) => ({ pattern: absolute(e.value, prefix ?? DEFAULT_PREFIX), line: e.line })));
}

function absolute(path: string, prefix: string): string {
  return isAbsolute(path) ? path : join(prefix, path);
}

/** Reads a master's config and its includes (in include order, as php-fpm does) into pools. */
export function resolveFpmConfig(config: string, read: ReadConfig, glob: Glob, prefix: string | null = null): FpmConfig {
  const notes: string[] = [];
  const files: string[] = [];
  const pools = new Map<string, FpmPool>();
  let errorLog: Setting<string> = { value: absolute('log/php-fpm.log', prefix ?? DEFAULT_LOG_PREFIX), file: null, line: null };
  let syslogIdent: Setting<string> = { value: 'php-fpm', file: null, line: null };
  let errorLogRelative = true;
  const visit = (path: string, depth: number) => {
    if (depth > 8 || files.includes(path)) return;
    const parsed = read(path);
    if ('error' in parsed) {
      notes.push(`${path}: ${parsed.error}`);
      return;
    }
    files.push(path);
    for (const section of parsed.sections) {
      const global = section.name === 'global';
      let pool = global ? null : pools.get(section.name);
      if (!global && !pool) {
        pool = {
          name: section.name,
          file: path,
          line: section.line,
          listen: null,
          address: null,
          pm: null,
          maxChildren: null,
          backlog: { value: -1, file: null, line: null },
          terminateTimeoutSec: { value: 0, file: null, line: null },
          slowlogTimeoutSec: { value: 0, file: null, line: null },
          slowlog: null,
        };
        pools.set(section.name, pool);
      }
      for (const entry of section.entries) {
        const at = { file: path, line: entry.line };
        if (entry.key === 'include') {
          const pattern = absolute(entry.value, prefix ?? DEFAULT_PREFIX);
          const matches = glob(pattern);
          if ('error' in matches) notes.push(`include=${entry.value} at ${path}:${entry.line}: ${matches.error}`);
          else for (const match of matches) visit(match, depth + 1);
          continue;
        }
        if (global) {
          // fpm_stdio_open_error_log: only "syslog" (any case) is syslog. "syslog:local0" is not nginx's syntax here:
          // php-fpm 8.2 creates a file of that name under its prefix (checked with php-fpm8.2 -t).
          if (entry.key === 'error_log') {
            const syslog = entry.value.toLowerCase() === 'syslog';
            errorLogRelative = !syslog && !isAbsolute(entry.value);
            errorLog = { value: syslog ? 'syslog' : absolute(entry.value, prefix ?? DEFAULT_LOG_PREFIX), ...at };
          }
          if (entry.key === 'syslog.ident') syslogIdent = { value: entry.value, ...at };
          continue;
        }
        const p = pool!;
        const seconds = (what: string) => {
          const value = parseFpmSeconds(entry.value);
          if (value === null) notes.push(`${what} = ${entry.value} at ${path}:${entry.line} is not a time php-fpm reads`);
          return value;
        };
        switch (entry.key) {
          case 'listen':
            p.listen = { value: entry.value, ...at };
            break;
          case 'pm':
            p.pm = { value: entry.value, ...at };
            break;
          case 'pm.max_children':
            if (/^\d+$/.test(entry.value)) p.maxChildren = { value: Number(entry.value), ...at };
            else notes.push(`pm.max_children = ${entry.value} at ${path}:${entry.line} is not a number`);
            break;
          case 'listen.backlog':
            if (/^-?\d+$/.test(entry.value)) p.backlog = { value: Number(entry.value), ...at };
            else notes.push(`listen.backlog = ${entry.value} at ${path}:${entry.line} is not a number`);
            break;
          case 'request_terminate_timeout': {
            const value = seconds(entry.key);
            if (value !== null) p.terminateTimeoutSec = { value, ...at };
            break;
          }
          case 'request_slowlog_timeout': {
            const value = seconds(entry.key);
            if (value !== null) p.slowlogTimeoutSec = { value, ...at };
            break;
          }
          case 'slowlog':
            p.slowlog = { value: entry.value, ...at };
            break;
        }
      }
    }
  };
  visit(config, 0);
  for (const pool of pools.values()) {
    // fpm_conf.c expands $pool in listen and slowlog; relative slowlog paths are under the prefix.
    const expand = (value: string) => value.replaceAll('$pool', pool.name);
    if (pool.listen) {
      const listen = expand(pool.listen.value);
      if (/\$\{[^}]*\}/.test(listen)) notes.push(`pool ${pool.name}: listen = ${pool.listen.value} names an environment variable this tool does not know`);
      else pool.address = listenAddress(listen);
    }
    if (pool.slowlog) pool.slowlog = { ...pool.slowlog, value: absolute(expand(pool.slowlog.value), prefix ?? DEFAULT_PREFIX) };
  }
  // The master retitles itself ("php-fpm: master process (CONFIG)", /proc/PID/cmdline too), so a -p it was started
  // with cannot be seen: a relative error_log is resolved as without -p, and said so.
  if (prefix === null && errorLog.value !== 'syslog' && errorLogRelative) notes.push(`error_log resolved against ${DEFAULT_LOG_PREFIX}, php-fpm's prefix without -p (a -p PREFIX the master was started with does not show in its title)`);
  return { config, errorLog, syslogIdent, pools: [...pools.values()], files, notes };
}

/**
 * listen values (fpm_sockets.c): "/path" a unix socket, "port" every
 * address, "host:port", "[v6]:port". Returned the way nginx logs a peer.
 */
export function listenAddress(listen: string): string {
  if (listen.startsWith('/')) return `unix:${listen}`;
  if (/^\d+$/.test(listen)) return `*:${listen}`;
  return listen;
}

/** The backlog listen() really gets: a negative or larger value is capped at somaxconn (Linux). */
export function effectiveBacklog(configured: number, somaxconn: number | null): number | null {
  if (configured < 0) return somaxconn;
  return somaxconn !== null ? Math.min(configured, somaxconn) : configured;
}

/** Does a pool's listen address serve the TCP backend host:port? Wildcards serve every local address. */
export function tcpMatches(poolAddress: string, backendHost: string, backendPort: number): boolean {
  const m = /^(?:\[([^\]]+)\]|([^:]*)):(\d+)$/.exec(poolAddress);
  if (!m || Number(m[3]) !== backendPort) return false;
  const host = (m[1] ?? m[2] ?? '').toLowerCase();
  const wanted = backendHost.replace(/^\[|\]$/g, '').toLowerCase();
  if (['*', '', '0.0.0.0', '::'].includes(host)) return true;
  if (host === wanted) return true;
  const loopback = new Set(['localhost', '127.0.0.1', '::1']);
  return loopback.has(host) && loopback.has(wanted);
}
