import type { EngineState } from '../engine/state.js';
import { SIGNATURES, type SignatureId } from '../errorlog/signatures.js';

/**
 * What users got in the window, before anything about why: the 502/504
 * answers per route (the access log when it records $status, else the
 * error log's lines that nginx answers with a 502/504), the upstreams they
 * came from (the error log names peers), since when, and whether they are
 * still coming.
 */
export interface Impact {
  /** Where the client-facing counts come from. */
  source: 'access-log' | 'error-log' | 'none';
  window: { from: string | null; to: string | null };
  /** 502 + 504 answers (access log), or error-log lines that become one (error log); null when neither was read. */
  clientErrors: number | null;
  status502: number | null;
  status504: number | null;
  requests: number | null;
  /** Requests a later try answered: the client never saw the failure the error log shows. */
  retriedSaved: number | null;
  routes: Array<{ route: string; status502: number; status504: number; requests: number | null }>;
  /** Error-log lines per peer among the kinds nginx answers 502/504 for, most first. */
  upstreams: Array<{ peer: string; errors: number }>;
  /** Error-log lines of the kinds nginx answers 502/504 for: what a finding's `explains` is counted against. */
  upstreamErrors: number;
  firstSeen: string | null;
  lastSeen: string | null;
  /** The last minutes of the window: upstream error lines in them. null when the error log was not read. */
  recent: { minutes: number; errors: number } | null;
  stillHappening: boolean | null;
  /** Why the counts are incomplete or from the second-best source, in words. */
  notes: string[];
}

interface SignatureFacts {
  id: string;
  count: number;
  firstSeen: string;
  lastSeen: string;
  upstreams: Record<string, number>;
  routes: Record<string, number>;
}
export interface ErrorLogFacts {
  window: { from: string | null; to: string | null };
  signatures: SignatureFacts[];
  perMinute: Array<{ minute: string; count: number }>;
}
interface AccessLogFacts {
  logs: Array<{ path: string; retriedThenOk: number; routes: Array<{ route: string; requests: number; status502: number; status504: number }> }>;
  requests: number;
  status502: number;
  status504: number;
  anyUpstreamStatus: boolean;
}

export const RECENT_MINUTES = 5;

/** A signature nginx answers the client with a 502 or 504 for (not a truncated body, a 413 or a note). */
/** Routes by the client errors they got, most first; then by name, so a report reads the same every run. */
const mostErrorsFirst = (a: Impact['routes'][number], b: Impact['routes'][number]) => b.status502 + b.status504 - (a.status502 + a.status504) || a.route.localeCompare(b.route);

export function isClientError(id: string): boolean {
  const status = SIGNATURES[id as SignatureId]?.status ?? '';
  return status.startsWith('502') || status.startsWith('504');
}

export function factsOf<T>(state: EngineState, probe: string): T | null {
  const outcome = state.probes[probe];
  return outcome?.status === 'ok' && outcome.facts ? (outcome.facts as T) : null;
}

export function computeImpact(state: EngineState, sinceMs?: number): Impact {
  const errors = factsOf<ErrorLogFacts>(state, 'error-log');
  const access = factsOf<AccessLogFacts>(state, 'access-log');
  const notes: string[] = [];
  const signatures = (errors?.signatures ?? []).filter((s) => isClientError(s.id));
  const upstreamErrors = signatures.reduce((n, s) => n + s.count, 0);
  const perPeer = new Map<string, number>();
  for (const s of signatures) for (const [peer, n] of Object.entries(s.upstreams)) perPeer.set(peer, (perPeer.get(peer) ?? 0) + n);
  const upstreams = [...perPeer].map(([peer, n]) => ({ peer, errors: n })).sort((a, b) => b.errors - a.errors || a.peer.localeCompare(b.peer));
  const firstSeen = signatures.map((s) => s.firstSeen).sort()[0] ?? null;
  const lastSeen = signatures.map((s) => s.lastSeen).sort().at(-1) ?? null;
  // The error log's window starts where its lines do (a log younger than the window): the window asked for is --since back from its end.
  const to = errors?.window.to ?? (state.startedAt !== null ? local(state.startedAt) : null);
  const window = { from: sinceMs !== undefined && to ? local(parseLocal(to) - sinceMs) : (errors?.window.from ?? null), to };

  let recent: Impact['recent'] = null;
  let stillHappening: boolean | null = null;
  if (errors && window.to) {
    const cutoff = minuteOf(parseLocal(window.to) - RECENT_MINUTES * 60_000);
    const inRecent = errors.perMinute.filter((m) => m.minute >= cutoff).reduce((n, m) => n + m.count, 0);
    recent = { minutes: RECENT_MINUTES, errors: inRecent };
    stillHappening = inRecent > 0;
  }

  const accessUsable = access !== null && access.logs.length > 0;
  if (accessUsable) {
    const routes = new Map<string, Impact['routes'][number]>();
    for (const log of access.logs) {
      for (const r of log.routes) {
        if (r.status502 + r.status504 === 0) continue;
        const row = routes.get(r.route) ?? { route: r.route, status502: 0, status504: 0, requests: 0 };
        row.status502 += r.status502;
        row.status504 += r.status504;
        row.requests = (row.requests ?? 0) + r.requests;
        routes.set(r.route, row);
      }
    }
    if (!errors) notes.push('the error log could not be read, so no upstream or times for them: "Could not check" below says why and what to run');
    return {
      source: 'access-log',
      window,
      clientErrors: access.status502 + access.status504,
      status502: access.status502,
      status504: access.status504,
      requests: access.requests,
      retriedSaved: access.anyUpstreamStatus ? access.logs.reduce((n, l) => n + l.retriedThenOk, 0) : null,
      routes: [...routes.values()].sort(mostErrorsFirst),
      upstreams,
      upstreamErrors,
      firstSeen,
      lastSeen,
      recent,
      stillHappening,
      notes,
    };
  }
  if (!errors) {
    notes.push('neither the access log nor the error log could be read: what clients got is not known');
    return { source: 'none', window, clientErrors: null, status502: null, status504: null, requests: null, retriedSaved: null, routes: [], upstreams: [], upstreamErrors: 0, firstSeen: null, lastSeen: null, recent, stillHappening, notes };
  }
  notes.push(access === null ? 'no access log was read: counted from the error log, where a retried request that a later try saved still shows' : 'no access log records $status: counted from the error log, where a retried request that a later try saved still shows');
  const routes = new Map<string, Impact['routes'][number]>();
  for (const s of signatures) {
    const is504 = SIGNATURES[s.id as SignatureId].status.startsWith('504');
    for (const [route, n] of Object.entries(s.routes)) {
      const row = routes.get(route) ?? { route, status502: 0, status504: 0, requests: null };
      if (is504) row.status504 += n;
      else row.status502 += n;
      routes.set(route, row);
    }
  }
  const status504 = signatures.filter((s) => SIGNATURES[s.id as SignatureId].status.startsWith('504')).reduce((n, s) => n + s.count, 0);
  return {
    source: 'error-log',
    window,
    clientErrors: upstreamErrors,
    status502: upstreamErrors - status504,
    status504,
    requests: null,
    retriedSaved: null,
    routes: [...routes.values()].sort(mostErrorsFirst),
    upstreams,
    upstreamErrors,
    firstSeen,
    lastSeen,
    recent,
    stillHappening,
    notes,
  };
}

