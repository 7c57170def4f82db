import { z } from 'zod';
import type { ConnectResult, ConnectTarget } from '../../src/host/types.js';
import { ProbeStatusError, defineProbe, type ProbeContext } from '../../src/probe/contract.js';
import type { nginxConfigProbe } from './nginx-config.js';

type ConfigFacts = z.infer<typeof nginxConfigProbe.facts>;

/** Never hold a connection longer than nginx's own client keep-alive default. */
export const MAX_IDLE_MS = 75_000;
const CONNECT_TIMEOUT_MS = 3_000;
/** A backend that has not begun to answer a HEAD in this long cannot be measured. */
const ANSWER_TIMEOUT_MS = 5_000;

interface Target {
  address: string;
  upstream: string;
  target: ConnectTarget;
  hostHeader: string;
  capMs: number;
}

/**
 * Only addresses from nginx's own config are contacted: the servers of each
 * upstream{} block, whose keep-alive cache is where the reuse race happens.
 * https upstreams are skipped (a plain request would not say anything).
 */
function targets(context: ProbeContext): { targets: Target[]; skipped: string[] } {
  const config = context.deps['nginx-config'] as ConfigFacts;
  const out: Target[] = [];
  const skipped: string[] = [];
  for (const backend of config.backends) {
    if (backend.markedDown || !backend.upstream) continue;
    const upstream = config.upstreams.find((u) => u.name === backend.upstream);
    // Without keepalive nginx opens a connection per request: there is no idle reuse to race with.
    if (upstream?.keepalive === null) {
      skipped.push(`${backend.address}: upstream ${backend.upstream} has no keepalive, nothing to race`);
      continue;
    }
    // The HEAD is HTTP: a FastCGI, uwsgi, SCGI, gRPC or memcached backend would get bytes it cannot parse.
    const families = [...new Set(config.locations.filter((l) => l.upstream === backend.upstream && l.family !== null).map((l) => l.family))];
    if (families.length > 0 && !families.includes('proxy')) {
      skipped.push(`${backend.address}: passed to with ${families.map((f) => `${f}_pass`).join(', ')}, not HTTP: no HEAD sent, not measured`);
      continue;
    }
    const viaHttps = config.locations.some((l) => l.upstream === backend.upstream && l.proxyPass?.startsWith('https://'));
    if (viaHttps) {
      skipped.push(`${backend.address}: proxied over https, not measured`);
      continue;
    }
    const capMs = Math.min(MAX_IDLE_MS, Math.round(((upstream?.keepaliveTimeoutSec ?? 60) + 1) * 1000));
    const target: ConnectTarget = backend.kind === 'unix' ? { kind: 'unix', path: backend.path! } : { kind: 'tcp', host: backend.host!, port: backend.port! };
    out.push({ address: backend.address, upstream: backend.upstream, target, hostHeader: backend.kind === 'unix' ? 'localhost' : backend.address, capMs });
  }
  return { targets: out, skipped };
}

export function request(path: string, host: string): string {
  return `HEAD ${path} HTTP/1.1\r\nHost: ${host}\r\nUser-Agent: reset-doctor keepalive-measure\r\nConnection: keep-alive\r\n\r\n`;
}

const measurement = z.object({
  address: z.string().describe('Backend address measured'),
  upstream: z.string().describe('upstream{} block it belongs to'),
  connected: z.boolean().describe('The connection was accepted'),
  statusLine: z.string().nullable().describe('First line of the answer, e.g. "HTTP/1.1 200 OK"'),
  keepAliveOffered: z.boolean().nullable().describe('The answer did not say Connection: close'),
  keepAliveHeaderSec: z.number().nullable().describe('timeout= of a Keep-Alive answer header, when the backend announces one'),
  closedBy: z.enum(['fin', 'reset', 'still-open', 'no-answer', 'error']).describe('How the idle connection ended: FIN, RST, still open at the cap, or no answer to the HEAD'),
  idleTimeoutSec: z.number().nullable().describe('Seconds from the end of the answer to the close; null when still open at the cap or never answered'),
  capSec: z.number().describe('How long the connection was watched at most: upstream keepalive_timeout + 1 s, at most 75 s'),
  error: z.string().nullable().describe('Connect or read error, if any'),
});

