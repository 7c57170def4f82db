/**
 * --verify-traffic: a few GET requests through nginx's own local listener to
 * the route a finding is about, so a quiet server still shows whether a
 * change helped. Only GET, only to a loopback address, at most 200, each
 * with a timeout: asserted here, whatever the caller passes.
 */
import type { Host } from '../host/types.js';
import { splitPassTarget, parseServerAddress } from '../nginx/address.js';
import { nginxLocationFor } from '../../probes/parse/locationMatch.js';
import { isPeerOf } from '../../probes/parse/peers.js';
import { normalizePeer } from '../watch/count.js';

export interface VerifyTarget {
  /** Loopback address nginx listens on: 127.0.0.1 (or another 127/8 address) or ::1. */
  address: string;
  port: number;
  /** Host header: the server's first plain server_name, else the listen address. */
  host: string;
  /** Path requested: the affected route, else the location's prefix. */
  path: string;
  /** The location that serves it, "file:line (match)", for the operator. */
  location?: string;
}

export const MAX_VERIFY_GETS = 200;
const CONNECT_TIMEOUT_MS = 3000;
/** A request with no answer at all after this long counts as "no-answer". */
const ANSWER_TIMEOUT_MS = 10_000;
export const USER_AGENT = 'reset-doctor-verify';
/** The longest pause between two verification GETs: the whole run stays bounded. */
export const MAX_GAP_MS = 10_000;

/** What pickVerifyTarget needs of nginx-config's facts (by shape). */
export interface ConfigFactsForTarget {
  locations: ReadonlyArray<{
    server: { listen: ReadonlyArray<{ address: string; ssl: boolean; defaultServer: boolean }>; serverName: readonly string[]; file: string; line: number };
    match: string;
    file: string;
    line: number;
    handler: string | null;
    proxyPass: string | null;
    upstream: string | null;
  }>;
  backends: ReadonlyArray<{ address: string; upstream: string | null }>;
}

type Location = ConfigFactsForTarget['locations'][number];
type Server = Location['server'];

export interface TargetScope {
  /** Peers as nginx logs them (host:port, unix:/path, or an upstream group name). */
  peers: readonly string[];
  /** Request paths the finding's errors were logged for (error-log examplePath), best first; routes with ":id" are skipped. */
  paths?: readonly string[];
  /** upstream{} names the finding is about, when known. */
  upstreams?: readonly string[];
  /**
   * backend-listeners' checked backends (address and the addresses its name resolved to), when at hand:
   * a logged 127.0.0.1:8000 is then matched to `proxy_pass http://localhost:8000` (isPeerOf).
   */
  resolved?: ReadonlyArray<{ address: string; peers: ReadonlyArray<{ ip: string; port: number }>; listenerPath?: string | null }>;
}

/**
 * The peers and request paths a finding's signatures were logged for, from
 * the error-log probe's groups (most frequent first): what verifyChange
 * counts and pickVerifyTarget aims at. GET groups' paths come first (a GET
 * there repeats what failed); a path with a query keeps only its path.
 */
