import type { EngineState } from '../engine/state.js';
import { selectFindings } from '../engine/selectors.js';
import { findingKind } from '../findings/catalog.js';

/**
 * 0: nothing found, or only hygiene (logging that would make the next
 * incident visible). 1: a cause or a latent risk, confirmed or suspected, or
 * a check that could not tell (not a clean bill of health). 2: usage or
 * internal error.
 */
export function exitCodeFor(state: EngineState): 0 | 1 | 2 {
  if (state.status === 'failed') return 2;
  return selectFindings(state).some((f) => f.status !== 'ruled-out' && findingKind(f.id) !== 'hygiene') ? 1 : 0;
}

export function exitCodeText(code: number): string {
  return code === 0 ? 'nothing found that fails the run (hygiene at most)' : code === 1 ? 'findings — causes, risks, or checks that could not tell' : 'the flow could not finish';
}
