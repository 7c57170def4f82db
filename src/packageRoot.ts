import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The installed package's folder: flows/ and demo recordings ship beside dist/. Same answer from src/ (tests) and dist/src/ (the bin). */
function findRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const candidate = join(dir, 'package.json');
    if (existsSync(candidate) && (JSON.parse(readFileSync(candidate, 'utf8')) as { name?: string }).name === 'reset-doctor') return dir;
    const parent = dirname(dir);
    if (parent === dir) throw new Error('reset-doctor: cannot find its package.json');
    dir = parent;
  }
}

export const PACKAGE_ROOT = findRoot();
export const VERSION: string = (JSON.parse(readFileSync(join(PACKAGE_ROOT, 'package.json'), 'utf8')) as { version: string }).version;
export const FLOWS_DIR = join(PACKAGE_ROOT, 'flows');
export const DEMO_DIR = join(PACKAGE_ROOT, 'src', 'demo', 'recordings');
