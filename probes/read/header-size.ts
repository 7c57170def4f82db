import { bufferFor } from '../../src/nginx/bufferSize.js';
import { z } from 'zod';
import type { ConnectResult, ConnectTarget } from '../../src/host/types.js';
import { defineProbe, type ProbeContext } from '../../src/probe/contract.js';
import type { errorLogProbe } from './error-log.js';
import type { nginxConfigProbe } from './nginx-config.js';
import { PASS_DIRECTIVES, type PassFamily } from '../../src/nginx/handler.js';
import { bufferSetting, familyName, measureText } from '../parse/headerSizeMeasure.js';
import { backendOfPeer, parsePeer } from '../parse/peers.js';
import type { backendListenersProbe } from './backend-listeners.js';

type ConfigFacts = z.infer<typeof nginxConfigProbe.facts>;
type ErrorFacts = z.infer<typeof errorLogProbe.facts>;
type ListenerFacts = z.infer<typeof backendListenersProbe.facts>;

/**
 * The config backend a logged peer is. nginx logs the address it connected to (127.0.0.1:9000), the config may
 * name it (localhost:9000, app.internal:9000): matched through the addresses backend-listeners resolved, and, when
 * that probe did not run, "localhost" through the loopback addresses.
 */
export function configBackendOf<B extends { address: string; kind: string; path: string | null; host: string | null; port: number | null }>(peer: string, backends: readonly B[], listeners: ListenerFacts | undefined): B | null {
  const direct = backends.find((b) => b.address === peer || (b.kind === 'unix' && `unix:${b.path}` === peer));
  if (direct) return direct;
  const resolved = backendOfPeer(peer, listeners?.backends ?? []);
  if (resolved) return backends.find((b) => b.address === resolved.address) ?? null;
  const parts = parsePeer(peer);
  if (!parts || 'path' in parts || listeners) return null;
  return backends.find((b) => b.host === 'localhost' && b.port === parts.port && (/^127\./.test(parts.ip) || parts.ip === '::1')) ?? null;
}

interface Check {
  peer: string;
  path: string;
  target: ConnectTarget;
  bufferBytes: number | null;
  locations: string[];
  family: PassFamily;
  /** Why no GET is sent, with the command that measures it instead; null when the probe fetches it. */
  measure: string | null;
}

/** A path from a log goes into a request only if it is a plain path: no spaces, no control characters. */
const SAFE_PATH = /^\/[\x21-\x7e]*$/;

function checks(context: ProbeContext): { checks: Check[]; skipped: string[] } {
  const passive = context.options.passive === true;
  const errors = context.deps['error-log'] as ErrorFacts;
  const config = context.deps['nginx-config'] as ConfigFacts;
  const listeners = context.deps['backend-listeners'] as ListenerFacts | undefined;
  const out: Check[] = [];
  const skipped: string[] = [];
  const groups = errors.groups.filter((g) => g.signature === 'too-big-header');
  const logged = errors.counts?.['too-big-header'] ?? 0;
  // error-log keeps the largest groups only: lines counted but not kept cannot be checked, and must be said.
  if (groups.length === 0 && logged > 0) skipped.push(`${logged} too-big-header line(s) logged, but none among the error groups kept for checking (the log has more kinds of errors than are kept): grep 'upstream sent too big header' in the error log names the route and its upstream; measure that backend's header with curl -sS -o /dev/null -D - against it`);
  for (const group of groups) {
    if (out.some((c) => c.peer === group.peer)) continue;
    // Only a backend from nginx's own config is contacted, never an address read from a log.
    const backend = configBackendOf(group.peer, config.backends, listeners);
    if (!backend) {
      const url = group.peer.startsWith('unix:') ? `--unix-socket ${group.peer.slice(5)} 'http://localhost${group.examplePath}'` : `'http://${group.peer}${group.examplePath}'`;
      skipped.push(
        `${group.peer} ${group.examplePath}: not a backend address in the nginx config, so nothing was sent to it${SAFE_PATH.test(group.examplePath) && !group.examplePath.includes("'") ? `; if it speaks HTTP, measure it with curl -sS -o /dev/null -D - ${url} | wc -c` : ''}`,
      );
      continue;
    }
    const using = config.locations.filter((l) => (backend.upstream ? l.upstream === backend.upstream : l.proxyPass?.includes(backend.address)));
    // The family of the directive that names this backend: only an HTTP backend (proxy_pass) can be sent a GET.
    const family = PASS_DIRECTIVES[backend.usedBy[0]?.directive ?? ''] ?? using[0]?.family ?? 'proxy';
    const own = using.filter((l) => l.family === family);
    const why =
      family !== 'proxy'
        ? `it speaks ${familyName(family)} (${family}_pass), not HTTP, so no GET was sent`
        : passive
          ? `not fetched (--passive sends nothing to backends)`
          : !SAFE_PATH.test(group.examplePath)
            ? `not fetched: the logged path is not a plain path`
            : null;
    const buffers = own.map((l) => l.effective.handler?.bufferSizeBytes ?? l.effective.proxyBufferSizeBytes);
    out.push({
      peer: group.peer,
      path: group.examplePath,
      target: backend.kind === 'unix' ? { kind: 'unix', path: backend.path! } : { kind: 'tcp', host: backend.host!, port: backend.port! },
      bufferBytes: buffers.length ? Math.max(...buffers) : null,
      locations: own.map((l) => `location ${l.match} (${l.file}:${l.line})`),
      family,
      measure: why === null ? null : measureText({ family, address: backend.address, path: group.examplePath, locations: own, why }),
    });
    if (out.length >= 5) break;
  }
  return { checks: out, skipped };
}

