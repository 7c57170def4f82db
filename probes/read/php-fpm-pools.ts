import { isAbsolute, join } from 'node:path';
import { z } from 'zod';
import type { FileReadResult, Host, StatResult } from '../../src/host/types.js';
import { defineProbe, type ProbeContext } from '../../src/probe/contract.js';
import { FpmConfigError, parseFpmIni, type IniFile } from '../../src/phpfpm/ini.js';
import { analyzeFpmLog, analyzeSlowlog, type PoolLogEvents } from '../../src/phpfpm/log.js';
import { effectiveBacklog, includePatterns, resolveFpmConfig, tcpMatches, type FpmConfig, type FpmPool, type Setting } from '../../src/phpfpm/pools.js';
import type { nginxConfigProbe } from './nginx-config.js';
import type { processesProbe } from './processes.js';
import { FAMILIES, type errorLogProbe } from './error-log.js';
import type { somaxconnProbe } from './somaxconn.js';
import type { backendListenersProbe } from './backend-listeners.js';
import { isPeerOf } from '../parse/peers.js';
import { atKill } from '../parse/killTiming.js';
import { nginxLocationFor, uriPath } from '../parse/locationMatch.js';
import { parseTime } from '../../src/errorlog/line.js';
import { routePrefix } from '../../src/errorlog/route.js';

type ConfigFacts = z.infer<typeof nginxConfigProbe.facts>;
type ProcessFacts = z.infer<typeof processesProbe.facts>;
type ErrorLogFacts = z.infer<typeof errorLogProbe.facts>;
type ListenerFacts = z.infer<typeof backendListenersProbe.facts>;

/**
 * The php-fpm pool behind each FastCGI backend: the master from ps (its
 * title names its config: "php-fpm: master process (/etc/php/8.2/fpm/php-fpm.conf)"),
 * else the distro's config files; the pools those files include; each pool's
 * listen matched to nginx's fastcgi_pass address (unix sockets also as files,
 * by device and inode, like backend-listeners); and what php-fpm's own log
 * and slowlog say over the window.
 */
const MASTER = /^php-fpm[\d.]*: master process \((.+)\)\s*$/;
const DEFAULT_CONFIGS = ['/etc/php-fpm.conf', '/usr/local/etc/php-fpm.conf'];
const LOG_TAIL_BYTES = 1 << 20;
/** A pool child's title (fpm_children.c: "pool %s"). */
const POOL_CHILD = /^php-fpm[\d.]*: pool (\S+)\s*$/;
const rssKey = (master: number, pool: string) => `${master}/${pool}`;

interface Gathered {
  masters: Array<{ pid: number; config: string }>;
  /** Config files: parsed text, or why not. */
  files: Record<string, { text: string } | { error: string }>;
  /** include= patterns → the files they matched. */
  globs: Record<string, string[] | { error: string }>;
  /** stat -L of unix backends and pool sockets. */
  stats: Record<string, StatResult>;
  logs: Record<string, FileReadResult>;
  /** VmRSS of each pool's children, kB, by "masterPid/pool", and MemAvailable, kB. */
  childRssKb: Record<string, number[]>;
  memAvailableKb: number | null;
}

function fastcgiBackends(context: ProbeContext): ConfigFacts['backends'] {
  const config = context.deps['nginx-config'] as ConfigFacts;
  return config.backends.filter((b) => !b.markedDown && b.usedBy.some((u) => u.directive === 'fastcgi_pass'));
}

function findMasters(context: ProbeContext): Gathered['masters'] {
  const processes = context.deps['processes'] as ProcessFacts;
  return processes.processes.flatMap((p) => {
    const m = MASTER.exec(p.args);
    return m ? [{ pid: p.pid, config: m[1]! }] : [];
  });
}

function parseOrError(path: string, text: string): IniFile | { error: string } {
  try {
    return parseFpmIni(text, path);
  } catch (error) {
    if (error instanceof FpmConfigError) return { error: error.message };
    throw error;
  }
}

