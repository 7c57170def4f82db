/**
 * What happens around the error counts, noticed as it happens: nginx reloads
 * (new workers under the same master), nginx starts and stops, backend
 * starts, restarts and stops (the process listening at a backend address),
 * OOM kills (kernel log), and the changes reset-doctor applied (records in
 * the state dir). Each poll reads through the Host and returns what is new
 * since the last one; the first poll reports what happened since `sinceMs`.
 */
import type { CommandSpec, Host } from '../host/types.js';
import { parsePs, PS_ARGS, type ProcessRow } from '../../probes/read/processes.js';
import { findMaster } from '../../probes/read/nginx-runtime.js';
import { findOomVictims } from '../../probes/read/oom-kills.js';
import { readKernelLogOrWhy } from '../../probes/read/kernelLog.js';
import { parseTcpListeners, parseUnixListeners, type SocketProcess } from '../../probes/parse/ssOutput.js';

export type WatchEventKind = 'nginx-reload' | 'nginx-start' | 'nginx-stop' | 'nginx-worker' | 'backend-start' | 'backend-restart' | 'backend-stop' | 'oom-kill' | 'change';

export interface WatchEvent {
  atMs: number;
  kind: WatchEventKind;
  text: string;
}

/** A backend address from the config (nginx-config's backends). */
export interface WatchedBackend {
  address: string;
  kind: 'tcp' | 'unix';
  host: string | null;
  port: number | null;
  path: string | null;
}

export interface EventWatcherOptions {
  nginxConf?: string | undefined;
  backends: WatchedBackend[];
  /** The state dir whose changes/<id>/record.json are reported; null: none. */
  stateDir: string | null;
  sinceMs: number;
}

/** A change record as the apply engine writes it (only the fields shown here). */
interface ChangeRecord {
  id: string;
  status: string;
  appliedAt: string;
  files: Array<{ path: string }>;
}

const PS: CommandSpec = { file: 'ps', args: PS_ARGS, timeoutMs: 10_000 };
const SS_TCP: CommandSpec = { file: 'ss', args: ['-ltnp'], timeoutMs: 10_000 };
const SS_UNIX: CommandSpec = { file: 'ss', args: ['-lxp'], timeoutMs: 10_000 };

const WILDCARD = new Set(['0.0.0.0', '::', '*']);
const LOCAL_NAMES: Record<string, string[]> = { localhost: ['127.0.0.1', '::1'] };

/** The process that owns a listener: of the pids holding it, the one whose parent does not hold it too (a pre-fork master, not its workers). */
function ownerOf(holders: SocketProcess[], rows: Map<number, ProcessRow>): ProcessRow | null {
  const pids = new Set(holders.map((h) => h.pid));
  const owner = holders.map((h) => rows.get(h.pid)).find((row) => row !== undefined && !pids.has(row.ppid));
  return owner ?? null;
}

function describeBackendProcess(row: ProcessRow | null): string {
  return row ? `pid ${row.pid} ${row.comm}` : 'process not visible (needs root)';
}

export class EventWatcher {
  private first = true;
  private master: { pid: number; startedAtMs: number } | null = null;
  private workers = new Set<number>();
  /** Per backend address: listening, and the owner process (pid and start) when visible. */
  private backends = new Map<string, { listening: boolean; pid: number | null; startedAtMs: number | null }>();
  private oomSeen = new Set<string>();
  private kernelFromMs: number;
  private changes = new Map<string, string>();
  private polls = 0;
  /** What could not be watched, in words (no ps, no ss, no kernel log, unreadable state dir). */
  readonly problems = new Set<string>();

  constructor(
    private readonly host: Host,
    private readonly options: EventWatcherOptions,
  ) {
    this.kernelFromMs = options.sinceMs;
  }

  async poll(): Promise<WatchEvent[]> {
    const events: WatchEvent[] = [];
    const ps = await this.host.run(PS);
    const rows = !ps.failure && ps.exitCode === 0 ? parsePs(ps.stdout, this.host.now()) : null;
    if (!rows) this.problems.add(`ps: ${ps.failure?.message ?? `exit ${ps.exitCode}`}: nginx reloads and backend restarts are not shown`);
    else {
      this.nginxEvents(rows, events);
      await this.backendEvents(rows, events);
    }
    // The kernel log is a heavier read (journalctl): every third poll.
    if (this.first || this.polls % 3 === 0) await this.oomEvents(events);
    await this.changeEvents(events);
    this.first = false;
    this.polls++;
    return events.sort((a, b) => a.atMs - b.atMs);
  }