/** "2026/12/01 13:05:09" (how nginx and formatLocal write local time) → epoch ms. */
export function parseLocal(text: string): number {
  const m = /^(\d{4})\/(\d\d)\/(\d\d) (\d\d):(\d\d)(?::(\d\d))?/.exec(text);
  if (!m) return Number.NaN;
  return new Date(Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6] ?? 0)).getTime();
}

function local(ms: number): string {
  const d = new Date(ms);
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}/${p(d.getMonth() + 1)}/${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
}

function minuteOf(ms: number): string {
  return local(ms).slice(0, 16);
}

/** "13:05" from a local time string; the date too when it is not the window's end day. */
export function clock(text: string | null, sameDayAs?: string | null): string {
  if (!text) return '?';
  const time = text.slice(11, 16);
  return sameDayAs && sameDayAs.slice(0, 10) !== text.slice(0, 10) ? `${text.slice(0, 10)} ${time}` : time;
}

/** Impact in a few lines of words: what the text report and the end screen open with. */
export function impactLines(impact: Impact): string[] {
  const lines: string[] = [];
  if (impact.clientErrors === null) {
    lines.push(`Impact: not known — ${impact.notes.join('; ')}`);
    return lines;
  }
  const counts = `${impact.status502} × 502, ${impact.status504} × 504`;
  const what =
    impact.source === 'access-log'
      ? `clients got ${impact.clientErrors} error(s): ${counts}${impact.requests !== null ? ` of ${impact.requests} request(s)` : ''}${impact.retriedSaved ? `; ${impact.retriedSaved} more failed once and a retry saved them` : ''}`
      : `${impact.clientErrors} upstream error(s) nginx answers with a 502/504 (${counts}; counted in the error log)`;
  lines.push(`Impact: ${what}`);
  if (impact.clientErrors > 0 || impact.upstreamErrors > 0) {
    const when = impact.firstSeen ? `since ${clock(impact.firstSeen, impact.window.to)}, last at ${clock(impact.lastSeen, impact.window.to)}` : 'times not known (no error log)';
    const still = impact.stillHappening === null ? '' : impact.stillHappening ? `; still happening: ${impact.recent!.errors} upstream error line(s) in the last ${impact.recent!.minutes} min` : `; not in the last ${impact.recent!.minutes} min`;
    lines.push(`  ${when}${still}`);
    const routes = impact.routes.slice(0, 4).map((r) => `${r.route} ${[r.status502 ? `${r.status502}×502` : '', r.status504 ? `${r.status504}×504` : ''].filter(Boolean).join(' ')}`);
    if (routes.length) lines.push(`  routes: ${routes.join(', ')}${impact.routes.length > 4 ? `, +${impact.routes.length - 4} more` : ''}`);
    const peers = impact.upstreams.slice(0, 4).map((u) => `${u.peer} ×${u.errors}`);
    if (peers.length) lines.push(`  upstreams (error-log lines): ${peers.join(', ')}${impact.upstreams.length > 4 ? `, +${impact.upstreams.length - 4} more` : ''}`);
  }
  for (const note of impact.notes) lines.push(`  (${note})`);
  return lines;
}
