import { z } from 'zod';
import { defineProbe } from '../../src/probe/contract.js';
import { parseTime } from '../../src/errorlog/line.js';
import { formatClock, formatGap } from '../parse/clock.js';
import type { errorLogProbe } from '../read/error-log.js';
import type { nginxRuntimeProbe } from '../read/nginx-runtime.js';
import type { backendProcessProbe } from '../read/backend-process.js';
import type { oomKillsProbe } from '../read/oom-kills.js';
import type { backendRestartsProbe } from '../read/backend-restarts.js';

type ErrorFacts = z.infer<typeof errorLogProbe.facts>;
type RuntimeFacts = z.infer<typeof nginxRuntimeProbe.facts>;
type ProcessFacts = z.infer<typeof backendProcessProbe.facts>;
type OomFacts = z.infer<typeof oomKillsProbe.facts>;
type RestartFacts = z.infer<typeof backendRestartsProbe.facts>;

/** How far before the first error a change counts as a suspect. */
const LOOKBACK_MS = 15 * 60_000;
/** nginx floors its times to the second and process starts are a second coarse: changes this close after still count as before. */
const SLACK_MS = 2000;

const KINDS = ['first-error', 'nginx-start', 'nginx-reload', 'backend-start', 'workers-replaced', 'unit-start', 'oom-kill'] as const;

const event = z.object({
  atMs: z.number().describe('When, epoch ms'),
  time: z.string().describe('When, local time as nginx writes it'),
  kind: z.enum(KINDS).describe('first-error (per signature), nginx-start, nginx-reload, backend-start, workers-replaced, unit-start, oom-kill'),
  detail: z.string().describe('What happened, naming the process or signature'),
});

/**
 * What changed: the runbook's last question. Lines up the first upstream
 * error of each kind with nginx's start and last reload, the backends'
 * process and worker starts, systemd unit starts and OOM kills, so a deploy,
 * reload or restart just before the errors stands out.
 */
