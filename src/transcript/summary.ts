import type { Finding } from '../engine/state.js';
import { findingKind } from '../findings/catalog.js';
import type { RecordingEntry } from '../host/recording.js';
import { probeEntry, type JsonReport } from '../report/jsonReport.js';
import type { ChangeEvent, ProbeEvent, RollbackEvent, TranscriptEvent, TranscriptReport } from './events.js';
import type { ReadTranscript } from './read.js';

/** What every rendering puts first: how the session ended, its findings, the changes made and their verdicts. */
export interface Summary {
  ended: { kind: 'finished' | 'quit' | 'interrupted'; at: number; reason: string | null; exitCode: number | null };
  report: TranscriptReport;
  changes: Array<{ change: ChangeEvent; rollbacks: RollbackEvent[] }>;
  nginxVersion: string | null;
}

export function summarize(transcript: ReadTranscript): Summary {
  const { events, ending, start } = transcript;
  const reportEvent = findLast(events, 'report');
  const report = reportEvent?.report ?? reportFromEvents(transcript);
  const changes = new Map<string, { change: ChangeEvent; rollbacks: RollbackEvent[] }>();
  for (const event of events) {
    // A change is written again as it moves on (applied, then verified): the last one stands.
    if (event.type === 'change') changes.set(event.id, { change: event, rollbacks: changes.get(event.id)?.rollbacks ?? [] });
    if (event.type === 'rollback') changes.get(event.id)?.rollbacks.push(event);
  }
  const versionProbe = events.find((e): e is ProbeEvent => e.type === 'probe' && e.id === 'nginx-version' && e.status === 'ok');
  const nginxVersion = start.nginx.version ?? /\b(\d+\.\d+\.\d+)\b/.exec(versionProbe?.summary ?? '')?.[1] ?? null;
  let ended!: Summary['ended'];
  if (ending.kind === 'end') {
    const end = ending.event as Extract<TranscriptEvent, { type: 'end' }>;
    const over = end.status === 'finished' || end.status === 'failed';
    ended = { kind: over ? 'finished' : 'quit', at: end.at, reason: over ? null : 'the operator quit before the end', exitCode: end.exitCode };
  } else if (ending.kind === 'interrupted') {
    const stop = ending.event as Extract<TranscriptEvent, { type: 'interrupted' }>;
    ended = { kind: 'interrupted', at: stop.at, reason: stop.reason, exitCode: null };
  } else if (ending.kind === 'cut') {
    ended = { kind: 'interrupted', at: ending.lastAt, reason: 'no end was written: the process was killed (SIGKILL, a crash, the machine went down)', exitCode: null };
  }
  return { ended, report, changes: [...changes.values()], nginxVersion };
}

function findLast<K extends TranscriptEvent['type']>(events: TranscriptEvent[], type: K): Extract<TranscriptEvent, { type: K }> | undefined {
  for (let i = events.length - 1; i >= 0; i--) if (events[i]!.type === type) return events[i] as Extract<TranscriptEvent, { type: K }>;
  return undefined;
}

/** A session with no report (interrupted) gets one from its events: the engine's last view of the findings, each probe's last result. */
export function reportFromEvents(transcript: ReadTranscript): TranscriptReport {
  const { events, start } = transcript;
  const findings: Finding[] = findLast(events, 'findings')?.findings ?? [];
  const probes = new Map<string, ProbeEvent>();
  const fixes = new Map<string, JsonReport['fixes'][number]>();
  const answers: JsonReport['answers'] = [];
  const notes: JsonReport['notes'] = [];
  const overrides: JsonReport['overrides'] = [];
  const path: string[] = [];
  for (const event of events) {
    if (event.type === 'probe') probes.set(event.id, event);
    if (event.type === 'fixes') for (const f of event.fixes) fixes.set(f.id, { ...f, applied: false });
    if (event.type === 'answer') answers.push({ node: event.node, choice: event.choice, source: event.source });
    // After `back` the path is cut to where it went back to and walked again.
    if (event.type === 'step') path.splice(event.index - 1, Infinity, event.node);
    if (event.type === 'operator' && event.input.type === 'note') notes.push({ node: event.node ?? '', text: event.input.text });
    if (event.type === 'operator' && event.input.type === 'override') overrides.push({ node: event.input.node, from: '', to: event.input.to, reason: event.input.reason });
  }
  return {
    tool: 'reset-doctor',
    version: /^reset-doctor (\S+)/.exec(start.tool)?.[1] ?? start.tool,
    flow: start.flow,
    host: start.host.hostname,
    startedAt: new Date(start.at).toISOString(),
    finishedAt: null,
    status: 'interrupted',
    path,
    // The report's impact is computed over the finished walk's facts, which an interrupted transcript does not keep.
    impact: {
      source: 'none', window: { from: null, to: null }, clientErrors: null, status502: null, status504: null, requests: null, retriedSaved: null,
      routes: [], upstreams: [], upstreamErrors: 0, firstSeen: null, lastSeen: null, recent: null, stillHappening: null,
      notes: ['the session was interrupted before its report: the impact was not computed (resume it, or see the error-log probe in the timeline)'],
    },
    // What each explains is counted over the finished walk; an interrupted one says it is not known (share null).
    findings: findings.map(({ id, status, summary, evidence, override }) => ({ id, status, kind: findingKind(id), explains: { errors: 0, share: null }, summary, evidence, ...(override ? { override } : {}) })),
    fixes: [...fixes.values()],
    probes: [...probes.values()].map(probeEntry),
    answers,
    overrides,
    notes,
    transcript: transcript.path,
  };
}

