import type { EngineState, Finding } from '../engine/state.js';
import { isPeerOf, parsePeer } from '../../probes/parse/peers.js';
import { factsOf, isClientError, type ErrorLogFacts, type Impact } from './impact.js';

/**
 * How many of the window's client-facing upstream errors (error-log lines
 * nginx answers with a 502/504) a finding accounts for, from the attribution
 * the probes already did: reset-attribution per peer, crash-analysis per
 * backend, backend-listeners for what is down, the error log's signatures
 * per peer. Two findings may explain the same lines (an OOM kill and the
 * backend it left down); neither is counted twice within one finding.
 */
export interface Explains {
  errors: number;
  /** errors / impact.upstreamErrors; null when the window has none to explain. */
  share: number | null;
}

type Backend = { address: string; peers: Array<{ ip: string; port: number }>; listenerPath?: string | null };
type AttributedPeer = { peer: string; resets: number; cause: string };
type CrashBackend = { address: string; connectFailures: number; midRequestErrors: number };

const CONNECT_FAILED = ['refused', 'socket-missing'];
// Whatever connect() said, nothing listening there explains it (a stale socket file can answer EACCES).
const DOWN_CONNECT = [...CONNECT_FAILED, 'permission-denied', 'connect-failed'];
const RESETS = ['reset-reading-header', 'premature-close-header', 'reset-sending-request'];
const TIMEOUTS = ['timeout-connect', 'timeout-send', 'timeout-read'];

/** Signatures (and peers, when the finding names its backends) each finding accounts for. */
export function explainsFor(finding: Finding, state: EngineState, impact: Impact): Explains {
  const errors = Math.min(countFor(finding.id, state), impact.upstreamErrors);
  return { errors, share: impact.upstreamErrors > 0 ? errors / impact.upstreamErrors : null };
}

function countFor(id: string, state: EngineState): number {
  const log = factsOf<ErrorLogFacts>(state, 'error-log');
  if (!log) return 0;
  const listeners = factsOf<{ backends: Backend[]; down: Backend[] }>(state, 'backend-listeners');
  const backends = listeners?.backends ?? [];
  const lines = (signatures: string[], peerMatches?: (peer: string) => boolean) =>
    log.signatures
      .filter((s) => signatures.includes(s.id) && isClientError(s.id))
      .reduce((n, s) => n + Object.entries(s.upstreams).reduce((m, [peer, count]) => m + (!peerMatches || peerMatches(peer) ? count : 0), 0), 0);
  const of = (addresses: string[]) => (peer: string) => addresses.some((a) => isPeerOf(peer, a, backends));
  const attribution = factsOf<{ peers: AttributedPeer[] }>(state, 'reset-attribution')?.peers ?? [];
  const resetsBy = (...causes: string[]) => attribution.filter((p) => causes.includes(p.cause)).reduce((n, p) => n + p.resets, 0);
  const crash = factsOf<{ oomBackends: CrashBackend[]; crashed: CrashBackend[]; recovered: CrashBackend[] }>(state, 'crash-analysis');
  const refusedOf = (list: CrashBackend[] | undefined) => lines(CONNECT_FAILED, of((list ?? []).map((b) => b.address)));

  switch (id) {
    case 'backend-down':
      // Down now, or down earlier in the window and up again (a recovery): their refusals and missing sockets.
      return lines(DOWN_CONNECT, of([...(listeners?.down ?? []).map((b) => b.address), ...(crash?.recovered ?? []).map((b) => b.address)]));
    case 'backend-oom':
      return resetsBy('oom') + refusedOf(crash?.oomBackends);
    case 'backend-crash':
      return resetsBy('crash', 'replaced', 'recovered', 'php-fpm-kill') + refusedOf(crash?.crashed);
    case 'keepalive-mismatch':
      return resetsBy('keepalive-race');
    case 'backend-reset':
      return resetsBy('stable', 'unexamined');
    case 'upstream-timeout':
      return lines(TIMEOUTS);
    case 'listen-queue-overflow':
      return lines(['unix-backlog-full', 'timeout-connect']);
    case 'buffer-too-small':
      return lines(['too-big-header']);
    case 'peers-marked-down':
      return lines(['no-live-upstreams']);
    case 'unexamined-errors':
      return lines(['connect-failed', 'invalid-header', 'other-upstream']);
    case 'selinux-denied':
    case 'apparmor-denied':
      return lines(['permission-denied']);
    case 'firewall-reset': {
      const firewall = factsOf<{ matching: Array<{ backend: string }>; possible: Array<{ backend: string }> }>(state, 'firewall');
      const named = [...(firewall?.matching ?? []), ...(firewall?.possible ?? [])].map((r) => r.backend);
      return named.length ? lines([...CONNECT_FAILED, 'timeout-connect', ...RESETS], of(named)) : 0;
    }
    case 'conntrack-full':
      return lines(['timeout-connect']);
    case 'network-mtu':
      // Only a remote backend has a path: its stalls and resets.
      return lines([...RESETS, 'timeout-read'], (peer) => isRemote(peer));
    default:
      // Latent risks and hygiene (keep-alive not in effect, double submits, logging, a broken config on disk) and 413s explain no 502/504.
      return 0;
  }
}

function isRemote(peer: string): boolean {
  const parts = parsePeer(peer);
  if (!parts || 'path' in parts) return false;
  return !/^(127\.|::1$|::ffff:127\.)/.test(parts.ip);
}
