import { z } from 'zod';
import { defineProbe } from '../../src/probe/contract.js';
import type { nginxConfigProbe } from '../read/nginx-config.js';
import type { keepaliveMeasureProbe } from '../read/keepalive-measure.js';
import type { backendProcessProbe } from '../read/backend-process.js';
import type { errorLogProbe } from '../read/error-log.js';
import { inheritedHeaders } from '../../src/nginx/inheritedHeaders.js';

type ConfigFacts = z.infer<typeof nginxConfigProbe.facts>;
type MeasureFacts = z.infer<typeof keepaliveMeasureProbe.facts>;
type ProcessFacts = z.infer<typeof backendProcessProbe.facts>;
type ErrorFacts = z.infer<typeof errorLogProbe.facts>;

const RESETS = ['reset-reading-header', 'premature-close-header', 'reset-sending-request'];

/**
 * The keep-alive race (reference sections 3–5): nginx reuses an idle cached
 * connection the backend is closing. It needs an upstream{} block with
 * keep-alive really in effect (before 1.29.7: HTTP/1.1 and an empty
 * Connection header) and a backend idle timeout at or below nginx's upstream
 * keepalive_timeout. Measured timeouts beat inferred defaults. GETs on a
 * stale connection are retried, so client-visible 502s pile up on POST/PATCH.
 */
const server = z.object({
  address: z.string().describe('Upstream server'),
  backendIdleSec: z.number().nullable().describe('Backend idle keep-alive timeout used for the comparison'),
  source: z.enum(['measured', 'flag', 'config', 'default', 'unknown', 'no-keepalive']).describe('measured by keepalive-measure, or read from the process (flag/config), or the documented default'),
  kind: z.string().nullable().describe('Backend server kind'),
  mismatch: z.boolean().describe('Backend closes idle connections at or before nginx stops reusing them'),
  unknownWhy: z.string().nullable().describe('Why its idle timeout is unknown: the measurement error and what the process told'),
  atLeast: z.boolean().describe('The timeout is a lower bound: the connection was still open when the measurement stopped waiting'),
  note: z.string().nullable().describe('When the measurement and the documented default of the detected kind disagree, what that means'),
});

const upstream = z.object({
  name: z.string().describe('upstream block'),
  keepalive: z.number().int().describe('keepalive connections cached per worker'),
  keepaliveTimeoutSec: z.number().nullable().describe("nginx's upstream keepalive_timeout; null before nginx 1.15.3, which never closes an idle upstream connection itself"),
  inEffect: z.boolean().describe('At least one location really reuses connections to it'),
  inertLocations: z.array(z.string()).describe('Locations passing to it without keep-alive in effect (proxy: HTTP/1.0 or Connection: close; fastcgi: fastcgi_keep_conn off; uwsgi/scgi: never)'),
  proxyInert: z.array(z.string()).describe('Of those, proxy_pass locations (need proxy_http_version 1.1 and Connection "")'),
  fastcgiInert: z.array(z.string()).describe('Of those, fastcgi_pass locations (need fastcgi_keep_conn on)'),
  neverInert: z.array(z.string()).describe('Of those, uwsgi_pass/scgi_pass locations: those modules never reuse a connection'),
  inheritedHeaders: z.array(z.string()).describe('For proxy locations that inherit proxy_set_header: the lines adding Connection "" there would drop, to repeat'),
  servers: z.array(server).describe('Its servers'),
  mismatch: z.boolean().describe('Keep-alive in effect and a server closes idle connections first'),
  undetermined: z.boolean().describe('Keep-alive in effect, no mismatch found, but a server’s idle timeout is unknown'),
  resets: z.number().int().describe('Reset/premature-close lines for its servers in the window'),
  resetsNonIdempotent: z.number().int().describe('Of those, on POST/PATCH/LOCK (not retried by nginx, so clients saw them)'),
  file: z.string().describe('File of the upstream block'),
  line: z.number().int().describe('Line of the upstream block'),
  suggestedKeepaliveTimeout: z.string().nullable().describe('An upstream keepalive_timeout below the shortest backend idle timeout; null when the running nginx has no such directive (before 1.15.3)'),
  lowerTimeout: z
    .object({
      upstream: z.string().describe('upstream block to set keepalive_timeout in'),
      where: z.string().describe('Its file'),
      line: z.number().int().describe('The line of the upstream block in that file'),
      timeout: z.string().describe('The value'),
    })
    .nullable()
    .describe('The keepalive_timeout fix, only where the running nginx accepts the directive (1.15.3 and later) and a backend races'),
  oldNginx: z
    .object({
      upstream: z.string().describe('The upstream block in the race'),
      detail: z.string().describe('Why no keepalive_timeout can fix it on this nginx, with the backend idle timeout'),
    })
    .nullable()
    .describe('Before nginx 1.15.3, for an upstream in the race; null otherwise'),
  backendSetting: z.string().nullable().describe('The backend setting that raises its idle timeout above nginx’s, in the detected server’s own terms'),
  summary: z.string().describe('One line for a report'),
});

