import { z } from 'zod';
import { defineProbe } from '../../src/probe/contract.js';
import { readKernelLog, type KernelLine, type KernelLog } from './kernelLog.js';
import type { backendProcessProbe } from './backend-process.js';
import type { backendListenersProbe } from './backend-listeners.js';
import type { errorLogProbe } from './error-log.js';
import { parseTime } from '../../src/errorlog/line.js';
import { atKill } from '../parse/killTiming.js';
import { backendOfPeer } from '../parse/peers.js';

type ProcessFacts = z.infer<typeof backendProcessProbe.facts>;
type ListenerFacts = z.infer<typeof backendListenersProbe.facts>;
type ErrorFacts = z.infer<typeof errorLogProbe.facts>;

export interface OomVictim {
  timeMs: number;
  pid: number;
  comm: string;
  anonRssKb: number;
  constraint: 'memcg' | 'global' | 'unknown';
  memcg: string | null;
}

/**
 * Both OOM formats and the cgroup variant (reference section 6):
 *   Out of memory: Kill process 23187 (node) score 912 or sacrifice child          (old; then:)
 *   Killed process 23187 (node) total-vm:2811388kB, anon-rss:1873404kB, …
 *   oom-kill:constraint=CONSTRAINT_MEMCG,…,task_memcg=/rdtest,task=python3,pid=3491,uid=0
 *   Memory cgroup out of memory: Killed process 3491 (python3) total-vm:78028kB, anon-rss:65024kB, …
 *   Out of memory: Killed process 4242 (gunicorn) total-vm:1520560kB, anon-rss:1211304kB, …
 */
export function findOomVictims(lines: KernelLine[]): OomVictim[] {
  const victims: OomVictim[] = [];
  const constraints = new Map<number, { constraint: 'memcg' | 'global'; memcg: string | null }>();
  for (const line of lines) {
    const detail = /oom-kill:constraint=(\w+),.*?(?:task_memcg=([^,]*),)?task=[^,]*,pid=(\d+)/.exec(line.text);
    if (detail) {
      constraints.set(Number(detail[3]), { constraint: detail[1] === 'CONSTRAINT_MEMCG' ? 'memcg' : 'global', memcg: detail[2] ?? null });
      continue;
    }
    const killed = /^(Memory cgroup out of memory: |Out of memory: )?Killed process (\d+) \(([^)]*)\) total-vm:\d+kB, anon-rss:(\d+)kB/.exec(line.text);
    if (!killed) continue;
    const pid = Number(killed[2]);
    const known = constraints.get(pid);
    victims.push({
      timeMs: line.timeMs,
      pid,
      comm: killed[3]!,
      anonRssKb: Number(killed[4]),
      constraint: known?.constraint ?? (killed[1]?.startsWith('Memory cgroup') ? 'memcg' : killed[1] ? 'global' : 'unknown'),
      memcg: known?.memcg ?? null,
    });
  }
  return victims;
}

