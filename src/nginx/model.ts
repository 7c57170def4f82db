import type { Directive } from './ast.js';
import type { ConfigSet } from './load.js';
import { childrenOf, walkResolved } from './resolved.js';
import { splitPassTarget } from './address.js';
import { parseSeconds, parseSize } from './units.js';
import { atLeast, formatVersion, type NginxVersion } from './version.js';
import { handlerSettings, PASS_DIRECTIVES, type HandlerSettings, type Origin, type PassFamily } from './handler.js';

export type { HandlerSettings, Origin, PassFamily } from './handler.js';

/**
 * What nginx will actually do: upstreams, servers, locations with their
 * effective proxy settings (http → server → location inheritance, the
 * proxy_set_header all-or-nothing rule, defaults of the running version),
 * and where it logs. Every value says where it came from.
 */
export interface UpstreamModel {
  name: string;
  file: string;
  line: number;
  servers: Array<{ address: string; params: string[]; file: string; line: number }>;
  /** Idle keep-alive connections cached per worker; null when keep-alive is off. */
  keepalive: number | null;
  keepaliveOrigin: Origin;
  /**
   * Upstream keepalive_timeout in seconds. null: the running nginx is older than 1.15.3, which has no such
   * directive and never closes an idle cached connection itself (it waits for the backend to close it).
   */
  keepaliveTimeoutSec: number | null;
  keepaliveRequests: number;
  keepaliveTimeSec: number;
  maxFails: Array<{ address: string; maxFails: number; failTimeoutSec: number }>;
}

export interface ListenModel {
  address: string;
  backlog: number | null;
  defaultServer: boolean;
  ssl: boolean;
}

export interface EffectiveProxy {
  proxyHttpVersion: string;
  /** The Connection header sent upstream: "close" (nginx's own before 1.29.7), "" (none), or what proxy_set_header says. */
  connectionHeader: string | null;
  upgradeHeader: string | null;
  proxyConnectTimeoutSec: number;
  proxySendTimeoutSec: number;
  proxyReadTimeoutSec: number;
  proxyBufferSize: string;
  proxyBufferSizeBytes: number;
  proxyBuffering: boolean;
  proxyRequestBuffering: boolean;
  proxyNextUpstream: string[];
  proxyNextUpstreamTries: number;
  proxyNextUpstreamTimeoutSec: number;
  proxySocketKeepalive: boolean;
  clientMaxBodySize: string;
  /** proxy_set_header as in effect here: all from the nearest level that sets any. */
  headers: Record<string, string>;
  /** Those headers come from an enclosing level (server, http, an outer location): one proxy_set_header added here drops them all. */
  headersInherited: boolean;
  /** Upstream keep-alive really reuses connections for this location (in its own family: fastcgi needs fastcgi_keep_conn on). */
  keepaliveInEffect: boolean;
  origins: Record<string, Origin>;
  /** The settings of the location's own family (fastcgi_*, uwsgi_*, …); null when the location passes nothing on. */
  handler: HandlerSettings | null;
  /** root in effect ($document_root, which SCRIPT_FILENAME is usually built from); null when no level sets one. */
  root: string | null;
}

export interface LocationModel {
  server: { listen: ListenModel[]; serverName: string[]; file: string; line: number };
  match: string;
  file: string;
  line: number;
  /** proxy_pass, fastcgi_pass, …: how the location hands requests on, if it does. */
  handler: string | null;
  /** The family of that directive: proxy_pass → 'proxy', fastcgi_pass → 'fastcgi', …; null when none. */
  family: PassFamily | null;
  proxyPass: string | null;
  upstream: string | null;
  effective: EffectiveProxy;
}

export interface AccessLogModel {
  path: string;
  format: string;
  formatText: string;
  hasStatus: boolean;
  hasUpstreamStatus: boolean;
  file: string | null;
  line: number | null;
}

export interface ConfigModel {
  /** Main-context capacity settings: worker_processes, events { worker_connections }, worker_rlimit_nofile. */
  workers: { processes: string; connections: number; rlimitNofile: number | null };
  nginxVersion: string | null;
  /** Defaults were taken for this version (or assumed older than 1.29.7 when unknown). */
  defaultsFor: string;
  files: string[];
  upstreams: UpstreamModel[];
  servers: Array<{ listen: ListenModel[]; serverName: string[]; file: string; line: number }>;
  locations: LocationModel[];
  errorLogs: Array<{ path: string; level: string; file: string | null; line: number | null }>;
  accessLogs: AccessLogModel[];
  logFormats: Record<string, string>;
  problems: Array<{ file: string; line: number; message: string }>;
}