/** The setting that raises a backend's idle keep-alive timeout, for the kind that was detected. */
export function backendKeepaliveSetting(kind: string | null, seconds: number): string {
  switch (kind) {
    case 'node':
      return `Node: on the server that app.listen() returns, set server.keepAliveTimeout = ${seconds * 1000}; and server.headersTimeout = ${(seconds + 1) * 1000};`;
    case 'gunicorn':
      return `gunicorn: --keep-alive ${seconds} (gthread or async workers; sync workers do not keep connections alive at all)`;
    case 'uvicorn':
      return `uvicorn: --timeout-keep-alive ${seconds}`;
    case 'hypercorn':
      return `hypercorn: --keep-alive ${seconds}`;
    case 'puma':
      return `puma: persistent_timeout ${seconds} in config/puma.rb`;
    case 'apache':
      return `Apache: KeepAliveTimeout ${seconds}`;
    case 'waitress':
      return `waitress: channel_timeout=${seconds}`;
    default:
      return `raise the backend's idle keep-alive timeout to ${seconds} s or more`;
  }
}

function describeServer(s: { address: string; backendIdleSec: number | null; source: string; atLeast: boolean }): string {
  if (s.source === 'no-keepalive') return `${s.address} closes after each response`;
  if (s.atLeast) return `${s.address} ≥ ${s.backendIdleSec} s (still open when the measurement stopped)`;
  return `${s.address} ${s.backendIdleSec ?? '?'} s ${s.source}`;
}

