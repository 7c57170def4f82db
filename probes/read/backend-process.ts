import { isIP } from 'node:net';
import { isAbsolute, join } from 'node:path';
import { z } from 'zod';
import type { Host } from '../../src/host/types.js';
import { defineProbe, type ProbeContext } from '../../src/probe/contract.js';
import type { nginxConfigProbe } from './nginx-config.js';
import type { listeningSocketsProbe } from './listening-sockets.js';
import type { processesProbe } from './processes.js';
import { parseProcNetTcp, parseProcNetUnix, socketInode } from '../parse/procNet.js';
import { detectKind, readGunicornConfig, readPumaConfig, sameProgram, SERVER_KINDS, workerRecycling } from '../parse/serverKind.js';

type ConfigFacts = z.infer<typeof nginxConfigProbe.facts>;
type SocketFacts = z.infer<typeof listeningSocketsProbe.facts>;
type ProcessFacts = z.infer<typeof processesProbe.facts>;
type Proc = ProcessFacts['processes'][number];

/**
 * For each backend nginx uses: who listens there, since when, with which
 * workers, and what kind of server it is — with the idle keep-alive timeout
 * that kind implies. `ss -ltnp`/`ss -lxp` name the owner; without ss, the
 * listener is found in /proc/net/{tcp,tcp6,unix} and its owner by matching
 * the socket inode in /proc/PID/fd. Nothing listening is a fact, not an error.
 */
interface Gathered {
  via: 'ss' | 'proc';
  /** Listener inode → owning pids, from /proc (only when ss was not there or hid the owner). */
  owners: Record<string, number[]>;
  procTcp: Array<{ host: string; port: number; inode: number; acceptQueue: number }>;
  procUnix: Array<{ path: string; inode: number }>;
  /** Config files a backend names (gunicorn -c, puma -C, uwsgi --ini): text, or why it could not be read. */
  configs: Record<string, { text: string } | { error: string }>;
  /** Young children that looked like workers in ps but were gone or ran another program a moment later. */
  transient?: number[];
  notes: string[];
}

function localBackends(context: ProbeContext): ConfigFacts['backends'] {
  const config = context.deps['nginx-config'] as ConfigFacts;
  return config.backends.filter((b) => !b.markedDown);
}

async function ownersFromProc(host: Host, inodes: Set<number>): Promise<{ owners: Record<string, number[]>; hidden: number }> {
  const owners: Record<string, number[]> = {};
  let hidden = 0;
  const proc = await host.listDir('/proc');
  if (!proc.ok) return { owners, hidden };
  for (const pid of proc.entries.filter((e) => /^\d+$/.test(e))) {
    const fds = await host.listDir(`/proc/${pid}/fd`);
    if (!fds.ok) {
      hidden++;
      continue;
    }
    for (const fd of fds.entries) {
      const link = await host.readLink(`/proc/${pid}/fd/${fd}`);
      const inode = link.ok ? socketInode(link.target) : null;
      if (inode !== null && inodes.has(inode)) (owners[String(inode)] ??= []).push(Number(pid));
    }
  }
  return { owners, hidden };
}

const worker = z.object({
  pid: z.number().int().describe('Worker pid'),
  elapsedSec: z.number().int().describe('Seconds since the worker started'),
  startedAtMs: z.number().describe('Worker start time, epoch ms'),
});

