import { z } from 'zod';
import { defineProbe } from '../../src/probe/contract.js';
import type { crashAnalysisProbe } from './crash-analysis.js';
import { FAMILIES, type errorLogProbe } from '../read/error-log.js';
import type { keepaliveAnalysisProbe } from './keepalive-analysis.js';
import type { backendListenersProbe } from '../read/backend-listeners.js';
import type { oomKillsProbe } from '../read/oom-kills.js';
import type { phpFpmPoolsProbe } from '../read/php-fpm-pools.js';
import { parseTime } from '../../src/errorlog/line.js';
import { formatClock } from '../parse/clock.js';
import { backendOfPeer } from '../parse/peers.js';
import { atKill, START_SLACK_MS } from '../parse/killTiming.js';

type CrashFacts = z.infer<typeof crashAnalysisProbe.facts>;
type ErrorFacts = z.infer<typeof errorLogProbe.facts>;
type KeepaliveFacts = z.infer<typeof keepaliveAnalysisProbe.facts>;
type ListenerFacts = z.infer<typeof backendListenersProbe.facts>;
type OomFacts = z.infer<typeof oomKillsProbe.facts>;


const peer = z.object({
  peer: z.string().describe('Upstream peer as nginx logged it'),
  resets: z.number().int().describe('Reset/premature-close lines before the response header'),
  cause: z.enum(['oom', 'crash', 'replaced', 'recovered', 'php-fpm-kill', 'keepalive-race', 'stable', 'unexamined']).describe('What accounts for them: its own OOM kill, crash, replacement or recovery, php-fpm killing requests at request_terminate_timeout, the keep-alive race of its upstream; stable (examined, stayed up, no race); unexamined (no process seen here)'),
  suspectedOnly: z.boolean().describe('Its cause is only suspected (a replacement nothing recorded, php-fpm kills its log could not show): the resets are not ruled out as the backend resetting'),
  summary: z.string().describe('One line for a report'),
});

/**
 * Which cause accounts for the resets of each peer — its own, not the
 * machine's: one backend's OOM kill does not explain another's resets, nor
 * does one upstream's keep-alive race explain a stable backend resetting.
 */
