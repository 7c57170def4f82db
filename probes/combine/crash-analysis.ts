import { z } from 'zod';
import { defineProbe } from '../../src/probe/contract.js';
import type { backendProcessProbe } from '../read/backend-process.js';
import type { backendRestartsProbe } from '../read/backend-restarts.js';
import type { oomKillsProbe } from '../read/oom-kills.js';
import type { errorLogProbe } from '../read/error-log.js';
import { parseTime } from '../../src/errorlog/line.js';
import { formatClock } from '../parse/clock.js';
import type { backendListenersProbe } from '../read/backend-listeners.js';
import { isPeerOf } from '../parse/peers.js';
import type { phpFpmPoolsProbe } from '../read/php-fpm-pools.js';
import { START_SLACK_MS, endsReach } from '../parse/killTiming.js';

type ProcessFacts = z.infer<typeof backendProcessProbe.facts>;
type RestartFacts = z.infer<typeof backendRestartsProbe.facts>;
type OomFacts = z.infer<typeof oomKillsProbe.facts>;
type ErrorFacts = z.infer<typeof errorLogProbe.facts>;
type ListenerFacts = z.infer<typeof backendListenersProbe.facts>;

const CONNECT_FAILURES = ['refused', 'socket-missing', 'connect-failed'];
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
  restarts: z.number().int().describe('systemd restarts in the window plus replaced workers'),
  startedRecently: z.boolean().describe('The main process started inside the window'),
  midRequestErrors: z.number().int().describe('Resets and premature closes nginx logged for it'),
  firstErrorSeen: z.string().nullable().describe('The first upstream error nginx logged for it in the window'),
  crashed: z.boolean().describe('It died or was restarted in the window, beyond its OOM kills'),
  recovered: z.boolean().describe('nginx was refused (or found no socket) before its current process started, and nothing recorded a death: it was down, and is up now'),
  connectFailures: z.number().int().describe('connect() refused or socket missing, logged for it in the window'),
  replacedAtMs: z.number().nullable().describe('The latest (re)start known in the window, epoch ms: its current main process started in the window, its unit last (re)started, or its newest counted replacement worker; null when none or no time is known. Resets logged clearly after it were made by the process running now'),
  recyclesUntold: z.boolean().describe("It recycled workers in the window and nginx's error log could not be read: whether a recycle cut requests off is unknown"),
  restartSuspected: z
    .boolean()
    .describe('Not seen dying, but its main process started after nginx had already logged errors for it: the process before it went away unrecorded'),
  summary: z.string().describe('One line for a report'),
});

/**
 * Processes that hold a backend's port only to pass connections on: Docker's
 * and Podman's port forwarders, rootless networking, tunnels. The app that
 * crashes or restarts is behind them.
 */
const PORT_FORWARDERS = new Set(['docker-proxy', 'rootlessport', 'rootlesskit', 'slirp4netns', 'pasta', 'pasta.avx2', 'conmon', 'gvproxy', 'vpnkit', 'kubectl', 'socat', 'ssh', 'sshd', 'sshd-session']);

