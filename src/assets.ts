import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { onExit } from 'signal-exit';
import { UserError } from './util/userError.js';

/**
 * The files the tool reads besides its code: the flows, the demo recordings
 * and the WebAssembly counter, named by their path in the package
 * ("flows/reset-by-peer.yaml"). From the source tree and an npm install they
 * are files in the package; a build made by scripts/dist.mjs carries them
 * inside itself, set here by esbuild's `define`:
 *  - the ESM bundle: `inline`, each file's bytes in base64;
 *  - the single executable: `sea`, only the names, the bytes being assets of
 *    the executable read with node:sea (in worker threads too).
 */
type Embedded = { store: 'inline'; files: Record<string, string> } | { store: 'sea'; names: string[] };
declare const __RESET_DOCTOR_ASSETS__: Embedded | undefined;

const EMBEDDED: Embedded | null = typeof __RESET_DOCTOR_ASSETS__ === 'undefined' ? null : __RESET_DOCTOR_ASSETS__;

/** True in the bundle and the executable: no package folder beside the code. */
export const ASSETS_EMBEDDED = EMBEDDED !== null;

let packageFolder: string | null = null;

/** The package's folder, found from this file upwards: same answer from src/ (tests) and dist/src/ (the bin). */
export function packageDir(): string {
  if (packageFolder) return packageFolder;
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const candidate = join(dir, 'package.json');
    if (existsSync(candidate) && (JSON.parse(readFileSync(candidate, 'utf8')) as { name?: string }).name === 'reset-doctor') return (packageFolder = dir);
    const parent = dirname(dir);
    if (parent === dir) throw new Error('reset-doctor: cannot find its package.json');
    dir = parent;
  }
}

function embeddedNames(embedded: Embedded): string[] {
  return embedded.store === 'inline' ? Object.keys(embedded.files) : embedded.names;
}

/** node:sea, asked for only inside the executable (a Node 20 before 20.12 has no such module). */
function seaAsset(name: string): Buffer {
  const sea = createRequire(process.execPath)('node:sea') as { getAsset(key: string): ArrayBuffer };
  return Buffer.from(sea.getAsset(name));
}

export function hasAsset(name: string): boolean {
  return EMBEDDED ? embeddedNames(EMBEDDED).includes(name) : existsSync(join(packageDir(), name));
}

/** An asset's bytes, read from memory when embedded: nothing is written to disk for it. */
export function readAsset(name: string): Buffer {
  if (!EMBEDDED) return readFileSync(join(packageDir(), name));
  if (!embeddedNames(EMBEDDED).includes(name)) throw new Error(`reset-doctor: this build carries no ${name}`);
  return EMBEDDED.store === 'inline' ? Buffer.from(EMBEDDED.files[name]!, 'base64') : seaAsset(name);
}

let unpacked: string | null = null;

/**
 * A folder laid out like the package, for the code that reads the flows and
 * recordings by path (flow lint, --flow, the demo list). From the source tree
 * it is the package; in a build, the embedded files are written once into a
 * private temporary folder (mode 0700, from mkdtemp) that is removed when the
 * process exits or is killed by a signal it can catch.
 */
export function assetRoot(): string {
  if (!EMBEDDED) return packageDir();
  if (unpacked) return unpacked;
  let dir: string | null = null;
  try {
    dir = mkdtempSync(join(tmpdir(), 'reset-doctor-'));
    const made = dir;
    // signal-exit, not process.on(signal): a hung-up SSH session (SIGHUP) or a SIGTERM still removes it,
    // and the process still dies of the signal (ink's own signal-exit handlers stay in charge).
    onExit(() => rmSync(made, { recursive: true, force: true }));
    for (const name of embeddedNames(EMBEDDED)) {
      mkdirSync(dirname(join(dir, name)), { recursive: true });
      writeFileSync(join(dir, name), readAsset(name), { mode: 0o600 });
    }
  } catch (error) {
    if (dir) rmSync(dir, { recursive: true, force: true });
    throw new UserError(`cannot unpack the flows into ${tmpdir()} (${(error as Error).message}): set TMPDIR to a writable folder`);
  }
  return (unpacked = dir);
}