const backendFact = z.object({
  address: z.string().describe('Backend address as nginx connects to it'),
  upstream: z.string().nullable().describe('upstream{} block, or null for a literal *_pass address'),
  local: z.boolean().describe('The address is on this machine (a remote backend cannot be inspected here)'),
  listening: z.boolean().nullable().describe('Something listens there; null when it could not be told'),
  via: z.enum(['ss', 'proc']).nullable().describe('How the listener was found: ss, or /proc when ss is missing'),
  acceptQueue: z.number().int().nullable().describe('Connections waiting in the listener’s accept queue'),
  pid: z.number().int().nullable().describe('The server’s main process (the master of a pre-fork server)'),
  comm: z.string().nullable().describe('Its process name'),
  args: z.string().nullable().describe('Its full command line'),
  startedAtMs: z.number().nullable().describe('When it started, epoch ms'),
  elapsedSec: z.number().int().nullable().describe('Seconds since it started'),
  workers: z.array(worker).describe('Pre-fork workers: children of the main process running its own program (same executable and script); helper children (sleep, convert, node -e) are not counted'),
  kind: z.enum(SERVER_KINDS).nullable().describe('Server kind recognized from the command line'),
  workerClass: z.string().nullable().describe('gunicorn worker class (sync does no keep-alive)'),
  idleTimeoutSec: z.number().nullable().describe('Idle keep-alive timeout the kind implies, in seconds; 0: closes after each response'),
  idleTimeoutSource: z.enum(['flag', 'config', 'default', 'not-applicable', 'unknown']).describe('Where that timeout comes from'),
  inferred: z.boolean().describe('The timeout is a documented default, not read from this process’s settings'),
  note: z.string().describe('One line on how the kind and timeout were established'),
  recycles: z.string().nullable().describe('Why the server replaces its workers as a matter of course (php-fpm pools; gunicorn max_requests, uWSGI max-requests / reload-on-rss / max-worker-lifetime, on its command line or in its config file), or null: a young worker there is no sign of a death'),
  configLogFile: z.string().nullable().describe('The log file its config file names (gunicorn errorlog = PATH), or null: the command line\'s --error-logfile overrides it'),
});