export interface ModelOptions {
  version: NginxVersion | null;
  /** Compiled-in --error-log-path / --http-log-path (nginx -V), used when the config sets none. */
  defaultErrorLog?: string;
  defaultAccessLog?: string;
}

const COMBINED = '$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent "$http_referer" "$http_user_agent"';
const PASS = Object.keys(PASS_DIRECTIVES);

export function buildModel(set: ConfigSet, options: ModelOptions): ConfigModel {
  const version = options.version;
  const modern = version !== null && atLeast(version, 1, 29, 7);
  const model: ConfigModel = {
    workers: { processes: '1', connections: 512, rlimitNofile: null },
    nginxVersion: version ? formatVersion(version) : null,
    defaultsFor: version ? formatVersion(version) : 'unknown nginx version: defaults of releases before 1.29.7 assumed',
    files: set.files.map((f) => f.path),
    upstreams: [],
    servers: [],
    locations: [],
    errorLogs: [],
    accessLogs: [],
    logFormats: { combined: COMBINED },
    problems: [...set.problems],
  };

  const placed = [...walkResolved(set)];
  for (const { directive, parents } of placed) {
    const context = parents.map((p) => p.name).join('/');
    if (directive.name === 'log_format' && context === 'http' && directive.args.length >= 2) {
      const args = directive.args.slice(1).filter((a, i) => !(i === 0 && a.value.startsWith('escape=')));
      model.logFormats[directive.args[0]!.value] = args.map((a) => a.value).join('');
    }
    if (directive.name === 'error_log' && directive.args[0]) {
      model.errorLogs.push({ path: directive.args[0].value, level: directive.args[1]?.value ?? 'error', file: directive.file, line: directive.line });
    }
    if (directive.name === 'upstream' && context === 'http' && directive.block) model.upstreams.push(upstreamModel(directive, set, modern, version));
    if (directive.name === 'worker_processes' && context === '' && directive.args[0]) model.workers.processes = directive.args[0].value;
    if (directive.name === 'worker_connections' && context === 'events' && directive.args[0]) model.workers.connections = Number(directive.args[0].value);
    if (directive.name === 'worker_rlimit_nofile' && context === '' && directive.args[0]) model.workers.rlimitNofile = Number(directive.args[0].value);
  }
  if (!placed.some((p) => p.directive.name === 'error_log' && p.parents.length === 0)) {
    model.errorLogs.unshift({ path: options.defaultErrorLog ?? '/var/log/nginx/error.log', level: 'error', file: null, line: null });
  }

  const upstreamNames = new Set(model.upstreams.map((u) => u.name));
  const upstreamByName = new Map(model.upstreams.map((u) => [u.name, u]));
  for (const { directive, parents } of placed) {
    if (directive.name === 'server' && directive.block && parents.length === 1 && parents[0]!.name === 'http') model.servers.push(serverModel(directive, set));
    if (directive.name === 'access_log' && directive.args[0] && parents[0]?.name === 'http') {
      const path = directive.args[0].value;
      if (path === 'off') continue;
      const format = directive.args[1]?.value ?? 'combined';
      model.accessLogs.push(accessLog(path, format, model.logFormats, directive));
    }
    if (directive.name !== 'location' || !directive.block) continue;
    const serverIndex = parents.findIndex((p) => p.name === 'server');
    if (serverIndex === -1 || parents[0]?.name !== 'http') continue;
    const server = serverModel(parents[serverIndex]!, set);
    const chain = [...parents, directive];
    const own = childrenOf(directive, set);
    const pass = own.find((d) => PASS.includes(d.name));
    const target = pass?.args[0]?.value ?? null;
    const hostPart = target && !target.includes('$') ? splitPassTarget(target).hostPart : null;
    const upstream = hostPart && upstreamNames.has(hostPart) ? hostPart : null;
    const family = pass ? PASS_DIRECTIVES[pass.name]! : null;
    const effective = effectiveProxy(chain, set, modern, upstream ? upstreamByName.get(upstream)! : null, family);
    model.locations.push({
      server: server,
      match: directive.args.map((a) => a.value).join(' '),
      file: directive.file,
      line: directive.line,
      handler: pass?.name ?? null,
      family,
      proxyPass: target,
      upstream,
      effective,
    });
  }
  if (!placed.some((p) => p.directive.name === 'access_log' && p.parents.length === 1 && p.parents[0]!.name === 'http')) {
    model.accessLogs.unshift(accessLog(options.defaultAccessLog ?? '/var/log/nginx/access.log', 'combined', model.logFormats, null));
  }
  return model;
}

