import { lintFiles } from '../flow/lint.js';
import { FLOWS_DIR } from '../packageRoot.js';
import { PROBES } from '../../probes/index.js';

export async function lintCommand(paths: string[]): Promise<number> {
  const targets = paths.length > 0 ? paths : [FLOWS_DIR];
  const problems = await lintFiles(targets, PROBES);
  for (const p of problems) process.stderr.write(`${p.file}:${p.line}:${p.column}: ${p.message}\n`);
  if (problems.length > 0) {
    process.stderr.write(`${problems.length} problem(s)\n`);
    return 1;
  }
  process.stdout.write(`flows ok: ${targets.join(', ')}\n`);
  return 0;
}
