/**
 * Where reset-doctor keeps backups, the journal and the records of the
 * changes it made: --state-dir DIR, else RESET_DOCTOR_STATE_DIR, else
 * /var/lib/reset-doctor (changes are applied as root). Never beside the
 * config: an include glob there would load a backup.
 */
import { resolve } from 'node:path';

export const DEFAULT_STATE_DIR = '/var/lib/reset-doctor';
export const STATE_DIR_ENV = 'RESET_DOCTOR_STATE_DIR';

export interface StateDir {
  dir: string;
  /** Which of the three named it, for messages ("state dir /x (from RESET_DOCTOR_STATE_DIR)"). */
  from: '--state-dir' | typeof STATE_DIR_ENV | 'default';
}

export function stateDir(args: { stateDir?: string | undefined }, env: NodeJS.ProcessEnv = process.env): StateDir {
  if (args.stateDir !== undefined && args.stateDir !== '') return { dir: resolve(args.stateDir), from: '--state-dir' };
  const fromEnv = env[STATE_DIR_ENV];
  if (fromEnv !== undefined && fromEnv !== '') return { dir: resolve(fromEnv), from: STATE_DIR_ENV };
  return { dir: DEFAULT_STATE_DIR, from: 'default' };
}

/** The folder of one change's files: <stateDir>/changes/<id>/ (record.json, backups). */
export function changeDir(state: string, id: string): string {
  return `${state}/changes/${id}`;
}
