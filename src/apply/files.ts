import { createHash } from 'node:crypto';
import { basename, dirname, join } from 'node:path';
import type { Host, HostWrites } from '../host/types.js';
import { includeMatches } from '../nginx/load.js';

export const sha256 = (data: Buffer | string) => createHash('sha256').update(data).digest('hex');

/** What a file was before the change: enough to put it back byte for byte, with its mode, owner and label. */
export interface FileState {
  /** The path nginx loads (may be a symlink). */
  path: string;
  /** The file behind it, which is the one edited: a symlink stays a symlink. */
  real: string;
  mode: number;
  uid: number;
  gid: number;
  /** SELinux label, when SELinux is on. */
  label: string | null;
  size: number;
  sha256: string;
}

export class FileError extends Error {}

/** Reads a file byte-exact (latin1 keeps each byte as one character). */
export async function readBytes(host: Host, path: string): Promise<Buffer> {
  const read = await host.readFile(path, { encoding: 'latin1' });
  if (!read.ok) throw new FileError(read.error.message);
  return Buffer.from(read.content, 'latin1');
}

async function selinuxOn(host: Host): Promise<boolean> {
  const stat = await host.stat('/sys/fs/selinux/enforce');
  return stat.ok;
}

export async function fileState(host: Host, writes: HostWrites, path: string): Promise<FileState> {
  const real = await writes.realpath(path);
  if (!real.ok) throw new FileError(real.error.message);
  const stat = await host.stat(real.path);
  if (!stat.ok) throw new FileError(stat.error.message);
  if (stat.type !== 'file') throw new FileError(`${real.path} is not a regular file`);
  const bytes = await readBytes(host, real.path);
  let label: string | null = null;
  if (await selinuxOn(host)) {
    const result = await host.run({ file: 'stat', args: ['-c', '%C', real.path], timeoutMs: 5000 });
    if (result.exitCode !== 0) throw new FileError(`cannot read the SELinux label of ${real.path}: ${result.stderr.trim()}`);
    label = result.stdout.trim();
  }
  return { path, real: real.path, mode: stat.mode & 0o7777, uid: stat.uid, gid: stat.gid, label, size: bytes.length, sha256: sha256(bytes) };
}

/**
 * Writes `data` over `state.real` the way an editor that cares does: a temp
 * file in the same directory whose name no include pattern matches (a dot
 * file: nginx's glob skips those, and it is checked), fsynced, given the
 * file's mode, owner and label, then renamed over it. A reader sees the old
 * file or the new one, never half of one.
 */
export async function writeAtomically(host: Host, writes: HostWrites, state: FileState, data: Buffer, includePatterns: readonly string[], tag: string): Promise<void> {
  const temp = join(dirname(state.real), `.${basename(state.real)}.reset-doctor-${tag}.tmp`);
  const loadedBy = includePatterns.find((p) => includeMatches(p, temp));
  if (loadedBy) throw new FileError(`the temp file ${temp} would match "include ${loadedBy}": not writing there`);
  const steps = [
    () => writes.writeFile(temp, data, { mode: state.mode }),
    () => writes.chown(temp, state.uid, state.gid),
  ];
  for (const step of steps) {
    const done = await step();
    if (!done.ok) {
      await writes.remove(temp);
      throw new FileError(done.error.message);
    }
  }
  if (state.label) {
    const result = await host.run({ file: 'chcon', args: [state.label, temp], timeoutMs: 5000 });
    if (result.exitCode !== 0) {
      await writes.remove(temp);
      throw new FileError(`cannot give ${temp} the label ${state.label}: ${result.stderr.trim()}`);
    }
  }
  const renamed = await writes.rename(temp, state.real);
  if (!renamed.ok) {
    await writes.remove(temp);
    throw new FileError(renamed.error.message);
  }
}

/** The backup copy, in the change's own directory in the state dir, with the original's mode and owner. */
export async function writeBackup(host: Host, writes: HostWrites, state: FileState, data: Buffer, backupPath: string): Promise<void> {
  const written = await writes.writeFile(backupPath, data, { mode: state.mode, exclusive: true });
  if (!written.ok) throw new FileError(`backup of ${state.real}: ${written.error.message}`);
  const owned = await writes.chown(backupPath, state.uid, state.gid);
  if (!owned.ok) throw new FileError(`backup of ${state.real}: ${owned.error.message}`);
  if (state.label) {
    const result = await host.run({ file: 'chcon', args: [state.label, backupPath], timeoutMs: 5000 });
    if (result.exitCode !== 0) throw new FileError(`backup of ${state.real}: cannot label it ${state.label}: ${result.stderr.trim()}`);
  }
}
