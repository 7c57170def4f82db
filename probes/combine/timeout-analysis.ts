import { z } from 'zod';
import { defineProbe } from '../../src/probe/contract.js';
import type { errorLogProbe } from '../read/error-log.js';
import type { nginxConfigProbe } from '../read/nginx-config.js';

type ErrorFacts = z.infer<typeof errorLogProbe.facts>;
type ConfigFacts = z.infer<typeof nginxConfigProbe.facts>;

const KINDS = { 'timeout-connect': 'connect', 'timeout-send': 'send', 'timeout-read': 'read', 'timeout-body': 'body' } as const;
/** The handler setting each kind of timeout waited on (a body stall is the read timeout again). */
const SETTING = {
  connect: ['connect_timeout', 'connectTimeoutSec'],
  send: ['send_timeout', 'sendTimeoutSec'],
  read: ['read_timeout', 'readTimeoutSec'],
  body: ['read_timeout', 'readTimeoutSec'],
} as const;

const peer = z.object({
  peer: z.string().describe('Upstream peer as nginx logged it'),
  counts: z
    .object({
      connect: z.number().int().describe('No answer to the SYN within <family>_connect_timeout (proxy_, fastcgi_, …)'),
      send: z.number().int().describe('The backend stopped reading the request (<family>_send_timeout)'),
      read: z.number().int().describe('No response header within <family>_read_timeout'),
      body: z.number().int().describe('The body stalled for <family>_read_timeout'),
    })
    .describe('Timeouts per kind: connect, send, read (before the header), body (mid-body)'),
  settings: z.array(z.string()).describe('The timeout each kind waited on, in the family of each location passing to this peer: "proxy_read_timeout 1 s in location /reports/ (set at nginx.conf:23)", "fastcgi_read_timeout 60 s in location ~ \\.php$ (the default)"'),
  summary: z.string().describe('One line for a report'),
});

/**
 * The 504 side of the runbook: which timeout fired for which peer, and what
 * that timeout is set to where nginx proxies there. A connect timeout is a
 * SYN nobody answered (an accept queue dropping, a firewall DROP, a full
 * conntrack table), never a slow application; read and body timeouts are.
 */
export const timeoutAnalysisProbe = defineProbe({
  id: 'timeout-analysis',
  title: 'Upstream timeouts',
  description: 'Timeouts per peer and kind (connect, send, read, body), next to the timeout directive each one waited on.',
  requiresRoot: false,
  timeoutMs: 5000,
  dependsOn: ['error-log'],
  uses: ['nginx-config'],
  facts: z.object({
    peers: z.array(peer).describe('Peers with timeouts, most first'),
    connect: z.number().int().describe('Connect timeouts across peers'),
    slow: z.number().int().describe('Send, read and body timeouts across peers: the backend was reached but did not keep up'),
    summary: z.string().describe('All peers in one line'),
    slowDetail: z.string().describe('The send/read/body timeouts per peer with their configured values, or "" when there are none'),
    connectDetail: z.string().describe('The connect timeouts per peer with <family>_connect_timeout, or "" when there are none'),
    readDirective: z.string().describe('The read timeout directive(s) of the locations with send/read/body timeouts (proxy_read_timeout, fastcgi_read_timeout, …); "" when none'),
    connectDirective: z.string().describe('The connect timeout directive(s) of the locations with connect timeouts; "" when none'),
  }),
  sources: () => [],
  parse: (_results, { deps }) => {
    const errors = deps['error-log'] as ErrorFacts;
    const config = deps['nginx-config'] as ConfigFacts | undefined;
    const byPeer = new Map<string, { connect: number; send: number; read: number; body: number }>();
    for (const g of errors.groups) {
      const kind = KINDS[g.signature as keyof typeof KINDS];
      if (!kind) continue;
      const counts = byPeer.get(g.peer) ?? { connect: 0, send: 0, read: 0, body: 0 };
      counts[kind] += g.count;
      byPeer.set(g.peer, counts);
    }
    const locationsFor = (address: string) => {
      const backend = config?.backends.find((b) => b.address === address);
      return (config?.locations ?? []).filter((l) => (backend?.upstream ? l.upstream === backend.upstream : l.proxyPass?.includes(address)));
    };
    const settingsFor = (address: string, kinds: Array<keyof typeof SETTING>) => {
      const locations = locationsFor(address);
      return kinds.flatMap((kind) => {
        const [directive, key] = SETTING[kind];
        return locations.flatMap((l) => {
          const handler = l.effective.handler;
          if (!handler) return [];
          const origin = handler.origins[key];
          const where = origin && origin !== 'default' ? `set at ${origin.file.split('/').pop()}:${origin.line}` : 'the default';
          return [`${handler.prefix}${directive} ${handler[key]} s in location ${l.match} (${where})`];
        });
      });
    };
    const describe = (address: string, counts: Record<string, number>, kinds: Array<keyof typeof SETTING>) => {
      const shown = kinds.filter((k) => counts[k]! > 0);
      if (shown.length === 0) return '';
      return `${address}: ${shown.map((k) => `${counts[k]} ${k}`).join(', ')} timeout(s); ${[...new Set(settingsFor(address, shown))].join('; ') || 'no location found proxying to it'}`;
    };
    const peers = [...byPeer]
      .sort((a, b) => Object.values(b[1]).reduce((x, y) => x + y, 0) - Object.values(a[1]).reduce((x, y) => x + y, 0))
      .map(([address, counts]) => ({
        peer: address,
        counts,
        settings: [...new Set(settingsFor(address, (Object.keys(counts) as Array<keyof typeof counts>).filter((k) => counts[k] > 0)))],
        summary: describe(address, counts, ['connect', 'send', 'read', 'body']),
      }));
    // The family directives in play, so a fix names fastcgi_read_timeout for a PHP location.
    const directives = (kinds: Array<keyof typeof SETTING>, suffix: string) => {
      const hit = peers.filter((p) => kinds.some((k) => p.counts[k] > 0)).map((p) => p.peer);
      const prefixes = hit.flatMap((address) => locationsFor(address).flatMap((l) => (l.effective.handler ? [l.effective.handler.prefix] : [])));
      return [...new Set(prefixes)].map((prefix) => `${prefix}${suffix}`).join(' / ');
    };
    const total = (kinds: Array<'connect' | 'send' | 'read' | 'body'>) => peers.reduce((n, p) => n + kinds.reduce((m, k) => m + p.counts[k], 0), 0);
    return {
      peers,
      connect: total(['connect']),
      slow: total(['send', 'read', 'body']),
      summary: peers.length ? peers.map((p) => p.summary).join('; ') : 'no upstream timeouts',
      slowDetail: peers.map((p) => describe(p.peer, p.counts, ['send', 'read', 'body'])).filter(Boolean).join('; '),
      connectDetail: peers.map((p) => describe(p.peer, p.counts, ['connect'])).filter(Boolean).join('; '),
      readDirective: directives(['send', 'read', 'body'], 'read_timeout'),
      connectDirective: directives(['connect'], 'connect_timeout'),
    };
  },
  summarize: (facts) => (facts.peers.length ? `${facts.connect} connect, ${facts.slow} send/read timeout(s) at ${facts.peers.length} peer(s)` : 'no upstream timeouts'),
});
