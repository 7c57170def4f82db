import { homedir } from 'node:os';
import { join, resolve } from 'node:path';

export interface StateDir {
  dir: string;
  /** How it was chosen, for the message that names it. */
  from: '--state-dir' | 'RESET_DOCTOR_STATE_DIR' | 'root default' | 'XDG_STATE_HOME' | 'home default';
}

/**
 * Where the tool keeps what outlives a run (session transcripts): --state-dir,
 * else $RESET_DOCTOR_STATE_DIR, else /var/lib/reset-doctor for root. Anyone
 * else cannot write there, so a user's own state dir as the XDG base
 * directory spec puts it: $XDG_STATE_HOME/reset-doctor or
 * ~/.local/state/reset-doctor.
 */
export function stateDir(given: string | undefined, env: NodeJS.ProcessEnv = process.env, uid = process.getuid?.() ?? 0): StateDir {
  if (given) return { dir: resolve(given), from: '--state-dir' };
  if (env.RESET_DOCTOR_STATE_DIR) return { dir: resolve(env.RESET_DOCTOR_STATE_DIR), from: 'RESET_DOCTOR_STATE_DIR' };
  if (uid === 0) return { dir: '/var/lib/reset-doctor', from: 'root default' };
  if (env.XDG_STATE_HOME) return { dir: join(resolve(env.XDG_STATE_HOME), 'reset-doctor'), from: 'XDG_STATE_HOME' };
  return { dir: join(env.HOME || homedir(), '.local', 'state', 'reset-doctor'), from: 'home default' };
}
