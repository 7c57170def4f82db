import { z } from 'zod';
import { ProbeStatusError, defineProbe, type ProbeContext } from '../../src/probe/contract.js';
import { analyzeErrorLogs, type ErrorLogReport } from '../../src/errorlog/reader.js';
import { SIGNATURE_IDS } from '../../src/errorlog/signatures.js';
import type { nginxConfigProbe } from './nginx-config.js';
import type { accessLogProbe } from './access-log.js';

type ConfigFacts = z.infer<typeof nginxConfigProbe.facts>;
type AccessFacts = z.infer<typeof accessLogProbe.facts>;

/** The error logs to read: --error-log, else the files the config logs errors to. */
export function errorLogPaths(context: ProbeContext): { paths: string[]; why: string | null } {
  if (context.options.errorLogs.length > 0) return { paths: context.options.errorLogs, why: null };
  const config = context.deps['nginx-config'] as ConfigFacts | undefined;
  if (!config) return { paths: [], why: 'the nginx config could not be read, so its error_log is unknown: give --error-log PATH' };
  const files = [...new Set(config.errorLogs.map((l) => l.path).filter((p) => p !== 'stderr' && !/^(syslog|memory):/.test(p)))];
  if (files.length === 0) return { paths: [], why: `nginx logs errors only to ${config.errorLogs.map((l) => l.path).join(', ')}: give --error-log PATH` };
  return { paths: files, why: null };
}

const signatureSummary = z.object({
  id: z.enum(SIGNATURE_IDS as [string, ...string[]]).describe('Stable signature id'),
  count: z.number().int().describe('Lines with this signature in the window'),
  firstSeen: z.string().describe('First line, local time as nginx wrote it'),
  lastSeen: z.string().describe('Last line'),
  upstreams: z.record(z.string(), z.number().int()).describe('Lines per upstream peer (host:port, unix:/path, or the group name)'),
  methods: z.record(z.string(), z.number().int()).describe('Lines per request method'),
  routes: z.record(z.string(), z.number().int()).describe('Lines per route prefix'),
});

export const FAMILIES = {
  connectFailures: ['refused', 'socket-missing', 'permission-denied', 'unix-backlog-full', 'connect-failed', 'no-live-upstreams'],
  resets: ['reset-reading-header', 'premature-close-header', 'reset-sending-request'],
  bodyResets: ['reset-reading-body', 'premature-close-body'],
  timeouts: ['timeout-connect', 'timeout-send', 'timeout-read', 'timeout-body'],
  // What max_fails did with the failures above: a peer taken out, then a group with none left.
  peersDown: ['server-disabled', 'no-live-upstreams'],
  // What no check examines: the flow must say "cannot tell" when these are in the window.
  unexamined: ['connect-failed', 'invalid-header', 'other-upstream'],
} as const;

type Family = keyof typeof FAMILIES;

/** One value per family, computed from its signature ids. */
function eachFamily<T>(of: (ids: readonly string[]) => T): Record<Family, T> {
  return Object.fromEntries(Object.entries(FAMILIES).map(([family, ids]) => [family, of(ids)])) as Record<Family, T>;
}

interface GroupLike {
  signature: string;
  peer: string;
  method: string;
  route: string;
  count: number;
}

/** A family per peer, most lines first: "127.0.0.1:8081 ×41 (premature-close-header 41) on POST /checkout ×41". */
export function describeFamily(groups: readonly GroupLike[], signatures: readonly string[]): string {
  const mine = groups.filter((g) => signatures.includes(g.signature));
  if (mine.length === 0) return 'none';
  const peers = new Map<string, GroupLike[]>();
  for (const g of mine) peers.set(g.peer, [...(peers.get(g.peer) ?? []), g]);
  const total = (gs: GroupLike[]) => gs.reduce((n, g) => n + g.count, 0);
  const tally = (gs: GroupLike[], key: (g: GroupLike) => string) => {
    const counts = new Map<string, number>();
    for (const g of gs) counts.set(key(g), (counts.get(key(g)) ?? 0) + g.count);
    return [...counts].sort((a, b) => b[1] - a[1]);
  };
  return [...peers]
    .sort((a, b) => total(b[1]) - total(a[1]))
    .map(([peer, gs]) => {
      const bySignature = tally(gs, (g) => g.signature).map(([k, n]) => `${k} ${n}`).join(', ');
      const routes = tally(gs, (g) => `${g.method} ${g.route}`);
      const shown = routes.slice(0, 3).map(([k, n]) => `${k} ×${n}`).join(', ');
      return `${peer} ×${total(gs)} (${bySignature}) on ${shown}${routes.length > 3 ? `, +${routes.length - 3} more route(s)` : ''}`;
    })
    .join('; ');
}

