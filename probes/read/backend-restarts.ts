import { z } from 'zod';
import type { CommandResult, Host } from '../../src/host/types.js';

import { defineProbe } from '../../src/probe/contract.js';
import type { backendProcessProbe } from './backend-process.js';
import { flag, workerRecycling } from '../parse/serverKind.js';
import { formatClock } from '../parse/clock.js';

type ProcessFacts = z.infer<typeof backendProcessProbe.facts>;

/** Lines that say a backend process or worker died. */
export const CRASH_PATTERNS: ReadonlyArray<[string, RegExp]> = [
  ['worker-timeout', /WORKER TIMEOUT/],
  ['worker-killed', /Worker \(pid:\d+\) was sent SIG(?:KILL|TERM|ABRT)|worker.*(?:exited|died) (?:with|on) (?:code|signal)/i],
  ['traceback', /Traceback \(most recent call last\)/],
  ['segfault', /Segmentation fault|SIGSEGV|segfault at/],
  ['fatal', /FATAL ERROR|Uncaught (?:Error|Exception)|UnhandledPromiseRejection|panic:/],
  ['exited', /Main process exited|exited with code \d+|code=(?:exited|killed|dumped), status=/],
  ['oom', /out of memory|Killed process|MemoryError/i],
];

export function findCrashLines(text: string): Array<{ kind: string; text: string }> {
  const out: Array<{ kind: string; text: string }> = [];
  for (const line of text.split('\n')) {
    const hit = CRASH_PATTERNS.find(([, pattern]) => pattern.test(line));
    if (hit) out.push({ kind: hit[0], text: line.trim().slice(0, 300) });
  }
  return out;
}

/** gunicorn's line when a worker reaches max_requests (workers/sync.py, gthread.py): a planned, graceful replacement. */
const RECYCLED_LINE = /Autorestarting worker after current request\./;

/** systemd unit from /proc/PID/cgroup: "0::/system.slice/app.service" or "1:name=systemd:/system.slice/app.service". */
export function systemdUnit(cgroup: string): string | null {
  const match = /(?:^0::|name=systemd:)\/(?:.*\/)?([\w@.:-]+\.service)(?:\/|$)/m.exec(cgroup);
  return match ? match[1]! : null;
}

/** `systemctl show -p NRestarts,ActiveEnterTimestamp,… UNIT`: key=value lines. */
export function parseSystemctlShow(text: string): Record<string, string> {
  return Object.fromEntries(text.split('\n').filter((l) => l.includes('=')).map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]));
}

/**
 * A `systemctl show` timestamp, "Tue 2024-02-11 03:10:00 UTC" (systemd formats "%a %Y-%m-%d %H:%M:%S %Z", optionally
 * with microseconds) → epoch ms; null when empty (never started) or unreadable. systemctl prints the machine's own
 * zone, the one this process runs in: a zone other than UTC/GMT is read as local time.
 */
export function parseSystemdTimestamp(text: string | undefined): number | null {
  const match = /^(?:[A-Z][a-z]{2} )?(\d{4}-\d\d-\d\d) (\d\d:\d\d:\d\d)(\.\d+)?(?: (\S+))?$/.exec((text ?? '').trim());
  if (!match) return null;
  const utc = match[4] === undefined || /^(?:UTC|GMT|Z)$/.test(match[4]);
  const ms = Date.parse(`${match[1]}T${match[2]}${(match[3] ?? '').slice(0, 4)}${utc && match[4] !== undefined ? 'Z' : ''}`);
  return Number.isNaN(ms) ? null : ms;
}

/** "[2024-02-11 03:14:07 +0000] [4242] [CRITICAL] WORKER TIMEOUT (pid:4245)" → epoch ms; NaN when the line has no such time. */
export function gunicornTime(line: string): number {
  const match = /^\[(\d{4}-\d\d-\d\d) (\d\d:\d\d:\d\d) ([+-]\d\d)(\d\d)\]/.exec(line);
  return match ? Date.parse(`${match[1]}T${match[2]}${match[3]}:${match[4]}`) : Number.NaN;
}

interface BackendGathered {
  address: string;
  pid: number;
  unit: string | null;
  show: CommandResult | null;
  journal: CommandResult | null;
  logFile: { path: string; text: string } | { path: string; error: string } | null;
}

const UNIT = /^[\w@.:-]+\.service$/;

