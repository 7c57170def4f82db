import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeFileAtomic } from '../util/writeFileAtomic.js';

/**
 * Writes the text report beside where the wizard was started (owner-only:
 * it quotes what was read, masked), or to the temp folder when that is not
 * writable (a root-owned directory). Returns where it went.
 */
export async function saveReport(text: string, hostname: string, now = new Date()): Promise<string> {
  const stamp = now.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
  const name = `reset-doctor-${hostname.replace(/[^\w.-]/g, '_')}-${stamp}.txt`;
  for (const dir of [process.cwd(), tmpdir()]) {
    const path = join(dir, name);
    try {
      await writeFileAtomic(path, text, 0o600);
      return path;
    } catch {
      // Not writable here: the next place.
    }
  }
  throw new Error(`could not write ${name} in ${process.cwd()} or ${tmpdir()}`);
}
