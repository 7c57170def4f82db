import { RealHost } from '../host/realHost.js';
import { listRecords, type ChangeRecord } from '../apply/journal.js';
import { stateDir } from '../util/stateDir.js';
import { UserError } from '../util/userError.js';
import type { CliArgs } from './args.js';
import { changeSummary } from '../apply/summary.js';
import { warnUnfinished } from './unfinished.js';
import { redactStrings, redactText } from '../masking/redact.js';

/** `reset-doctor changes [--json]`: what this tool changed, newest first. */
export async function changesCommand(args: CliArgs): Promise<number> {
  if (args.positionals.length > 0) throw new UserError(`changes takes no arguments (got "${args.positionals[0]}")`);
  const host = new RealHost();
  const state = stateDir({ stateDir: args.apply.stateDir });
  const records = await listRecords(host, state);
  if (args.json) {
    // The records keep the diffs as written (0600 in the state dir); what is printed is masked, as the report is.
    process.stdout.write(`${JSON.stringify(redactStrings({ stateDir: state.dir, changes: records.map(changeSummary) }), null, 2)}\n`);
    return 0;
  }
  await warnUnfinished(host, state);
  if (records.length === 0) {
    process.stdout.write(`No changes recorded in ${state.dir}.\n`);
    return 0;
  }
  const out = (text: string) => process.stdout.write(redactText(text).text);
  out(`Changes made by reset-doctor (${state.dir}), newest first:\n`);
  for (const r of records) {
    out(`\n${r.id}  ${r.status}${r.verify ? ` (verdict ${r.verify.verdict})` : ''}  ${r.startedAt}\n`);
    out(`  fixes: ${r.fixes.join(', ')}\n`);
    for (const line of r.describe) out(`  ${line}\n`);
    for (const f of r.files) out(`  file ${f.path}${f.real !== f.path ? ` (→ ${f.real})` : ''}, backup ${f.backup}\n`);
    if (r.reason) out(`  ${r.reason}\n`);
    if (r.rollback) out(`  rolled back ${r.rollback.at}: ${r.rollback.detail}\n`);
  }
  return 0;
}
