/**
 * What --version says a build is: the package's version, the commit built
 * (with "+changes" when the tree had uncommitted changes) and when. Written
 * into dist/src/build-info.json by `npm pack` (prepack), so an installed
 * tarball knows it; the bundle and the executable carry it in their code.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');

export function stamp() {
  const version = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).version;
  const git = (...args) => execFileSync('git', ['-C', ROOT, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  let commit = 'unknown';
  try {
    commit = git('rev-parse', '--short', 'HEAD') + (git('status', '--porcelain', '--untracked-files=no') ? '+changes' : '');
  } catch {
    // not a clone (a source tarball): commit unknown
  }
  return { version, commit, date: new Date().toISOString().replace(/\.\d+Z$/, 'Z'), from: 'build' };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  mkdirSync(join(ROOT, 'dist', 'src'), { recursive: true });
  writeFileSync(join(ROOT, 'dist', 'src', 'build-info.json'), `${JSON.stringify(stamp(), null, 2)}\n`);
}
