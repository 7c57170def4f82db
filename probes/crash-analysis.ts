import { z } from 'zod';
import { defineProbe } from '../src/probe/contract.js';
import type { backendProcessProbe } from './backend-process.js';
import type { backendRestartsProbe } from './backend-restarts.js';
import type { oomKillsProbe } from './oom-kills.js';
import type { errorLogProbe } from './error-log.js';
import { parseTime } from '../src/errorlog/line.js';
import { formatClock } from './clock.js';

type ProcessFacts = z.infer<typeof backendProcessProbe.facts>;
type RestartFacts = z.infer<typeof backendRestartsProbe.facts>;
type OomFacts = z.infer<typeof oomKillsProbe.facts>;
type ErrorFacts = z.infer<typeof errorLogProbe.facts>;

const START_SLACK_MS = 3000;
const MID_REQUEST = ['reset-reading-header', 'premature-close-header', 'reset-sending-request', 'reset-reading-body', 'premature-close-body'];

/** Per backend: did it die, get OOM-killed or restarted in the window, and did nginx see its connections cut? */
const backend = z.object({
  address: z.string().describe('Backend address'),
  kind: z.string().nullable().describe('Server kind'),
  pid: z.number().int().nullable().describe('Main process'),
  oomKills: z.number().int().describe('OOM kills of its processes in the window'),
  oomDetail: z.string().nullable().describe('The last OOM kill: process, memory, cgroup'),
  crashLines: z.number().int().describe('Crash lines (worker timeout, traceback, segfault, …) in the window'),
  crashKinds: z.array(z.string()).describe('Kinds of crash lines seen'),
  firstCrashLine: z.string().nullable().describe('The first crash line, as logged'),
  restarts: z.number().int().describe('systemd restarts plus replaced workers'),
  startedRecently: z.boolean().describe('The main process started inside the window'),
  midRequestErrors: z.number().int().describe('Resets and premature closes nginx logged for it'),
  firstErrorSeen: z.string().nullable().describe('The first upstream error nginx logged for it in the window'),
  crashed: z.boolean().describe('It died or was restarted in the window, beyond its OOM kills'),
  restartSuspected: z
    .boolean()
    .describe('Not seen dying, but its main process started after nginx had already logged errors for it: the process before it went away unrecorded'),
  summary: z.string().describe('One line for a report'),
});