/** A glob of one pattern, through the host: "*" and "?" in any component, sorted like glob(3). */
async function glob(host: Host, pattern: string): Promise<string[] | { error: string }> {
  const parts = pattern.split('/').filter(Boolean);
  let paths = [''];
  for (const part of parts) {
    if (!/[*?[]/.test(part)) {
      paths = paths.map((p) => `${p}/${part}`);
      continue;
    }
    const re = new RegExp(`^${part.replace(/[.+^${}()|\\]/g, '\\$&').replace(/\*/g, '[^/]*').replace(/\?/g, '[^/]')}$`);
    const next: string[] = [];
    for (const dir of paths) {
      const list = await host.listDir(dir || '/');
      if (!list.ok) {
        if (list.error.code !== 'ENOENT') return { error: `cannot list ${dir || '/'}: ${list.error.message}` };
        continue;
      }
      next.push(...list.entries.filter((e) => re.test(e) && !e.startsWith('.')).sort().map((e) => `${dir}/${e}`));
    }
    paths = next;
  }
  return paths;
}

async function gather(host: Host, context: ProbeContext): Promise<Gathered | null> {
  const backends = fastcgiBackends(context);
  if (backends.length === 0) return null;
  const masters: Gathered['masters'] = [];
  for (const master of findMasters(context)) {
    // The title shows -y as given: a relative config is relative to the master's working directory.
    if (isAbsolute(master.config)) masters.push(master);
    else {
      const cwd = await host.readLink(`/proc/${master.pid}/cwd`);
      masters.push({ pid: master.pid, config: cwd.ok ? join(cwd.target, master.config) : `/proc/${master.pid}/cwd/${master.config}` });
    }
  }
  const got: Gathered = { masters, files: {}, globs: {}, stats: {}, logs: {}, childRssKb: {}, memAvailableKb: null };
  let configs = masters.map((m) => m.config);
  if (configs.length === 0) {
    // No master running: the distro's configs say which pool would listen there.
    const versions = await host.listDir('/etc/php');
    configs = [...(versions.ok ? versions.entries.sort().map((v) => `/etc/php/${v}/fpm/php-fpm.conf`) : []), ...DEFAULT_CONFIGS];
  }
  const queue = [...new Set(configs)];
  while (queue.length > 0) {
    const path = queue.shift()!;
    if (path in got.files || Object.keys(got.files).length > 200) continue;
    const read = await host.readFile(path, { maxBytes: 1 << 20 });
    if (!read.ok) {
      // A distro default that is not there is not a problem; a master's own config that cannot be read is.
      if (read.error.code === 'ENOENT' && masters.length === 0) continue;
      got.files[path] = { error: read.error.message };
      continue;
    }
    got.files[path] = { text: read.content };
    const parsed = parseOrError(path, read.content);
    if ('error' in parsed) continue;
    for (const { pattern } of includePatterns(parsed, null)) {
      got.globs[pattern] ??= await glob(host, pattern);
      const matched = got.globs[pattern]!;
      if (!('error' in matched)) queue.push(...matched);
    }
  }
  const configsRead = resolveAll(got);
  const unixPaths = new Set<string>();
  for (const b of backends) if (b.kind === 'unix' && b.path) unixPaths.add(b.path);
  for (const c of configsRead) for (const p of c.pools) if (p.address?.startsWith('unix:')) unixPaths.add(p.address.slice(5));
  for (const path of unixPaths) got.stats[path] = await host.stat(path, { follow: true });
  const logs = new Set<string>();
  for (const c of configsRead) {
    if (c.errorLog.value !== 'syslog') logs.add(c.errorLog.value);
    for (const p of c.pools) if (p.slowlog) logs.add(p.slowlog.value);
  }
  for (const path of logs) got.logs[path] = await host.readFile(path, { tailBytes: LOG_TAIL_BYTES });
  const processes = context.deps['processes'] as ProcessFacts;
  // Children retitle themselves "php-fpm: pool NAME": memory is gathered per pool, since pools of one master run
  // different code and sizes.
  for (const master of masters) {
    for (const child of processes.processes.filter((p) => p.ppid === master.pid).slice(0, 64)) {
      const pool = POOL_CHILD.exec(child.args)?.[1];
      if (!pool) continue;
      const status = await host.readFile(`/proc/${child.pid}/status`);
      const m = status.ok ? /^VmRSS:\s+(\d+) kB/m.exec(status.content) : null;
      if (m) (got.childRssKb[rssKey(master.pid, pool)] ??= []).push(Number(m[1]));
    }
  }
  const meminfo = await host.readFile('/proc/meminfo');
  const available = meminfo.ok ? /^MemAvailable:\s+(\d+) kB/m.exec(meminfo.content) : null;
  got.memAvailableKb = available ? Number(available[1]) : null;
  return got;
}

/** Every config gathered, resolved into pools (a master's config, else each distro default found). */
function resolveAll(got: Gathered): Array<FpmConfig & { master: number | null }> {
  const read = (path: string) => {
    const file = got.files[path];
    if (!file) return { error: 'not read' };
    if ('error' in file) return file;
    return parseOrError(path, file.text);
  };
  const globOf = (pattern: string) => got.globs[pattern] ?? { error: 'not listed' };
  const roots = got.masters.length ? got.masters : Object.keys(got.files).filter((f) => /php-fpm\.conf$/.test(f)).map((config) => ({ pid: null, config }));
  return roots.map((root) => ({ ...resolveFpmConfig(root.config, read, globOf), master: root.pid }));
}

const where = (s: Setting<unknown> | null) => (s === null ? 'not set' : s.file === null ? 'default' : `${s.file}:${s.line}`);

const events = z.object({
  maxChildrenReached: z.number().int().describe('"server reached pm.max_children setting" lines in the window (dynamic and ondemand pools only)'),
  timedOut: z.number().int().describe('Requests killed by request_terminate_timeout ("execution timed out … terminating")'),
  slow: z.number().int().describe('Requests logged as slow ("executing too slow")'),
  signals: z.record(z.string(), z.number().int()).describe('Children that exited on a signal, by signal name'),
  requests: z.array(z.string()).describe('Requests timed out or slow, most frequent first'),
  kills: z
    .array(
      z.object({
        atMs: z.number().describe('When php-fpm logged the kill, epoch ms'),
        at: z.string().describe('The time as php-fpm wrote it'),
        request: z.string().describe('The request line php-fpm names: "GET /slow.php"'),
        script: z.string().describe('The script it ran'),
        sec: z.number().describe('How long it had run, seconds'),
      }),
    )
    .describe('Each request_terminate_timeout kill in the window (the latest 50)'),
  crashes: z
    .array(
      z.object({
        atMs: z.number().describe('When php-fpm logged the death, epoch ms'),
        at: z.string().describe('The time as php-fpm wrote it'),
        pid: z.number().int().describe('The child that died'),
        signal: z.string().describe('SIGSEGV, SIGABRT, SIGKILL, …'),
        line: z.string().describe("php-fpm's log line"),
      }),
    )
    .describe('Children that died on a signal php-fpm did not send (not SIGTERM/SIGQUIT, not a request_terminate_timeout kill): segfaults, aborts, kill -9, OOM kills (the latest 50)'),
});

const pool = z.object({
  name: z.string().describe('Pool name ([name] section)'),
  at: z.string().describe('file:line of the [name] section'),
  config: z.string().describe("The master's main config file"),
  master: z.number().int().nullable().describe('php-fpm master pid; null when no master running uses this config'),
  address: z.string().nullable().describe('listen as nginx names a peer (unix:/path, host:port, *:port); null when not resolved'),
  listenAt: z.string().describe('file:line of listen'),
  pm: z.string().nullable().describe('pm: static, dynamic or ondemand'),
  pmAt: z.string().describe('file:line of pm'),
  maxChildren: z.number().int().nullable().describe('pm.max_children'),
  maxChildrenAt: z.string().describe('file:line of pm.max_children'),
  backlog: z.number().int().describe('listen.backlog as configured (-1, the Linux default: as many as somaxconn allows)'),
  backlogAt: z.string().describe('file:line of listen.backlog, or "default"'),
  effectiveBacklog: z.number().int().nullable().describe('The accept queue listen() really gets: listen.backlog capped by net.core.somaxconn; null when somaxconn is unknown and the backlog is the default'),
  backlogCapped: z.boolean().describe('listen.backlog asks for more than net.core.somaxconn allows'),
  terminateTimeoutSec: z.number().describe('request_terminate_timeout in seconds (0: off)'),
  terminateAt: z.string().describe('file:line of request_terminate_timeout, or "default"'),
  slowlogTimeoutSec: z.number().describe('request_slowlog_timeout in seconds (0: off)'),
  slowlog: z.string().nullable().describe('slowlog file'),
  errorLog: z.string().describe("The master's error_log file, or \"syslog\" when php-fpm logs to syslog"),
  syslogIdent: z.string().describe('syslog.ident: the tag of its syslog lines (journalctl -t IDENT); php-fpm by default'),
  backend: z.string().nullable().describe('The fastcgi_pass address nginx reaches this pool at; null when no nginx backend matches'),
  events: events.nullable().describe("What php-fpm's log says about this pool in the window; null when the log could not be read"),
  slowCalls: z.array(z.string()).describe('Where slow requests were, from the slowlog: innermost call and script, most frequent first'),
  label: z.string().describe('How reports name it: php-fpm pool NAME (address, file:line)'),
});

const finding = z.object({
  address: z.string().describe('nginx backend address'),
  pool: z.string().nullable().describe('Pool name, when a config that listens there was found'),
  text: z.string().describe('One sentence for the report'),
});

const killing = finding.extend({
  terminateTimeoutSec: z.number().describe("The pool's request_terminate_timeout in seconds"),
  readTimeoutSec: z.number().describe('terminated: the longest fastcgi_read_timeout of the locations that served the killed requests; terminateSuspected: the longest of the locations passing to it; seconds'),
});

const factsSchema = z.object({
    fastcgiBackends: z.number().int().describe('FastCGI backends (fastcgi_pass addresses) in the nginx config'),
    masters: z.array(z.object({ pid: z.number().int().describe('Master pid'), config: z.string().describe('Its config file') })).describe('php-fpm masters running'),
    configFiles: z.array(z.string()).describe('php-fpm config files read'),
    pools: z.array(pool).describe('Every pool found'),
    backends: z.array(z.object({ address: z.string().describe('fastcgi_pass address'), pool: z.string().nullable().describe('The pool listening there, or null') })).describe('Each FastCGI backend and its pool'),
    queueFull: z.array(finding).describe('Unix-socket FastCGI backends nginx found with a full accept queue (connect() 11: EAGAIN), each with its pool'),
    queueFullCount: z.number().int().describe('How many'),
    queueFullText: z.string().describe('The full queues in words: pool, pm, pm.max_children, listen.backlog against somaxconn, EAGAIN lines, max_children warnings'),
    sizing: z.string().describe('pm.max_children sized from memory (child RSS against MemAvailable), or how to measure it'),
    backlogAdvice: z.string().describe('listen.backlog (and somaxconn when it caps it) to set for the saturated pools'),
    slowAdvice: z.string().describe('The slow requests the slowlog or the log names, or how to turn the slowlog on'),
    terminated: z.array(killing).describe('Pools whose children request_terminate_timeout killed in the window while the location serving the request would have waited longer, with a reset or premature close logged by nginx for that peer at the kill'),
    terminatedCount: z.number().int().describe('How many'),
    terminatedText: z.string().describe('Each: request_terminate_timeout and its file:line against fastcgi_read_timeout and its file:line, the requests killed'),
    terminateSuspected: z.array(killing).describe("Pools with request_terminate_timeout below fastcgi_read_timeout and resets for their socket, whose log could not be read to confirm the kills; or whose log shows kills at the time of resets nginx logged for their socket that cannot be tied to the killed request (another route was reset, php-fpm's SCRIPT_NAME is not nginx's URI, or the location pick contradicts the reset)"),
    terminateSuspectedCount: z.number().int().describe('How many'),
    terminateSuspectedText: z.string().describe('Each, with both settings, the resets and how to confirm'),
    terminateContext: z.array(z.string()).describe('Kills that do not explain nginx errors: nginx had already given up (its timeout shorter), or logged no reset at the kill time, or which location served the request cannot be told'),
    terminateContextCount: z.number().int().describe('How many such kills'),
    terminateContextText: z.string().describe('Those kills in words, or "none"'),
    terminateAdvice: z.string().describe('The request_terminate_timeout to set (at least fastcgi_read_timeout) per pool, with file:line'),
    childCrashes: z
      .array(
        z.object({
          pool: z.string().describe('Pool name'),
          address: z.string().describe('The nginx backend (fastcgi_pass address) the pool listens at'),
          signal: z.string().describe('SIGSEGV, SIGABRT, SIGKILL, …'),
          at: z.string().describe('The second php-fpm logged them, as it wrote it'),
          atMs: z.number().describe('That second, epoch ms'),
          count: z.number().int().describe('Children of this pool that died on this signal in that second'),
          pids: z.array(z.number().int()).describe('Their pids'),
          lines: z.array(z.string()).describe("php-fpm's log lines"),
        }),
      )
      .describe("Children of the pools behind nginx's FastCGI backends that died on a signal php-fpm did not send (a crash, not a request_terminate_timeout kill), per pool, signal and second"),
    childCrashCount: z.number().int().describe('How many children died so'),
    childCrashText: z.string().describe('Those deaths in words, or "none"'),
    down: z.array(finding).describe('Down FastCGI backends (backend-listeners) with the pool configured to listen there'),
    downCount: z.number().int().describe('How many down FastCGI backends have a pool configured there'),
    downText: z.string().describe('Each down FastCGI backend and its pool'),
    downUnit: z.string().describe('The systemd unit of the down pools\' php-fpm, from the config path (/etc/php/8.2/fpm → php8.2-fpm, /etc/php-fpm.conf → php-fpm); "" when it cannot be told'),
    downTest: z.string().describe('The command that tests their config (php-fpm8.2 -t -y CONFIG); "" when the binary cannot be told'),
    notes: z.array(z.string()).describe('What could not be read or resolved'),
  });

export const phpFpmPoolsProbe = defineProbe({
  id: 'php-fpm-pools',
  title: 'php-fpm pools behind FastCGI backends',
  description: "Finds the php-fpm pool behind each fastcgi_pass address: pm, pm.max_children, listen.backlog, request_terminate_timeout, slowlog, and what php-fpm's own log says.",
  requiresRoot: 'partial',
  rootNote: "php-fpm's configs and logs are often readable only by root",
  timeoutMs: 15000,
  dependsOn: ['nginx-config', 'processes'],
  uses: ['error-log', 'somaxconn', 'backend-listeners'],
  facts: factsSchema,
  sources: () => [],
  gather,
  gatherPlan: (context) =>
    fastcgiBackends(context).length === 0
      ? []
      : [
          'php-fpm masters from ps ("php-fpm: master process (CONFIG)"), else /etc/php/*/fpm/php-fpm.conf, /etc/php-fpm.conf',
          'read each config and the files its include= patterns name; stat -L pool and backend sockets',
          "read the tail of php-fpm's error_log and each pool's slowlog; VmRSS of the pool children, MemAvailable",
        ],
  parse: (results, context) => analyze(results.gathered as Gathered | null, context),
  // Only the pools behind nginx's backends: other masters on the machine do not change this line.
  summarize: (facts) =>
    facts.fastcgiBackends === 0
      ? 'no FastCGI backend in the nginx config'
      : `${facts.fastcgiBackends} FastCGI backend(s): ${facts.backends.map((b) => `${b.address} → ${b.pool ? `pool ${b.pool}` : 'no pool found'}`).join(', ')}` +
        (facts.queueFullCount ? `; ${facts.queueFullCount} with a full accept queue` : '') +
        (facts.terminatedCount ? `; ${facts.terminatedCount} killing requests` : ''),
  partialReason: (facts) => (facts.notes.length ? facts.notes.join('; ') : undefined),
});

type Facts = z.infer<typeof factsSchema>;
type PoolFact = z.infer<typeof pool>;

function analyze(got: Gathered | null, context: ProbeContext): Facts {
  const backends = fastcgiBackends(context);
  const empty: Facts = {
    fastcgiBackends: backends.length, masters: [], configFiles: [], pools: [], backends: [], queueFull: [], queueFullCount: 0, queueFullText: 'none',
    sizing: '', backlogAdvice: '', slowAdvice: '', terminated: [], terminatedCount: 0, terminatedText: 'none', terminateAdvice: '', terminateContext: [], terminateContextCount: 0, terminateContextText: 'none', terminateSuspected: [], terminateSuspectedCount: 0, terminateSuspectedText: 'none', childCrashes: [], childCrashCount: 0, childCrashText: 'none', down: [], downCount: 0, downText: 'none', downUnit: '', downTest: '', notes: [],
  };
  if (!got) return empty;
  const somaxconn = (context.deps['somaxconn'] as z.infer<typeof somaxconnProbe.facts> | undefined)?.somaxconn ?? null;
  const errorLog = context.deps['error-log'] as ErrorLogFacts | undefined;
  const listeners = context.deps['backend-listeners'] as ListenerFacts | undefined;
  const toMs = context.windowEndMs;
  const fromMs = toMs - context.options.sinceMs;
  const configs = resolveAll(got);
  const logEvents = new Map<string, Map<string, PoolLogEvents>>();
  const slowCalls = new Map<string, Record<string, string[]>>();
  for (const [path, read] of Object.entries(got.logs)) {
    if (!read.ok) continue;
    logEvents.set(path, new Map(analyzeFpmLog(read.content, fromMs, toMs).map((e) => [e.pool, e])));
    slowCalls.set(path, analyzeSlowlog(read.content, fromMs, toMs));
  }

  const sameFile = (a: string, b: string) => {
    if (a === b) return true;
    const sa = got.stats[a];
    const sb = got.stats[b];
    return !!(sa?.ok && sb?.ok && sa.fileId !== undefined && sa.fileId === sb.fileId);
  };
  const backendOf = (p: FpmPool): string | null => {
    if (!p.address) return null;
    for (const b of backends) {
      if (b.kind === 'unix' && b.path && p.address.startsWith('unix:') && sameFile(b.path, p.address.slice(5))) return b.address;
      if (b.kind === 'tcp' && b.host && b.port !== null && !p.address.startsWith('unix:') && tcpMatches(p.address, b.host, b.port)) return b.address;
    }
    return null;
  };
  const pools: PoolFact[] = configs.flatMap((c) =>
    c.pools.map((p) => {
      const events = c.errorLog.value === 'syslog' ? undefined : logEvents.get(c.errorLog.value);
      const mine = events?.get(p.name);
      const slowlog = p.slowlog ? slowCalls.get(p.slowlog.value)?.[p.name] ?? [] : [];
      const backend = backendOf(p);
      const effective = effectiveBacklog(p.backlog.value, somaxconn);
      return {
        name: p.name,
        at: `${p.file}:${p.line}`,
        config: c.config,
        master: c.master,
        address: p.address,
        listenAt: where(p.listen),
        pm: p.pm?.value ?? null,
        pmAt: where(p.pm),
        maxChildren: p.maxChildren?.value ?? null,
        maxChildrenAt: where(p.maxChildren),
        backlog: p.backlog.value,
        backlogAt: where(p.backlog),
        effectiveBacklog: effective,
        backlogCapped: somaxconn !== null && p.backlog.value > somaxconn,
        terminateTimeoutSec: p.terminateTimeoutSec.value,
        terminateAt: where(p.terminateTimeoutSec),
        slowlogTimeoutSec: p.slowlogTimeoutSec.value,
        slowlog: p.slowlog?.value ?? null,
        errorLog: c.errorLog.value,
        syslogIdent: c.syslogIdent.value,
        backend,
        events: events ? { maxChildrenReached: mine?.maxChildrenReached ?? 0, timedOut: mine?.timedOut ?? 0, slow: mine?.slow ?? 0, signals: mine?.signals ?? {}, requests: mine?.requests ?? [], kills: mine?.kills ?? [], crashes: mine?.crashes ?? [] } : null,
        slowCalls: slowlog,
        label: `php-fpm pool ${p.name} (${p.address ?? 'listen unresolved'}, ${p.file}:${p.line})`,
      };
    }),
  );
  const poolAt = (address: string) => pools.find((p) => p.backend === address);

  // What could not be read, for the masters behind nginx's backends (other masters on the machine are not this incident), or all when none matched.
  const relevant = pools.some((p) => p.backend) ? configs.filter((c) => pools.some((p) => p.backend && p.config === c.config && p.master === c.master)) : configs;
  const notes: string[] = [];
  const note = (text: string) => void (notes.includes(text) || notes.push(text));
  for (const c of relevant) {
    for (const file of [c.config, ...c.files]) {
      const read = got.files[file];
      if (read && 'error' in read) note(read.error.includes(file) ? read.error : `${file}: ${read.error}`);
    }
    c.notes.forEach(note);
    if (c.errorLog.value === 'syslog')
      note(`${c.config}: php-fpm logs to syslog (error_log = syslog at ${where(c.errorLog)}), which is not read here: \`journalctl -t ${c.syslogIdent.value} --since '-${Math.round(context.options.sinceMs / 60_000)} min'\` shows it (ident from syslog.ident, ${where(c.syslogIdent)})`);
    for (const path of [c.errorLog.value, ...c.pools.map((p) => p.slowlog?.value)]) {
      const read = path ? got.logs[path] : undefined;
      if (read && !read.ok) note(read.error.message.includes(path!) ? read.error.message : `${path}: ${read.error.message}`);
    }
  }

  // connect() to a unix socket returns EAGAIN only when the listener's accept queue is full (unix_stream_connect).
  const eagain = new Map<string, number>();
  // Only FastCGI backends: a full gunicorn or Node socket is the plain listen-queue finding's.
  const fastcgi = new Set(backends.map((b) => b.address));
  // Per peer from the signature's own tally (groups keep only the top 50).
  // nginx logs the address it connected to (127.0.0.1:9000) where the config may say localhost:9000: matched through backend-listeners' resolved peers.
  const peerOf = (peer: string, address: string) => isPeerOf(peer, address, listeners?.backends ?? []);
  const perPeer = (ids: readonly string[], address: string) =>
    (errorLog?.signatures ?? []).filter((x) => ids.includes(x.id)).reduce((n, x) => n + Object.entries(x.upstreams).reduce((m, [peer, count]) => m + (peerOf(peer, address) ? count : 0), 0), 0);
  for (const peer of fastcgi) {
    const lines = perPeer(['unix-backlog-full'], peer);
    if (lines > 0) eagain.set(peer, lines);
  }
  const queueFull = [...eagain].map(([address, lines]) => {
    const p = poolAt(address);
    if (!p) return { address, pool: null, text: `${address}: ${lines} connect() (11: Resource temporarily unavailable), its accept queue full; no php-fpm pool found listening there${got.masters.length ? '' : ' (no php-fpm master running)'}` };
    const queue = p.effectiveBacklog === null ? `listen.backlog ${p.backlog} (${p.backlogAt})` : `listen.backlog ${p.backlog === -1 ? 'default -1' : p.backlog} (${p.backlogAt}), accept queue ${p.effectiveBacklog}${somaxconn !== null ? ` with net.core.somaxconn ${somaxconn}${p.backlogCapped ? ', which caps it' : ''}` : ''}`;
    const reached = p.events === null ? (p.errorLog === 'syslog' ? `php-fpm logs to syslog, not read here (\`journalctl -t ${p.syslogIdent} -g 'max_children'\`)` : "php-fpm's log could not be read") : p.pm === 'static' ? 'a static pool logs nothing when every child is busy' : `"server reached pm.max_children setting" ×${p.events.maxChildrenReached} in php-fpm's log`;
    return {
      address,
      pool: p.name,
      text: `${p.label}: ${lines} connect() (11: Resource temporarily unavailable) in nginx's log: the pool's accept queue was full. pm = ${p.pm ?? 'not set'} (${p.pmAt}), pm.max_children = ${p.maxChildren ?? 'not set'} (${p.maxChildrenAt}), ${queue}; ${reached}`,
    };
  });

  const saturated = queueFull.map((q) => poolAt(q.address)).filter((p): p is PoolFact => !!p);
  const sizing = saturated.map((p) => sizeChildren(p, got, saturated.length)).join('; ');
  const backlogAdvice = saturated
    .map((p) => {
      const want = Math.max(511, (p.maxChildren ?? 1) * 16);
      const capped = somaxconn !== null && want > somaxconn;
      return `listen.backlog = ${want} in [${p.name}] (${p.backlogAt === 'default' ? p.at : p.backlogAt})${capped ? `, and net.core.somaxconn ≥ ${want} (now ${somaxconn}): sysctl -w net.core.somaxconn=${want}, persisted in /etc/sysctl.d/` : somaxconn !== null ? ` (net.core.somaxconn ${somaxconn} allows it)` : ''}`;
    })
    .join('; ');
  const slowAdvice = saturated
    .map((p) => {
      const named = [...p.slowCalls, ...(p.events?.requests ?? [])].slice(0, 3);
      if (named.length) return `[${p.name}] slow requests: ${named.join(', ')}`;
      return `[${p.name}] has no slow requests recorded: set request_slowlog_timeout = 5s and slowlog = /var/log/php-fpm-${p.name}.slow.log in ${p.at.replace(/:\d+$/, '')} to see which scripts hold the children`;
    })
    .join('; ');

  const orphans = queueFull.filter((q) => q.pool === null).map((q) => q.address);
  const findPool = orphans.length
    ? `no php-fpm pool found for ${orphans.join(', ')}: find the config that listens there with \`grep -rn '^listen' /etc/php/ /etc/php-fpm.d/ /usr/local/etc/php-fpm.d/\`, then `
    : '';
  const orElse = (text: string, generic: string) => (orphans.length ? [text, findPool + generic].filter(Boolean).join('; ') : text);

  // request_terminate_timeout shorter than nginx's wait: php-fpm kills the child, nginx sees a reset or premature close.
  // A kill explains nginx's errors only when nginx logged one for that peer at the kill (killTiming.ts's window) and
  // the location that served the killed request would still have waited: a request nginx had already timed out
  // (a 504 at its own, shorter fastcgi_read_timeout) is killed unseen, and that is context, not the crash.
  const resetGroups = (errorLog?.groups ?? []).filter((g) => (FAMILIES.resets as readonly string[]).includes(g.signature) || (FAMILIES.bodyResets as readonly string[]).includes(g.signature));
  const context_: string[] = [];
  // Kills at a reset nginx logged for that peer that cannot be tied to it: suspected, never context (see below).
  const untied: Array<{ p: PoolFact; backend: string; details: string[] }> = [];
  const terminated = pools.flatMap((p) => {
    if (!p.backend || !p.events || p.events.kills.length === 0 || p.terminateTimeoutSec === 0) return [];
    const backend = p.backend;
    const mine = resetGroups.filter((g) => peerOf(g.peer, backend));
    const confirmed: Array<{ kill: (typeof p.events.kills)[number]; served: Served; resets: number }> = [];
    const suspectedHere: string[] = [];
    for (const kill of p.events.kills) {
      const served = servingLocations(context, backend, kill.request);
      // Lines of a group at its first or last time are certain; a group only spanning the kill is not proof.
      const resets = resetsAt(mine, [kill.atMs]);
      // A reset at the kill is this kill's only when nginx logged it for the killed request's route: another request
      // of the same pool (a crash, another kill) may have been cut at that second.
      const route = requestRoute(kill.request);
      const atKill_ = mine.filter((g) => resetsAt([g], [kill.atMs]) > 0);
      const ours = route ? resetsAt(atKill_.filter((g) => g.method === route.method && g.route === route.route), [kill.atMs]) : 0;
      const shortest = Math.min(...served.locations.map((r) => r.sec));
      const where_ = `"${kill.request}" killed at ${kill.at} after ${kill.sec} s`;
      const by = served.locations.length ? `${served.decided ? 'served by' : `${served.why}; it may be served by`} ${served.locations.map((r) => `location ${r.location} (fastcgi_read_timeout ${r.sec} s, ${r.at})`).join(' or ')}` : 'no location passing to it was found';
      const waited = served.locations.length > 0 && shortest > p.terminateTimeoutSec;
      if (ours > 0 && waited) confirmed.push({ kill, served, resets: ours });
      else if (resets === 0) {
        const gaveUp = served.locations.length > 0 && served.locations.every((r) => r.sec <= p.terminateTimeoutSec);
        context_.push(`${p.label}: ${where_}, ${by}; ${gaveUp ? "killed after nginx had given up on it: nginx's timeout is shorter than request_terminate_timeout " + p.terminateTimeoutSec + ' s, so nginx answered it itself (a 504) and did not see the kill' : 'nginx logged no reset or premature close for ' + backend + ' at that time'}: not what nginx's errors are`);
      } else {
        // nginx logged a reset for this peer at the kill: it was still waiting for something there, so "nginx had
        // given up first" cannot rule the kill out; nor can the reset be pinned on it.
        const routes = [...new Set(atKill_.map((g) => `${g.method} ${g.route}`))].join(', ');
        const why =
          ours === 0
            ? `nginx logged ${resets} reset(s)/premature close(s) for ${backend} then, for ${routes}, not for ${route ? `${route.method} ${route.route}` : 'its path'}: another request may have been cut, or php-fpm names the script (SCRIPT_NAME) where nginx logs the URI`
            : `nginx logged ${ours} reset(s)/premature close(s) for ${backend} on ${route!.method} ${route!.route} then, so it was still waiting, yet ${served.locations.length === 0 ? 'no location passing to it was found' : served.locations.every((r) => r.sec <= p.terminateTimeoutSec) ? `the location picked would have given up first (request_terminate_timeout ${p.terminateTimeoutSec} s): nested locations or a rewrite may route it elsewhere` : 'which location served it cannot be told'}`;
        suspectedHere.push(`${where_}, ${by}; ${why}`);
      }
    }
    if (suspectedHere.length) untied.push({ p, backend, details: suspectedHere });
    if (confirmed.length === 0) return [];
    const resets = perPeer(FAMILIES.resets, backend);
    const killed = p.events.signals['SIGTERM'] ? `, ${p.events.signals['SIGTERM']} child(ren) exited on SIGTERM` : '';
    const locations = [...new Map(confirmed.flatMap((c) => c.served.locations).map((r) => [`${r.location} ${r.at}`, r])).values()];
    const requests = [...new Set(confirmed.map((c) => `"${c.kill.request}" at ${c.kill.at}`))];
    return [
      {
        address: backend,
        pool: p.name,
        terminateTimeoutSec: p.terminateTimeoutSec,
        readTimeoutSec: Math.max(...locations.map((r) => r.sec)),
        text: `${p.label}: ${confirmed.length} request(s) killed by php-fpm for running past request_terminate_timeout ${p.terminateTimeoutSec} s (${p.terminateAt}) while nginx waits fastcgi_read_timeout ${locations.map((r) => `${r.sec} s in location ${r.location} (${r.at})`).join(', ')}, the location serving the killed request(s)${killed}; killed: ${requests.slice(0, 3).join(', ')}; nginx logged at least ${resetsAt(mine, confirmed.map((c) => c.kill.atMs))} reset(s)/premature close(s) for ${backend} at those kills (${resets} in the window)`,
      },
    ];
  });
  // Kills at the time of a reset that could not be tied to it: the kill may be the cause, and may not.
  const untiedSuspected = untied
    .filter((u) => !terminated.some((t) => t.address === u.backend && t.pool === u.p.name))
    .map(({ p, backend, details }) => {
      const reads = readTimeouts(context, backend);
      return {
        address: backend,
        pool: p.name,
        terminateTimeoutSec: p.terminateTimeoutSec,
        readTimeoutSec: reads.length ? Math.max(...reads.map((r) => r.sec)) : p.terminateTimeoutSec,
        text: `${p.label}: ${details.length} request(s) killed by php-fpm at request_terminate_timeout ${p.terminateTimeoutSec} s (${p.terminateAt}) at the time of resets nginx logged for ${backend}, which cannot be tied to them: ${details.slice(0, 3).join('; ')}; could not tell whether the kills are what nginx saw: compare nginx's access log ($request_time, $status 502) with php-fpm's log at those seconds`,
      };
    });
  // The same settings and resets for that socket, but php-fpm's log could not be read (often root-only): it may be the kill.
  const terminateSuspected = pools.flatMap((p) => {
    if (!p.backend || p.events !== null || p.terminateTimeoutSec === 0) return [];
    const reads = readTimeouts(context, p.backend).filter((r) => r.sec > p.terminateTimeoutSec);
    const cut = perPeer([...FAMILIES.resets, ...FAMILIES.bodyResets], p.backend);
    if (reads.length === 0 || cut === 0) return [];
    return [
      {
        address: p.backend,
        pool: p.name,
        terminateTimeoutSec: p.terminateTimeoutSec,
        readTimeoutSec: Math.max(...reads.map((r) => r.sec)),
        text: `${p.label}: request_terminate_timeout ${p.terminateTimeoutSec} s (${p.terminateAt}) is shorter than fastcgi_read_timeout ${reads.map((r) => `${r.sec} s in location ${r.location} (${r.at})`).join(', ')}, and nginx logged ${cut} reset(s)/premature close(s) for ${p.backend}; ${p.errorLog === 'syslog' ? `php-fpm logs to syslog, which is not read here: \`journalctl -t ${p.syslogIdent} -g 'execution timed out|exited on signal'\` confirms the kills` : `php-fpm's log ${p.errorLog} could not be read to confirm the kills: \`grep -E 'execution timed out|exited on signal' ${p.errorLog}\` as root`}`,
      },
    ];
  });
  terminateSuspected.push(...untiedSuspected);
  const terminateAdvice = [...terminated, ...terminateSuspected]
    .map((t) => {
      const p = pools.find((x) => x.name === t.pool && x.backend === t.address)!;
      const longest = t.readTimeoutSec;
      return `request_terminate_timeout = ${longest}s in [${p.name}] (${p.terminateAt === 'default' ? p.at : p.terminateAt}) — no shorter than fastcgi_read_timeout ${longest} s, so php-fpm does not kill a request nginx still waits for; or make ${p.events?.requests[0] ?? 'the slow script'} faster`;
    })
    .join('; ');

  // Children that crashed (a signal php-fpm did not send): the pool stays up, so only its log shows the death.
  const childCrashes = pools.flatMap((p) => {
    if (!p.backend || !p.events) return [];
    const groups = new Map<string, { pool: string; address: string; signal: string; at: string; atMs: number; count: number; pids: number[]; lines: string[] }>();
    for (const c of p.events.crashes) {
      const key = `${c.signal} ${c.at}`;
      const g = groups.get(key) ?? { pool: p.name, address: p.backend, signal: c.signal, at: c.at, atMs: c.atMs, count: 0, pids: [], lines: [] };
      g.count++;
      g.pids.push(c.pid);
      g.lines.push(c.line);
      groups.set(key, g);
    }
    return [...groups.values()];
  });
  const childCrashText = childCrashes.map((c) => `[pool ${c.pool}] (${c.address}) ${c.count} child(ren) exited on ${c.signal} at ${c.at} (pid ${c.pids.join(', ')})`).join('; ') || 'none';

  const downAddresses = new Set((listeners?.down ?? []).map((d) => d.address));
  const down = backends
    .filter((b) => downAddresses.has(b.address))
    .flatMap((b) => {
      const p = pools.find((x) => x.backend === b.address) ?? pools.find((x) => x.address === b.address);
      if (!p) return [];
      const master =
        p.master !== null
          ? `its master (pid ${p.master}) is running, yet nothing listens at that path: the socket file was removed or replaced after the master bound it, and restarting the master binds it again`
          : `no php-fpm master running uses ${p.config}`;
      return [{ address: b.address, pool: p.name, text: `php-fpm pool ${p.name} (${p.at}) is configured to listen there (listen at ${p.listenAt}); ${master}` }];
    });

  return {
    fastcgiBackends: backends.length,
    masters: got.masters,
    configFiles: configs.flatMap((c) => c.files),
    pools,
    backends: backends.map((b) => ({ address: b.address, pool: poolAt(b.address)?.name ?? null })),
    queueFull,
    queueFullCount: queueFull.length,
    queueFullText: queueFull.map((q) => q.text).join('; ') || 'none',
    sizing: orElse(sizing, "size pm.max_children from memory: a child's RSS (`ps -o rss= -C php-fpm8.2`, kB) against MemAvailable in /proc/meminfo"),
    backlogAdvice: orElse(backlogAdvice, `set listen.backlog = 511 in that pool (the kernel caps it at net.core.somaxconn${somaxconn !== null ? `, ${somaxconn} here` : ''})`),
    slowAdvice: orElse(slowAdvice, 'set request_slowlog_timeout = 5s and slowlog = /var/log/php-fpm-slow.log in that pool to see which scripts hold the children'),
    terminated,
    terminatedCount: terminated.length,
    terminatedText: terminated.map((t) => t.text).join('; ') || 'none',
    terminateAdvice,
    terminateContext: context_,
    terminateContextCount: context_.length,
    terminateContextText: context_.join('; ') || 'none',
    terminateSuspected,
    terminateSuspectedCount: terminateSuspected.length,
    terminateSuspectedText: terminateSuspected.map((t) => t.text).join('; ') || 'none',
    childCrashes,
    childCrashCount: childCrashes.reduce((n, c) => n + c.count, 0),
    childCrashText,
    down,
    downCount: down.length,
    downText: down.map((d) => d.text).join('; ') || 'none',
    ...serviceOf(down.map((d) => pools.find((p) => p.name === d.pool && (p.backend === d.address || p.address === d.address))!), context),
    notes,
  };
}

/** fastcgi_read_timeout of every FastCGI location that passes to this backend, with where it is set. */
function readTimeouts(context: ProbeContext, address: string): Array<{ sec: number; location: string; at: string; file: string; line: number }> {
  const config = context.deps['nginx-config'] as ConfigFacts;
  const backend = config.backends.find((b) => b.address === address);
  return config.locations.flatMap((l) => {
    const handler = l.effective.handler;
    if (l.family !== 'fastcgi' || !handler) return [];
    const target = l.upstream ?? l.proxyPass;
    const reaches = backend?.upstream ? l.upstream === backend.upstream : target === address || `unix:${target}` === address || target === address.replace(/^unix:/, '');
    if (!reaches) return [];
    const origin = handler.origins['readTimeoutSec'];
    return [{ sec: handler.readTimeoutSec, location: l.match, at: !origin || origin === 'default' ? 'default' : `${origin.file}:${origin.line}`, file: l.file, line: l.line }];
  });
}

/** A request line's method and error-log route (routePrefix, as nginx's lines are grouped), or null when it has no path. */
function requestRoute(request: string): { method: string; route: string } | null {
  const parts = request.trim().split(/\s+/);
  const target = parts.find((part) => part.startsWith('/'));
  return target && parts[0] && !parts[0].startsWith('/') ? { method: parts[0], route: routePrefix(target) } : null;
}

/**
 * Reset lines nginx logged at these kills, as far as the error-log groups (first and last time, count) tell: a group
 * counts whole when both its ends are at a kill, as the one line known to be there when one end is, else not at all.
 */
function resetsAt(groups: ReadonlyArray<{ firstSeen: string; lastSeen: string; count: number }>, kills: readonly number[]): number {
  return groups.reduce((n, g) => {
    const first = atKill(parseTime(g.firstSeen), kills);
    const last = atKill(parseTime(g.lastSeen), kills);
    return n + (first && last ? g.count : first || last ? 1 : 0);
  }, 0);
}

type Served = { decided: boolean; why: string; locations: Array<{ sec: number; location: string; at: string }> };

/**
 * The location(s) that serve a killed request: its path matched as nginx does (locationMatch.ts) against every
 * location of each server that passes to this backend. When nginx's pick does not pass to this backend (an internal
 * redirect, try_files, a rewrite), or cannot be made, every location of those servers passing to it may have served
 * it: undecided, and callers take the shortest timeout so an undecided pick never confirms a kill.
 */
function servingLocations(context: ProbeContext, address: string, request: string): Served {
  const config = context.deps['nginx-config'] as ConfigFacts;
  const reaching = readTimeouts(context, address);
  const serverKey = (l: ConfigFacts['locations'][number]) => `${l.server.file}:${l.server.line}`;
  const servers = new Set(config.locations.filter((l) => reaching.some((r) => r.file === l.file && r.line === l.line)).map(serverKey));
  const path = uriPath(request);
  const picked: typeof reaching = [];
  let why = '';
  for (const server of servers) {
    const own = config.locations.filter((l) => serverKey(l) === server);
    const pick = nginxLocationFor(path, own);
    const hit = 'location' in pick && pick.location ? reaching.find((r) => r.file === pick.location!.file && r.line === pick.location!.line) : undefined;
    if (hit) picked.push(hit);
    else {
      why ||= 'undecided' in pick ? pick.undecided : `nginx's location for ${path} does not pass to ${address} (an internal redirect or rewrite may)`;
      picked.push(...reaching.filter((r) => own.some((l) => l.file === r.file && l.line === r.line)));
    }
  }
  const unique = [...new Map(picked.map((r) => [`${r.file}:${r.line}`, r])).values()];
  if (unique.length > 1 && !why) why = `${path} is served by a different location in each server passing to ${address}`;
  return { decided: unique.length === 1 && !why, why: why || '', locations: unique.map(({ sec, location, at }) => ({ sec, location, at })) };
}

/**
 * pm.max_children from memory: the pool's own children (by their "php-fpm: pool NAME" title), its largest child
 * against MemAvailable, of which a fifth is left to the rest of the machine and the room is shared by the pools
 * being sized (they grow at once); else how to measure it.
 */
function sizeChildren(p: PoolFact, got: Gathered, sharing: number): string {
  const rss = p.master !== null ? got.childRssKb[rssKey(p.master, p.name)] ?? [] : [];
  const measure = `measure its children's memory with: ps -o rss=,args= --ppid ${p.master ?? '$(pgrep -o php-fpm)'} | grep 'pool ${p.name}$' (kB per child), and compare with MemAvailable in /proc/meminfo`;
  if (rss.length === 0 || got.memAvailableKb === null) return `[${p.name}] pm.max_children = ${p.maxChildren ?? 'not set'} (${p.maxChildrenAt}): ${measure}; each extra child costs about that much`;
  const largestMb = Math.max(1, Math.round(Math.max(...rss) / 1024));
  const availableMb = Math.round(got.memAvailableKb / 1024);
  const more = Math.floor((availableMb * 0.8) / sharing / largestMb);
  const current = p.maxChildren ?? rss.length;
  const share = sharing > 1 ? ` / ${sharing} pools sized together` : '';
  return `[${p.name}] pm.max_children = ${current} (${p.maxChildrenAt}); its ${rss.length} child(ren) use up to ${largestMb} MB each and ${availableMb} MB is available: room for ${more} more (${availableMb} MB × 0.8${share} / ${largestMb} MB), so pm.max_children = ${current + more} at most; an idle child is smaller than a busy one (up to PHP's memory_limit), so ${measure} again at peak and size by that`;
}

/**
 * How the down pools' php-fpm is started and tested: Debian's unit and binary
 * carry the PHP version of the config's directory; RHEL's are plain php-fpm.
 * A running master's own binary (ps comm) names it otherwise.
 */
function serviceOf(pools: PoolFact[], context: ProbeContext): { downUnit: string; downTest: string } {
  const processes = context.deps['processes'] as ProcessFacts;
  const units = new Set<string>();
  const tests = new Set<string>();
  for (const p of pools) {
    const debian = /^\/etc\/php\/(\d+\.\d+)\/fpm\//.exec(p.config);
    const comm = p.master !== null ? processes.processes.find((x) => x.pid === p.master)?.comm : undefined;
    if (debian) units.add(`php${debian[1]}-fpm`);
    else if (p.config === '/etc/php-fpm.conf') units.add('php-fpm');
    const binary = debian ? `php-fpm${debian[1]}` : comm && /^php-fpm[\d.]*$/.test(comm) ? comm : p.config === '/etc/php-fpm.conf' ? 'php-fpm' : null;
    if (binary) tests.add(`${binary} -t -y ${p.config}`);
  }
  return { downUnit: [...units].join(' '), downTest: [...tests].join('; ') };
}