export const backendProcessProbe = defineProbe({
  id: 'backend-process',
  title: 'Backend processes',
  description: 'Who listens at each backend, since when, with which workers, and what kind of server it is.',
  requiresRoot: 'partial',
  rootNote: "without root the owner of another user's socket is hidden, so the process and its kind may stay unknown",
  timeoutMs: 20_000,
  dependsOn: ['nginx-config', 'processes', 'listening-sockets'],
  uses: ['backend-listeners'],
  facts: z.object({
    backends: z.array(backendFact).describe('Every backend nginx sends traffic to'),
    via: z.enum(['ss', 'proc']).describe('ss, or /proc when ss was not available'),
    notes: z.array(z.string()).describe('What limited the reading'),
  }),
  sources: () => [],
  gatherPlan: (context) =>
    (context.deps['listening-sockets'] as SocketFacts).via === 'ss'
      ? ['owners from the ss listing; read config files the backends name', `children under ${YOUNG_SEC} s old running their parent's program: read /proc/PID/cmdline again after ${RECHECK_MS} ms`]
      : ['read /proc/net/tcp /proc/net/tcp6 /proc/net/unix (ss is not available)', 'match listener inodes in /proc/*/fd', `children under ${YOUNG_SEC} s old running their parent's program: read /proc/PID/cmdline again after ${RECHECK_MS} ms`],
  gather: async (host, context): Promise<Gathered> => {
    const sockets = context.deps['listening-sockets'] as SocketFacts;
    const processes = (context.deps['processes'] as ProcessFacts).processes;
    const gathered: Gathered = { via: sockets.via, owners: {}, procTcp: [], procUnix: [], configs: {}, notes: [] };
    if (sockets.via === 'proc') {
      for (const [file, family] of [['/proc/net/tcp', 4], ['/proc/net/tcp6', 6]] as const) {
        const read = await host.readFile(file);
        if (read.ok) gathered.procTcp.push(...parseProcNetTcp(read.content, family));
        else gathered.notes.push(`cannot read ${read.error.message}`);
      }
      const unix = await host.readFile('/proc/net/unix');
      if (unix.ok) gathered.procUnix = parseProcNetUnix(unix.content);
      const wanted = new Set<number>();
      for (const b of localBackends(context)) {
        const path = unixListenerPath(b, context.deps);
        for (const l of b.kind === 'unix' ? gathered.procUnix.filter((u) => u.path === path) : gathered.procTcp.filter((t) => t.port === b.port)) wanted.add(l.inode);
      }
      if (wanted.size > 0) {
        const { owners, hidden } = await ownersFromProc(host, wanted);
        gathered.owners = owners;
        if (hidden > 0) gathered.notes.push(`${hidden} process(es) hide their open files (not root)`);
      }
    }
    gathered.transient = await transientChildren(host, processes);
    // Config files named on a backend's command line decide its keep-alive, and whether it recycles workers.
    for (const proc of processes) {
      const reading = detectKind(proc.comm, proc.args);
      if (!reading.configFile || !['gunicorn', 'puma', 'uwsgi'].includes(reading.kind)) continue;
      if (reading.configFile in gathered.configs) continue;
      let path = reading.configFile;
      if (!isAbsolute(path)) {
        const cwd = await host.readLink(`/proc/${proc.pid}/cwd`);
        if (!cwd.ok) {
          gathered.configs[reading.configFile] = { error: `relative path and the process's directory is hidden: ${cwd.error.message}` };
          continue;
        }
        path = join(cwd.target, path);
      }
      const read = await host.readFile(path, { maxBytes: 256 * 1024 });
      gathered.configs[reading.configFile] = read.ok ? { text: read.content } : { error: read.error.message };
    }
    return gathered;
  },
  parse: (results, context) => {
    const gathered = results.gathered as Gathered;
    const sockets = context.deps['listening-sockets'] as SocketFacts;
    const processes = (context.deps['processes'] as ProcessFacts).processes;
    const byPid = new Map(processes.map((p) => [p.pid, p]));
    const checked = context.deps['backend-listeners'] as { backends: Array<{ address: string; upstream: string | null; state: string }> } | undefined;
    const backends = localBackends(context).map((backend) => {
      const state = checked?.backends.find((b) => b.address === backend.address && b.upstream === backend.upstream)?.state;
      const local = state ? !['remote', 'unresolved'].includes(state) : backend.kind === 'unix' || isLocalHost(backend.host ?? '');
      const base = { address: backend.address, upstream: backend.upstream, local, workers: [], kind: null, workerClass: null, idleTimeoutSec: null, inferred: false, recycles: null, configLogFile: null };
      if (!local) return { ...base, listening: null, via: null, acceptQueue: null, pid: null, comm: null, args: null, startedAtMs: null, elapsedSec: null, idleTimeoutSource: 'unknown' as const, note: 'remote backend: its processes cannot be seen from here' };
      const found = findListener(backend, unixListenerPath(backend, context.deps), gathered, sockets);
      if (!found.listening) return { ...base, listening: false, via: gathered.via, acceptQueue: null, pid: null, comm: null, args: null, startedAtMs: null, elapsedSec: null, idleTimeoutSource: 'unknown' as const, note: 'nothing listens there' };
      const owner = mainProcess(found.pids.map((pid) => byPid.get(pid)).filter((p): p is Proc => !!p));
      if (!owner) {
        return { ...base, listening: true, via: gathered.via, acceptQueue: found.acceptQueue, pid: null, comm: null, args: null, startedAtMs: null, elapsedSec: null, idleTimeoutSource: 'unknown' as const, note: 'a socket listens there, but its owner is hidden (run as root to see it)' };
      }
      const detected = detectKind(owner.comm, owner.args);
      const reading = withConfig(detected, gathered.configs);
      const config = detected.configFile ? gathered.configs[detected.configFile] : undefined;
      const recycles = workerRecycling(detected.kind, owner.args, detected.configFile, config && 'text' in config ? config.text : null);
      // Only children running the server's own program are its workers; a helper child per request is not.
      const transient = new Set(gathered.transient ?? []);
      const children = processes.filter((p) => p.ppid === owner.pid && sameProgram(owner.args, p.args) && !transient.has(p.pid));
      const workers = workersOfSocket(children, found.pids).map((p) => ({ pid: p.pid, elapsedSec: p.elapsedSec, startedAtMs: p.startedAtMs }));
      return {
        ...base,
        listening: true,
        via: gathered.via,
        acceptQueue: found.acceptQueue,
        pid: owner.pid,
        comm: owner.comm,
        args: owner.args,
        startedAtMs: owner.startedAtMs,
        elapsedSec: owner.elapsedSec,
        workers,
        kind: reading.kind,
        workerClass: reading.workerClass,
        idleTimeoutSec: reading.idleTimeoutSec,
        idleTimeoutSource: reading.source,
        inferred: reading.source === 'default',
        note: reading.note,
        recycles,
        configLogFile: detected.kind === 'gunicorn' && config && 'text' in config ? readGunicornConfig(config.text).errorLog : null,
      };
    });
    return { backends, via: gathered.via, notes: gathered.notes };
  },
  summarize: (facts) =>
    facts.backends.length === 0
      ? 'no backends'
      : facts.backends.map((b) => `${b.address}: ${b.listening === false ? 'nothing listening' : b.kind ? `${b.kind === 'unknown' ? '' : `${b.kind} `}pid ${b.pid}${b.idleTimeoutSec !== null ? `, idle ${b.idleTimeoutSec} s${b.inferred ? ' (default)' : ''}` : ''}` : b.listening ? 'owner hidden' : 'remote'}`).join('; ') +
        (facts.via === 'proc' ? ' (via /proc: ss not installed)' : ''),
  partialReason: (facts) => (facts.notes.length ? facts.notes.join('; ') : undefined),
});