function accessLog(path: string, format: string, formats: Record<string, string>, at: Directive | null): AccessLogModel {
  const formatText = formats[format] ?? '';
  return {
    path,
    format,
    formatText,
    hasStatus: /\$status\b/.test(formatText),
    hasUpstreamStatus: /\$upstream_status\b/.test(formatText),
    file: at?.file ?? null,
    line: at?.line ?? null,
  };
}

function upstreamModel(block: Directive, set: ConfigSet, modern: boolean, version: NginxVersion | null): UpstreamModel {
  const children = childrenOf(block, set);
  const find = (name: string) => children.filter((d) => d.name === name).at(-1);
  const keepalive = find('keepalive');
  const timeout = find('keepalive_timeout');
  const requests = find('keepalive_requests');
  const time = find('keepalive_time');
  const servers = children.filter((d) => d.name === 'server' && d.args[0]);
  const oldRequestsDefault = version !== null && !atLeast(version, 1, 19, 10);
  // keepalive_timeout in upstream{} came with 1.15.3 (unknown version: assumed newer, like the other defaults).
  const idleTimeout = version === null || atLeast(version, 1, 15, 3);
  return {
    name: block.args[0]?.value ?? '',
    file: block.file,
    line: block.line,
    servers: servers.map((d) => ({ address: d.args[0]!.value, params: d.args.slice(1).map((a) => a.value), file: d.file, line: d.line })),
    // From 1.29.7 an explicit upstream{} keeps 32 idle connections unless told otherwise.
    keepalive: keepalive ? Number(keepalive.args[0]?.value) : modern ? 32 : null,
    keepaliveOrigin: keepalive ? { file: keepalive.file, line: keepalive.line } : 'default',
    keepaliveTimeoutSec: idleTimeout ? ((timeout && parseSeconds(timeout.args[0]?.value ?? '')) ?? 60) : null,
    keepaliveRequests: requests ? Number(requests.args[0]?.value) : oldRequestsDefault ? 100 : 1000,
    keepaliveTimeSec: (time && parseSeconds(time.args[0]?.value ?? '')) ?? 3600,
    maxFails: servers.map((d) => {
      const param = (name: string) => d.args.find((a) => a.value.startsWith(`${name}=`))?.value.slice(name.length + 1);
      return { address: d.args[0]!.value, maxFails: Number(param('max_fails') ?? 1), failTimeoutSec: parseSeconds(param('fail_timeout') ?? '10s') ?? 10 };
    }),
  };
}

function serverModel(block: Directive, set: ConfigSet): ConfigModel['servers'][number] {
  const children = childrenOf(block, set);
  const listen = children
    .filter((d) => d.name === 'listen' && d.args[0])
    .map((d) => {
      const params = d.args.slice(1).map((a) => a.value);
      const backlog = params.find((p) => p.startsWith('backlog='));
      return { address: d.args[0]!.value, backlog: backlog ? Number(backlog.slice(8)) : null, defaultServer: params.includes('default_server') || params.includes('default'), ssl: params.includes('ssl') };
    });
  const serverName = children.filter((d) => d.name === 'server_name').flatMap((d) => d.args.map((a) => a.value));
  return { listen: listen.length ? listen : [{ address: '80', backlog: null, defaultServer: false, ssl: false }], serverName, file: block.file, line: block.line };
}

