/**
 * After a reload: did the change fix the finding? The finding's error-log
 * signatures (for its peers) and the 5xx rate are counted over a window
 * before the reload (from the logs) and followed live for `seconds` after it,
 * optional GETs go through nginx meanwhile, the finding's probes run again,
 * and judgeVerify turns that into a verdict with its reason in numbers.
 */
import type { Host } from '../host/types.js';
import type { TrafficCounts, Verdict, VerifyResult } from './types.js';
import { countLogs, totals, TrafficCounter, type AccessLogSpec } from '../watch/count.js';
import { followUntil, LogFollower } from '../watch/follow.js';
import { sendGets, targetUrl, type VerifyTarget } from './traffic.js';

/** The window before the reload is at least this long, so a rate has something to stand on. */
export const MIN_BEFORE_SECONDS = 60;

/** One side of the comparison. signatures: lines per minute (as VerifyResult documents); lines: the counts themselves. */
export interface VerifyWindow {
  signatures: Record<string, number>;
  lines: Record<string, number>;
  requests: number;
  errors5xx: number;
  seconds: number;
}

export interface VerifyReport extends VerifyResult {
  before: VerifyWindow;
  after: VerifyWindow;
  /** The buckets themselves, for the before/after view. */
  counts: { before: TrafficCounts; after: TrafficCounts };
  /** Logs that could not be read or followed: what was not seen there is not "none". */
  problems: string[];
}

export interface VerifyOptions {
  host: Host;
  errorLogs: string[];
  accessLogs: AccessLogSpec[];
  /** The finding's signature ids. */
  signatures: string[];
  /** The finding's peers as nginx logs them; empty: every peer. */
  peers: string[];
  reloadAtMs: number;
  /** How long to watch after the reload. */
  seconds: number;
  /** --verify-traffic: GETs through nginx's own listener while watching. */
  traffic?: { count: number; target: VerifyTarget; /** Pause between GETs (sendGets gapMs). */ gapMs?: number };
  /** The finding's status after re-running its probes (the caller runs them); null when they could not run. */
  redetect: () => Promise<string | null>;
  onTick?: (live: { before: TrafficCounts; after: TrafficCounts }) => void;
  bucketMs?: number;
  /** Poll interval of the follower (default 1 s). */
  intervalMs?: number;
}

const perMinute = (lines: number, seconds: number) => (seconds > 0 ? Math.round((lines * 60 * 100) / seconds) / 100 : 0);

function windowOf(counts: TrafficCounts, seconds: number, signatures: string[]): VerifyWindow {
  const sum = totals(counts);
  const lines: Record<string, number> = {};
  for (const id of signatures) lines[id] = 0;
  Object.assign(lines, sum.signatures);
  const rates = Object.fromEntries(Object.entries(lines).map(([id, n]) => [id, perMinute(n, seconds)]));
  return { signatures: rates, lines, requests: sum.requests, errors5xx: sum.errors5xx, seconds };
}

