import { z } from 'zod';
import { defineProbe } from '../src/probe/contract.js';
import type { errorLogProbe } from './error-log.js';
import type { nginxConfigProbe } from './nginx-config.js';

type ErrorFacts = z.infer<typeof errorLogProbe.facts>;
type ConfigFacts = z.infer<typeof nginxConfigProbe.facts>;

const KINDS = { 'timeout-connect': 'connect', 'timeout-send': 'send', 'timeout-read': 'read', 'timeout-body': 'body' } as const;
/** The directive each kind of timeout waited on, and its key in the effective settings. */
const SETTING = {
  connect: ['proxy_connect_timeout', 'proxyConnectTimeoutSec'],
  send: ['proxy_send_timeout', 'proxySendTimeoutSec'],
  read: ['proxy_read_timeout', 'proxyReadTimeoutSec'],
  body: ['proxy_read_timeout', 'proxyReadTimeoutSec'],
} as const;

const peer = z.object({
  peer: z.string().describe('Upstream peer as nginx logged it'),
  counts: z
    .object({
      connect: z.number().int().describe('No answer to the SYN within proxy_connect_timeout'),
      send: z.number().int().describe('The backend stopped reading the request (proxy_send_timeout)'),
      read: z.number().int().describe('No response header within proxy_read_timeout'),
      body: z.number().int().describe('The body stalled for proxy_read_timeout'),
    })
    .describe('Timeouts per kind: connect, send, read (before the header), body (mid-body)'),
  settings: z.array(z.string()).describe('The timeout each kind waited on, as configured where nginx proxies to this peer: "proxy_read_timeout 1 s (location /reports/ at nginx.conf:23)"'),
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
    connectDetail: z.string().describe('The connect timeouts per peer with proxy_connect_timeout, or "" when there are none'),
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
    const settingsFor = (address: string, kinds: Array<keyof typeof SETTING>) => {
      const backend = config?.backends.find((b) => b.address === address);
      const locations = (config?.locations ?? []).filter((l) => (backend?.upstream ? l.upstream === backend.upstream : l.proxyPass?.includes(address)));
      return kinds.flatMap((kind) => {
        const [directive, key] = SETTING[kind];
        return locations.map((l) => {
          const origin = l.effective.origins[key];
          const where = origin && origin !== 'default' ? `set at ${origin.file.split('/').pop()}:${origin.line}` : 'the default';
          return `${directive} ${l.effective[key]} s in location ${l.match} (${where})`;
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
    const total = (kinds: Array<'connect' | 'send' | 'read' | 'body'>) => peers.reduce((n, p) => n + kinds.reduce((m, k) => m + p.counts[k], 0), 0);
    return {
      peers,
      connect: total(['connect']),
      slow: total(['send', 'read', 'body']),
      summary: peers.length ? peers.map((p) => p.summary).join('; ') : 'no upstream timeouts',
      slowDetail: peers.map((p) => describe(p.peer, p.counts, ['send', 'read', 'body'])).filter(Boolean).join('; '),
      connectDetail: peers.map((p) => describe(p.peer, p.counts, ['connect'])).filter(Boolean).join('; '),
    };
  },
  summarize: (facts) => (facts.peers.length ? `${facts.connect} connect, ${facts.slow} send/read timeout(s) at ${facts.peers.length} peer(s)` : 'no upstream timeouts'),
});