/** Bytes of the response header: status line and fields up to the blank line. */
export function headerBytes(result: ConnectResult): number | null {
  const text = result.events.filter((e): e is Extract<ConnectResult['events'][number], { kind: 'data' }> => e.kind === 'data').map((e) => e.text).join('');
  const end = text.indexOf('\r\n\r\n');
  return end === -1 ? null : end + 4;
}

export const headerSizeProbe = defineProbe({
  id: 'header-size',
  title: 'Response header size',
  description:
    'For routes that logged "too big header": fetches one from an HTTP backend directly (one GET, only to an address from the nginx config) and measures the response header against the buffer_size of the location\'s family; for FastCGI, uwsgi, SCGI, gRPC or memcached backends it sends nothing and says how to measure.',
  requiresRoot: false,
  timeoutMs: 20_000,
  dependsOn: ['error-log', 'nginx-config'],
  uses: ['backend-listeners'],
  facts: z.object({
    checks: z
      .array(
        z.object({
          peer: z.string().describe('Backend fetched'),
          path: z.string().describe('Path fetched (from the error log)'),
          headerBytes: z.number().int().nullable().describe('Response header size in bytes; null when no complete header came'),
          proxyBufferSizeBytes: z.number().int().nullable().describe("<family>_buffer_size of the locations that use this backend (proxy_buffer_size, fastcgi_buffer_size, …; the field name is kept for compatibility)"),
          fits: z.boolean().nullable().describe('The header fits in that buffer; null when not measured'),
          suggestedBufferSize: z.string().nullable().describe('A buffer size that fits with room for headers that vary (src/nginx/bufferSize.ts), as the fix applies it'),
          locations: z.array(z.string()).describe('The locations passing requests to this backend in its family, with file:line'),
          family: z.enum(['proxy', 'fastcgi', 'uwsgi', 'scgi', 'grpc', 'memcached']).describe('Handler family of the locations using this backend'),
          bufferDirective: z.string().describe('The directive that sizes the header buffer there: proxy_buffer_size, fastcgi_buffer_size, …'),
          measure: z.string().nullable().describe('Why no request was sent and the command that measures the header instead; null when it was fetched'),
          summary: z.string().describe('One line: what was measured against which directive, or how to measure it'),
        }),
      )
      .describe('One per backend that logged too-big-header'),
    skipped: z.array(z.string()).describe('Not fetched, and why'),
    largestSuggested: z.string().nullable().describe('The largest suggested proxy_buffer_size among the headers that do not fit'),
    tooSmallIn: z.array(z.string()).describe('Locations whose buffer_size is too small for a measured header'),
    summary: z.string().describe('Every check in one line, naming each location family\'s buffer_size directive'),
    fixSetting: z.string().describe('The directive line(s) that fit the measured headers, in each location\'s family; "" when nothing was measured too big'),
    measure: z.string().describe('For headers not measured: why, and the command that measures each; "" when all were measured'),
  }),
  sources: () => [],
  gatherPlan: (context) => checks(context).checks.map((c) => (c.measure === null ? `GET ${c.path} from ${c.peer} (one request, Connection: close)` : `${c.peer}: nothing sent (${c.family}_pass)`)),
  gather: async (host, context) => {
    const { checks: list, skipped } = checks(context);
    const results = [];
    for (const check of list) {
      if (check.measure !== null) {
        results.push({ ...check, result: null });
        continue;
      }
      const host_ = check.target.kind === 'tcp' ? check.peer : 'localhost';
      const request = `GET ${check.path} HTTP/1.1\r\nHost: ${host_}\r\nUser-Agent: reset-doctor header-size\r\nConnection: close\r\n\r\n`;
      results.push({ ...check, result: await host.connect(check.target, { timeoutMs: 3000, send: request, idleMs: 5000 }) });
    }
    return { results, skipped };
  },
  parse: (results) => {
    const g = results.gathered as { results: Array<Check & { result: ConnectResult | null }>; skipped: string[] };
    const facts = {
      checks: g.results.map((r) => {
        const bytes = r.result ? headerBytes(r.result) : null;
        const bufferDirective = `${r.family}_buffer_size`;
        const buffer = r.bufferBytes === null ? `${bufferDirective} (no location found using it)` : `${bufferDirective} ${r.bufferBytes}`;
        const measure = r.measure ?? (bytes === null ? measureText({ family: r.family, address: r.peer, path: r.path, locations: [], why: 'no complete response header came back' }) : null);
        return {
          peer: r.peer,
          path: r.path,
          headerBytes: bytes,
          proxyBufferSizeBytes: r.bufferBytes,
          fits: bytes !== null && r.bufferBytes !== null ? bytes <= r.bufferBytes : null,
          suggestedBufferSize: bytes !== null ? `${bufferFor(bytes) / 1024}k` : null,
          locations: r.locations,
          family: r.family,
          bufferDirective,
          measure,
          summary: bytes !== null ? `measured: ${r.peer} ${r.path} sends ${bytes} bytes of header vs ${buffer}` : `${r.peer} ${r.path} against ${buffer}: header not measured (${measure!.split(';')[0]})`,
        };
      }),
      skipped: g.skipped,
    };
    const checks = facts.checks;
    const tooBig = checks.filter((c) => c.fits === false);
    const largest = tooBig.reduce((n, c) => Math.max(n, bufferFor(c.headerBytes!) / 1024), 0);
    const families = [...new Set(tooBig.map((c) => c.family))];
    return {
      ...facts,
      largestSuggested: largest ? `${largest}k` : null,
      tooSmallIn: [...new Set(tooBig.flatMap((c) => c.locations))],
      summary: [...checks.map((c) => c.summary), ...(facts.skipped.length ? [`not checked: ${facts.skipped.join('; ')}`] : [])].join('; ') || 'no route logged "too big header"',
      fixSetting: largest ? families.map((f) => bufferSetting(f, `${largest}k`)).join('; ') : '',
      measure: [...checks.flatMap((c) => (c.measure ? [`${c.peer} ${c.path}: ${c.measure}`] : [])), ...facts.skipped].join(' — '),
    };
  },
  summarize: (facts) =>
    facts.checks.length === 0 && facts.skipped.length === 0
      ? 'no route logged "too big header"'
      : [...facts.checks.map((c) => `${c.peer}${c.path}: ${c.headerBytes !== null ? `${c.headerBytes}-byte header` : 'header not measured'} vs ${c.bufferDirective} ${c.proxyBufferSizeBytes ?? '(no location found)'}`), ...facts.skipped.map((s) => `not checked: ${s}`)].join('; '),
});