/** Nearest setting wins: the innermost block of http → server → location(s) that has the directive. */
function effectiveProxy(chain: Directive[], set: ConfigSet, modern: boolean, upstream: UpstreamModel | null, family: PassFamily | null): EffectiveProxy {
  const levels = chain.filter((d) => ['http', 'server', 'location'].includes(d.name)).map((d) => childrenOf(d, set));
  const origins: Record<string, Origin> = {};
  const nearest = (name: string): Directive | undefined => {
    for (let i = levels.length - 1; i >= 0; i--) {
      const found = levels[i]!.filter((d) => d.name === name).at(-1);
      if (found) return found;
    }
    return undefined;
  };
  const value = (field: string, name: string, fallback: string): string => {
    const found = nearest(name);
    origins[field] = found ? { file: found.file, line: found.line } : 'default';
    return found ? found.args.map((a) => a.value).join(' ') : fallback;
  };
  const flag = (field: string, name: string, fallback: boolean) => {
    const text = value(field, name, fallback ? 'on' : 'off');
    return text === 'on';
  };

  let headerLevel: Directive[] = [];
  let headerDepth = -1;
  for (let i = levels.length - 1; i >= 0; i--) {
    const here = levels[i]!.filter((d) => d.name === 'proxy_set_header');
    if (here.length > 0) {
      headerLevel = here;
      headerDepth = i;
      break;
    }
  }
  const headers: Record<string, string> = {};
  for (const d of headerLevel) if (d.args[0]) headers[d.args[0].value] = d.args[1]?.value ?? '';
  origins['headers'] = headerLevel[0] ? { file: headerLevel[0].file, line: headerLevel[0].line } : 'default';
  const headerValue = (name: string) => Object.entries(headers).find(([k]) => k.toLowerCase() === name.toLowerCase())?.[1];

  const proxyHttpVersion = value('proxyHttpVersion', 'proxy_http_version', modern ? '1.1' : '1.0');
  const explicitConnection = headerValue('Connection');
  const connectionHeader = explicitConnection ?? (modern ? null : 'close');
  const bufferSize = value('proxyBufferSize', 'proxy_buffer_size', '4k');
  const handler = family ? handlerSettings(family, nearest) : null;
  const proxyReuses = modern ? connectionHeader !== 'close' : proxyHttpVersion === '1.1' && explicitConnection === '';
  const keepaliveInEffect = upstream !== null && upstream.keepalive !== null && upstream.keepalive > 0 && familyReuses(family, proxyReuses, handler);
  return {
    proxyHttpVersion,
    connectionHeader,
    upgradeHeader: headerValue('Upgrade') ?? null,
    proxyConnectTimeoutSec: parseSeconds(value('proxyConnectTimeoutSec', 'proxy_connect_timeout', '60s')) ?? 60,
    proxySendTimeoutSec: parseSeconds(value('proxySendTimeoutSec', 'proxy_send_timeout', '60s')) ?? 60,
    proxyReadTimeoutSec: parseSeconds(value('proxyReadTimeoutSec', 'proxy_read_timeout', '60s')) ?? 60,
    proxyBufferSize: bufferSize,
    proxyBufferSizeBytes: parseSize(bufferSize) ?? 4096,
    proxyBuffering: flag('proxyBuffering', 'proxy_buffering', true),
    proxyRequestBuffering: flag('proxyRequestBuffering', 'proxy_request_buffering', true),
    proxyNextUpstream: value('proxyNextUpstream', 'proxy_next_upstream', 'error timeout').split(/\s+/),
    proxyNextUpstreamTries: Number(value('proxyNextUpstreamTries', 'proxy_next_upstream_tries', '0')),
    proxyNextUpstreamTimeoutSec: parseSeconds(value('proxyNextUpstreamTimeoutSec', 'proxy_next_upstream_timeout', '0')) ?? 0,
    proxySocketKeepalive: flag('proxySocketKeepalive', 'proxy_socket_keepalive', false),
    clientMaxBodySize: value('clientMaxBodySize', 'client_max_body_size', '1m'),
    headers,
    headersInherited: headerDepth !== -1 && headerDepth < levels.length - 1,
    keepaliveInEffect,
    origins,
    handler,
    root: value('root', 'root', '') || null,
  };
}

/**
 * Whether the family lets an upstream keepalive cache reuse a connection
 * (module sources: where u->keepalive is set): proxy by its HTTP version and
 * Connection header; fastcgi only with fastcgi_keep_conn on; grpc and memcached
 * always; uwsgi and scgi never. A location that passes nothing on (null) is
 * judged by the proxy rules, as before the family was modelled.
 */
function familyReuses(family: PassFamily | null, proxyReuses: boolean, handler: HandlerSettings | null): boolean {
  switch (family) {
    case 'fastcgi':
      return handler?.keepConn === true;
    case 'grpc':
    case 'memcached':
      return true;
    case 'uwsgi':
    case 'scgi':
      return false;
    default:
      return proxyReuses;
  }
}
