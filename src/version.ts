import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { packageDir } from './assets.js';

/** Stamped by scripts/dist.mjs (esbuild `define`) into the bundle and the executable. */
declare const __RESET_DOCTOR_BUILD__: BuildInfo | undefined;

export interface BuildInfo {
  version: string;
  /** Short commit hash, or null when unknown (an npm install with no stamp). */
  commit: string | null;
  /** ISO date: when the bundle or executable was built; from the source tree, the commit's date. */
  date: string | null;
  /** Where commit and date came from: the build's stamp (bundle, executable, npm pack), or git. */
  from: 'build' | 'git' | 'unknown';
}

const STAMPED: BuildInfo | null = typeof __RESET_DOCTOR_BUILD__ === 'undefined' ? null : __RESET_DOCTOR_BUILD__;

export const VERSION: string = STAMPED?.version ?? (JSON.parse(readFileSync(join(packageDir(), 'package.json'), 'utf8')) as { version: string }).version;

/** What --version prints about this copy; asks git only from a clone, and only when called. */
export function buildInfo(): BuildInfo {
  if (STAMPED) return STAMPED;
  const root = packageDir();
  if (existsSync(join(root, '.git'))) {
    try {
      const [commit, date] = execFileSync('git', ['-C', root, 'log', '-1', '--format=%h %cI'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], timeout: 2000 }).trim().split(' ');
      if (commit && date) return { version: VERSION, commit, date, from: 'git' };
    } catch {
      // no git here: say unknown below
    }
  }
  const packed = join(root, 'dist', 'src', 'build-info.json');
  if (existsSync(packed)) return JSON.parse(readFileSync(packed, 'utf8')) as BuildInfo;
  return { version: VERSION, commit: null, date: null, from: 'unknown' };
}

export function versionLine(info: BuildInfo = buildInfo()): string {
  const what =
    info.from === 'build' ? `commit ${info.commit}, built ${info.date}` : info.from === 'git' ? `commit ${info.commit} of ${info.date}, run from the source tree` : 'commit and build date unknown';
  return `reset-doctor ${info.version} (${what})`;
}