  private nginxEvents(rows: ProcessRow[], events: WatchEvent[]): void {
    const { master } = findMaster(rows, this.options.nginxConf);
    const since = this.options.sinceMs;
    if (!master) {
      if (this.master) events.push({ atMs: this.host.now(), kind: 'nginx-stop', text: `nginx stopped (master pid ${this.master.pid} is gone)` });
      else if (this.first) this.problems.add('no nginx master process for this config is running');
      this.master = null;
      this.workers = new Set();
      return;
    }
    // Workers finishing old requests after a reload say so in their title: they are not the new generation.
    const workers = rows.filter((r) => r.ppid === master.pid && r.args.startsWith('nginx: worker process') && !r.args.includes('is shutting down'));
    const pids = new Set(workers.map((w) => w.pid));
    const newest = workers.reduce((t, w) => Math.max(t, w.startedAtMs), 0);
    if (this.first) {
      if (master.startedAtMs >= since) events.push({ atMs: master.startedAtMs, kind: 'nginx-start', text: `nginx started (master pid ${master.pid})` });
      // Workers younger than their master: the last reload started them.
      if (workers.length > 0 && newest - master.startedAtMs > 1500 && newest >= since) {
        events.push({ atMs: newest, kind: 'nginx-reload', text: `nginx reloaded: workers ${[...pids].join(', ')}` });
      }
    } else if (!this.master || this.master.pid !== master.pid) {
      events.push({ atMs: master.startedAtMs, kind: 'nginx-start', text: `nginx started (master pid ${master.pid}${this.master ? `, was ${this.master.pid}` : ''})` });
    } else {
      const added = workers.filter((w) => !this.workers.has(w.pid));
      const stayed = [...this.workers].filter((pid) => pids.has(pid));
      if (added.length > 0 && stayed.length === 0) {
        events.push({ atMs: newest, kind: 'nginx-reload', text: `nginx reloaded: new workers ${added.map((w) => w.pid).join(', ')} (were ${[...this.workers].join(', ') || 'none'})` });
      } else if (added.length > 0) {
        const gone = [...this.workers].filter((pid) => !pids.has(pid));
        events.push({ atMs: newest, kind: 'nginx-worker', text: `nginx worker ${gone.join(', ') || '?'} exited, the master started ${added.map((w) => w.pid).join(', ')} (a crash or kill, not a reload)` });
      }
    }
    this.master = { pid: master.pid, startedAtMs: master.startedAtMs };
    this.workers = pids;
  }