async function gatherBackend(host: Host, backend: ProcessFacts['backends'][number], sinceMs: number): Promise<BackendGathered | null> {
  if (backend.pid === null || backend.args === null) return null;
  const cgroup = await host.readFile(`/proc/${backend.pid}/cgroup`);
  const unit = cgroup.ok ? systemdUnit(cgroup.content) : null;
  let show: CommandResult | null = null;
  let journal: CommandResult | null = null;
  // Only a unit name of the systemd form reaches a command line.
  if (unit && UNIT.test(unit)) {
    show = await host.run({ file: 'systemctl', args: ['show', '-p', 'NRestarts,ActiveEnterTimestamp,ExecMainStartTimestamp,ExecMainStatus,ExecMainCode,Result', unit], timeoutMs: 5000 });
    journal = await host.run({ file: 'journalctl', args: ['-u', unit, '--since', `@${Math.floor(sinceMs / 1000)}`, '-o', 'short-iso', '--no-pager', '-q'], timeoutMs: 15_000 });
  }
  const argv = backend.args.split(/\s+/);
  // The command line overrides the config file's errorlog, as gunicorn does.
  const logPath = flag(argv, '--error-logfile') ?? flag(argv, '--log-file') ?? backend.configLogFile ?? null;
  let logFile: BackendGathered['logFile'] = null;
  if (logPath && logPath !== '-' && logPath.startsWith('/')) {
    const read = await host.readFile(logPath, { tailBytes: 1024 * 1024 });
    logFile = read.ok ? { path: logPath, text: read.content } : { path: logPath, error: read.error.message };
  }
  return { address: backend.address, pid: backend.pid, unit, show: show?.failure ? null : show, journal: journal?.failure ? null : journal, logFile };
}

/**
 * The lines of a backend's log file written since `sinceMs`. A traceback's lines carry no time of their own:
 * they belong to the timed line before them, and lines before the first timed one are of unknown age, so out.
 */
export function inWindow(text: string, sinceMs: number): string {
  let current = Number.NaN;
  return text
    .split('\n')
    .filter((line) => {
      const t = gunicornTime(line);
      if (!Number.isNaN(t)) current = t;
      return !Number.isNaN(current) && current >= sinceMs;
    })
    .join('\n');
}