export const crashAnalysisProbe = defineProbe({
  id: 'crash-analysis',
  title: 'Backend deaths and restarts',
  description: 'Per backend: OOM kills, crash lines, restarts and replaced workers in the window, next to the resets nginx logged for it.',
  requiresRoot: false,
  timeoutMs: 5000,
  dependsOn: ['backend-process'],
  uses: ['backend-restarts', 'oom-kills', 'error-log'],
  facts: z.object({
    backends: z.array(backend).describe('Backends with a known process'),
    oomBackends: z.array(backend).describe('Backends with OOM kills'),
    oomCount: z.number().int().describe('Backends OOM-killed in the window'),
    crashed: z.array(backend).describe('Backends that died or were restarted beyond their OOM kills'),
    crashedCount: z.number().int().describe('How many'),
    restartSuspected: z.array(backend).describe('Backends replaced in the window without a recorded death or restart'),
    restartSuspectedCount: z.number().int().describe('How many'),
    stableWithResets: z.array(backend).describe('Backends that stayed up (no death, OOM kill or replacement) yet nginx logged resets or premature closes for them'),
    stableWithResetsCount: z.number().int().describe('How many'),
    checked: z.array(z.string()).describe('What could be checked: restarts, oom-kills, error-log'),
    examinedCount: z.number().int().describe('Backends whose processes could be examined'),
    overview: z.string().describe('Every examined backend in one line, or why none was'),
  }),
  sources: () => [],
  parse: (results, { deps, options }) => {
    const processes = deps['backend-process'] as ProcessFacts;
    const restarts = deps['backend-restarts'] as RestartFacts | undefined;
    const ooms = deps['oom-kills'] as OomFacts | undefined;
    const errors = deps['error-log'] as ErrorFacts | undefined;
    const windowStart = results.collectedAt - options.sinceMs;
    const backends = processes.backends
      .filter((b) => b.listening !== false || (ooms?.victims ?? []).some((v) => v.backend === b.address))
      .map((b) => {
        const victims = (ooms?.victims ?? []).filter((v) => v.backend === b.address);
        const restart = restarts?.backends.find((r) => r.address === b.address);
        const crashLines = restart?.crashLines ?? [];
        const restartCount = (restart?.nRestarts ?? 0) + (restart?.workersRestarted ?? 0);
        const midRequestErrors = (errors?.groups ?? []).filter((g) => g.peer === b.address && MID_REQUEST.includes(g.signature)).reduce((n, g) => n + g.count, 0);
        const startedRecently = b.startedAtMs !== null && b.startedAtMs >= windowStart;
        // Any error for this peer, connect() refused included: a refusal before the start means it was down, then came back.
        const firstErrorMs = (errors?.groups ?? []).filter((g) => g.peer === b.address).reduce((t, g) => Math.min(t, parseTime(g.firstSeen)), Infinity);
        const firstErrorSeen = Number.isFinite(firstErrorMs) ? (errors?.groups ?? []).filter((g) => g.peer === b.address).map((g) => g.firstSeen).sort()[0]! : null;
        const last = victims.at(-1);
        // Deaths beyond the OOM kills: a killed process that its supervisor restarts is one event, not two.
        const crashed = crashLines.length > 0 || restartCount > victims.length;
        // Both clocks are coarse: nginx floors its lines to the second, and the start time is the reading
        // time minus ps's whole elapsed seconds (late by up to a second plus ps's own run). Only a start
        // clearly after the first error counts.
        const restartSuspected = !crashed && victims.length === 0 && startedRecently && Number.isFinite(firstErrorMs) && firstErrorMs + START_SLACK_MS <= b.startedAtMs!;
        const parts = [
          victims.length ? `${victims.length} OOM kill(s) (last: ${last!.comm} ${last!.pid}, ${last!.anonRssMb} MB${last!.constraint === 'memcg' ? ` in cgroup ${last!.memcg}` : ''})` : null,
          crashLines.length ? `${crashLines.length} crash line(s): ${[...new Set(crashLines.map((c) => c.kind))].join(', ')}` : null,
          restartCount ? `${restartCount} restart(s) or replaced worker(s)` : null,
          startedRecently ? `its main process started at ${formatClock(b.startedAtMs!)}${startVersusErrors(firstErrorSeen, restartSuspected)}` : null,
          midRequestErrors ? `nginx logged ${midRequestErrors} reset(s)/premature close(s)` : null,
        ].filter(Boolean);
        return {
          address: b.address,
          kind: b.kind,
          pid: b.pid,
          oomKills: victims.length,
          oomDetail: last ? `${last.comm} ${last.pid} killed at ${last.time}, ${last.anonRssMb} MB anon RSS, ${last.constraint}${last.memcg ? ` ${last.memcg}` : ''}` : null,
          crashLines: crashLines.length,
          crashKinds: [...new Set(crashLines.map((c) => c.kind))],
          firstCrashLine: crashLines[0]?.text ?? null,
          restarts: restartCount,
          startedRecently,
          midRequestErrors,
          firstErrorSeen,
          crashed,
          restartSuspected,
          summary: `${b.address}${describeProcess(b.kind, b.pid)}: ${parts.length ? parts.join('; ') : 'no deaths or restarts seen'}`,
        };
      });
    const oomBackends = backends.filter((b) => b.oomKills > 0);
    const crashed = backends.filter((b) => b.crashed);
    const suspected = backends.filter((b) => b.restartSuspected);
    const stableWithResets = backends.filter((b) => !b.crashed && !b.restartSuspected && b.oomKills === 0 && b.midRequestErrors > 0);
    return {
      backends,
      oomBackends,
      oomCount: oomBackends.length,
      crashed,
      crashedCount: crashed.length,
      restartSuspected: suspected,
      restartSuspectedCount: suspected.length,
      stableWithResets,
      stableWithResetsCount: stableWithResets.length,
      checked: [...(restarts ? ['restarts'] : []), ...(ooms ? ['oom-kills'] : []), ...(errors ? ['error-log'] : [])],
      examinedCount: backends.length,
      overview: backends.length
        ? backends.map((b) => b.summary).join('; ')
        : processes.backends.length
          ? 'no backend process to examine: none of them listens, or they are not on this machine'
          : 'no backends in the config',
    };
  },
  summarize: (facts) =>
    facts.crashedCount + facts.restartSuspectedCount + facts.oomCount === 0
      ? `no backend died or restarted (checked: ${facts.checked.join(', ') || 'nothing'})`
      : [...new Set([...facts.oomBackends, ...facts.crashed, ...facts.restartSuspected])].map((b) => b.summary).join('; '),
});

/** " (node pid 42)", " (pid 42)" when the kind is not known, or nothing without a pid. */
function describeProcess(kind: string | null, pid: number | null): string {
  if (pid === null) return kind && kind !== 'unknown' ? ` (${kind})` : '';
  return ` (${kind && kind !== 'unknown' ? `${kind} ` : ''}pid ${pid})`;
}

/** Where the process start falls against nginx's first error for it, in words. */
function startVersusErrors(firstErrorSeen: string | null, restartSuspected: boolean): string {
  if (firstErrorSeen === null) return '';
  if (restartSuspected) return `, after nginx had logged errors for it from ${firstErrorSeen}: the process before it went away without a recorded restart`;
  // Closer than the clocks can tell apart, or clearly before: either way not a replacement.
  return `, nginx's first error for it at ${firstErrorSeen}`;
}
