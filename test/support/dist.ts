import { execFileSync } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PACKAGE_ROOT } from '../../src/packageRoot.js';

/** The builds of `npm run dist` (scripts/dist.mjs), as a server gets them: copied out of the repo. */
export interface DistBuild {
  name: 'bundle' | 'executable';
  file: string;
  /** argv that runs it from `dir`: the bundle with this Node by absolute path, the executable alone. */
  argv(dir: string): string[];
}

export const DIST_BUILDS: DistBuild[] = [
  { name: 'bundle', file: 'reset-doctor.mjs', argv: (dir) => [process.execPath, join(dir, 'reset-doctor.mjs')] },
  { name: 'executable', file: 'reset-doctor-linux-x64', argv: (dir) => [join(dir, 'reset-doctor-linux-x64')] },
];

/** Runs `npm run dist`'s script (the dev build must exist: npm test builds it first). */
export function buildDist(): void {
  execFileSync(process.execPath, [join(PACKAGE_ROOT, 'scripts', 'dist.mjs')], { cwd: PACKAGE_ROOT, stdio: ['ignore', 'ignore', 'pipe'] });
}

/** Names that would let a build lean on an installed Node. */
const NODE_COMMANDS = new Set(['node', 'nodejs', 'npm', 'npx', 'corepack']);

/**
 * A folder of symlinks to every command on PATH except Node's, like a
 * server's PATH without Node (node_modules/.bin folders are left out too).
 */
export function pathWithoutNode(dir: string): string {
  const bin = join(dir, 'bin');
  mkdirSync(bin, { recursive: true });
  for (const folder of (process.env['PATH'] ?? '').split(':')) {
    if (!folder || folder.includes('node_modules') || !existsSync(folder)) continue;
    for (const name of readdirSync(folder)) {
      if (NODE_COMMANDS.has(name) || existsSync(join(bin, name))) continue;
      symlinkSync(join(folder, name), join(bin, name));
    }
  }
  return bin;
}

/** A temp folder outside the repo holding copies of the builds, and the environment to run them in (no NODE_OPTIONS, no node on PATH). */
export function distSandbox(): { dir: string; tmp: string; env: NodeJS.ProcessEnv } {
  const dir = mkdtempSync(join(tmpdir(), 'reset-doctor-dist-'));
  for (const build of DIST_BUILDS) {
    copyFileSync(join(PACKAGE_ROOT, 'dist', build.file), join(dir, build.file));
    chmodSync(join(dir, build.file), 0o755);
  }
  const tmp = join(dir, 'tmp');
  mkdirSync(tmp);
  const env: NodeJS.ProcessEnv = { PATH: pathWithoutNode(dir), HOME: dir, TMPDIR: tmp, LANG: 'C.UTF-8', TERM: process.env['TERM'] ?? 'xterm-256color', RESET_DOCTOR_STATE_DIR: join(dir, 'state') };
  return { dir, tmp, env };
}