export function scopeFromErrorLog(errorLog: { groups: ReadonlyArray<{ signature: string; peer: string; method: string; examplePath: string; count: number }> }, signatures: readonly string[]): { peers: string[]; paths: string[] } {
  const groups = errorLog.groups.filter((g) => signatures.includes(g.signature)).sort((a, b) => b.count - a.count);
  const peers = [...new Set(groups.map((g) => g.peer).filter((p) => p !== '-'))];
  const ordered = [...groups.filter((g) => g.method === 'GET'), ...groups.filter((g) => g.method !== 'GET')];
  const paths = [...new Set(ordered.map((g) => g.examplePath.split(/[?#]/)[0]!).filter((p) => p.startsWith('/')))];
  return { peers, paths };
}

export function isLoopback(address: string): boolean {
  const a = address.replace(/^\[|\]$/g, '').toLowerCase();
  return /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(a) || a === '::1' || /^::ffff:127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(a);
}

/**
 * A listen directive's address → where to connect locally: a wildcard
 * (port only, *, 0.0.0.0, [::]) becomes the loopback of its family; a
 * loopback address stays; any other address is refused (only loopback).
 */
export function localListener(listen: string): { address: string; port: number } | { reason: string } {
  if (listen.startsWith('unix:')) return { reason: `listen ${listen} is a unix socket; verification GETs go to a loopback TCP address` };
  const portOnly = /^(\d+)$/.exec(listen);
  if (portOnly) return { address: '127.0.0.1', port: Number(portOnly[1]) };
  const v6 = /^\[([0-9a-fA-F:.]+)\](?::(\d+))?$/.exec(listen);
  const v4 = /^([^:[\]]+)(?::(\d+))?$/.exec(listen);
  const host = v6 ? v6[1]! : v4 ? v4[1]! : null;
  const port = Number((v6 ? v6[2] : v4?.[2]) ?? 80);
  if (host === null || !Number.isInteger(port) || port < 1 || port > 65535) return { reason: `listen ${listen} is not an address this tool reads` };
  if (host === '*' || host === '0.0.0.0') return { address: '127.0.0.1', port };
  if (host === '::') return { address: '::1', port };
  if (host === 'localhost') return { address: '127.0.0.1', port };
  if (isLoopback(host)) return { address: host, port };
  return { reason: `listen ${listen} is not a loopback or wildcard address: verification GETs go only to loopback` };
}

/** The server_name a client would send: the first that is neither a wildcard, a regex nor the catch-all "_" / "". */
function plainServerName(names: readonly string[]): string | null {
  return names.find((n) => n !== '' && n !== '_' && n !== '""' && !n.startsWith('~') && !n.includes('*') && !n.startsWith('.')) ?? null;
}

/** The path a location's match gives for a GET: "/api/" for "/api/" or "^~ /api/", "/x" for "= /x"; null for regexes and named locations. */
function prefixPath(match: string): string | null {
  const m = /^(=|\^~)?\s*(\/\S*)$/.exec(match.trim());
  return m ? m[2]! : null;
}

function reaches(location: Location, scope: TargetScope, facts: ConfigFactsForTarget): boolean {
  if (!location.handler || !location.proxyPass) return false;
  if (location.upstream && scope.upstreams?.includes(location.upstream)) return true;
  const peers = scope.peers.map(normalizePeer);
  // A config address is the logged peer itself, or one of the addresses its name resolved to.
  const isWanted = (address: string) => peers.some((p) => isPeerOf(p, normalizePeer(address), scope.resolved ?? []));
  if (location.upstream && peers.includes(location.upstream)) return true;
  const groups = new Set(facts.backends.filter((b) => b.upstream && isWanted(b.address)).map((b) => b.upstream!));
  if (location.upstream) return groups.has(location.upstream);
  const { hostPart, defaultPort } = splitPassTarget(location.proxyPass);
  const address = parseServerAddress(hostPart, defaultPort)?.address;
  return address !== undefined && isWanted(address);
}

const sameServer = (a: Server, b: Server) => a.file === b.file && a.line === b.line;

/**
 * Where to send verification GETs for a finding: nginx's own listener of the
 * server whose location reaches the affected peers, the Host header that
 * selects that server, and the affected route (or the location's prefix).
 * { reason } when there is no safe target: TLS only, a non-loopback listen,
 * only regex locations, no location reaching the peers.
 */
export function pickVerifyTarget(facts: ConfigFactsForTarget, scope: TargetScope): VerifyTarget | { reason: string } {
  const candidates = facts.locations.filter((l) => reaches(l, scope, facts));
  if (candidates.length === 0) {
    const named = [...scope.peers, ...(scope.upstreams ?? [])].join(', ') || 'no peer named';
    return { reason: `no location in the config passes requests to ${named}` };
  }
  const reasons: string[] = [];
  const servers = facts.locations.map((l) => l.server).filter((s, i, all) => all.findIndex((t) => sameServer(s, t)) === i);
  for (const location of candidates) {
    const serverLocations = facts.locations.filter((l) => sameServer(l.server, location.server));
    // The affected route, when nginx would serve it from this location; else the location's own prefix.
    const routed = (scope.paths ?? [])
      .map((p) => p.split(/[?#]/)[0]!)
      .find((p) => p.startsWith('/') && !/[\s:…]/.test(p) && (() => {
        const pick = nginxLocationFor(p, serverLocations);
        return 'location' in pick && pick.location === location;
      })());
    const path = routed ?? prefixPath(location.match);
    if (path === null) {
      reasons.push(`location ${location.match} (${location.file}:${location.line}) is a regex or named location, whose path cannot be chosen safely`);
      continue;
    }
    const plain = location.server.listen.filter((l) => !l.ssl);
    if (plain.length === 0) {
      reasons.push(`the server at ${location.server.file}:${location.server.line} listens only with TLS (ssl): verification GETs are plain HTTP only`);
      continue;
    }
    let listener: { address: string; port: number; listen: string } | null = null;
    for (const l of plain) {
      const local = localListener(l.address);
      if ('reason' in local) reasons.push(`${local.reason} (${location.server.file}:${location.server.line})`);
      else {
        listener = { ...local, listen: l.address };
        break;
      }
    }
    if (!listener) continue;
    const name = plainServerName(location.server.serverName);
    let hostHeader: string;
    if (name) hostHeader = listener.port === 80 ? name : `${name}:${listener.port}`;
    else {
      // Without a name to send, nginx picks the listen's default server: it must be this one.
      const sharing = servers.filter((s) => s.listen.some((l) => !l.ssl && sameListen(l.address, listener!.listen)));
      const explicit = sharing.find((s) => s.listen.some((l) => l.defaultServer && sameListen(l.address, listener!.listen)));
      const chosen = explicit ?? sharing[0];
      if (chosen && !sameServer(chosen, location.server)) {
        reasons.push(`the server at ${location.server.file}:${location.server.line} has no plain server_name and is not the default server of listen ${listener.listen}`);
        continue;
      }
      hostHeader = listener.address.includes(':') ? `[${listener.address}]:${listener.port}` : `${listener.address}:${listener.port}`;
    }
    return { address: listener.address, port: listener.port, host: hostHeader, path, location: `${location.file}:${location.line} (location ${location.match})` };
  }
  return { reason: [...new Set(reasons)].join('; ') };
}

function sameListen(a: string, b: string): boolean {
  const la = localListener(a);
  const lb = localListener(b);
  return !('reason' in la) && !('reason' in lb) && la.address === lb.address && la.port === lb.port;
}

export function targetUrl(target: VerifyTarget): string {
  const address = target.address.includes(':') ? `[${target.address}]` : target.address;
  return `http://${address}:${target.port}${target.path}`;
}

/** The one request sent: GET, HTTP/1.1, Connection: close. Refuses anything that could smuggle a second line. */
export function getRequest(target: VerifyTarget): string {
  if (!target.path.startsWith('/') || /[\s\x00-\x1f\x7f]/.test(target.path)) throw new Error(`verification path ${JSON.stringify(target.path)} is not a plain request path`);
  if (/[\s\x00-\x1f\x7f]/.test(target.host) || target.host === '') throw new Error(`verification Host ${JSON.stringify(target.host)} is not a plain host name`);
  return `GET ${target.path} HTTP/1.1\r\nHost: ${target.host}\r\nUser-Agent: ${USER_AGENT}\r\nAccept: */*\r\nConnection: close\r\n\r\n`;
}

/**
 * Sends exactly `count` GET requests, one after another (gapMs apart, at most
 * MAX_GAP_MS), to a loopback
 * address (throws for any other, or for more than MAX_VERIFY_GETS); returns
 * how they were answered: status code → count, or no-connection / no-answer
 * / no-status (something that is not an HTTP response).
 */
export async function sendGets(host: Host, target: VerifyTarget, count: number, options: { gapMs?: number } = {}): Promise<{ sent: number; statuses: Record<string, number> }> {
  if (!isLoopback(target.address)) throw new Error(`verification GETs go only to loopback addresses, not ${target.address}`);
  if (!Number.isInteger(count) || count < 0 || count > MAX_VERIFY_GETS) throw new Error(`verification GETs: ${count} is not a whole number from 0 to ${MAX_VERIFY_GETS}`);
  const gapMs = Math.min(Math.max(0, options.gapMs ?? 0), MAX_GAP_MS);
  const request = getRequest(target);
  const statuses: Record<string, number> = {};
  for (let i = 0; i < count; i++) {
    // A pause between requests lets nginx's cached upstream connections go idle, as real traffic does (the keep-alive race).
    if (i > 0 && gapMs > 0) await host.sleep(gapMs);
    const result = await host.connect({ kind: 'tcp', host: target.address, port: target.port }, { timeoutMs: CONNECT_TIMEOUT_MS, send: request, idleMs: ANSWER_TIMEOUT_MS, answerMs: ANSWER_TIMEOUT_MS });
    const text = result.events.flatMap((e) => (e.kind === 'data' ? [e.text] : [])).join('');
    const status = /^HTTP\/\d(?:\.\d)? (\d{3})/.exec(text)?.[1];
    const key = !result.connected ? 'no-connection' : status ?? (text === '' ? 'no-answer' : 'no-status');
    statuses[key] = (statuses[key] ?? 0) + 1;
  }
  return { sent: count, statuses };
}
