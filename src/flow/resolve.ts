import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { PROBES } from '../../probes/index.js';
import { FLOWS_DIR } from '../packageRoot.js';
import { UserError } from '../util/userError.js';
import { lintFlow } from './lint.js';
import { loadFlowFile } from './load.js';
import type { Flow } from './schema.js';

/** --flow takes a shipped flow's id or a path to a YAML file. A flow with lint errors is refused, with every problem listed. */
export async function resolveFlow(idOrPath: string): Promise<Flow> {
  const isPath = idOrPath.includes('/') || /\.ya?ml$/.test(idOrPath);
  const file = isPath ? idOrPath : join(FLOWS_DIR, `${idOrPath}.yaml`);
  if (!isPath && !existsSync(file)) throw new UserError(`no flow "${idOrPath}" in ${FLOWS_DIR}`);
  const loaded = await loadFlowFile(file);
  const problems = lintFlow(loaded, PROBES);
  if (problems.length > 0 || !loaded.flow) {
    throw new UserError(`flow ${file} has problems:\n${problems.map((p) => `  ${p.file}:${p.line}:${p.column}: ${p.message}`).join('\n')}`);
  }
  return loaded.flow;
}