/** How long a child seen in ps may be a helper caught between fork and exec, and how long to wait to see it again. */
const YOUNG_SEC = 2;
const RECHECK_MS = 300;

/**
 * A helper a server starts per request shows the server's own command line for the moment between fork and exec, so
 * one ps can take it for a worker that was just replaced. Children that young, running their parent's program, are
 * read again after RECHECK_MS: gone, or running something else, they were helpers. Pre-fork workers keep running the
 * parent's program (gunicorn, php-fpm and uwsgi fork without exec; node cluster execs the same script). A worker
 * that dies within RECHECK_MS of its birth is missed here; its crash lines and its successor are not.
 */
async function transientChildren(host: Host, processes: Proc[]): Promise<number[]> {
  const byPid = new Map(processes.map((p) => [p.pid, p]));
  const young = processes.filter((p) => p.elapsedSec <= YOUNG_SEC && byPid.has(p.ppid) && sameProgram(byPid.get(p.ppid)!.args, p.args));
  if (young.length === 0) return [];
  await host.sleep(RECHECK_MS);
  const transient: number[] = [];
  for (const child of young.slice(0, 50)) {
    const now = await host.readFile(`/proc/${child.pid}/cmdline`);
    // cmdline is the argv joined with NULs. A file we may not read (hidepid) is no sign of anything.
    if (now.ok ? !sameProgram(byPid.get(child.ppid)!.args, now.content.split('\0').filter(Boolean).join(' ')) : now.error.code === 'ENOENT') transient.push(child.pid);
  }
  return transient;
}

/** Without backend-listeners' resolution: loopback names and addresses only. */
function isLocalHost(host: string): boolean {
  return host === 'localhost' || (isIP(host) !== 0 && (/^127\./.test(host) || host === '::1'));
}

/**
 * The path a unix backend's listener bound, as the socket listing shows it:
 * backend-listeners finds it through symlinks and relative names; nginx's
 * own path when that probe did not run.
 */
function unixListenerPath(backend: ConfigFacts['backends'][number], deps: Record<string, unknown>): string | null {
  const checked = deps['backend-listeners'] as { backends: Array<{ address: string; upstream: string | null; listenerPath: string | null }> } | undefined;
  const found = checked?.backends.find((b) => b.address === backend.address && b.upstream === backend.upstream);
  return found ? found.listenerPath : backend.path;
}