/** A command's output cut for reading: the first and last lines of each stream, saying what was left out. */
export function excerpt(text: string, head = 20, tail = 10, maxChars = 4000): string {
  const lines = text.replace(/\n$/, '').split('\n');
  let out = lines.length > head + tail ? [...lines.slice(0, head), `… ${lines.length - head - tail} line(s) left out …`, ...lines.slice(-tail)].join('\n') : lines.join('\n');
  if (out.length > maxChars) out = `${out.slice(0, maxChars)}\n… ${out.length - maxChars} character(s) left out …`;
  return out;
}

/** The timeline as shown: commands with an excerpt of their output, other host calls in one line, the rest as written. */
export type TimelineItem =
  | { type: 'command'; at: number; argv: string[]; exitCode: number | null; durationMs: number; failure?: string; stdout: string; stderr: string }
  | { type: 'read'; at: number; what: string }
  | Exclude<TranscriptEvent, { type: 'host' | 'start' }>;

export function timeline(transcript: ReadTranscript): TimelineItem[] {
  const base = transcript.start.recordingStartedAtMs;
  return transcript.events.flatMap((event): TimelineItem[] => {
    if (event.type === 'start') return [];
    if (event.type !== 'host') return [event];
    const entry = event.entry;
    if (entry.kind === 'command') {
      return [
        {
          type: 'command',
          at: base + entry.atMs,
          argv: [entry.file, ...entry.args],
          exitCode: entry.exitCode,
          durationMs: entry.durationMs,
          ...(entry.failure ? { failure: `${entry.failure.kind}: ${entry.failure.message}` } : {}),
          stdout: excerpt(entry.stdout),
          stderr: excerpt(entry.stderr),
        },
      ];
    }
    const what = readLine(entry);
    return what ? [{ type: 'read', at: base + entry.atMs, what }] : [];
  });
}

/** File reads, stats and connections in one line each; marks (clock readings) are not shown. */
function readLine(entry: RecordingEntry): string | null {
  switch (entry.kind) {
    case 'readFile':
      return entry.result.ok ? `read ${entry.path} (${entry.result.content.length} of ${entry.result.size} bytes${entry.position !== undefined ? ` at ${entry.position}` : ''})` : `read ${entry.path}: ${entry.result.error.code}`;
    case 'stat':
      return entry.result.ok ? `stat ${entry.path}: ${entry.result.type}` : `stat ${entry.path}: ${entry.result.error.code}`;
    case 'listDir':
      return entry.result.ok ? `list ${entry.path}: ${entry.result.entries.length} entries` : `list ${entry.path}: ${entry.result.error.code}`;
    case 'readLink':
      return entry.result.ok ? `readlink ${entry.path} → ${entry.result.target}` : `readlink ${entry.path}: ${entry.result.error.code}`;
    case 'connect': {
      const where = entry.target.kind === 'tcp' ? `${entry.target.host}:${entry.target.port}` : `unix:${entry.target.path}`;
      const last = entry.result.events.at(-1);
      return `connect ${where}: ${entry.result.connected ? 'connected' : 'not connected'}${last ? `, then ${last.kind} at ${last.atMs} ms` : ''}`;
    }
    case 'command':
    case 'mark':
      return null;
  }
}
