import type { Host, HostWrites } from '../host/types.js';
import { stillRunning } from './journal.js';
import { lockPath, type StateDir } from '../util/stateDir.js';

export interface LockHolder {
  pid: number;
  change: string;
  at: string;
}

export type LockResult = { ok: true; release: () => Promise<void> } | { ok: false; reason: string };

/**
 * One apply or rollback at a time, machine-wide for this state dir: an
 * O_EXCL lock file naming its holder. A holder that no longer runs (killed)
 * left a stale lock, which is taken over — its change stays "unfinished" in
 * the journal and is reported as such.
 */
export async function takeLock(host: Host, writes: HostWrites, state: StateDir, change: string): Promise<LockResult> {
  const path = lockPath(state);
  const made = await writes.mkdir(state.dir, 0o700);
  if (!made.ok) return { ok: false, reason: `cannot create the state dir ${state.dir}: ${made.error.message}` };
  const mine: LockHolder = { pid: process.pid, change, at: new Date(host.now()).toISOString() };
  for (let attempt = 0; attempt < 2; attempt++) {
    const written = await writes.writeFile(path, Buffer.from(JSON.stringify(mine)), { mode: 0o600, exclusive: true });
    if (written.ok) {
      return {
        ok: true,
        release: async () => {
          await writes.remove(path);
        },
      };
    }
    const read = await host.readFile(path);
    let holder: LockHolder | null = null;
    try {
      holder = read.ok ? (JSON.parse(read.content) as LockHolder) : null;
    } catch {
      holder = null;
    }
    if (holder && (await stillRunning(host, holder.pid))) {
      return { ok: false, reason: `another apply or rollback is in progress (pid ${holder.pid}, change ${holder.change}, since ${holder.at}); it holds ${path}` };
    }
    if (!holder && read.ok && host.now() - (await lockAge(host, path)) < 5000) {
      // Being written right now by another run.
      return { ok: false, reason: `another apply or rollback is starting (${path} was just created)` };
    }
    await writes.remove(path);
  }
  return { ok: false, reason: `cannot take the lock ${path}` };
}

async function lockAge(host: Host, path: string): Promise<number> {
  const stat = await host.stat(path);
  return stat.ok ? stat.mtimeMs : 0;
}