export const resetAttributionProbe = defineProbe({
  id: 'reset-attribution',
  title: 'Resets, peer by peer',
  description: 'For each peer nginx logged resets for: the death, restart or keep-alive race that accounts for them, or none.',
  requiresRoot: false,
  timeoutMs: 5000,
  dependsOn: ['error-log', 'crash-analysis', 'keepalive-analysis'],
  uses: ['backend-listeners', 'oom-kills', 'php-fpm-pools'],
  facts: z.object({
    peers: z.array(peer).describe('Every peer with resets, most first'),
    stable: z.array(peer).describe('Peers whose backend was examined, stayed up and does not race keep-alive: the backend itself (or something in front of it) cuts connections'),
    stableCount: z.number().int().describe('How many'),
    explained: z.array(peer).describe('Peers whose own death, restart, recovery or keep-alive race accounts for their resets, confirmed and in time: each reset at or before the event'),
    explainedText: z.string().describe('The explained peers and their causes, in one line'),
    suspected: z.array(peer).describe('Peers whose resets only a suspected cause would account for (restartSuspected, php-fpm terminateSuspected): whether the backend itself resets cannot be told'),
    suspectedCount: z.number().int().describe('How many'),
    suspectedText: z.string().describe('The suspected peers and their would-be causes, in one line'),
    unexplained: z.array(peer).describe('Peers with resets that no check here accounts for (their process cannot be seen)'),
    unexplainedCount: z.number().int().describe('How many'),
    unexplainedText: z.string().describe('The unexplained peers, in one line'),
  }),
  sources: () => [],
  parse: (_results, { deps }) => {
    const errors = deps['error-log'] as ErrorFacts;
    const crash = deps['crash-analysis'] as CrashFacts;
    const keepalive = deps['keepalive-analysis'] as KeepaliveFacts;
    const counts = new Map<string, number>();
    // The resets of the reset-by-peer question: before the response header, as error-log counts them.
    const resetIds: readonly string[] = FAMILIES.resets;
    for (const s of errors.signatures.filter((s) => resetIds.includes(s.id))) {
      for (const [p, n] of Object.entries(s.upstreams)) counts.set(p, (counts.get(p) ?? 0) + n);
    }
    const listeners = deps['backend-listeners'] as ListenerFacts | undefined;
    const ooms = deps['oom-kills'] as OomFacts | undefined;
    // php-fpm kills a child at request_terminate_timeout and stays up: crash-analysis sees no death, the pool's log does.
    const fpm = deps['php-fpm-pools'] as z.infer<typeof phpFpmPoolsProbe.facts> | undefined;
    const killed = new Set((fpm?.terminated ?? []).map((t) => t.address));
    const killSuspected = new Set((fpm?.terminateSuspected ?? []).map((t) => t.address));
    const racing = new Set(keepalive.mismatches.flatMap((u) => u.servers.filter((s) => s.mismatch).map((s) => s.address)));
    const peers = [...counts]
      .sort((a, b) => b[1] - a[1])
      .map(([address, resets]) => {
        // nginx logs the address it connected to; the config (and so every backend check) may name it
        // "localhost:8000" or a host name: match through the addresses backend-listeners resolved.
        const configAddress = backendOfPeer(address, listeners?.backends ?? [])?.address ?? address;
        const b = crash.backends.find((x) => x.address === address) ?? crash.backends.find((x) => x.address === configAddress);
        const groups = errors.groups.filter((g) => g.peer === address && resetIds.includes(g.signature));
        const firstMs = groups.reduce((t, g) => Math.min(t, parseTime(g.firstSeen)), Infinity);
        const lastMs = groups.reduce((t, g) => Math.max(t, parseTime(g.lastSeen)), -Infinity);
        const kills = (ooms?.victims ?? []).filter((v) => v.backend !== null && (v.backend === b?.address || v.backend === configAddress || v.backend === address)).map((v) => v.timeMs);
        const oomAtResets = b?.oomKills ? killExplains(kills, firstMs, lastMs, ooms !== undefined) : false;
        const fpmCause = killed.has(address) || killed.has(configAddress) ? 'confirmed' : killSuspected.has(address) || killSuspected.has(configAddress) ? 'suspected' : null;
        const eventCause = oomAtResets ? 'oom' : b?.crashed ? 'crash' : b?.restartSuspected ? 'replaced' : b?.recovered ? 'recovered' : fpmCause ? 'php-fpm-kill' : racing.has(configAddress) || racing.has(address) ? 'keepalive-race' : b ? 'stable' : 'unexamined';
        // A death, restart or replacement explains only the resets made before (or at) it: resets logged clearly
        // after the current process started were made by the process running now, which resets too.
        const replacedAtMs = b?.replacedAtMs ?? null;
        const after = ['crash', 'replaced', 'recovered'].includes(eventCause) && replacedAtMs !== null && Number.isFinite(lastMs) && lastMs > replacedAtMs + START_SLACK_MS;
        const cause = after ? 'stable' : eventCause;
        const suspectedOnly = cause === 'replaced' || (cause === 'php-fpm-kill' && fpmCause === 'suspected');
        const words = { oom: 'OOM-killed', crash: 'crashed or restarted', replaced: 'replaced mid-window', recovered: 'was down and came back', 'php-fpm-kill': "php-fpm's request_terminate_timeout, shorter than fastcgi_read_timeout", 'keepalive-race': "closes idle connections before nginx's keepalive_timeout", stable: 'stayed up', unexamined: 'no process seen here' } as const;
        // An OOM kill away from the resets is told, not taken for their cause.
        const apart = b?.oomKills && !oomAtResets && Number.isFinite(firstMs)
          ? ` (its OOM kill${kills.length ? ` at ${kills.map(formatClock).join(', ')}` : ''} is not at its resets, ${formatClock(firstMs)}–${formatClock(lastMs)})`
          : '';
        const summary = after
          ? `${b!.summary}; ${address} ×${resets}, the last at ${formatClock(lastMs)}, after its current process started at ${formatClock(replacedAtMs!)}: the process running now resets too${eventCause !== 'recovered' && firstMs <= replacedAtMs! + START_SLACK_MS ? `, not only the one before it (${words[eventCause as 'crash' | 'replaced']}${eventCause === 'replaced' ? ', suspected' : ''})` : ''}`
          : cause === 'stable' && b
            ? `${b.summary} (${resets} reset(s))`
            : `${address} ×${resets}: ${words[cause]}${suspectedOnly ? ' (suspected)' : ''}`;
        return { peer: address, resets, cause, suspectedOnly, summary: summary + apart } as const;
      });
    const stable = peers.filter((p) => p.cause === 'stable');
    const unexplained = peers.filter((p) => p.cause === 'unexamined');
    const suspected = peers.filter((p) => p.suspectedOnly);
    const explained = peers.filter((p) => p.cause !== 'stable' && p.cause !== 'unexamined' && !p.suspectedOnly);
    return {
      peers,
      stable,
      stableCount: stable.length,
      explained,
      explainedText: explained.map((p) => p.summary).join('; ') || 'none',
      suspected,
      suspectedCount: suspected.length,
      suspectedText: suspected.map((p) => p.summary).join('; ') || 'none',
      unexplained,
      unexplainedCount: unexplained.length,
      unexplainedText: unexplained.map((p) => p.summary).join('; ') || 'none',
    };
  },
  summarize: (facts) =>
    facts.peers.length === 0 ? 'no resets to attribute' : `${facts.stable.length} stable, ${facts.explained.length} explained, ${facts.suspected.length ? `${facts.suspected.length} with a suspected cause only, ` : ''}${facts.unexplained.length} unexplained peer(s) with resets`,
});

/**
 * Whether OOM kills at these times account for resets logged from firstMs to lastMs: the first and the last reset
 * each at a kill (killTiming.ts: from 1 s before to 10 s after it); resets before any kill, or long after the last,
 * have another cause. Without the kill times (oom-kills did not run here) the count alone is taken, as before:
 * crash-analysis saw the kill in the window.
 */
export function killExplains(kills: number[], firstMs: number, lastMs: number, timesKnown: boolean): boolean {
  if (!timesKnown) return true;
  return atKill(firstMs, kills) && atKill(lastMs, kills);
}
