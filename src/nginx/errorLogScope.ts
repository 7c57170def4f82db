import type { Directive } from './ast.js';
import type { ConfigSet } from './load.js';
import { walkResolved } from './resolved.js';

/** The directives that pass a request to a backend, whose failures nginx logs in the location's error log. */
const PASS = new Set(['proxy_pass', 'fastcgi_pass', 'uwsgi_pass', 'scgi_pass', 'grpc_pass', 'memcached_pass']);

export interface LogDestination {
  path: string;
  level: string;
}

/** Where one *_pass logs its upstream failures. */
export interface PassErrorLogs {
  directive: string;
  target: string;
  file: string;
  line: number;
  /** The server block around it ("server_name a b at file:line"), for the operator. */
  server: string;
  /** The error_log destinations in effect there. */
  logs: LogDestination[];
}

const key = (d: Directive) => `${d.file}\0${d.start}`;

/**
 * The error_log in effect at each *_pass of the http block. nginx writes a
 * request's upstream errors to its location's log (ngx_http_update_location_config
 * sets the connection's log to clcf->error_log). A block with its own error_log
 * directives uses those (all of them, when several), else its parent's; at the
 * top, the main-level error_log, else the compiled-in default
 * (ngx_http_core_merge_loc_conf: conf->error_log = prev->error_log, else the cycle's log).
 */
export function passErrorLogs(set: ConfigSet, compiledIn: LogDestination): PassErrorLogs[] {
  const placed = [...walkResolved(set)];
  const logsIn = new Map<string, LogDestination[]>();
  const mainLevel: LogDestination[] = [];
  for (const { directive, parents } of placed) {
    if (directive.name !== 'error_log' || !directive.args[0]) continue;
    const log = { path: directive.args[0].value, level: directive.args[1]?.value ?? 'error' };
    if (parents.length === 0) mainLevel.push(log);
    else logsIn.set(key(parents.at(-1)!), [...(logsIn.get(key(parents.at(-1)!)) ?? []), log]);
  }
  if (mainLevel.length === 0) mainLevel.push(compiledIn);
  const out: PassErrorLogs[] = [];
  for (const { directive, parents } of placed) {
    if (!PASS.has(directive.name) || parents[0]?.name !== 'http') continue;
    const own = [...parents].reverse().find((p) => logsIn.has(key(p)));
    const server = parents.find((p) => p.name === 'server');
    const names = server ? placed.filter((p) => p.parents.at(-1) === server && p.directive.name === 'server_name').flatMap((p) => p.directive.args.map((a) => a.value)) : [];
    out.push({
      directive: directive.name,
      target: directive.args[0]?.value ?? '',
      file: directive.file,
      line: directive.line,
      server: server ? `server${names.length ? ` ${names.join(' ')}` : ''} at ${server.file}:${server.line}` : 'http',
      logs: own ? logsIn.get(key(own))! : mainLevel,
    });
  }
  return out;
}
