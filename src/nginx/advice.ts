import type { ConfigModel, LocationModel } from './model.js';

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
    if (location.handler !== 'proxy_pass') continue;
    const e = location.effective;
    const upstream = location.upstream ? byName.get(location.upstream) : undefined;
    // A WebSocket location sends Connection: upgrade/close on purpose; pooling is not what it wants.
    if (upstream && upstream.keepalive !== null && !e.keepaliveInEffect && e.upgradeHeader === null) {
      add('keepalive-inert', 'warn', location, `${where(location)} proxies to upstream ${upstream.name} with keepalive ${upstream.keepalive}, but sends HTTP/${e.proxyHttpVersion} with Connection: ${e.connectionHeader ?? '(none)'}: connections are not reused (needs proxy_http_version 1.1 and proxy_set_header Connection "")`);
    }
    if (e.proxyNextUpstream.includes('http_502')) {
      add('next-upstream-http-502', 'info', location, `${where(location)}: proxy_next_upstream http_502 only retries a backend that answers 502; resets are already covered by "error", and this makes 502 answers count toward max_fails`);
    }
    // A resend needs another try: a second server, or a cached keep-alive connection that failed (it does not use up a try).
    const anotherTry = upstream !== undefined && (upstream.servers.length > 1 || (upstream.keepalive !== null && e.keepaliveInEffect)) && e.proxyNextUpstreamTries !== 1;
    if (e.proxyNextUpstream.includes('non_idempotent') && !e.proxyNextUpstream.includes('off') && anotherTry) {
      add('next-upstream-non-idempotent', 'warn', location, `${where(location)}: proxy_next_upstream non_idempotent retries POST/PATCH on another try: a request the backend already processed can be submitted twice`);
    }
    if (e.proxySocketKeepalive) {
      add('socket-keepalive', 'info', location, `${where(location)}: proxy_socket_keepalive only keeps middleboxes from dropping idle TCP flows; it does not change HTTP idle timeouts`);
    }
    if (e.upgradeHeader !== null && (e.proxyHttpVersion !== '1.1' || !/upgrade|\$connection_upgrade/i.test(e.connectionHeader ?? ''))) {
      add('websocket-headers', 'warn', location, `${where(location)} forwards Upgrade but sends HTTP/${e.proxyHttpVersion} with Connection: ${e.connectionHeader ?? '(none)'}; WebSocket upgrades need HTTP/1.1 and Connection "upgrade"`);
    }
    if (e.upgradeHeader !== null && e.proxyReadTimeoutSec <= 60) {
      add('websocket-read-timeout', 'info', location, `${where(location)} looks like a WebSocket location, but proxy_read_timeout is ${e.proxyReadTimeoutSec} s: idle sockets are closed after that`);
    }
  }
  for (const upstream of model.upstreams) {
    if (upstream.keepalive === null) continue;
    const inEffect = model.locations.some((l) => l.upstream === upstream.name && l.effective.keepaliveInEffect);
    if (inEffect && upstream.keepaliveTimeoutSec > 5) {
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