export const oomKillsProbe = defineProbe({
  id: 'oom-kills',
  title: 'OOM kills',
  description: 'Processes the kernel killed for memory in the window, matched to the backends.',
  requiresRoot: 'partial',
  rootNote: 'without root the journal and dmesg may be closed (adm/systemd-journal group, kernel.dmesg_restrict)',
  timeoutMs: 20_000,
  uses: ['backend-process', 'error-log', 'backend-listeners'],
  facts: z.object({
    source: z.enum(['journalctl', 'dmesg']).describe('Where kernel messages were read'),
    note: z.string().nullable().describe('Why the journal was not used, when it was not'),
    victims: z
      .array(
        z.object({
          time: z.string().describe('When, ISO time'),
          timeMs: z.number().describe('When, epoch ms'),
          pid: z.number().int().describe('Killed pid'),
          comm: z.string().describe('Killed process name'),
          anonRssMb: z.number().describe('Its anonymous memory when killed, MB'),
          constraint: z.enum(['memcg', 'global', 'unknown']).describe('memcg: a cgroup limit was hit; global: the machine ran out'),
          memcg: z.string().nullable().describe('The cgroup whose limit was hit'),
          backend: z.string().nullable().describe('Backend address the victim belonged to'),
          matchedBy: z
            .enum(['pid', 'name', 'errors-at-kill'])
            .nullable()
            .describe("How: its pid (or a worker's), its process name on a backend restarted after the kill, or — for a backend with nothing listening now — nginx's errors for it beginning at the kill"),
        }),
      )
      .describe('OOM kills in the window'),
    count: z.number().int().describe('Number of OOM kills in the window'),
    backendVictims: z.number().int().describe('OOM kills of backend processes'),
  }),
  sources: () => [],
  gatherPlan: ({ options }) => [`journalctl -k --since ${Math.round(options.sinceMs / 60_000)} min ago (else dmesg --time-format=iso)`],
  gather: (host, { options, windowEndMs }) => readKernelLog(host, windowEndMs - options.sinceMs),
  parse: (results, context) => {
    const log = results.gathered as KernelLog;
    const processes = context.deps['backend-process'] as ProcessFacts | undefined;
    const down = downSince(context.deps['error-log'] as ErrorFacts | undefined, context.deps['backend-listeners'] as ListenerFacts | undefined, processes);
    const found = findOomVictims(log.lines).map((v) => {
      // The victim is gone, so match by name — but only a backend that was started or got a worker after the kill.
      const replacedAfter = (b: NonNullable<ProcessFacts>['backends'][number]) =>
        (b.startedAtMs !== null && b.startedAtMs >= v.timeMs - 5000) || b.workers.some((w) => w.startedAtMs >= v.timeMs - 5000);
      const byPid = processes?.backends.find((b) => b.pid === v.pid || b.workers.some((w) => w.pid === v.pid));
      const byName = byPid ? undefined : processes?.backends.find((b) => b.comm !== null && b.comm === v.comm && replacedAfter(b));
      return { v, byPid, byName };
    });
    // A backend killed and not restarted has no process left to match: it is the one whose errors began at the
    // kill and where nothing listens now — when exactly one backend is, and the kills at that moment are of one
    // program (a master and its workers). Another program killed in the same second (another service's OOM) makes
    // it a guess, and a guess is not made.
    const unmatched = found.filter((f) => !f.byPid && !f.byName);
    const killedAt = (d: { firstErrorMs: number }) => new Set(unmatched.filter((f) => atKill(d.firstErrorMs, [f.v.timeMs])).map((f) => `${f.v.comm} ${f.v.memcg ?? ''}`));
    const victims = found.map(({ v, byPid, byName }) => {
      const atThisKill = byPid || byName ? [] : down.filter((d) => atKill(d.firstErrorMs, [v.timeMs]));
      const byErrors = atThisKill.length === 1 && killedAt(atThisKill[0]!).size === 1 ? atThisKill[0]!.address : null;
      return {
        time: new Date(v.timeMs).toISOString(),
        timeMs: v.timeMs,
        pid: v.pid,
        comm: v.comm,
        anonRssMb: Math.round(v.anonRssKb / 102.4) / 10,
        constraint: v.constraint,
        memcg: v.memcg,
        backend: byPid?.address ?? byName?.address ?? byErrors,
        matchedBy: byPid ? ('pid' as const) : byName ? ('name' as const) : byErrors ? ('errors-at-kill' as const) : null,
      };
    });
    return { source: log.source, note: log.note, victims, count: victims.length, backendVictims: victims.filter((v) => v.backend).length };
  },
  summarize: (facts) =>
    facts.count === 0 ? `no OOM kills (${facts.source})` : `${facts.count} OOM kill(s): ${facts.victims.map((v) => `${v.comm} ${v.pid}${v.backend ? ` (${v.backend})` : ''}`).join(', ')}`,
});

/** Backends with nothing listening now, and when nginx first logged an error for them in the window. */
function downSince(errors: ErrorFacts | undefined, listeners: ListenerFacts | undefined, processes: ProcessFacts | undefined): Array<{ address: string; firstErrorMs: number }> {
  if (!errors) return [];
  return (processes?.backends ?? [])
    .filter((b) => b.listening === false)
    .map((b) => {
      const groups = errors.groups.filter((g) => g.peer === b.address || backendOfPeer(g.peer, listeners?.backends ?? [])?.address === b.address);
      return { address: b.address, firstErrorMs: groups.reduce((t, g) => Math.min(t, parseTime(g.firstSeen)), Infinity) };
    })
    .filter((d) => Number.isFinite(d.firstErrorMs));
}