export const keepaliveMeasureProbe = defineProbe({
  id: 'keepalive-measure',
  title: 'Backend idle timeout (measured)',
  description: "Opens one keep-alive connection to each upstream server, sends a HEAD, and times how the idle connection is closed — the backend's real idle timeout.",
  requiresRoot: false,
  timeoutMs: MAX_IDLE_MS + 10_000,
  dependsOn: ['nginx-config'],
  facts: z.object({
    measurements: z.array(measurement).describe('One per upstream server'),
    skipped: z.array(z.string()).describe('Servers not measured, and why'),
    path: z.string().describe('Path requested with HEAD'),
  }),
  sources: () => [],
  gatherPlan: (context) => {
    const { targets: list } = targets(context);
    return list.map((t) => `connect ${t.address}, HEAD / with keep-alive, wait up to ${Math.round(t.capMs / 1000)} s for the backend to close`);
  },
  expectedMs: (context) => Math.max(0, ...targets(context).targets.map((t) => t.capMs)),
  gather: async (host, context) => {
    if (context.options.passive) throw new ProbeStatusError('unavailable', '--passive: no connections are opened to backends');
    const { targets: list, skipped } = targets(context);
    const results = await Promise.all(
      list.map(async (t) => ({ ...t, result: await host.connect(t.target, { timeoutMs: CONNECT_TIMEOUT_MS, send: request('/', t.hostHeader), idleMs: t.capMs, answerMs: ANSWER_TIMEOUT_MS }) })),
    );
    return { results, skipped };
  },
  parse: (results) => {
    const gathered = results.gathered as { results: Array<Target & { result: ConnectResult }>; skipped: string[] };
    const measurements = gathered.results.map(({ address, upstream, capMs, result }) => ({ address, upstream, capSec: capMs / 1000, ...readTimeline(result) }));
    return { measurements, skipped: gathered.skipped, path: '/' };
  },
  summarize: (facts) =>
    facts.measurements.length === 0
      ? `nothing to measure${facts.skipped.length ? ` (${facts.skipped.join('; ')})` : ''}`
      : facts.measurements
          .map(
            (m) =>
              `${m.address}: ${
                !m.connected
                  ? 'not reachable'
                  : m.keepAliveOffered === false
                    ? 'closes after each response (Connection: close)'
                    : m.idleTimeoutSec !== null
                      ? `closes idle connections after ${m.idleTimeoutSec.toFixed(1)} s (${m.closedBy === 'reset' ? 'RST' : 'FIN'})`
                      : m.closedBy === 'still-open'
                        ? `still open after ${m.capSec} s`
                        : (m.error ?? 'no answer')
              }`,
          )
          .join('; '),
});

/** What happened on the connection: the answer, then how long it stayed idle and how it ended. */
export function readTimeline(result: ConnectResult): Omit<z.infer<typeof measurement>, 'address' | 'upstream' | 'capSec'> {
  const data = result.events.filter((e): e is Extract<ConnectResult['events'][number], { kind: 'data' }> => e.kind === 'data');
  const text = data.map((d) => d.text).join('');
  const statusLine = text ? (text.split('\r\n')[0] ?? null) : null;
  const lastData = data.at(-1);
  const end = result.events.find((e) => e.kind === 'fin' || e.kind === 'reset' || e.kind === 'idle-timeout' || e.kind === 'no-answer' || e.kind === 'error');
  const error = end?.kind === 'error' ? `${end.code}: ${end.message}` : end?.kind === 'no-answer' ? `no answer to HEAD within ${ANSWER_TIMEOUT_MS / 1000} s` : null;
  const closedBy = !end ? 'error' : end.kind === 'fin' ? 'fin' : end.kind === 'reset' ? 'reset' : end.kind === 'idle-timeout' ? 'still-open' : end.kind === 'no-answer' ? 'no-answer' : 'error';
  const idle = lastData && end && (end.kind === 'fin' || end.kind === 'reset') ? (end.atMs - lastData.atMs) / 1000 : null;
  return {
    connected: result.connected,
    statusLine,
    keepAliveOffered: statusLine ? !/\r\nconnection:\s*close/i.test(text) : null,
    keepAliveHeaderSec: Number(/\r\nkeep-alive:[^\r]*timeout=(\d+)/i.exec(text)?.[1] ?? Number.NaN) || null,
    closedBy,
    idleTimeoutSec: idle === null ? null : Math.round(idle * 100) / 100,
    error,
  };
}
