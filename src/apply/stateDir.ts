import os from 'node:os';
import { join, resolve } from 'node:path';

/**
 * Where reset-doctor keeps what outlives a run: backups, the journal of each
 * change, the apply lock, session transcripts. Never beside a config file:
 * an `include sites-enabled/*` would load a backup kept there.
 */
export interface StateDir {
  path: string;
  /** How it was chosen, for messages: "--state-dir", "RESET_DOCTOR_STATE_DIR", "root default", "user default". */
  source: string;
}

export function resolveStateDir(given: string | undefined, env: NodeJS.ProcessEnv = process.env, uid: number = process.geteuid?.() ?? -1): StateDir {
  if (given) return { path: resolve(given), source: '--state-dir' };
  if (env.RESET_DOCTOR_STATE_DIR) return { path: resolve(env.RESET_DOCTOR_STATE_DIR), source: 'RESET_DOCTOR_STATE_DIR' };
  if (uid === 0) return { path: '/var/lib/reset-doctor', source: 'root default' };
  const base = env.XDG_STATE_HOME ? resolve(env.XDG_STATE_HOME) : join(os.homedir(), '.local', 'state');
  return { path: join(base, 'reset-doctor'), source: 'user default' };
}

export const changesDir = (state: StateDir) => join(state.path, 'changes');
export const lockPath = (state: StateDir) => join(state.path, 'apply.lock');
