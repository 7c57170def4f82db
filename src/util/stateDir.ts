/**
 * Where reset-doctor keeps what outlives a run: backups, the journal and the
 * records of the changes it made, the apply lock, session transcripts.
 * --state-dir DIR, else RESET_DOCTOR_STATE_DIR, else /var/lib/reset-doctor as
 * root (changes are applied as root). Anyone else cannot write there, so a
 * user's own state dir as the XDG base directory spec puts it. Never beside
 * the config: an include glob there would load a backup.
 */
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';

export const DEFAULT_STATE_DIR = '/var/lib/reset-doctor';
export const STATE_DIR_ENV = 'RESET_DOCTOR_STATE_DIR';

export interface StateDir {
  dir: string;
  /** Which named it, for messages ("state dir /x (from RESET_DOCTOR_STATE_DIR)"). */
  from: '--state-dir' | typeof STATE_DIR_ENV | 'default' | 'XDG_STATE_HOME' | 'home default';
}

export function stateDir(args: { stateDir?: string | undefined }, env: NodeJS.ProcessEnv = process.env, uid: number = process.geteuid?.() ?? 0): StateDir {
  if (args.stateDir !== undefined && args.stateDir !== '') return { dir: resolve(args.stateDir), from: '--state-dir' };
  const fromEnv = env[STATE_DIR_ENV];
  if (fromEnv !== undefined && fromEnv !== '') return { dir: resolve(fromEnv), from: STATE_DIR_ENV };
  if (uid === 0) return { dir: DEFAULT_STATE_DIR, from: 'default' };
  if (env.XDG_STATE_HOME) return { dir: join(resolve(env.XDG_STATE_HOME), 'reset-doctor'), from: 'XDG_STATE_HOME' };
  return { dir: join(env.HOME || homedir(), '.local', 'state', 'reset-doctor'), from: 'home default' };
}

/** The folder of one change's files: <stateDir>/changes/<id>/ (record.json, backups). */
export function changeDir(state: string, id: string): string {
  return `${state}/changes/${id}`;
}

export const changesDir = (state: StateDir) => join(state.dir, 'changes');
export const lockPath = (state: StateDir) => join(state.dir, 'apply.lock');