export const crashAnalysisProbe = defineProbe({
  id: 'crash-analysis',
  title: 'Backend deaths and restarts',
  description: 'Per backend: OOM kills, crash lines, restarts and replaced workers in the window, next to the resets nginx logged for it.',
  requiresRoot: false,
  timeoutMs: 5000,
  dependsOn: ['backend-process'],
  uses: ['backend-restarts', 'oom-kills', 'error-log', 'backend-listeners', 'php-fpm-pools'],
  facts: z.object({
    backends: z.array(backend).describe('Backends with a known process'),
    oomBackends: z.array(backend).describe('Backends with OOM kills'),
    oomCount: z.number().int().describe('Backends OOM-killed in the window'),
    crashed: z.array(backend).describe('Backends that died or were restarted beyond their OOM kills'),
    crashedCount: z.number().int().describe('How many'),
    crashedBesideFpm: z.array(backend).describe("Crashed backends other than the php-fpm pools whose requests request_terminate_timeout kills (confirmed or suspected): a crash the php-fpm finding does not already name"),
    crashedBesideFpmCount: z.number().int().describe('How many'),
    restartSuspected: z.array(backend).describe('Backends replaced in the window without a recorded death or restart'),
    recyclesUntold: z.array(backend).describe("Backends that recycled workers in the window while nginx's error log could not be read: whether a recycle cut requests is unknown"),
    recyclesUntoldCount: z.number().int().describe('How many'),
    restartSuspectedCount: z.number().int().describe('How many'),
    recovered: z.array(backend).describe('Backends that were down (refused) in the window and are up now, with no recorded death'),
    recoveredCount: z.number().int().describe('How many'),
    stableWithResets: z.array(backend).describe('Backends that stayed up (no death, OOM kill or replacement) yet nginx logged resets or premature closes for them'),
    stableWithResetsCount: z.number().int().describe('How many'),
    checked: z.array(z.string()).describe('What could be checked: restarts, oom-kills, error-log'),
    examinedCount: z.number().int().describe('Backends whose processes could be examined'),
    unexamined: z.array(z.object({ address: z.string().describe('Backend address'), why: z.string().describe('Why its process could not be seen') })).describe('Backends with something listening (or on another machine) whose process could not be seen: their deaths cannot be told'),
    unexaminedCount: z.number().int().describe('How many'),
    unexaminedText: z.string().describe('The unexamined backends and why, in one line'),
    oomCgroups: z.array(z.string()).describe('Cgroups whose memory limit a backend hit (memcg OOM kills)'),
    oomGlobal: z.array(z.string()).describe('Backend processes killed because the whole machine ran out of memory'),
    oomUnsaid: z.array(z.string()).describe('Backend processes killed where the kernel line does not say which limit (older kernels)'),
    resetCaptures: z.array(z.string()).describe('A tcpdump command per TCP backend that reset while staying up, catching the RST'),
    overview: z.string().describe('Every examined backend in one line, or why none was'),
  }),
  sources: () => [],
  parse: (_results, { deps, options, windowEndMs, host }) => {
    const processes = deps['backend-process'] as ProcessFacts;
    const restarts = deps['backend-restarts'] as RestartFacts | undefined;
    const ooms = deps['oom-kills'] as OomFacts | undefined;
    const errors = deps['error-log'] as ErrorFacts | undefined;
    const listeners = deps['backend-listeners'] as ListenerFacts | undefined;
    // nginx logs the address it connected to (127.0.0.1:8000); the config may say localhost:8000 or a host name.
    const peerOf = (peer: string, address: string) => isPeerOf(peer, address, listeners?.backends ?? []);
    const windowStart = windowEndMs - options.sinceMs;
    // Only a backend whose process is known can be examined: a listener whose owner ss would not show a user, or a
    // backend on another machine, is counted apart, so its silence is never read as "did not crash".
    const fpm = deps['php-fpm-pools'] as z.infer<typeof phpFpmPoolsProbe.facts> | undefined;
    // A php-fpm child that died on a signal php-fpm did not send (SIGSEGV, SIGABRT, kill -9) is a crash of that
    // pool's backend, told by php-fpm's log alone: the master stays up. A SIGKILL the OOM killer sent is its OOM kill.
    const oomPids = new Set((ooms?.victims ?? []).map((v) => v.pid));
    const fpmCrashLines = (address: string) =>
      (fpm?.childCrashes ?? [])
        .filter((c) => c.address === address)
        .flatMap((c) => c.lines.map((text, i) => ({ pid: c.pids[i], kind: `php-fpm child ${c.signal}`, source: "php-fpm's log", text })))
        .filter((c) => c.pid === undefined || !oomPids.has(c.pid))
        .map(({ kind, source, text }) => ({ kind, source, text }));
    const killed = (address: string) => (ooms?.victims ?? []).some((v) => v.backend === address) || fpmCrashLines(address).length > 0;
    // A forwarder's own uptime says nothing of the app behind it (a container restarting behind docker-proxy).
    const seen = (b: (typeof processes.backends)[number]) => b.pid !== null && !PORT_FORWARDERS.has(b.comm ?? '');
    const unexamined = processes.backends
      .filter((b) => b.listening !== false && !seen(b) && !killed(b.address))
      .map((b) => ({
        address: b.address,
        why:
          b.listening === null
            ? 'on another machine: its processes cannot be seen from here'
            : b.pid !== null
              ? `${b.comm} (pid ${b.pid}) only forwards the port, to an app in a container or at the end of a tunnel this check cannot see: look there for restarts (docker ps -a, docker inspect -f '{{.RestartCount}}', podman, kubectl)`
              : host.uid !== 0
                ? 'its process is not shown to a user (run as root to see it)'
                : 'no process found for its socket',
      }));
    const unexaminedText = unexamined.map((u) => `${u.address}: ${u.why}`).join('; ');
    const backends = processes.backends
      .filter((b) => (b.listening !== false && seen(b)) || killed(b.address))
      .map((b) => {
        const victims = (ooms?.victims ?? []).filter((v) => v.backend === b.address);
        const restart = restarts?.backends.find((r) => r.address === b.address);
        const crashLines = [...(restart?.crashLines ?? []), ...fpmCrashLines(b.address)];
        const peerGroups = (errors?.groups ?? []).filter((g) => peerOf(g.peer, b.address));
        // A server that recycles workers replaces them as a matter of course; a replacement counts only where
        // nginx was cut off mid-request at its start (the worker before it died with requests in flight). A group
        // proves errors only at its first and last times: a recycle between two resets of an app that resets while
        // staying up cut nothing.
        const cutAt = (ms: number) => peerGroups.some((g) => MID_REQUEST.includes(g.signature) && endsReach(parseTime(g.firstSeen), parseTime(g.lastSeen), ms));
        const recycledAtCuts = (restart?.recycledWorkerStartsMs ?? []).filter(cutAt).length;
        // Without the error log no recycle can be held clear of cutting requests.
        const recyclesUntold = !errors && (restart?.recycledWorkerStartsMs ?? []).length > 0;
        const restartCount = (restart?.nRestartsInWindow ?? 0) + (restart?.workersRestarted ?? 0) + recycledAtCuts;
        const earliest = (groups: typeof peerGroups) => groups.reduce((t, g) => Math.min(t, parseTime(g.firstSeen)), Infinity);
        const midRequestErrors = peerGroups.filter((g) => MID_REQUEST.includes(g.signature)).reduce((n, g) => n + g.count, 0);
        const connectFailures = peerGroups.filter((g) => CONNECT_FAILURES.includes(g.signature)).reduce((n, g) => n + g.count, 0);
        const startedRecently = b.startedAtMs !== null && b.startedAtMs >= windowStart;
        const firstErrorMs = earliest(peerGroups);
        const firstErrorSeen = Number.isFinite(firstErrorMs) ? formatClock(firstErrorMs) : null;
        const lastErrorMs = peerGroups.reduce((t, g) => Math.max(t, parseTime(g.lastSeen)), -Infinity);
        const last = victims.at(-1);
        // Deaths beyond the OOM kills: a killed process that its supervisor restarts is one event, not two.
        const crashed = crashLines.length > 0 || restartCount > victims.length;
        // Both clocks are coarse: nginx floors its lines to the second, and the start time comes from ps's
        // whole elapsed seconds. Only a start clearly after an error counts as after it.
        const before = (ms: number) => startedRecently && Number.isFinite(ms) && ms + START_SLACK_MS <= b.startedAtMs!;
        const unexplained = !crashed && victims.length === 0;
        // Cut mid-request before the current process existed: a process was there and went away.
        const restartSuspected = unexplained && before(earliest(peerGroups.filter((g) => MID_REQUEST.includes(g.signature))));
        // Only refused before it started: nothing listened until it came up (never started, stopped, or died unseen).
        const recovered = unexplained && !restartSuspected && before(earliest(peerGroups.filter((g) => CONNECT_FAILURES.includes(g.signature))));
        const starts = [
          startedRecently ? b.startedAtMs! : null,
          restart?.nRestartsInWindow ? restart.lastStartAtMs : null,
          (restart?.workersRestarted ?? 0) + recycledAtCuts > 0 ? (restart?.newestWorkerAtMs ?? null) : null,
        ].filter((t): t is number => t !== null && t >= windowStart);
        const replacedAtMs = starts.length ? Math.max(...starts) : null;
        const timeoutSec = b.kind === 'gunicorn' ? gunicornTimeoutSec(b.args) : null;
        const parts = [
          victims.length ? `${victims.length} OOM kill(s) (last: ${last!.comm} ${last!.pid}, ${last!.anonRssMb} MB${last!.constraint === 'memcg' ? ` in cgroup ${last!.memcg}` : ''})` : null,
          crashLines.length ? describeCrashLines(crashLines.map((c) => c.kind), timeoutSec) : null,
          restartCount ? `${restartCount} restart(s) or replaced worker(s)` : null,
          restart?.restartsContext ?? null,
          recyclesUntold
            ? `${restart!.recycledWorkerStartsMs.length} worker(s) recycled as configured (${restart!.recycles}); whether one cut requests off is unknown: nginx's error log could not be read`
            : restart?.recycles && (restart.recycledWorkerStartsMs ?? []).length > recycledAtCuts
              ? `${restart.recycledWorkerStartsMs.length - recycledAtCuts} worker(s) recycled as configured (${restart.recycles}), none at an error nginx logged: not counted`
              : null,
          recovered
            ? `down until its current process started at ${formatClock(b.startedAtMs!)}: nginx could not connect from ${firstErrorSeen} (${connectFailures} refused or missing socket)${lastErrorMs + START_SLACK_MS <= b.startedAtMs! ? ', and has logged no error for it since' : `; errors went on after the start, the last at ${formatClock(lastErrorMs)}`}`
            : restartSuspected
              ? `its current process started at ${formatClock(b.startedAtMs!)}, after nginx had already been cut off mid-request by it from ${firstErrorSeen}: the process before it went away without a recorded restart`
              : startedRecently
                ? `up since ${formatClock(b.startedAtMs!)}${firstErrorSeen ? `, its first error at ${firstErrorSeen}` : ''}`
                : b.startedAtMs !== null
                  ? `up since ${formatClock(b.startedAtMs)}, before the window`
                  : null,
          !crashed && victims.length === 0 && !restartSuspected && !recovered && !recyclesUntold ? 'no restarts, crash lines or replaced workers' : null,
          midRequestErrors ? `nginx logged ${midRequestErrors} reset(s)/premature close(s) for it` : null,
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
          replacedAtMs,
          crashed,
          restartSuspected,
          recyclesUntold,
          recovered,
          connectFailures,
          summary: `${b.address}${describeProcess(b.kind, b.pid)}: ${parts.join('; ')}`,
        };
      });
    const oomBackends = backends.filter((b) => b.oomKills > 0);
    const crashed = backends.filter((b) => b.crashed);
    // The flow names php-fpm killing requests first; any other backend that crashed must still be named beside it,
    // and so must a killing pool whose children also crashed (the kill finding does not name that crash).
    const fpmKilling = new Set([...(fpm?.terminated ?? []), ...(fpm?.terminateSuspected ?? [])].map((t) => t.address));
    const crashedBesideFpm = crashed.filter((b) => !fpmKilling.has(b.address) || b.crashKinds.some((k) => k.startsWith('php-fpm child ')));
    const suspected = backends.filter((b) => b.restartSuspected);
    const myVictims = (ooms?.victims ?? []).filter((v) => v.backend !== null && backends.some((b) => b.address === v.backend));
    const recovered = backends.filter((b) => b.recovered);
    const stableWithResets = backends.filter((b) => !b.crashed && !b.restartSuspected && !b.recovered && b.oomKills === 0 && b.midRequestErrors > 0);
    return {
      backends,
      oomBackends,
      oomCount: oomBackends.length,
      crashed,
      crashedCount: crashed.length,
      crashedBesideFpm,
      crashedBesideFpmCount: crashedBesideFpm.length,
      restartSuspected: suspected,
      restartSuspectedCount: suspected.length,
      recyclesUntold: backends.filter((b) => b.recyclesUntold && !b.crashed),
      recyclesUntoldCount: backends.filter((b) => b.recyclesUntold && !b.crashed).length,
      recovered,
      recoveredCount: recovered.length,
      stableWithResets,
      stableWithResetsCount: stableWithResets.length,
      checked: [...(restarts ? ['restarts'] : []), ...(ooms ? ['oom-kills'] : []), ...(errors ? ['error-log'] : [])],
      examinedCount: backends.length,
      unexamined,
      unexaminedCount: unexamined.length,
      unexaminedText,
      oomCgroups: [...new Set(myVictims.filter((v) => v.constraint === 'memcg' && v.memcg).map((v) => v.memcg!))],
      oomGlobal: myVictims.filter((v) => v.constraint === 'global').map((v) => `${v.comm} ${v.pid} (${v.anonRssMb} MB)`),
      oomUnsaid: myVictims.filter((v) => v.constraint === 'unknown').map((v) => `${v.comm} ${v.pid} (${v.anonRssMb} MB)`),
      resetCaptures: stableWithResets
        .filter((b) => !b.address.startsWith('unix:'))
        .map((b) => /:(\d+)$/.exec(b.address)?.[1])
        .filter((port): port is string => port !== undefined)
        .map((port) => `tcpdump -i any -nn 'tcp port ${port} and tcp[tcpflags] & tcp-rst != 0'`),
      overview: backends.length
        ? backends.map((b) => b.summary).join('; ')
        : unexamined.length
          ? `no backend process to examine: ${unexaminedText}`
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

/** gunicorn's -t/--timeout from its command line; 30 s when not given. */
function gunicornTimeoutSec(args: string | null): number {
  const match = /(?:^|\s)(?:-t|--timeout)(?:=|\s+)(\d+)\b/.exec(args ?? '');
  return match ? Number(match[1]) : 30;
}

/** Crash lines in words: a WORKER TIMEOUT is the master killing a worker on purpose, not a crash. */
function describeCrashLines(kinds: string[], timeoutSec: number | null): string {
  const counts = new Map<string, number>();
  for (const kind of kinds) counts.set(kind, (counts.get(kind) ?? 0) + 1);
  return [...counts]
    .map(([kind, n]) =>
      kind.startsWith('php-fpm child ')
        ? `${n} php-fpm child(ren) exited on ${kind.slice('php-fpm child '.length)} (php-fpm's log), a signal php-fpm did not send: a crash`
        : kind === 'worker-timeout'
        ? `${n} worker(s) killed by gunicorn for running past --timeout${timeoutSec !== null ? ` ${timeoutSec} s${timeoutSec === 30 ? ' (the default)' : ' (default 30)'}` : ''} (WORKER TIMEOUT)`
        : `${n} ${kind} line(s)`,
    )
    .join(', ');
}