export const timelineProbe = defineProbe({
  id: 'timeline',
  title: 'What changed',
  description: "The first upstream errors lined up with nginx's reloads, backend (re)starts and OOM kills in the window.",
  requiresRoot: false,
  timeoutMs: 5000,
  dependsOn: ['error-log'],
  uses: ['nginx-runtime', 'backend-process', 'oom-kills', 'backend-restarts'],
  facts: z.object({
    events: z.array(event).describe('Everything that happened in the window, oldest first'),
    firstError: z.string().nullable().describe('The first upstream error in the window, local time'),
    changesBefore: z.array(z.string()).describe(`Changes in the ${LOOKBACK_MS / 60_000} min before the first error, nearest first, with how long before`),
    changesAfter: z.array(z.string()).describe('Changes after the first error, with how long after'),
    lastReloadBeforeWindow: z.string().nullable().describe("nginx's last reload (or start) when it happened before the window"),
    otherOomKills: z.number().int().describe('OOM kills of processes that are not backends, in the window'),
    checked: z.array(z.string()).describe('Which sources were lined up'),
    story: z.string().describe('The timeline in one line for a report'),
  }),
  sources: () => [],
  parse: (_results, { deps, options, windowEndMs }) => {
    const errors = deps['error-log'] as ErrorFacts;
    const runtime = deps['nginx-runtime'] as RuntimeFacts | undefined;
    const processes = deps['backend-process'] as ProcessFacts | undefined;
    const ooms = deps['oom-kills'] as OomFacts | undefined;
    const restarts = deps['backend-restarts'] as RestartFacts | undefined;
    const windowStart = windowEndMs - options.sinceMs;
    const inWindow = (ms: number | null | undefined): ms is number => typeof ms === 'number' && Number.isFinite(ms) && ms >= windowStart;
    const events: Array<z.infer<typeof event>> = [];
    const add = (atMs: number, kind: (typeof KINDS)[number], detail: string) => events.push({ atMs, time: formatClock(atMs), kind, detail });

    for (const s of errors.signatures) {
      const at = parseTime(s.firstSeen);
      if (Number.isFinite(at)) add(at, 'first-error', `first ${s.id} (${s.count} in the window, the last at ${s.lastSeen})`);
    }
    let lastReloadBeforeWindow: string | null = null;
    if (runtime) {
      if (inWindow(runtime.masterStartedAtMs)) add(runtime.masterStartedAtMs, 'nginx-start', `nginx master (pid ${runtime.masterPid}) started`);
      if (inWindow(runtime.lastReloadAtMs)) add(runtime.lastReloadAtMs, 'nginx-reload', `nginx reloaded (its workers started; master pid ${runtime.masterPid})`);
      const lastChange = runtime.lastReloadAtMs ?? runtime.masterStartedAtMs;
      if (lastChange !== null && !inWindow(lastChange)) lastReloadBeforeWindow = `${formatClock(lastChange)} (${formatGap(windowEndMs - lastChange)} ago)`;
    }
    for (const b of processes?.backends ?? []) {
      if (b.pid === null) continue;
      const who = `${b.address} (${b.kind && b.kind !== 'unknown' ? `${b.kind} ` : ''}pid ${b.pid})`;
      if (inWindow(b.startedAtMs)) add(b.startedAtMs, 'backend-start', `backend ${who} started`);
      // Workers started well after their master were replaced: one event at the newest.
      const replaced = b.workers.filter((w) => inWindow(w.startedAtMs) && (b.startedAtMs === null || w.startedAtMs > b.startedAtMs + SLACK_MS));
      if (replaced.length) add(Math.max(...replaced.map((w) => w.startedAtMs)), 'workers-replaced', `${replaced.length} worker(s) of ${who} replaced, the newest then`);
    }
    for (const r of restarts?.backends ?? []) {
      const at = r.activeSince ? Date.parse(r.activeSince.replace(/^[A-Z][a-z]{2} /, '')) : Number.NaN;
      if (r.unit && inWindow(at)) add(at, 'unit-start', `systemd unit ${r.unit} (re)started${r.nRestarts ? `, ${r.nRestarts} automatic restart(s) so far` : ''}`);
    }
    // A backend's OOM kill is an event; other processes' kills are counted, not listed (oom-kills has them).
    const otherOomKills = (ooms?.victims ?? []).filter((v) => inWindow(v.timeMs) && v.backend === null).length;
    for (const v of ooms?.victims ?? []) {
      if (inWindow(v.timeMs) && v.backend !== null) add(v.timeMs, 'oom-kill', `kernel OOM-killed ${v.comm} (pid ${v.pid}) of backend ${v.backend}, ${v.anonRssMb} MB`);
    }
    events.sort((a, b) => a.atMs - b.atMs || KINDS.indexOf(a.kind) - KINDS.indexOf(b.kind));

    const first = events.find((e) => e.kind === 'first-error');
    const changes = events.filter((e) => e.kind !== 'first-error');
    const before = first ? changes.filter((e) => e.atMs >= first.atMs - LOOKBACK_MS && e.atMs <= first.atMs + SLACK_MS).reverse() : [];
    const after = first ? changes.filter((e) => e.atMs > first.atMs + SLACK_MS) : [];
    const changesBefore = before.map((e) => `${e.detail} at ${e.time}, ${e.atMs <= first!.atMs ? `${formatGap(first!.atMs - e.atMs)} before` : 'the same moment'}`);
    const changesAfter = after.map((e) => `${e.detail} at ${e.time}, ${formatGap(e.atMs - first!.atMs)} after`);
    const checked = ['error-log', ...(runtime ? ['nginx-runtime'] : []), ...(processes ? ['backend-process'] : []), ...(restarts ? ['backend-restarts'] : []), ...(ooms ? ['oom-kills'] : [])];
    const story = first
      ? `first upstream error at ${first.time} (${first.detail.replace(/ \(.*$/, '')}); ` +
        (changesBefore.length ? `in the ${LOOKBACK_MS / 60_000} min before it: ${changesBefore.join('; ')}` : `nothing changed in the ${LOOKBACK_MS / 60_000} min before it`) +
        (changesAfter.length ? `; after it: ${changesAfter.join('; ')}` : '') +
        (lastReloadBeforeWindow ? `; nginx last (re)loaded ${lastReloadBeforeWindow}` : '')
      : `no upstream errors in the window; ${changes.length ? `changes: ${changes.map((e) => `${e.detail} at ${e.time}`).join('; ')}` : 'no changes seen'}`;
    return { events, firstError: first?.time ?? null, changesBefore, changesAfter, lastReloadBeforeWindow, otherOomKills, checked, story };
  },
  details: (facts) => ({
    title: "What changed (this machine's local time)",
    lines: [
      ...facts.events.map((e) => `${e.time}  ${e.kind === 'first-error' ? '▲' : '•'} ${e.detail}`),
      ...(facts.events.length === 0 ? ['nothing happened in the window that this machine records'] : []),
      ...(facts.lastReloadBeforeWindow ? [`nginx last (re)loaded ${facts.lastReloadBeforeWindow}, before the window`] : []),
      ...(facts.otherOomKills ? [`${facts.otherOomKills} OOM kill(s) of other processes on this machine in the window (see oom-kills)`] : []),
      ...(facts.firstError && facts.changesBefore.length === 0 ? [`nothing changed in the 15 min before the first error (checked: ${facts.checked.join(', ')})`] : []),
    ],
  }),
  summarize: (facts) =>
    facts.firstError === null ? 'no upstream errors to line up' : `first error ${facts.firstError}; ${facts.changesBefore.length} change(s) in the 15 min before, ${facts.changesAfter.length} after`,
});