/** Levels at which nginx drops "error" lines (ngx_log.c: a log keeps its level and more severe). */
const ABOVE_ERROR = new Set(['crit', 'alert', 'emerg']);

/**
 * When every error_log that writes to the files read keeps only crit and
 * above, upstream failures (logged at error; peers taken out at warn) never
 * reach them: which directives say so, else null. A syslog or stderr
 * destination at error does not count: its lines are not in these files.
 */
export function errorLevelSilenced(context: ProbeContext): string | null {
  const config = context.deps['nginx-config'] as ConfigFacts | undefined;
  if (!config) return null;
  const read = new Set(errorLogPaths(context).paths);
  const writing = config.errorLogs.filter((l) => read.has(l.path));
  if (writing.length === 0 || !writing.every((l) => ABOVE_ERROR.has(l.level))) return null;
  return writing.map((l) => `error_log ${l.path} ${l.level}${l.file ? ` at ${l.file}:${l.line}` : ''}`).join(', ');
}

/**
 * Why what was read does not look like an nginx error log, or null. Every
 * nginx error-log line starts "YYYY/MM/DD HH:MM:SS [level] pid#tid: "
 * (ngx_log_error_core); when most lines do not, the file is not one (an
 * access log, a binary, another program's log) and its silence means nothing.
 */
export function notAnErrorLog(report: Pick<ErrorLogReport, 'linesRead' | 'unparsed' | 'files'>): string | null {
  if (report.linesRead === 0 || report.unparsed * 2 <= report.linesRead) return null;
  const files = report.files.map((f) => f.path).join(', ');
  return `${files}: ${report.unparsed} of ${report.linesRead} line(s) read are not nginx error-log lines ("YYYY/MM/DD HH:MM:SS [level] pid#tid: …"), so this does not look like an nginx error log and its silence says nothing. Give the file nginx writes errors to (error_log in the config) with --error-log PATH`;
}

/**
 * The access log counts 502/504 answers in the window, but the error logs
 * read hold no upstream line in it: nginx logs every 502/504 it makes at
 * "error" (ngx_http_upstream_next, ngx_http_upstream_connect), so these logs
 * are not where nginx writes, or their level hides the lines. Which counts
 * say so, else null.
 */
export function errorsNotInErrorLog(access: AccessFacts | undefined, total: number, paths: readonly string[]): string | null {
  if (!access || total > 0 || access.status502 + access.status504 === 0) return null;
  const logs = access.logs.filter((l) => l.status502 + l.status504 > 0).map((l) => `${l.path} (${l.status502} × 502, ${l.status504} × 504)`);
  return `the access log counts ${logs.join(', ')} in the window, but ${paths.join(', ')} hold(s) no upstream error line in it: nginx logs each 502/504 it makes at "error", so these are not the files it writes errors to, or their level hides them — unless the backend answered 502/504 itself (an app, or another proxy behind nginx): nginx then logs nothing, and the access log alone cannot tell the two apart. Check error_log in every server that proxies (and --error-log), and whether the backend's own log has those 502s, then re-run`;
}

/**
 * The *_pass sites whose upstream failures cannot be in the files read: the
 * error_log in effect in their location (a server's or location's own
 * overrides the global one) keeps only crit and above, or, when the paths
 * come from the config, writes to none of the files read. Their silence is
 * no evidence, whatever the other vhosts' logs say.
 */
export function passesNotLogged(context: ProbeContext): string[] {
  const config = context.deps['nginx-config'] as ConfigFacts | undefined;
  if (!config) return [];
  // A file given with --error-log may be a copy: only the level can be checked against it.
  const given = context.options.errorLogs.length > 0;
  const read = new Set(errorLogPaths(context).paths);
  const keeps = (l: { path: string; level: string }) => !ABOVE_ERROR.has(l.level) && (given ? !(l.path === 'stderr' || /^(syslog|memory):/.test(l.path)) : read.has(l.path));
  return config.passErrorLogs
    .filter((p) => !p.logs.some(keeps))
    .map((p) => `${p.directive} ${p.target} at ${p.file}:${p.line} (${p.server}) logs its failures to ${p.logs.map((l) => `${l.path} ${l.level}`).join(', ')}, ${given ? 'above "error", where nginx logs them' : 'not at "error" into the files read'}`);
}

