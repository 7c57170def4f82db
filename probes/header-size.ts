import { z } from 'zod';
import type { ConnectResult, ConnectTarget } from '../src/host/types.js';
import { ProbeStatusError, defineProbe, type ProbeContext } from '../src/probe/contract.js';
import type { errorLogProbe } from './error-log.js';
import type { nginxConfigProbe } from './nginx-config.js';

type ConfigFacts = z.infer<typeof nginxConfigProbe.facts>;
type ErrorFacts = z.infer<typeof errorLogProbe.facts>;

interface Check {
  peer: string;
  path: string;
  target: ConnectTarget;
  bufferBytes: number | null;
  locations: string[];
}

/** A path from a log goes into a request only if it is a plain path: no spaces, no control characters. */
const SAFE_PATH = /^\/[\x21-\x7e]*$/;

function checks(context: ProbeContext): { checks: Check[]; skipped: string[] } {
  const errors = context.deps['error-log'] as ErrorFacts;
  const config = context.deps['nginx-config'] as ConfigFacts;
  const out: Check[] = [];
  const skipped: string[] = [];
  for (const group of errors.groups.filter((g) => g.signature === 'too-big-header')) {
    if (out.some((c) => c.peer === group.peer)) continue;
    // Only a backend from nginx's own config is contacted, never an address read from a log.
    const backend = config.backends.find((b) => b.address === group.peer || (b.kind === 'unix' && `unix:${b.path}` === group.peer));
    if (!backend) {
      skipped.push(`${group.peer}: not a backend address in the nginx config`);
      continue;
    }
    if (!SAFE_PATH.test(group.examplePath)) {
      skipped.push(`${group.peer}: logged path is not a plain path`);
      continue;
    }
    const using = config.locations.filter((l) => l.upstream === backend.upstream || l.proxyPass?.includes(backend.address));
    const buffers = using.map((l) => l.effective.proxyBufferSizeBytes);
    out.push({
      peer: group.peer,
      path: group.examplePath,
      target: backend.kind === 'unix' ? { kind: 'unix', path: backend.path! } : { kind: 'tcp', host: backend.host!, port: backend.port! },
      bufferBytes: buffers.length ? Math.max(...buffers) : null,
      locations: using.map((l) => `location ${l.match} (${l.file}:${l.line})`),
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
  description: 'For routes that logged "too big header": fetches one from the backend directly and measures the response header against proxy_buffer_size.',
  requiresRoot: false,
  timeoutMs: 20_000,
  dependsOn: ['error-log', 'nginx-config'],
  facts: z.object({
    checks: z
      .array(
        z.object({
          peer: z.string().describe('Backend fetched'),
          path: z.string().describe('Path fetched (from the error log)'),
          headerBytes: z.number().int().nullable().describe('Response header size in bytes; null when no complete header came'),
          proxyBufferSizeBytes: z.number().int().nullable().describe('proxy_buffer_size of the locations that use this backend'),
          fits: z.boolean().nullable().describe('The header fits in proxy_buffer_size'),
          suggestedBufferSize: z.string().nullable().describe('A proxy_buffer_size that fits, rounded up to 4k'),
          locations: z.array(z.string()).describe('The locations proxying to this backend, with file:line'),
        }),
      )
      .describe('One per backend that logged too-big-header'),
    skipped: z.array(z.string()).describe('Not fetched, and why'),
    largestSuggested: z.string().nullable().describe('The largest suggested proxy_buffer_size among the headers that do not fit'),
    tooSmallIn: z.array(z.string()).describe('Locations whose proxy_buffer_size is too small for a measured header'),
  }),
  sources: () => [],
  gatherPlan: (context) => checks(context).checks.map((c) => `GET ${c.path} from ${c.peer} (one request, Connection: close)`),
  gather: async (host, context) => {
    if (context.options.passive) throw new ProbeStatusError('unavailable', '--passive: no requests are sent to backends');
    const { checks: list, skipped } = checks(context);
    const results = [];
    for (const check of list) {
      const host_ = check.target.kind === 'tcp' ? check.peer : 'localhost';
      const request = `GET ${check.path} HTTP/1.1\r\nHost: ${host_}\r\nUser-Agent: reset-doctor header-size\r\nConnection: close\r\n\r\n`;
      results.push({ ...check, result: await host.connect(check.target, { timeoutMs: 3000, send: request, idleMs: 5000 }) });
    }
    return { results, skipped };
  },
  parse: (results) => {
    const g = results.gathered as { results: Array<Check & { result: ConnectResult }>; skipped: string[] };
    const facts = {
      checks: g.results.map((r) => {
        const bytes = headerBytes(r.result);
        return {
          peer: r.peer,
          path: r.path,
          headerBytes: bytes,
          proxyBufferSizeBytes: r.bufferBytes,
          fits: bytes !== null && r.bufferBytes !== null ? bytes <= r.bufferBytes : null,
          suggestedBufferSize: bytes !== null ? `${Math.ceil(bytes / 4096) * 4}k` : null,
          locations: r.locations,
        };
      }),
      skipped: g.skipped,
    };
    const checks = facts.checks;
    const tooBig = checks.filter((c) => c.fits === false);
    const largest = tooBig.reduce((n, c) => Math.max(n, Math.ceil(c.headerBytes! / 4096) * 4), 0);
    return { ...facts, largestSuggested: largest ? `${largest}k` : null, tooSmallIn: [...new Set(tooBig.flatMap((c) => c.locations))] };
  },
  summarize: (facts) =>
    facts.checks.length === 0
      ? 'no route logged "too big header"'
      : facts.checks.map((c) => `${c.peer}${c.path}: ${c.headerBytes ?? '?'}-byte header vs proxy_buffer_size ${c.proxyBufferSizeBytes ?? '?'}`).join('; '),
});
