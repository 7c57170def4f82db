import { createInterface } from 'node:readline/promises';
import { RealHost } from '../host/realHost.js';
import { listRecords, loadRecord } from '../apply/journal.js';
import { rollbackChange } from '../apply/rollbackChange.js';
import { stateDir } from '../apply/stateDir.js';
import { UserError } from '../util/userError.js';
import type { CliArgs } from './args.js';
import { changeSummary } from '../apply/summary.js';

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
  const record = given ? await loadRecord(host, state, given) : ((await listRecords(host, state)).find((r) => r.status === 'applied' || r.status === 'unfinished') ?? null);
  if (!record) throw new UserError(given ? `no change ${given} in ${state.dir}` : `no applied or unfinished change in ${state.dir} to roll back`);
  if (record.status === 'rolled-back') throw new UserError(`change ${record.id} was already rolled back at ${record.rollback?.at ?? record.finishedAt}`);
  if (record.status === 'refused') throw new UserError(`change ${record.id} was refused: it changed nothing`);
  if (host.info().uid !== 0) {
    process.stderr.write(`reset-doctor: rolling back needs root: sudo ${['reset-doctor', ...process.argv.slice(2)].join(' ')}\n`);
    return 3;
  }
  const say = (text: string) => (args.json ? process.stderr : process.stdout).write(text);
  say(`Change ${record.id} (${record.status}, ${record.startedAt}): ${record.fixes.join(', ')}\n`);
  for (const f of record.files) say(`  restore ${f.path}${f.real !== f.path ? ` (→ ${f.real})` : ''} from ${f.backup}\n`);
  if (!args.apply.yes) {
    if (!process.stdin.isTTY) throw new UserError('rollback without a terminal needs --yes');
    const rl = createInterface({ input: process.stdin, output: process.stdout });
    const answer = await rl.question('Roll it back now? [y/N] ');
    rl.close();
    if (!/^y(es)?$/i.test(answer.trim())) {
      say('Nothing was changed.\n');
      return 3;
    }
  }
  const outcome = await rollbackChange(host, state, record, (step) => say(`  ${step.ok ? '✔' : '✖'} ${step.step.replace(/^rollback-/, '')}: ${step.detail}${step.command ? ` (${step.command})` : ''}\n`));
  if (args.json) process.stdout.write(`${JSON.stringify(changeSummary(record), null, 2)}\n`);
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
