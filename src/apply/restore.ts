import type { Host, HostWrites } from '../host/types.js';
import { FileError, readBytes, sha256, writeAtomically } from './files.js';
import type { ChangeRecord } from './journal.js';

export interface RestoreResult {
  ok: boolean;
  /** Per file: what was done. */
  lines: string[];
  /** What could not be put back, and how to do it by hand. */
  manual: string[];
}

/**
 * Puts every file of a change back byte for byte from its backup, and checks
 * it by reading it again. A file that is neither what the change wrote nor
 * what was there before was edited by someone else since: it is left alone
 * and named, never overwritten.
 */
export async function restoreFiles(host: Host, writes: HostWrites, record: ChangeRecord, includePatterns: readonly string[]): Promise<RestoreResult> {
  const result: RestoreResult = { ok: true, lines: [], manual: [] };
  for (const file of [...record.files].reverse()) {
    const byHand = file.created ? `rm ${file.real}` : `cp -p ${file.backup} ${file.real}`;
    if (file.created) {
      const stat = await host.stat(file.real);
      if (!stat.ok) {
        result.lines.push(`${file.real}: not there, as before`);
        continue;
      }
      if (sha256(await readBytes(host, file.real)) !== file.after) {
        result.ok = false;
        result.manual.push(`${file.real} was created by this change and edited since: not removed. Remove it by hand if right: ${byHand}`);
        continue;
      }
      const removed = await writes.remove(file.real);
      if (removed.ok) result.lines.push(`${file.real}: removed (this change created it)`);
      else {
        result.ok = false;
        result.manual.push(`${file.real}: ${removed.error.message}; ${byHand}`);
      }
      continue;
    }
    let current: Buffer;
    try {
      current = await readBytes(host, file.real);
    } catch (error) {
      result.ok = false;
      result.manual.push(`${file.real}: cannot read it (${(error as Error).message}); restore it by hand: ${byHand}`);
      continue;
    }
    const now = sha256(current);
    if (now === file.sha256) {
      result.lines.push(`${file.real}: already as before`);
      continue;
    }
    if (now !== file.after) {
      result.ok = false;
      result.manual.push(`${file.real} was changed by someone else after this change wrote it: not overwritten. Compare it with the backup (diff ${file.backup} ${file.real}) and restore by hand if right: ${byHand}`);
      continue;
    }
    try {
      const backup = await readBytes(host, file.backup);
      if (sha256(backup) !== file.sha256) throw new FileError(`the backup ${file.backup} is not what was saved (sha256 differs)`);
      await writeAtomically(host, writes, file, backup, includePatterns, `${record.id}-restore`);
      const check = sha256(await readBytes(host, file.real));
      if (check !== file.sha256) throw new FileError(`${file.real} does not read back as the backup`);
      result.lines.push(`${file.real}: restored from ${file.backup}`);
    } catch (error) {
      result.ok = false;
      result.manual.push(`${file.real}: ${(error as Error).message}; restore it by hand: ${byHand}`);
    }
  }
  return result;
}