export const backendRestartsProbe = defineProbe({
  id: 'backend-restarts',
  title: 'Backend crashes and restarts',
  description: 'Whether the backend is crashing or being restarted: systemd restart counts, workers younger than their master, and crash lines from its journal or log file.',
  requiresRoot: 'partial',
  rootNote: "without root the unit's journal and other users' log files may be closed",
  timeoutMs: 30_000,
  dependsOn: ['backend-process'],
  facts: z.object({
    backends: z
      .array(
        z.object({
          address: z.string().describe('Backend address'),
          pid: z.number().int().describe('Main process'),
          unit: z.string().nullable().describe('systemd unit running it, if any'),
          nRestarts: z.number().int().nullable().describe('systemd NRestarts: automatic restarts since the unit was last started by hand, a lifetime counter, not windowed'),
          nRestartsInWindow: z.number().int().describe('NRestarts when the last (re)start of the unit falls inside the window, else 0: a restart last week says nothing of now'),
          lastStartAtMs: z.number().nullable().describe('Last start of the unit or its main process, epoch ms (ExecMainStartTimestamp, else ActiveEnterTimestamp, else the process start time)'),
          restartsContext: z.string().nullable().describe('NRestarts in words when it is not counted in the window: "3 automatic restart(s), the last at … before the window"'),
          activeSince: z.string().nullable().describe('systemd ActiveEnterTimestamp'),
          lastExit: z.string().nullable().describe('systemd result of the last main-process exit'),
          workersRestarted: z.number().int().describe('Workers started well after their master: workers that died and were replaced (not counted when the server recycles workers as a matter of course)'),
          recycles: z.string().nullable().describe('Why the server replaces workers as a matter of course, or null'),
          recycledWorkerStartsMs: z.array(z.number()).describe('Start times (epoch ms) of workers replaced in the window of a server that recycles workers: a death only where nginx was cut off at that time'),
          newestWorkerAtMs: z.number().nullable().describe('Start of the newest worker, epoch ms'),
          crashLines: z.array(z.object({ kind: z.string().describe('worker-timeout, worker-killed, traceback, segfault, fatal, exited, oom'), source: z.string().describe('journal or the log file'), text: z.string().describe('The line') })).describe('Crash lines in the window'),
          logFile: z.string().nullable().describe('Log file named on the command line, if read'),
        }),
      )
      .describe('One per backend with a known process'),
    crashCount: z.number().int().describe('Crash lines across backends'),
    restartedBackends: z.number().int().describe('Backends with restarts in the window or replaced workers'),
  }),
  sources: () => [],
  gatherPlan: ({ options }) => [
    'read /proc/PID/cgroup for the systemd unit',
    'systemctl show -p NRestarts,ActiveEnterTimestamp,ExecMainStartTimestamp,ExecMainStatus,ExecMainCode,Result UNIT',
    `journalctl -u UNIT --since ${Math.round(options.sinceMs / 60_000)} min ago`,
    'tail of a log file named on the command line (--error-logfile)',
  ],
  gather: async (host, context) => {
    const processes = context.deps['backend-process'] as ProcessFacts;
    const sinceMs = context.windowEndMs - context.options.sinceMs;
    const out: BackendGathered[] = [];
    for (const backend of processes.backends) {
      const one = await gatherBackend(host, backend, sinceMs);
      if (one) out.push(one);
    }
    return out;
  },
  parse: (results, context) => {
    const processes = context.deps['backend-process'] as ProcessFacts;
    const sinceMs = context.windowEndMs - context.options.sinceMs;
    const backends = (results.gathered as BackendGathered[]).map((g) => {
      const proc = processes.backends.find((b) => b.address === g.address && b.pid === g.pid)!;
      const show = g.show?.exitCode === 0 ? parseSystemctlShow(g.show.stdout) : {};
      const masterStart = proc.startedAtMs ?? 0;
      const crashLines = [
        ...(g.journal?.exitCode === 0 ? findCrashLines(g.journal.stdout).map((c) => ({ ...c, source: `journal ${g.unit}` })) : []),
        ...(g.logFile && 'text' in g.logFile ? findCrashLines(inWindow(g.logFile.text, sinceMs)).map((c) => ({ ...c, source: g.logFile!.path })) : []),
      ];
      // Workers forked at start appear within a second of the master (start times have 1 s resolution);
      // later ones, in the window, replaced a dead worker or came with a reload — unless the server makes
      // new workers as a matter of course: php-fpm's pools, and workers recycled after N requests (flag or
      // config file, backend-process), or seen recycling in the server's own log. Those are counted apart:
      // crash-analysis holds one against the backend only where nginx was cut off at its start.
      const logged = [g.journal?.exitCode === 0 ? g.journal.stdout : '', g.logFile && 'text' in g.logFile ? inWindow(g.logFile.text, sinceMs) : ''].join('\n');
      const recycles = proc.recycles ?? workerRecycling(proc.kind ?? 'unknown', proc.args ?? '', null, null) ?? (RECYCLED_LINE.test(logged) ? `its log says "Autorestarting worker after current request." (max_requests)` : null);
      const replaced = proc.workers.filter((w) => w.startedAtMs - masterStart > 2000 && w.startedAtMs >= sinceMs);
      const restartedWorkers = recycles ? [] : replaced;
      const nRestarts = show['NRestarts'] && /^\d+$/.test(show['NRestarts']) ? Number(show['NRestarts']) : null;
      // NRestarts counts since the unit was last started by hand, however long ago. Only when the unit last came up
      // inside the window was (at least the last of) those restarts now; otherwise they are history.
      const lastStartAtMs = parseSystemdTimestamp(show['ExecMainStartTimestamp']) ?? parseSystemdTimestamp(show['ActiveEnterTimestamp']) ?? proc.startedAtMs;
      const inWindowNow = lastStartAtMs !== null && lastStartAtMs >= sinceMs;
      const nRestartsInWindow = nRestarts && inWindowNow ? nRestarts : 0;
      return {
        address: g.address,
        pid: g.pid,
        unit: g.unit,
        nRestarts,
        nRestartsInWindow,
        lastStartAtMs,
        restartsContext:
          nRestarts && !inWindowNow
            ? `${nRestarts} automatic restart(s) of ${g.unit} in its lifetime, the last at ${lastStartAtMs !== null ? formatClock(lastStartAtMs) : 'an unknown time'}, before the window: not counted`
            : null,
        activeSince: show['ActiveEnterTimestamp'] || null,
        lastExit: show['Result'] ? `${show['Result']}${show['ExecMainStatus'] && show['ExecMainStatus'] !== '0' ? ` (status ${show['ExecMainStatus']})` : ''}` : null,
        workersRestarted: restartedWorkers.length,
        recycles,
        // php-fpm starts children on demand, when requests come: a start beside an error says nothing, and the
        // pool's own log (php-fpm-pools) tells its kills. Only recycling after N requests is held against a cut.
        recycledWorkerStartsMs: recycles && proc.kind !== 'php-fpm' ? replaced.map((w) => w.startedAtMs) : [],
        newestWorkerAtMs: proc.workers.length ? Math.max(...proc.workers.map((w) => w.startedAtMs)) : null,
        crashLines: crashLines.slice(0, 50),
        logFile: g.logFile && 'text' in g.logFile ? g.logFile.path : null,
      };
    });
    return {
      backends,
      crashCount: backends.reduce((n, b) => n + b.crashLines.length, 0),
      restartedBackends: backends.filter((b) => b.nRestartsInWindow > 0 || b.workersRestarted > 0).length,
    };
  },
  summarize: (facts) =>
    facts.backends.length === 0
      ? 'no backend process to check'
      : facts.backends
          .map((b) => `${b.address}: ${b.unit ?? 'no systemd unit'}${b.nRestartsInWindow ? `, ${b.nRestartsInWindow} restart(s)` : b.nRestarts ? `, ${b.nRestarts} restart(s) before the window` : ''}${b.workersRestarted ? `, ${b.workersRestarted} worker(s) replaced` : ''}${b.crashLines.length ? `, ${b.crashLines.length} crash line(s)` : ''}`)
          .join('; '),
});