  private async backendEvents(rows: ProcessRow[], events: WatchEvent[]): Promise<void> {
    if (this.options.backends.length === 0) return;
    const byPid = new Map(rows.map((r) => [r.pid, r]));
    const tcp = this.options.backends.some((b) => b.kind === 'tcp') ? await this.host.run(SS_TCP) : null;
    const unix = this.options.backends.some((b) => b.kind === 'unix') ? await this.host.run(SS_UNIX) : null;
    for (const [name, result] of [['ss -ltnp', tcp], ['ss -lxp', unix]] as const) {
      if (result && (result.failure || result.exitCode !== 0)) this.problems.add(`${name}: ${result.failure?.message ?? `exit ${result.exitCode}`}: backend starts and restarts are not shown`);
    }
    const tcpListeners = tcp && !tcp.failure && tcp.exitCode === 0 ? parseTcpListeners(tcp.stdout) : null;
    const unixListeners = unix && !unix.failure && unix.exitCode === 0 ? parseUnixListeners(unix.stdout) : null;
    const now = this.host.now();
    for (const backend of this.options.backends) {
      let holders: SocketProcess[] | null = null;
      if (backend.kind === 'tcp' && tcpListeners) {
        const hosts = LOCAL_NAMES[backend.host ?? ''] ?? [backend.host];
        const found = tcpListeners.filter((l) => l.port === backend.port && (hosts.includes(l.host) || WILDCARD.has(l.host)));
        holders = found.length > 0 ? found.flatMap((l) => l.processes) : null;
      } else if (backend.kind === 'unix' && unixListeners) {
        const found = unixListeners.filter((l) => l.path === backend.path);
        holders = found.length > 0 ? found.flatMap((l) => l.processes) : null;
      } else continue;
      const listening = holders !== null;
      const owner = holders ? ownerOf(holders, byPid) : null;
      const state = { listening, pid: owner?.pid ?? null, startedAtMs: owner?.startedAtMs ?? null };
      const before = this.backends.get(backend.address);
      this.backends.set(backend.address, state);
      if (this.first) {
        if (owner && owner.startedAtMs >= this.options.sinceMs) events.push({ atMs: owner.startedAtMs, kind: 'backend-start', text: `backend ${backend.address} started (${describeBackendProcess(owner)})` });
        if (!listening) events.push({ atMs: now, kind: 'backend-stop', text: `backend ${backend.address}: nothing listens there` });
        continue;
      }
      if (!before) continue;
      if (before.listening && !listening) events.push({ atMs: now, kind: 'backend-stop', text: `backend ${backend.address} stopped listening${before.pid ? ` (pid ${before.pid} ${byPid.has(before.pid) ? 'still runs' : 'is gone'})` : ''}` });
      else if (!before.listening && listening) events.push({ atMs: owner?.startedAtMs ?? now, kind: 'backend-start', text: `backend ${backend.address} listens again (${describeBackendProcess(owner)})` });
      else if (listening && owner && before.pid !== null && (owner.pid !== before.pid || owner.startedAtMs - (before.startedAtMs ?? 0) > 1500)) {
        events.push({ atMs: owner.startedAtMs, kind: 'backend-restart', text: `backend ${backend.address} restarted: pid ${before.pid} → ${owner.pid} ${owner.comm}` });
      }
    }
  }

  private async oomEvents(events: WatchEvent[]): Promise<void> {
    const read = await readKernelLogOrWhy(this.host, this.kernelFromMs);
    if ('error' in read) {
      this.problems.add(`kernel log: ${read.error}: OOM kills are not shown`);
      return;
    }
    for (const victim of findOomVictims(read.lines)) {
      const key = `${victim.timeMs}:${victim.pid}`;
      if (this.oomSeen.has(key)) continue;
      this.oomSeen.add(key);
      events.push({ atMs: victim.timeMs, kind: 'oom-kill', text: `OOM kill: pid ${victim.pid} (${victim.comm}), ${Math.round(victim.anonRssKb / 1024)} MB${victim.memcg ? ` in ${victim.memcg}` : ''}` });
    }
    // The next read starts a little before the newest line: the journal's --since has whole seconds.
    const newest = read.lines.reduce((t, l) => Math.max(t, l.timeMs), this.kernelFromMs);
    this.kernelFromMs = Math.max(this.kernelFromMs, newest - 2000);
  }

  private async changeEvents(events: WatchEvent[]): Promise<void> {
    const state = this.options.stateDir;
    if (!state) return;
    const listing = await this.host.listDir(`${state}/changes`);
    if (!listing.ok) {
      // No change made yet is not a problem; an unreadable state dir is.
      if (listing.error.code !== 'ENOENT') this.problems.add(`${state}/changes: ${listing.error.message}: the changes applied are not shown`);
      return;
    }
    for (const id of listing.entries) {
      const file = await this.host.readFile(`${state}/changes/${id}/record.json`);
      if (!file.ok) continue; // being written, or a folder without a record yet
      let record: ChangeRecord;
      try {
        record = JSON.parse(file.content) as ChangeRecord;
      } catch {
        continue;
      }
      const status = String(record.status ?? 'unknown');
      const seen = this.changes.get(id);
      this.changes.set(id, status);
      if (seen === status) continue;
      const appliedAt = Date.parse(record.appliedAt);
      const files = (record.files ?? []).map((f) => f.path).join(', ');
      if (seen === undefined) {
        if (this.first && !(appliedAt >= this.options.sinceMs)) continue;
        events.push({ atMs: Number.isNaN(appliedAt) ? this.host.now() : appliedAt, kind: 'change', text: `change ${record.id ?? id} ${status}${files ? `: ${files}` : ''}` });
      } else events.push({ atMs: this.host.now(), kind: 'change', text: `change ${record.id ?? id} is now ${status} (was ${seen})` });
    }
  }
}