export async function verifyChange(options: VerifyOptions): Promise<VerifyReport> {
  const { host } = options;
  const bucketMs = options.bucketMs ?? 10_000;
  // nginx logs whole seconds: a line in the reload's own second counts as after (against the change, never for it).
  const reloadSecondMs = Math.floor(options.reloadAtMs / 1000) * 1000;
  const beforeSeconds = Math.max(MIN_BEFORE_SECONDS, options.seconds);
  const beforeFrom = reloadSecondMs - beforeSeconds * 1000;
  const before = await countLogs(host, { errorLogs: options.errorLogs, accessLogs: options.accessLogs, fromMs: beforeFrom, toMs: reloadSecondMs - 1, bucketMs, peers: options.peers });
  const beforeCounts: TrafficCounts = { buckets: before.buckets };

  const counter = new TrafficCounter({ bucketMs, peers: options.peers, fromMs: reloadSecondMs });
  // The lines since the reload that came before this call are read on the first poll (catch-up from fromMs).
  const follower = new LogFollower(host, options.errorLogs, options.accessLogs, counter, { fromMs: reloadSecondMs });
  const untilMs = options.reloadAtMs + options.seconds * 1000;
  const tick = () => options.onTick?.({ before: beforeCounts, after: counter.counts({ fromMs: reloadSecondMs, toMs: Math.min(host.now(), untilMs) }) });

  let gets: Promise<Record<string, number>> | null = null;
  await follower.poll();
  tick();
  if (options.traffic && options.traffic.count > 0) {
    gets = sendGets(host, options.traffic.target, options.traffic.count, { gapMs: options.traffic.gapMs ?? 0 }).then((r) => r.statuses);
  }
  await followUntil(host, follower, { untilMs, intervalMs: options.intervalMs ?? 1000, onTick: tick });
  const statuses = gets ? await gets : null;
  // nginx writes a request's access-log line as it finishes it: one more round picks up the last GETs.
  if (statuses) {
    await host.sleep(200);
    await follower.poll();
    tick();
  }
  const afterCounts = counter.counts({ fromMs: reloadSecondMs, toMs: Math.max(untilMs, host.now()) });
  const afterSeconds = Math.max(1, Math.round((Math.max(untilMs, host.now()) - reloadSecondMs) / 1000));
  const beforeWindow = windowOf(beforeCounts, beforeSeconds, options.signatures);
  const afterWindow = windowOf(afterCounts, afterSeconds, options.signatures);
  // Requests nginx did not log (no access log with $status) are still known from the GETs' own answers.
  if (statuses && afterWindow.requests === 0) {
    for (const [status, n] of Object.entries(statuses)) {
      if (!/^\d{3}$/.test(status)) continue;
      afterWindow.requests += n;
      if (status.startsWith('5')) afterWindow.errors5xx += n;
    }
  }
  const redetected = await options.redetect();
  const traffic = options.traffic && statuses ? { url: targetUrl(options.traffic.target), host: options.traffic.target.host, statuses } : null;
  const errorLogProblems = (problems: string[]) => problems.filter((p) => options.errorLogs.some((log) => p.includes(log)) && !/window starts before the oldest line/.test(p));
  const judged = judgeVerify({
    signatures: options.signatures,
    before: beforeWindow,
    after: afterWindow,
    redetected,
    traffic,
    unread: { before: errorLogProblems(before.problems), after: errorLogProblems(follower.problems()) },
  });
  return {
    seconds: options.seconds,
    before: beforeWindow,
    after: afterWindow,
    redetected,
    traffic,
    verdict: judged.verdict,
    reason: judged.reason,
    counts: { before: beforeCounts, after: afterCounts },
    problems: [...new Set([...before.problems.filter((p) => !/window starts before the oldest line/.test(p)), ...follower.problems()])],
  };
}

export interface JudgeInput {
  /** The finding's signature ids. */
  signatures: string[];
  before: Pick<VerifyWindow, 'lines' | 'requests' | 'errors5xx' | 'seconds'>;
  after: Pick<VerifyWindow, 'lines' | 'requests' | 'errors5xx' | 'seconds'>;
  redetected: string | null;
  traffic: { statuses: Record<string, number> } | null;
  /** Error logs (or parts of their window) that could not be read, before and after: no line there is not "no error". */
  unread?: { before: string[]; after: string[] };
}

/** A higher 5xx rate counts only with this many requests on each side and this many 5xx after. */
export const MIN_REQUESTS_FOR_RATE = 10;
export const MIN_5XX_FOR_WORSE = 3;
/** One-sided two-proportion z (p < 0.01): the rate after is higher beyond chance. */
const Z_WORSE = 2.33;

/** Whether the 5xx rate after is higher than before with enough requests to say so; the words why when it is. */
export function higher5xxRate(before: { requests: number; errors5xx: number }, after: { requests: number; errors5xx: number }): string | null {
  if (before.requests < MIN_REQUESTS_FOR_RATE || after.requests < MIN_REQUESTS_FOR_RATE || after.errors5xx < MIN_5XX_FOR_WORSE) return null;
  const p1 = before.errors5xx / before.requests;
  const p2 = after.errors5xx / after.requests;
  if (p2 <= p1) return null;
  const p = (before.errors5xx + after.errors5xx) / (before.requests + after.requests);
  const se = Math.sqrt(p * (1 - p) * (1 / before.requests + 1 / after.requests));
  if (se > 0 && (p2 - p1) / se < Z_WORSE) return null;
  return `the 5xx rate rose from ${pct(p1)} (${before.errors5xx} of ${before.requests} requests) to ${pct(p2)} (${after.errors5xx} of ${after.requests})`;
}

