import { z } from 'zod';
import { ProbeStatusError, defineProbe } from '../../src/probe/contract.js';
import type { backendListenersProbe } from './backend-listeners.js';
import type { errorLogProbe } from './error-log.js';
import { readKernelLogOrWhy, type KernelLine, type KernelLogRead } from './kernelLog.js';
import { backendOfPeer } from '../parse/peers.js';

type ListenerFacts = z.infer<typeof backendListenersProbe.facts>;
type ErrorFacts = z.infer<typeof errorLogProbe.facts>;

/**
 * What an accept queue that overflowed earlier in the window leaves in nginx's error log: a dropped handshake is a
 * connect timeout (tcp_abort_on_overflow 0), a reset one a refusal (1), a full unix-socket backlog EAGAIN
 * ("11: Resource temporarily unavailable": unix-backlog-full). Other connect errors (connect-failed) count too:
 * they are rare and unexplained, so they keep the rest of the window "could not tell" rather than ruled out.
 */
const OVERFLOW_TRACES = ['timeout-connect', 'refused', 'unix-backlog-full', 'connect-failed'] as const;

/** TcpExt counters about the listen queues, since boot. */
export const COUNTERS = ['ListenOverflows', 'ListenDrops', 'TCPReqQFullDrop', 'TCPReqQFullDoCookies', 'SyncookiesSent'] as const;
const SAMPLE_GAP_MS = 3_000;

/**
 * /proc/net/netstat holds pairs of lines, names then values:
 *   TcpExt: SyncookiesSent SyncookiesRecv … ListenOverflows ListenDrops …
 *   TcpExt: 0 0 … 12 12 …
 */
export function parseNetstat(text: string): Record<string, number> {
  const lines = text.split('\n');
  const counters: Record<string, number> = {};
  for (let i = 0; i + 1 < lines.length; i++) {
    const names = lines[i]!.split(/\s+/);
    const values = lines[i + 1]!.split(/\s+/);
    if (names[0] !== 'TcpExt:' || values[0] !== 'TcpExt:') continue;
    names.slice(1).forEach((name, k) => {
      const value = Number(values[k + 1]);
      if (name && Number.isFinite(value)) counters[name] = value;
    });
    i++;
  }
  return counters;
}

/**
 * The kernel's SYN flood warning names the listener (net/ipv4/tcp_input.c, tcp_syn_flood_action), by kernel age:
 *   TCP: Possible SYN flooding on port 3000. Sending cookies.  Check SNMP counters.
 *   TCP: request_sock_TCP: Possible SYN flooding on port 0.0.0.0:39224. Sending cookies.     (recorded here, 6.18)
 *   TCP: request_sock_TCPv6: Possible SYN flooding on port [::1]:8000. Dropping request.      ("[%pI6c]:%u")
 */
export function findSynFloods(lines: KernelLine[]): Array<{ timeMs: number; port: number; address: string | null; action: string }> {
  const out = [];
  for (const line of lines) {
    const match = /Possible SYN flooding on port (?:\[([^\]]+)\]:|(\S+):)?(\d+)\. (Sending cookies|Dropping request)/.exec(line.text);
    if (match) out.push({ timeMs: line.timeMs, port: Number(match[3]), address: match[1] ?? match[2] ?? null, action: match[4]! });
  }
  return out;
}

const WILDCARD = new Set(['0.0.0.0', '::', '*']);

/**
 * The backend a SYN flood warning is about, or null: the same port at a local address of the backend, and the same
 * address when the line names one — a wildcard listener (0.0.0.0, ::) serves every address, so it counts too. A
 * warning for another port is another service's listener: it says nothing about the backends.
 */
export function floodBackend(flood: { port: number; address: string | null }, backends: ListenerFacts['backends']): string | null {
  const address = flood.address?.replace(/^::ffff:(?=\d+\.)/, '') ?? null;
  const hit = backends.find((b) => b.peers.some((p) => p.local && p.port === flood.port && (address === null || WILDCARD.has(address) || p.ip.replace(/^::ffff:(?=\d+\.)/, '') === address)));
  return hit ? hit.label : null;
}

