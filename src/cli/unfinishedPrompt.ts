import { askYesNo } from './askYesNo.js';
import { RealHost } from '../host/realHost.js';
import { loadRecord } from '../apply/journal.js';
import { rollbackChange } from '../apply/rollbackChange.js';
import type { StateDir } from '../util/stateDir.js';
import { warnUnfinished } from './unfinished.js';

/**
 * Before the wizard: a change a killed run left half done is named, and the
 * operator may roll it back now. Finishing it by hand means applying the fix
 * again, after a fresh diagnosis: its preflight then starts from the files
 * as they are.
 */
export async function offerUnfinished(state: StateDir): Promise<void> {
  const host = new RealHost();
  const ids = await warnUnfinished(host, state);
  for (const id of ids) {
    if (!(await askYesNo(`Roll back change ${id} now (files restored byte for byte, nginx -t, reload)?`, process.stderr))) {
      process.stderr.write(`Left as it is: roll it back later with reset-doctor rollback ${id}, or apply the fix again after the diagnosis.\n`);
      continue;
    }
    const record = await loadRecord(host, state, id);
    if (!record) continue;
    const outcome = await rollbackChange(host, state, record, (step) => process.stderr.write(`  ${step.ok ? '✔' : '✖'} ${step.step.replace(/^rollback-/, '')}: ${step.detail}\n`));
    process.stderr.write(outcome.exit === 0 ? `Rolled back ${id}.\n` : `Rollback of ${id} not done: ${outcome.detail}${outcome.manual.length ? `; by hand: ${outcome.manual.join('; ')}` : ''}\n`);
  }
}