const pct = (x: number) => `${Math.round(x * 1000) / 10}%`;
const sumOf = (r: Record<string, number>) => Object.values(r).reduce((a, b) => a + b, 0);
const listLines = (lines: Record<string, number>, ids: string[]) => ids.map((id) => `${id} ×${lines[id] ?? 0}`).join(', ');

/**
 * The verdict, most serious first:
 * - worse: a signature seen after that was not seen before, or a higher 5xx rate (rolls back);
 * - not-fixed: the finding is still confirmed on re-detection, or its signatures still appear after;
 * - fixed: not confirmed, no line of its signatures after, and traffic went through to judge by;
 * - no-traffic: not confirmed, nothing after, but nothing went through either — or the error log
 *   could not be read after the reload, so "nothing after" is not known (the reason says so).
 */
export function judgeVerify(input: JudgeInput): { verdict: Verdict; reason: string } {
  const { before, after, signatures } = input;
  const newKinds = Object.entries(after.lines).filter(([id, n]) => n > 0 && !((before.lines[id] ?? 0) > 0)).map(([id]) => id);
  const gets = input.traffic ? sumOf(input.traffic.statuses) : 0;
  const answered = input.traffic ? Object.entries(input.traffic.statuses).filter(([s]) => /^\d{3}$/.test(s)).reduce((n, [, c]) => n + c, 0) : 0;
  const rose = higher5xxRate(before, after);
  if (newKinds.length > 0 || rose) {
    const parts: string[] = [];
    if (newKinds.length > 0) {
      const unreadBefore = input.unread?.before ?? [];
      parts.push(`new kinds of error after the change: ${listLines(after.lines, newKinds)} in ${after.seconds} s, none in the ${before.seconds} s before${unreadBefore.length > 0 ? ` (as far as could be read: ${unreadBefore.join('; ')})` : ''}`);
    }
    if (rose) parts.push(`${rose}`);
    return { verdict: 'worse', reason: parts.join('; ') };
  }
  const still = signatures.filter((id) => (after.lines[id] ?? 0) > 0);
  if (input.redetected === 'confirmed' || still.length > 0) {
    const parts: string[] = [];
    if (input.redetected === 'confirmed') parts.push('its probes still confirm the finding');
    if (still.length > 0) parts.push(`its errors still appear: ${listLines(after.lines, still)} in ${after.seconds} s after (${listLines(before.lines, still)} in the ${before.seconds} s before)`);
    return { verdict: 'not-fixed', reason: parts.join('; ') };
  }
  // Nothing seen is not nothing there when the error log could not be read after the reload: never "fixed" then.
  const unreadAfter = input.unread?.after ?? [];
  if (unreadAfter.length > 0) {
    return { verdict: 'no-traffic', reason: `could not tell whether it is fixed: ${unreadAfter.join('; ')}` };
  }
  const beforeLines = sumOf(Object.fromEntries(signatures.map((id) => [id, before.lines[id] ?? 0])));
  const redetect = input.redetected === null ? 'its probes could not run again' : `its probes now say ${input.redetected}`;
  const quiet = signatures.length > 0 ? `no ${signatures.join('/')} line in ${after.seconds} s after (${beforeLines} in the ${before.seconds} s before)` : `no error line in ${after.seconds} s after`;
  if (after.requests > 0 || answered > 0) {
    const through = [after.requests > 0 ? `${after.requests} request(s) logged after, ${after.errors5xx} of them 5xx` : null, gets > 0 ? `${answered} of ${gets} verification GET(s) answered` : null].filter(Boolean).join('; ');
    return { verdict: 'fixed', reason: `${redetect}; ${quiet}; ${through}` };
  }
  const sent = gets > 0 ? `; none of ${gets} verification GET(s) got an answer` : '';
  return { verdict: 'no-traffic', reason: `${redetect}; ${quiet}, but no request went through to judge by${sent}` };
}