export const errorLogProbe = defineProbe({
  id: 'error-log',
  title: 'nginx error log',
  description: 'What nginx logged about its upstreams in the window: signatures per peer, method and route.',
  requiresRoot: 'partial',
  rootNote: 'error logs are often readable only by root or the adm group',
  timeoutMs: 60_000,
  // access-log: 502/504s it counts must have their lines here, or this log is not the one nginx writes.
  uses: ['nginx-config', 'access-log'],
  // access-log is read by parse only: the two logs are read side by side.
  usesAtParse: ['access-log'],
  facts: z.object({
    window: z.object({ from: z.string().nullable().describe('Window start, local time'), to: z.string().nullable().describe('Window end') }).describe('The time window read'),
    files: z.array(z.object({ path: z.string().describe('File read'), mode: z.enum(['backward', 'full', 'gzip']).describe('How it was read'), bytesRead: z.number().describe('Bytes read'), size: z.number().describe('File size') })).describe('Files read'),
    problems: z.array(z.string()).describe('Files that could not be read, and why'),
    gaps: z.array(z.string()).describe('Parts of the window not read (a rotated file that could not be opened, or compressed in a format not read here), or files mostly not nginx error-log lines: a signature not found may be there'),
    passesNotLogged: z.array(z.string()).describe('*_pass sites whose error_log in effect keeps no error-level lines in the files read: their failures cannot be here'),
    linesRead: z.number().int().describe('Lines read in the window'),
    unparsed: z.number().int().describe('Lines that are not nginx error-log lines'),
    otherLines: z.number().int().describe('Lines not about an upstream'),
    total: z.number().int().describe('Upstream-related lines in the window'),
    counts: z.record(z.string(), z.number().int()).describe('Lines per signature id, every id present (0 when not seen)'),
    families: z
      .object({
        connectFailures: z.number().int().describe('refused, socket-missing, permission-denied, unix-backlog-full, connect-failed, no-live-upstreams'),
        resets: z.number().int().describe('Resets and premature closes before the response header (the 502s of the reset-by-peer question)'),
        bodyResets: z.number().int().describe('Resets and premature closes in the middle of the body (truncated responses)'),
        timeouts: z.number().int().describe('timeout-connect, timeout-send, timeout-read, timeout-body'),
        peersDown: z.number().int().describe('server-disabled and no-live-upstreams: peers max_fails took out, groups with none left'),
        unexamined: z.number().int().describe('connect-failed, invalid-header, other-upstream: kinds no check examines'),
      })
      .describe('Signatures grouped the way the flowchart asks'),
    familyDetail: z
      .object({
        connectFailures: z.string().describe('Per peer: count, signatures and the top routes'),
        resets: z.string().describe('Per peer: count, signatures and the top routes'),
        bodyResets: z.string().describe('Per peer: count, signatures and the top routes'),
        timeouts: z.string().describe('Per peer: count, signatures and the top routes'),
        peersDown: z.string().describe('Per peer (or group, for no live upstreams): count, signatures and the top routes'),
        unexamined: z.string().describe('Per peer: count, signatures and the top routes'),
      })
      .describe('Each family in words, naming peers and routes: "127.0.0.1:8081 ×41 (premature-close-header 41) on POST /checkout ×41"'),
    signatures: z.array(signatureSummary).describe('Each signature seen, most frequent first'),
    groups: z
      .array(
        z.object({
          signature: z.string().describe('Signature id'),
          peer: z.string().describe('Upstream peer'),
          method: z.string().describe('Request method'),
          route: z.string().describe('Route prefix'),
          examplePath: z.string().describe('One request path of the group, as logged'),
          count: z.number().int().describe('Lines'),
          firstSeen: z.string().describe('First line'),
          lastSeen: z.string().describe('Last line'),
        }),
      )
      .describe('Signature × peer × method × route, most frequent first (top 50)'),
    perMinute: z.array(z.object({ minute: z.string().describe('YYYY/MM/DD HH:MM'), count: z.number().int().describe('Upstream lines that minute') })).describe('Upstream lines per minute'),
  }),
  sources: () => [],
  gatherPlan: (context) => {
    const { paths, why } = errorLogPaths(context);
    return why ? [] : paths.map((p) => `read ${p} from the end back to ${Math.round(context.options.sinceMs / 60_000)} min ago (and rotated files if the window reaches them)`);
  },
  gather: async (host, context): Promise<ErrorLogReport> => {
    const { paths, why } = errorLogPaths(context);
    if (why) throw new ProbeStatusError('unavailable', why);
    const toMs = context.windowEndMs;
    return analyzeErrorLogs(host, paths, { fromMs: toMs - context.options.sinceMs, toMs });
  },
  parse: (results, context) => {
    const { host } = context;
    const report = results.gathered as ErrorLogReport;
    if (report.files.length === 0) {
      const denied = report.problems.some((p) => /permission denied/.test(p));
      if (denied && host.uid !== 0) throw new ProbeStatusError('denied', `needs root: ${report.problems.join('; ')}`, 'sudo reset-doctor');
      throw new ProbeStatusError(denied ? 'denied' : 'error', report.problems.join('; ') || 'no error log could be read');
    }
    // Read in another time zone than nginx wrote it: the window's lines were not found, and what was counted is of
    // another time. Nothing it holds can be told.
    if (report.clockSkew?.length) throw new ProbeStatusError('unavailable', report.clockSkew.join('; '));
    const counts: Record<string, number> = Object.fromEntries(SIGNATURE_IDS.map((id) => [id, 0]));
    for (const s of report.signatures) counts[s.id] = s.count;
    const sum = (...ids: string[]) => ids.reduce((n, id) => n + (counts[id] ?? 0), 0);
    const total = report.signatures.reduce((n, s) => n + s.count, 0);
    // Mostly not nginx error-log lines: a silent one answers nothing; the upstream lines of one that is not silent
    // are evidence all the same, but what it does not hold rules nothing out (a gap).
    const foreign = notAnErrorLog(report);
    if (foreign && total === 0) throw new ProbeStatusError('unavailable', foreign);
    const silenced = errorLevelSilenced(context);
    // A quiet log that could not have spoken is no evidence: every "none logged" below would be a guess.
    if (silenced && total === 0) {
      throw new ProbeStatusError('unavailable', `${silenced}: nginx logs upstream failures at "error", below what these logs keep, so an empty window says nothing. Set the level to error (or warn) and reload, then re-run once the problem shows again`);
    }
    const missing = errorsNotInErrorLog(context.deps['access-log'] as AccessFacts | undefined, total, report.files.map((f) => f.path));
    if (missing) throw new ProbeStatusError('unavailable', missing);
    return {
      window: report.window,
      files: report.files.map(({ path, mode, bytesRead, size }) => ({ path, mode, bytesRead, size })),
      problems: report.problems,
      gaps: foreign ? [...report.gaps, foreign] : report.gaps,
      passesNotLogged: passesNotLogged(context),
      linesRead: report.linesRead,
      unparsed: report.unparsed,
      otherLines: report.otherLines,
      total,
      counts,
      families: eachFamily((ids) => sum(...ids)),
      familyDetail: eachFamily((ids) => describeFamily(report.groups, ids)),
      signatures: report.signatures,
      groups: report.groups.slice(0, 50),
      perMinute: report.perMinute.slice(-180).map(({ minute, count }) => ({ minute, count })),
    };
  },
  summarize: (facts) =>
    facts.total === 0
      ? `no upstream errors since ${facts.window.from ?? 'the start'}`
      : `${facts.total} upstream error line(s) since ${facts.window.from}: ${facts.signatures
          .slice(0, 3)
          .map((s) => `${s.id} ${s.count}`)
          .join(', ')}`,
  partialReason: (facts) => (facts.problems.length ? facts.problems.join('; ') : undefined),
  gapReason: (facts) => {
    const notLogged = facts.passesNotLogged.length > 3 ? [...facts.passesNotLogged.slice(0, 3), `+${facts.passesNotLogged.length - 3} more`] : facts.passesNotLogged;
    const gaps = [...facts.gaps, ...notLogged];
    return gaps.length ? gaps.join('; ') : undefined;
  },
});

