import type { ConfigModel, LocationModel } from './model.js';
import { inheritedHeaders } from './inheritedHeaders.js';

/**
 * Combinations worth a second look at 3 a.m., from the reference's list of
 * what is commonly misread (section 8). Each says where and why; none is a
 * diagnosis on its own — the flows decide with live data.
 */
export interface Advice {
  id: string;
  severity: 'warn' | 'info';
  file: string | null;
  line: number | null;
  message: string;
}

/** Every advice id adviseConfig can give: flows count and quote them per id (nginx-config adviceCounts/adviceText). */
export const ADVICE_IDS = ['keepalive-inert', 'next-upstream-http-502', 'next-upstream-non-idempotent', 'socket-keepalive', 'websocket-headers', 'websocket-read-timeout', 'keepalive-timeout-vs-backend', 'no-upstream-logging'] as const;

const where = (l: LocationModel) => `location ${l.match} (${l.file}:${l.line})`;

export function adviseConfig(model: ConfigModel): Advice[] {
  const advice: Advice[] = [];
  const add = (id: (typeof ADVICE_IDS)[number], severity: Advice['severity'], at: { file: string | null; line: number | null }, message: string) => advice.push({ id, severity, file: at.file, line: at.line, message });
  const byName = new Map(model.upstreams.map((u) => [u.name, u]));

  for (const location of model.locations) {
    const e = location.effective;
    const h = e.handler;
    if (!h) continue;
    const upstream = location.upstream ? byName.get(location.upstream) : undefined;
    if (location.family === 'proxy') {
      // A WebSocket location sends Connection: upgrade/close on purpose; pooling is not what it wants.
      if (upstream && upstream.keepalive !== null && !e.keepaliveInEffect && e.upgradeHeader === null) {
        add('keepalive-inert', 'warn', location, `${where(location)} proxies to upstream ${upstream.name} with keepalive ${upstream.keepalive}, but sends HTTP/${e.proxyHttpVersion} with Connection: ${e.connectionHeader ?? '(none)'}: connections are not reused (needs proxy_http_version 1.1 and proxy_set_header Connection "")`);
      }
    } else if (upstream && upstream.keepalive !== null && upstream.keepaliveOrigin !== 'default' && !e.keepaliveInEffect) {
      // Only a keepalive someone wrote: the 1.29.7 default (32) is not a half-done config.
      add(
        'keepalive-inert',
        'warn',
        location,
        location.family === 'fastcgi'
          ? `${where(location)} passes FastCGI to upstream ${upstream.name} with keepalive ${upstream.keepalive}, but fastcgi_keep_conn is off: nginx asks the FastCGI server to close each connection, so none is reused (needs fastcgi_keep_conn on)`
          : `${where(location)} passes ${location.family} to upstream ${upstream.name} with keepalive ${upstream.keepalive}, but ${h.prefix}pass never reuses an upstream connection: the keepalive does nothing`,
      );
    }
    const next = `${h.prefix}next_upstream`;
    if (h.nextUpstream.includes('http_502')) {
      add('next-upstream-http-502', 'info', location, `${where(location)}: ${next} http_502 only retries a backend that answers 502; resets are already covered by "error", and this makes 502 answers count toward max_fails`);
    }
    // A resend needs another try: a second server, or a cached keep-alive connection that failed (it does not use up a try).
    const anotherTry = upstream !== undefined && (upstream.servers.length > 1 || (upstream.keepalive !== null && e.keepaliveInEffect)) && h.nextUpstreamTries !== 1;
    if (h.nextUpstream.includes('non_idempotent') && !h.nextUpstream.includes('off') && anotherTry) {
      add('next-upstream-non-idempotent', 'warn', location, `${where(location)}: ${next} non_idempotent retries POST/PATCH on another try: a request the backend already processed can be submitted twice`);
    }
    if (location.family !== 'proxy') continue;
    if (e.proxySocketKeepalive) {
      add('socket-keepalive', 'info', location, `${where(location)}: proxy_socket_keepalive only keeps middleboxes from dropping idle TCP flows; it does not change HTTP idle timeouts`);
    }
    if (e.upgradeHeader !== null && (e.proxyHttpVersion !== '1.1' || !/upgrade|\$connection_upgrade/i.test(e.connectionHeader ?? ''))) {
      // The fix adds proxy_set_header in this location: all or nothing, so it drops what the location inherits.
      const inherited = inheritedHeaders(e);
      const drops = inherited ? `; a proxy_set_header added in this location drops every one it inherits, so repeat them there: ${inherited}` : '';
      add('websocket-headers', 'warn', location, `${where(location)} forwards Upgrade but sends HTTP/${e.proxyHttpVersion} with Connection: ${e.connectionHeader ?? '(none)'}; WebSocket upgrades need HTTP/1.1 and Connection "upgrade"${drops}`);
    }
    if (e.upgradeHeader !== null && e.proxyReadTimeoutSec <= 60) {
      add('websocket-read-timeout', 'info', location, `${where(location)} looks like a WebSocket location, but proxy_read_timeout is ${e.proxyReadTimeoutSec} s: idle sockets are closed after that`);
    }
  }
  for (const upstream of model.upstreams) {
    if (upstream.keepalive === null) continue;
    const inEffect = model.locations.some((l) => l.upstream === upstream.name && l.effective.keepaliveInEffect);
    const idle = upstream.keepaliveTimeoutSec;
    if (inEffect && idle === null) {
      add('keepalive-timeout-vs-backend', 'info', upstream, `upstream ${upstream.name} keeps idle connections with no time limit (nginx before 1.15.3 has no upstream keepalive_timeout): every backend that closes idle connections at all (Node 5 s, gunicorn 2 s, uvicorn 5 s) makes nginx reuse a closing connection sooner or later`);
    } else if (inEffect && idle !== null && idle > 5) {
      add('keepalive-timeout-vs-backend', 'info', upstream, `upstream ${upstream.name} keeps idle connections for ${upstream.keepaliveTimeoutSec} s (keepalive_timeout); backends that close idle connections sooner (Node 5 s, gunicorn 2 s, uvicorn 5 s) make nginx reuse a closing connection — check the backend's idle timeout`);
    }
  }
  for (const log of model.accessLogs) {
    if (!log.hasUpstreamStatus) {
      add('no-upstream-logging', 'info', log, `access log ${log.path} (format ${log.format}) does not record $upstream_status / $upstream_addr: retried requests ("502, 200") and the failing peer are invisible`);
    }
  }
  return advice;
}