/**
 * The children that serve this socket. One master may run several pools, each child holding only its own pool's
 * socket (php-fpm: ss shows the master and "php-fpm: pool app" children on app's port, "pool fine" on fine's): when
 * children hold the socket, the workers are those, and their siblings of the same title (a child forked after ss
 * looked). When none is seen holding it (gunicorn workers inherit it the same way, but a hidden owner shows none), all
 * of the master's children are kept, as before.
 */
export function workersOfSocket<P extends { pid: number; args: string }>(children: readonly P[], holders: readonly number[]): P[] {
  const holding = children.filter((c) => holders.includes(c.pid));
  if (holding.length === 0) return [...children];
  const titles = new Set(holding.map((c) => c.args));
  return children.filter((c) => holders.includes(c.pid) || titles.has(c.args));
}

function findListener(backend: ConfigFacts['backends'][number], unixPath: string | null, gathered: Gathered, sockets: SocketFacts): { listening: boolean; pids: number[]; acceptQueue: number | null } {
  if (sockets.via === 'ss') {
    if (backend.kind === 'unix') {
      const listener = unixPath === null ? undefined : sockets.unix.find((u) => u.path === unixPath);
      return listener ? { listening: true, pids: listener.processes.map((p) => p.pid), acceptQueue: listener.recvQ } : { listening: false, pids: [], acceptQueue: null };
    }
    const listener = sockets.tcp.find((t) => t.port === backend.port && (t.host === backend.host || ['0.0.0.0', '*', '::'].includes(t.host) || (backend.host === 'localhost' && /^127\.|^::1$/.test(t.host))));
    return listener ? { listening: true, pids: listener.processes.map((p) => p.pid), acceptQueue: listener.recvQ } : { listening: false, pids: [], acceptQueue: null };
  }
  const listeners = backend.kind === 'unix' ? gathered.procUnix.filter((u) => u.path === unixPath).map((u) => ({ inode: u.inode, acceptQueue: null as number | null })) : gathered.procTcp.filter((t) => t.port === backend.port).map((t) => ({ inode: t.inode, acceptQueue: t.acceptQueue as number | null }));
  if (listeners.length === 0) return { listening: false, pids: [], acceptQueue: null };
  return { listening: true, pids: listeners.flatMap((l) => gathered.owners[String(l.inode)] ?? []), acceptQueue: listeners[0]!.acceptQueue };
}

/** Pre-fork servers share the listening socket: the main process is the holder whose parent does not hold it too. */
function mainProcess(holders: Proc[]): Proc | null {
  if (holders.length === 0) return null;
  const pids = new Set(holders.map((h) => h.pid));
  return holders.find((h) => !pids.has(h.ppid)) ?? holders[0]!;
}

function withConfig(reading: ReturnType<typeof detectKind>, configs: Gathered['configs']): ReturnType<typeof detectKind> {
  if (!reading.configFile) return reading;
  const config = configs[reading.configFile];
  if (!config || 'error' in config) return { ...reading, note: `${reading.note}; config ${reading.configFile} not read${config && 'error' in config ? `: ${config.error}` : ''}` };
  if (reading.kind === 'gunicorn') {
    const settings = readGunicornConfig(config.text);
    const workerClass = reading.source === 'flag' ? reading.workerClass : (settings.workerClass ?? reading.workerClass);
    if (workerClass === 'sync') return { ...reading, workerClass, idleTimeoutSec: 0, note: 'gunicorn sync workers do not keep connections alive' };
    if (settings.keepalive !== null && reading.source !== 'flag') return { ...reading, workerClass, idleTimeoutSec: settings.keepalive, source: 'config', note: `keepalive = ${settings.keepalive} in ${reading.configFile}` };
    return { ...reading, workerClass };
  }
  if (reading.kind === 'puma') {
    const timeout = readPumaConfig(config.text);
    if (timeout !== null) return { ...reading, idleTimeoutSec: timeout, source: 'config', note: `persistent_timeout ${timeout} in ${reading.configFile}` };
  }
  return reading;
}
