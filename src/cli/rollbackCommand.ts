import { RealHost } from '../host/realHost.js';
import { listRecords, loadRecord } from '../apply/journal.js';
import { rollbackChange } from '../apply/rollbackChange.js';
import { stateDir } from '../util/stateDir.js';
import { UserError } from '../util/userError.js';
import type { CliArgs } from './args.js';
import { askYesNo } from './askYesNo.js';
import { changeSummary } from '../apply/summary.js';
import { redactStrings, redactText } from '../masking/redact.js';

/**
 * `reset-doctor rollback [ID|--last] [--yes] [--json]`: the files back byte
 * for byte, nginx -t, reload, confirm. Everything it needs (the nginx binary,
 * -c, -p, the master) comes from the change's record, so no other flag.
 */
export async function rollbackCommand(args: CliArgs): Promise<number> {
  const [given, extra] = args.positionals;
  if (extra !== undefined) throw new UserError(`rollback takes one change id (got "${extra}")`);
  if (given && args.apply.last) throw new UserError('give a change id or --last, not both');
  if (!given && !args.apply.last) throw new UserError('which change? give its id (see reset-doctor changes) or --last');
  const host = new RealHost();
  const state = stateDir({ stateDir: args.apply.stateDir });
  const record = given ? await loadRecord(host, state, given) : await newestChange(host, state);
  if (!record) throw new UserError(given ? `no change ${given} in ${state.dir}` : `no change recorded in ${state.dir} to roll back`);
  if (record.status === 'rolled-back') throw new UserError(`change ${record.id} was already rolled back at ${record.rollback?.at ?? record.finishedAt}`);
  if (record.status === 'refused') throw new UserError(`change ${record.id} was refused: it changed nothing`);
  if (host.info().uid !== 0) {
    process.stderr.write(`reset-doctor: rolling back needs root: sudo ${['reset-doctor', ...process.argv.slice(2)].join(' ')}\n`);
    return 3;
  }
  const say = (text: string) => (args.json ? process.stderr : process.stdout).write(redactText(text).text);
  say(`Change ${record.id} (${record.status}, ${record.startedAt}): ${record.fixes.join(', ')}\n`);
  for (const f of record.files) say(`  restore ${f.path}${f.real !== f.path ? ` (→ ${f.real})` : ''} from ${f.backup}\n`);
  if (!args.apply.yes) {
    if (!process.stdin.isTTY) throw new UserError('rollback without a terminal needs --yes');
    if (!(await askYesNo('Roll it back now?'))) {
      say('Nothing was changed.\n');
      return 3;
    }
  }
  const outcome = await rollbackChange(host, state, record, (step) => say(`  ${step.ok ? '✔' : '✖'} ${step.step.replace(/^rollback-/, '')}: ${step.detail}${step.command ? ` (${step.command})` : ''}\n`));
  if (args.json) process.stdout.write(`${JSON.stringify(redactStrings(changeSummary(record)), null, 2)}\n`);
  if (outcome.exit === 4) {
    say(`reset-doctor: could not restore every file. By hand:\n${outcome.manual.map((m) => `  ${m}`).join('\n')}\n`);
    return 4;
  }
  if (outcome.exit === 3) {
    say(`reset-doctor: ${outcome.detail}\n`);
    return 3;
  }
  say(`Rolled back ${record.id}.\n`);
  return 0;
}

/**
 * --last is the newest change, whatever became of it: "undo what I just did". When that one was already
 * rolled back (or refused), an older change still in place is named, never rolled back in its stead.
 */
async function newestChange(host: RealHost, state: ReturnType<typeof stateDir>) {
  const records = await listRecords(host, state);
  const newest = records[0];
  if (!newest || newest.status === 'applied' || newest.status === 'unfinished' || newest.status === 'failed') return newest ?? null;
  const older = records.find((r) => r.status === 'applied' || r.status === 'unfinished' || r.status === 'failed');
  const what = newest.status === 'rolled-back' ? `was already rolled back at ${newest.rollback?.at ?? newest.finishedAt}` : 'was refused: it changed nothing';
  throw new UserError(
    `the last change, ${newest.id} (${newest.fixes.join(', ')}), ${what}: nothing to roll back with --last.` +
      (older ? ` An older change is still ${older.status}: ${older.id} (${older.startedAt}, ${older.fixes.join(', ')}); to roll that one back, name it: reset-doctor rollback ${older.id} --yes` : ''),
  );
}