interface Gathered {
  first: string;
  second: string;
  gapMs: number;
  sysctls: Record<string, string | null>;
  kernel: KernelLogRead;
}

const SYSCTLS = {
  somaxconn: '/proc/sys/net/core/somaxconn',
  tcpMaxSynBacklog: '/proc/sys/net/ipv4/tcp_max_syn_backlog',
  tcpAbortOnOverflow: '/proc/sys/net/ipv4/tcp_abort_on_overflow',
  tcpSyncookies: '/proc/sys/net/ipv4/tcp_syncookies',
} as const;

export const listenQueueProbe = defineProbe({
  id: 'listen-queue',
  title: 'Accept queues',
  description: "Whether backends' accept queues overflow now: queue fill per listener, and the kernel's overflow counters sampled twice for a rate.",
  requiresRoot: false,
  timeoutMs: 25_000,
  dependsOn: ['backend-listeners'],
  uses: ['error-log'],
  // The 3 s sample runs while the error log is read; parse then matches its traces.
  usesAtParse: ['error-log'],
  facts: z.object({
    counters: z.record(z.string(), z.object({ before: z.number().describe('Value at the first reading'), after: z.number().describe('Value at the second reading'), perSec: z.number().describe('Increase per second between the readings') })).describe('TcpExt listen-queue counters: ListenOverflows, ListenDrops, TCPReqQFullDrop, TCPReqQFullDoCookies, SyncookiesSent'),
    overflowsPerSec: z.number().describe('ListenOverflows per second during the sample: accept queues overflowing right now'),
    sampleSec: z.number().describe('Seconds between the two readings'),
    somaxconn: z.number().int().nullable().describe('net.core.somaxconn: caps every listen backlog (accept queue)'),
    tcpMaxSynBacklog: z.number().int().nullable().describe('net.ipv4.tcp_max_syn_backlog: the SYN queue, not the accept queue'),
    tcpAbortOnOverflow: z.boolean().nullable().describe('On overflow: true sends RST (refused/reset), false drops the ACK (hangs → timeouts)'),
    tcpSyncookies: z.number().int().nullable().describe('net.ipv4.tcp_syncookies (1: when the SYN queue is full)'),
    queues: z
      .array(
        z.object({
          address: z.string().describe('Backend address'),
          recvQ: z.number().int().describe('Connections waiting to be accepted'),
          sendQ: z.number().int().nullable().describe('Backlog limit'),
          full: z.boolean().describe('Recv-Q reached the backlog'),
          cappedBySomaxconn: z.boolean().describe('The backlog equals somaxconn: the backend asked for at least that much'),
        }),
      )
      .describe('Accept queue of each listening backend'),
    synFloods: z
      .array(
        z.object({
          time: z.string().describe('When'),
          port: z.number().int().describe('Port'),
          address: z.string().nullable().describe('Address, on newer kernels'),
          action: z.string().describe('Sending cookies or Dropping request'),
          backend: z.string().nullable().describe('The backend whose listener it is (same port, and address when the line gives one); null: another service'),
        }),
      )
      .describe('SYN flood warnings in the kernel log in the window, every listener'),
    backendSynFloods: z.array(z.string()).describe("SYN flood warnings for a backend's listener, as \"backend at time: action\": the only ones that speak of a backend"),
    otherSynFloodsText: z.string().describe('SYN flood warnings for listeners that are not backends (nginx itself, other services), in words: context only'),
    windowTraces: z.array(z.string()).describe('Listening backends for which the error log of the window has connect timeouts, refusals or connect errors (EAGAIN among them), as "backend: counts": what an earlier overflow leaves; empty when the error log has none or was not read'),
    windowTracesText: z.string().describe('windowTraces in one line, or "none"'),
    kernelLog: z.string().describe('Where kernel messages came from, or why they could not be read'),
    machineWide: z.string().describe('The machine-wide signs in words: overflow rate, SYN flood warnings and the ports they name'),
    cappedQueues: z.array(z.string()).describe('Full queues whose backlog is already net.core.somaxconn: raising the backend backlog needs somaxconn raised too'),
    suggestedSomaxconn: z.number().int().nullable().describe('A somaxconn to ask for when a full queue is capped by it: twice the current value'),
    abortOnOverflowText: z.string().describe('What an overflow looks like to nginx under the current tcp_abort_on_overflow'),
    queuesText: z.string().describe('Each backend accept queue as "address: waiting of backlog", or why none was read'),
  }),
  sources: () => [],
  gatherPlan: ({ options }) => [
    `read /proc/net/netstat, wait ${SAMPLE_GAP_MS / 1000} s, read it again`,
    `read ${Object.values(SYSCTLS).join(' ')}`,
    `journalctl -k --since ${Math.round(options.sinceMs / 60_000)} min ago (else dmesg) for SYN flood lines`,
  ],
  gather: async (host, { options, windowEndMs }): Promise<Gathered> => {
    const read = async (path: string) => {
      const file = await host.readFile(path);
      if (!file.ok) throw new ProbeStatusError(file.error.code === 'EACCES' ? 'denied' : 'unavailable', file.error.message);
      return file.content;
    };
    // Marked: the rate divides by this gap, and a replay must divide by the same one.
    const started = host.mark('listen-queue:first-reading');
    const first = await read('/proc/net/netstat');
    await host.sleep(SAMPLE_GAP_MS);
    const second = await read('/proc/net/netstat');
    const gapMs = Math.max(1, host.mark('listen-queue:second-reading') - started);
    const sysctls: Record<string, string | null> = {};
    for (const [name, path] of Object.entries(SYSCTLS)) {
      const file = await host.readFile(path);
      sysctls[name] = file.ok ? file.content.trim() : null;
    }
    const kernel = await readKernelLogOrWhy(host, windowEndMs - options.sinceMs);
    return { first, second, gapMs, sysctls, kernel };
  },
  parse: (results, context) => {
    const g = results.gathered as Gathered;
    const before = parseNetstat(g.first);
    const after = parseNetstat(g.second);
    if (!('ListenOverflows' in before)) throw new ProbeStatusError('error', '/proc/net/netstat has no TcpExt ListenOverflows counter');
    // Tenths of a second: enough for a rate, and a replay (whose clock only follows recorded calls) reads the same.
    const sampleSec = Math.round(g.gapMs / 100) / 10;
    const counters: Record<string, { before: number; after: number; perSec: number }> = {};
    for (const name of COUNTERS) {
      if (!(name in before) || !(name in after)) continue;
      counters[name] = { before: before[name]!, after: after[name]!, perSec: Math.round(((after[name]! - before[name]!) / sampleSec) * 100) / 100 };
    }
    const num = (v: string | null | undefined) => (v != null && /^\d+$/.test(v) ? Number(v) : null);
    const somaxconn = num(g.sysctls['somaxconn']);
    const listeners = context.deps['backend-listeners'] as ListenerFacts;
    const queues = listeners.backends
      .filter((b) => b.recvQ !== null)
      .map((b) => ({ address: b.address, recvQ: b.recvQ!, sendQ: b.sendQ, full: b.sendQ !== null && b.sendQ > 0 && b.recvQ! >= b.sendQ, cappedBySomaxconn: somaxconn !== null && b.sendQ === somaxconn }));
    const abort = num(g.sysctls['tcpAbortOnOverflow']);
    const synFloods = 'error' in g.kernel
      ? []
      : findSynFloods(g.kernel.lines).map((s) => ({ time: new Date(s.timeMs).toISOString(), port: s.port, address: s.address, action: s.action, backend: floodBackend(s, listeners.backends) }));
    const overflowsPerSec = counters['ListenOverflows']?.perSec ?? 0;
    const windowTraces = tracesInWindow(context.deps['error-log'] as ErrorFacts | undefined, listeners.backends);
    const listener = (f: (typeof synFloods)[number]) => (f.address === null ? `port ${f.port}` : `${f.address.includes(':') ? `[${f.address}]` : f.address}:${f.port}`);
    const others = synFloods.filter((f) => f.backend === null);
    const otherListeners = [...new Set(others.map(listener))];
    const backendFloods = synFloods.filter((f) => f.backend !== null);
    return {
      counters,
      overflowsPerSec,
      sampleSec,
      somaxconn,
      tcpMaxSynBacklog: num(g.sysctls['tcpMaxSynBacklog']),
      tcpAbortOnOverflow: abort === null ? null : abort === 1,
      tcpSyncookies: num(g.sysctls['tcpSyncookies']),
      queues,
      synFloods,
      backendSynFloods: backendFloods.map((f) => `${f.backend} at ${f.time}: ${f.action.toLowerCase()}`),
      otherSynFloodsText: others.length ? `${others.length} SYN flood warning(s) for ${otherListeners.join(', ')}, no backend's listener` : 'none',
      windowTraces,
      windowTracesText: windowTraces.join('; ') || 'none',
      kernelLog: 'error' in g.kernel ? `not read: ${g.kernel.error}` : g.kernel.source,
      machineWide:
        `ListenOverflows ${overflowsPerSec}/s during a ${sampleSec} s sample` +
        (backendFloods.length
          ? `, ${backendFloods.length} SYN flood warning(s) for backend(s) ${[...new Set(backendFloods.map((f) => f.backend))].join(', ')}`
          : others.length
            ? ', no SYN flood warnings for a backend'
            : ', no SYN flood warnings') +
        (others.length ? ` (${others.length} for other listeners: ${otherListeners.join(', ')})` : '') +
        ('error' in g.kernel ? ' (kernel log not read)' : ''),
      cappedQueues: queues.filter((q) => q.full && q.cappedBySomaxconn).map((q) => q.address),
      suggestedSomaxconn: somaxconn !== null ? somaxconn * 2 : null,
      abortOnOverflowText:
        abort === 1
          ? 'tcp_abort_on_overflow 1: an overflowing connection is reset, and nginx logs it refused or reset'
          : abort === 0
            ? 'tcp_abort_on_overflow 0: an overflowing connection is dropped and the client retries its ACK, so nginx waits (slow connects, timeouts) rather than sees resets'
            : 'tcp_abort_on_overflow unknown',
      queuesText: queues.length ? queues.map((q) => `${q.address}: ${q.recvQ} waiting of ${q.sendQ ?? '?'}`).join(', ') : 'no backend queue could be read (ss shows Recv-Q for local TCP listeners only)',
    };
  },
  summarize: (facts) =>
    `ListenOverflows ${facts.overflowsPerSec}/s over ${facts.sampleSec.toFixed(1)} s; ${facts.queues.filter((q) => q.full).length} full queue(s); somaxconn ${facts.somaxconn ?? '?'}` +
    (facts.backendSynFloods.length ? `; ${facts.backendSynFloods.length} SYN flood warning(s) for backends` : '') +
    (facts.synFloods.length > facts.backendSynFloods.length ? `; ${facts.synFloods.length - facts.backendSynFloods.length} SYN flood warning(s) for other listeners` : ''),
  partialReason: (facts) => (facts.kernelLog.startsWith('not read') ? `kernel log ${facts.kernelLog}` : undefined),
});

/** Per listening backend: the window's connect timeouts, refusals and connect errors nginx logged for it. */
function tracesInWindow(errors: ErrorFacts | undefined, backends: ListenerFacts['backends']): string[] {
  if (!errors) return [];
  // A backend with nothing listening now is backend-down's; an overflow needs a listener.
  const listening = backends.filter((b) => b.state === 'listening' || b.state === 'partly-listening');
  const counts = new Map<string, Map<string, number>>();
  for (const signature of errors.signatures.filter((s) => (OVERFLOW_TRACES as readonly string[]).includes(s.id))) {
    for (const [peer, n] of Object.entries(signature.upstreams)) {
      const backend = backendOfPeer(peer, listening);
      if (!backend) continue;
      const perBackend = counts.get(backend.label) ?? new Map<string, number>();
      perBackend.set(signature.id, (perBackend.get(signature.id) ?? 0) + n);
      counts.set(backend.label, perBackend);
    }
  }
  return [...counts].map(([label, ids]) => `${label}: ${[...ids].map(([id, n]) => `${n} ${id}`).join(', ')}`);
}
