import type { Host } from '../host/types.js';
import { includePatterns, loadConfigFiles } from '../nginx/load.js';
import { rollBack } from './applyChange.js';
import { saveRecord, type ChangeRecord, type ChangeStep } from './journal.js';
import { takeLock } from './lock.js';
import type { StateDir } from '../util/stateDir.js';

export interface RollbackOutcome {
  /** 0 restored and reloaded; 3 not done (the lock, no root); 4 files could not be restored. */
  exit: 0 | 3 | 4;
  detail: string;
  manual: string[];
}

/**
 * Puts a recorded change back (the rollback command and the wizard's "roll
 * back"): under the lock, files restored byte for byte, nginx -t, reload,
 * confirm — with the nginx binary, -c, -p and master from the record.
 */
export async function rollbackChange(host: Host, state: StateDir, record: ChangeRecord, onStep: (step: ChangeStep) => void): Promise<RollbackOutcome> {
  const writes = host.writes;
  if (!writes) return { exit: 3, detail: 'a replay cannot change anything', manual: [] };
  if (host.info().uid !== 0) return { exit: 3, detail: 'rolling back needs root', manual: [] };
  const lock = await takeLock(host, writes, state, record.id);
  if (!lock.ok) return { exit: 3, detail: lock.reason, manual: [] };
  try {
    const step = (name: string, ok: boolean, detail: string, command?: string): ChangeStep => {
      const entry: ChangeStep = { step: `rollback-${name}`, ok, at: new Date(host.now()).toISOString(), detail, ...(command ? { command } : {}) };
      record.steps.push(entry);
      onStep(entry);
      return entry;
    };
    let patterns: string[] = [];
    if (record.nginx.conf) {
      try {
        patterns = includePatterns(await loadConfigFiles(host, record.nginx.conf));
      } catch {
        // The temp files are dot files in any case; the patterns are a second guard.
      }
    }
    const outcome = await rollBack(host, writes, state, record, patterns, true, step);
    if (outcome.exit !== 4) {
      record.status = 'rolled-back';
      record.reason = `rolled back: ${outcome.detail}`;
    }
    await saveRecord(writes, state, record);
    return { exit: outcome.exit === 4 ? 4 : 0, detail: outcome.detail, manual: outcome.manual };
  } finally {
    await lock.release();
  }
}
