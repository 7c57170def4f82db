import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { PROBES } from '../../probes/index.js';
import { FLOWS_DIR } from '../packageRoot.js';
import { UserError } from '../util/userError.js';
import { composeFlow } from './compose.js';
import { lintComposed } from './lint.js';
import type { Flow } from './schema.js';

/**
 * --flow takes a shipped flow's id or a path to a YAML file; its sub-flows come
 * inlined (src/flow/compose.ts). A flow with lint errors is refused, with every
 * problem listed, and so is a sub-flow asked for alone.
 */
export async function resolveFlow(idOrPath: string): Promise<Flow> {
  const isPath = idOrPath.includes('/') || /\.ya?ml$/.test(idOrPath);
  const file = isPath ? idOrPath : join(FLOWS_DIR, `${idOrPath}.yaml`);
  if (!isPath && !existsSync(file)) throw new UserError(`no flow "${idOrPath}" in ${FLOWS_DIR}`);
  const composed = composeFlow(file);
  const problems = lintComposed(composed, PROBES);
  if (problems.length > 0) {
    throw new UserError(`flow ${file} has problems:\n${problems.map((p) => `  ${p.file}:${p.line}:${p.column}: ${p.message}`).join('\n')}`);
  }
  if (composed.root.flow?.subflow) throw new UserError(`${file} is a sub-flow ("subflow: true"): run the flow that calls it`);
  if (!composed.flow) throw new UserError(`flow ${file} could not be read`);
  return composed.flow;
}
