import type { Host } from '../host/types.js';
import { unfinishedChanges } from '../apply/journal.js';
import type { StateDir } from '../util/stateDir.js';

/**
 * Said first by every command that uses the state dir: a change a killed run
 * left half done. Nothing prompts here; the wizard offers to roll it back.
 */
export async function warnUnfinished(host: Host, state: StateDir): Promise<string[]> {
  const left = await unfinishedChanges(host, state);
  for (const r of left) {
    const last = r.steps.at(-1);
    process.stderr.write(
      `reset-doctor: unfinished change ${r.id} (started ${r.startedAt}, last step: ${last ? `${last.step} at ${last.at}` : 'none'}; files ${r.files.map((f) => f.path).join(', ') || 'not yet touched'}). ` +
        `Roll it back with: reset-doctor rollback ${r.id} --yes${state.from === '--state-dir' ? ` --state-dir ${state.dir}` : ''}\n`,
    );
  }
  return left.map((r) => r.id);
}