export const keepaliveAnalysisProbe = defineProbe({
  id: 'keepalive-analysis',
  title: 'Keep-alive: nginx against its backends',
  description: 'For each upstream with keep-alive: is it really in effect, and does any backend close idle connections before nginx stops reusing them?',
  requiresRoot: false,
  timeoutMs: 5000,
  dependsOn: ['nginx-config'],
  uses: ['keepalive-measure', 'backend-process', 'error-log'],
  facts: z.object({
    upstreams: z.array(upstream).describe('Each upstream with keepalive configured (or on by default)'),
    mismatches: z.array(upstream).describe('Upstreams in the race: keep-alive in effect, backend idle timeout ≤ keepalive_timeout'),
    mismatchCount: z.number().int().describe('Number of such upstreams'),
    mismatchMeasured: z.boolean().describe('Every mismatch rests on a measured backend timeout'),
    inert: z.array(upstream).describe('Upstreams whose keepalive is configured but not in effect anywhere'),
    inertCount: z.number().int().describe('Number of such upstreams'),
    undetermined: z.array(upstream).describe('Upstreams with keep-alive in effect where a server’s idle timeout could not be told'),
    undeterminedCount: z.number().int().describe('Number of such upstreams'),
    measured: z.boolean().describe('keepalive-measure ran'),
    overview: z.string().describe('Every upstream with keepalive in one line, or why there is none'),
  }),
  sources: () => [],
  parse: (_results, { deps }) => {
    const config = deps['nginx-config'] as ConfigFacts;
    const measure = deps['keepalive-measure'] as MeasureFacts | undefined;
    const processes = deps['backend-process'] as ProcessFacts | undefined;
    const errors = deps['error-log'] as ErrorFacts | undefined;
    const upstreams = config.upstreams
      .filter((u) => u.keepalive !== null)
      .map((u) => {
        const locations = config.locations.filter((l) => l.upstream === u.name && l.family !== null);
        const inEffect = locations.some((l) => l.effective.keepaliveInEffect);
        // A WebSocket location sends Connection: upgrade on purpose; pooling is not what it wants.
        // Other families count only against a keepalive someone wrote: the 1.29.7 default (32) is not a half-done config.
        const inert = locations.filter((l) => !l.effective.keepaliveInEffect && (l.family === 'proxy' ? l.effective.upgradeHeader === null : u.keepaliveOrigin !== 'default'));
        const at = (l: (typeof locations)[number]) => `location ${l.match} (${l.file}:${l.line})`;
        const why = (l: (typeof locations)[number]) =>
          l.family === 'proxy'
            ? `HTTP/${l.effective.proxyHttpVersion}, Connection: ${l.effective.connectionHeader ?? '(none)'}`
            : l.family === 'fastcgi'
              ? 'fastcgi_keep_conn off'
              : `${l.family}_pass never reuses a connection`;
        const inertLocations = inert.map((l) => `${at(l)}: ${why(l)}`);
        const proxyInert = inert.filter((l) => l.family === 'proxy');
        const fastcgiInert = inert.filter((l) => l.family === 'fastcgi');
        const neverInert = inert.filter((l) => l.family === 'uwsgi' || l.family === 'scgi');
        const servers = config.backends
          .filter((b) => b.upstream === u.name && !b.markedDown)
          .map((b) => {
            const measured = measure?.measurements.find((m) => m.address === b.address);
            const proc = processes?.backends.find((p) => p.address === b.address && p.upstream === u.name);
            let backendIdleSec: number | null = null;
            let source: z.infer<typeof server>['source'] = 'unknown';
            if (measured?.keepAliveOffered === false) source = 'no-keepalive';
            else if (measured && measured.idleTimeoutSec !== null) {
              backendIdleSec = measured.idleTimeoutSec;
              source = 'measured';
            } else if (measured?.closedBy === 'still-open') {
              backendIdleSec = measured.capSec;
              source = 'measured';
            } else if (proc?.idleTimeoutSec !== null && proc?.idleTimeoutSec !== undefined) {
              backendIdleSec = proc.idleTimeoutSec;
              source = proc.idleTimeoutSource === 'not-applicable' ? 'unknown' : (proc.idleTimeoutSource as 'flag' | 'config' | 'default');
              if (proc.idleTimeoutSec === 0) source = 'no-keepalive';
            }
            const atLeast = source === 'measured' && measured?.closedBy === 'still-open';
            // Before 1.15.3 nginx keeps an idle connection until the backend closes it: any backend close races,
            // but one still open when the measurement stopped waiting may never close.
            const closesFirst = u.keepaliveTimeoutSec === null ? !atLeast : backendIdleSec !== null && backendIdleSec <= u.keepaliveTimeoutSec;
            const mismatch = inEffect && source !== 'no-keepalive' && backendIdleSec !== null && closesFirst;
            // A measured close well below the kind's documented default: something sets it lower (code, a proxy in between).
            const note =
              source === 'measured' && !atLeast && backendIdleSec !== null && proc?.kind && proc.idleTimeoutSec && proc.idleTimeoutSource === 'default' && backendIdleSec < proc.idleTimeoutSec - 1
                ? `measured ${backendIdleSec.toFixed(1)} s, below ${proc.kind}'s ${proc.idleTimeoutSec} s default: something sets it lower (its code, or a proxy in between)`
                : null;
            const unknownWhy =
              source === 'unknown'
                ? proc?.listening === false
                  ? 'it is down; measure again once it is back up'
                  : [
                    measured ? `not measured: ${measured.error ?? measured.closedBy}` : (measure?.skipped.find((x) => x.startsWith(`${b.address}:`)) ?? 'not measured (keepalive-measure did not run)'),
                    proc ? `process: ${proc.note}` : 'no process found for it',
                  ].join('; ')
                : null;
            return { address: b.address, backendIdleSec, source, kind: proc?.kind ?? null, mismatch, unknownWhy, atLeast, note };
          });
        const peers = new Set(servers.map((s) => s.address));
        const groups = (errors?.groups ?? []).filter((g) => RESETS.includes(g.signature) && peers.has(g.peer));
        const resets = groups.reduce((n, g) => n + g.count, 0);
        const resetsNonIdempotent = groups.filter((g) => ['POST', 'PATCH', 'LOCK'].includes(g.method)).reduce((n, g) => n + g.count, 0);
        const mismatch = servers.some((s) => s.mismatch);
        const worst = servers.filter((s) => s.mismatch).sort((a, b) => (a.backendIdleSec ?? 0) - (b.backendIdleSec ?? 0))[0];
        const unknown = servers.filter((s) => s.unknownWhy !== null);
        const noIdleTimeout = `nginx ${config.defaultsFor} never closes an idle upstream connection itself (upstream keepalive_timeout came with 1.15.3)`;
        const nginxIdle = u.keepaliveTimeoutSec === null ? noIdleTimeout : `nginx keepalive_timeout ${u.keepaliveTimeoutSec} s`;
        const summary = mismatch
          ? `${u.name} (${worst!.address}): backend idle timeout ${worst!.backendIdleSec!.toFixed(1)} s ${worst!.source === 'measured' ? 'measured' : `(${worst!.kind ?? 'backend'} ${worst!.source})`} ${u.keepaliveTimeoutSec === null ? `while ${noIdleTimeout}` : `≤ ${nginxIdle}`}` +
            (worst!.note ? ` (${worst!.note})` : '') +
            (resets
              ? `; ${resets} reset(s) in the window, ${resetsNonIdempotent} on POST/PATCH (nginx retries a GET on a fresh connection; a POST or PATCH it cannot, and the client gets the 502)`
              : '; no resets logged in the window yet: a latent risk until traffic idles past the backend timeout')
          : !inEffect
            ? `${u.name}: keepalive ${u.keepalive} configured, but no location reuses connections (${inertLocations[0] ?? 'no location passes requests to it'})`
            : unknown.length
              ? `${u.name}: idle timeout unknown for ${unknown.map((s) => `${s.address} (${s.unknownWhy})`).join(', ')}; ${nginxIdle}`
            : `${u.name}: no backend closes idle connections before nginx stops reusing them (${servers.map(describeServer).join(', ')}) vs ${u.keepaliveTimeoutSec === null ? noIdleTimeout : `keepalive_timeout ${u.keepaliveTimeoutSec} s`}`;
        // A measured close lands a little after the backend's setting (its timers are coarse); when the
        // process tells its setting too, the lower of the two keeps the suggestion stable and safe.
        const worstProc = worst ? processes?.backends.find((p) => p.address === worst.address && p.upstream === u.name) : undefined;
        const configured = worstProc?.idleTimeoutSec ? worstProc.idleTimeoutSec : null;
        const shortest = worst?.backendIdleSec != null ? Math.min(worst.backendIdleSec, configured ?? Infinity) : null;
        const suggested = shortest !== null && u.keepaliveTimeoutSec !== null ? `${Math.max(1, Math.floor(shortest) - 1)}s` : null;
        return {
          name: u.name,
          keepalive: u.keepalive!,
          keepaliveTimeoutSec: u.keepaliveTimeoutSec,
          inEffect,
          inertLocations,
          proxyInert: proxyInert.map((l) => `${at(l)}: ${why(l)}`),
          fastcgiInert: fastcgiInert.map(at),
          neverInert: neverInert.map((l) => `${at(l)} (${l.family}_pass)`),
          inheritedHeaders: proxyInert.flatMap((l) => {
            const lines = inheritedHeaders(l.effective);
            return lines ? [`${at(l)}: ${lines}`] : [];
          }),
          servers,
          mismatch,
          undetermined: inEffect && !mismatch && unknown.length > 0,
          resets,
          resetsNonIdempotent,
          file: u.file,
          line: u.line,
          // Stay a second under the backend, and never below 1 s; never a directive the running nginx rejects.
          suggestedKeepaliveTimeout: suggested,
          lowerTimeout: mismatch && suggested !== null ? { upstream: u.name, where: u.file, line: u.line, timeout: suggested } : null,
          oldNginx:
            mismatch && u.keepaliveTimeoutSec === null
              ? {
                  upstream: u.name,
                  detail: `${noIdleTimeout}, and ${worst!.address} closes idle connections after ${worst!.backendIdleSec!.toFixed(1)} s: a request sent on a connection idle that long meets a closing socket. keepalive_timeout in upstream ${u.name} (${u.file}:${u.line}) would fail nginx -t on this version`,
                }
              : null,
          // Above nginx's idle timeout; before 1.15.3 there is none to be above, so no backend setting fixes it.
          backendSetting: mismatch && u.keepaliveTimeoutSec !== null ? backendKeepaliveSetting(worst!.kind, Math.ceil(u.keepaliveTimeoutSec + 5)) : null,
          summary,
        };
      });
    const mismatches = upstreams.filter((u) => u.mismatch);
    const inert = upstreams.filter((u) => !u.inEffect && u.inertLocations.length > 0);
    return {
      upstreams,
      mismatches,
      mismatchCount: mismatches.length,
      mismatchMeasured: mismatches.length > 0 && mismatches.every((u) => u.servers.filter((s) => s.mismatch).every((s) => s.source === 'measured')),
      inert,
      inertCount: inert.length,
      undetermined: upstreams.filter((u) => u.undetermined),
      undeterminedCount: upstreams.filter((u) => u.undetermined).length,
      measured: measure !== undefined,
      overview: upstreams.length
        ? `${upstreams.length} upstream(s) with keepalive: ${upstreams.map((u) => u.summary).join('; ')}`
        : 'no upstream{} block has keepalive, so nginx opens a new connection for every request and never reuses one the backend is closing',
    };
  },
  summarize: (facts) =>
    facts.upstreams.length === 0
      ? 'no upstream with keep-alive'
      : `${facts.mismatchCount} upstream(s) in the keep-alive race, ${facts.inertCount} with keep-alive not in effect${facts.measured ? '' : ' (backend timeouts inferred, not measured)'}`,
});
