import { RealHost } from '../host/realHost.js';
import { listRecords, type ChangeRecord } from '../apply/journal.js';
import { stateDir } from '../apply/stateDir.js';
import { UserError } from '../util/userError.js';
import type { CliArgs } from './args.js';
import { changeSummary } from '../apply/summary.js';
import { warnUnfinished } from './unfinished.js';

/** `reset-doctor changes [--json]`: what this tool changed, newest first. */
export async function changesCommand(args: CliArgs): Promise<number> {
  if (args.positionals.length > 0) throw new UserError(`changes takes no arguments (got "${args.positionals[0]}")`);
  const host = new RealHost();
  const state = stateDir({ stateDir: args.apply.stateDir });
  const records = await listRecords(host, state);
  if (args.json) {
    process.stdout.write(`${JSON.stringify({ stateDir: state.dir, changes: records.map(changeSummary) }, null, 2)}\n`);
    return 0;
  }
  await warnUnfinished(host, state);
  if (records.length === 0) {
    process.stdout.write(`No changes recorded in ${state.dir}.\n`);
    return 0;
  }
  process.stdout.write(`Changes made by reset-doctor (${state.dir}), newest first:\n`);
  for (const r of records) {
    process.stdout.write(`\n${r.id}  ${r.status}${r.verify ? ` (verdict ${r.verify.verdict})` : ''}  ${r.startedAt}\n`);
    process.stdout.write(`  fixes: ${r.fixes.join(', ')}\n`);
    for (const line of r.describe) process.stdout.write(`  ${line}\n`);
    for (const f of r.files) process.stdout.write(`  file ${f.path}${f.real !== f.path ? ` (→ ${f.real})` : ''}, backup ${f.backup}\n`);
    if (r.reason) process.stdout.write(`  ${r.reason}\n`);
    if (r.rollback) process.stdout.write(`  rolled back ${r.rollback.at}: ${r.rollback.detail}\n`);
  }
  return 0;
}
