import type { ConfigFile, Directive } from './ast.js';
import { parseServerAddress, splitPassTarget, type BackendAddress } from './address.js';
import { walkDirectives } from './walk.js';

/** Directives that hand a request to a backend. */
export const PASS_DIRECTIVES = ['proxy_pass', 'fastcgi_pass', 'uwsgi_pass', 'scgi_pass', 'grpc_pass', 'memcached_pass'] as const;

export interface UpstreamServer {
  address: string;
  resolved: BackendAddress | null;
  params: string[];
  down: boolean;
  backup: boolean;
}

export interface UpstreamBlock {
  name: string;
  file: string;
  line: number;
  servers: UpstreamServer[];
  keepalive: number | null;
}

export interface PassSite {
  directive: string;
  target: string;
  file: string;
  line: number;
  /** upstream: names an upstream{} block; address: a literal address; variable: only known per request. */
  kind: 'upstream' | 'address' | 'variable' | 'unparsed';
  upstream: string | null;
}

export interface Backend {
  address: string;
  kind: 'tcp' | 'unix';
  host: string | null;
  port: number | null;
  path: string | null;
  /** The upstream{} it belongs to, or null for a literal proxy_pass address. */
  upstream: string | null;
  /** Marked `down` in the upstream block: nginx does not send it traffic. */
  markedDown: boolean;
  backup: boolean;
  usedBy: Array<{ directive: string; file: string; line: number }>;
}

export function findUpstreams(files: ConfigFile[]): UpstreamBlock[] {
  const blocks: UpstreamBlock[] = [];
  for (const file of files) {
    for (const { directive } of walkDirectives(file.nodes)) {
      if (directive.name !== 'upstream' || !directive.block || !directive.args[0]) continue;
      blocks.push(readUpstream(directive));
    }
  }
  return blocks;
}

function readUpstream(block: Directive): UpstreamBlock {
  const servers: UpstreamServer[] = [];
  let keepalive: number | null = null;
  for (const node of block.block ?? []) {
    if (node.kind !== 'directive') continue;
    if (node.name === 'server' && node.args[0]) {
      const params = node.args.slice(1).map((a) => a.value);
      servers.push({
        address: node.args[0].value,
        resolved: parseServerAddress(node.args[0].value),
        params,
        down: params.includes('down'),
        backup: params.includes('backup'),
      });
    }
    if (node.name === 'keepalive' && node.args[0]) keepalive = Number(node.args[0].value);
  }
  return { name: block.args[0]!.value, file: block.file, line: block.line, servers, keepalive: Number.isFinite(keepalive) ? keepalive : null };
}

export function findPassSites(files: ConfigFile[], upstreams: UpstreamBlock[]): PassSite[] {
  const names = new Set(upstreams.map((u) => u.name));
  const sites: PassSite[] = [];
  for (const file of files) {
    for (const { directive } of walkDirectives(file.nodes)) {
      if (!(PASS_DIRECTIVES as readonly string[]).includes(directive.name) || !directive.args[0]) continue;
      const target = directive.args[0].value;
      const base = { directive: directive.name, target, file: directive.file, line: directive.line };
      if (target.includes('$')) {
        sites.push({ ...base, kind: 'variable', upstream: null });
        continue;
      }
      const { hostPart, defaultPort } = splitPassTarget(target);
      if (names.has(hostPart)) sites.push({ ...base, kind: 'upstream', upstream: hostPart });
      else sites.push({ ...base, kind: parseServerAddress(hostPart, defaultPort) ? 'address' : 'unparsed', upstream: null });
    }
  }
  return sites;
}

/** Every concrete address nginx may connect to, once each, with where it is used. */
export function listBackends(upstreams: UpstreamBlock[], sites: PassSite[]): Backend[] {
  const byKey = new Map<string, Backend>();
  const add = (resolved: BackendAddress, upstream: string | null, extra: { markedDown: boolean; backup: boolean }, usedBy: Backend['usedBy']) => {
    const key = `${upstream ?? ''}\0${resolved.address}`;
    const existing = byKey.get(key);
    if (existing) {
      existing.usedBy.push(...usedBy);
      return;
    }
    byKey.set(key, {
      address: resolved.address,
      kind: resolved.kind,
      host: resolved.kind === 'tcp' ? resolved.host : null,
      port: resolved.kind === 'tcp' ? resolved.port : null,
      path: resolved.kind === 'unix' ? resolved.path : null,
      upstream,
      ...extra,
      usedBy: [...usedBy],
    });
  };
  for (const site of sites) {
    const usedBy = [{ directive: site.directive, file: site.file, line: site.line }];
    if (site.kind === 'upstream') {
      for (const upstream of upstreams.filter((u) => u.name === site.upstream)) {
        for (const server of upstream.servers) {
          if (server.resolved) add(server.resolved, upstream.name, { markedDown: server.down, backup: server.backup }, usedBy);
        }
      }
    } else if (site.kind === 'address') {
      const { hostPart, defaultPort } = splitPassTarget(site.target);
      const resolved = parseServerAddress(hostPart, defaultPort);
      if (resolved) add(resolved, null, { markedDown: false, backup: false }, usedBy);
    }
  }
  return [...byKey.values()];
}
