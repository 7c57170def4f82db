import type { EngineState } from '../engine/state.js';
import { selectFindings } from '../engine/selectors.js';

/**
 * 0: nothing found. 1: findings — confirmed, suspected, or unknown (a check
 * that could not run is not a clean bill of health). 2: usage or internal error.
 */
export function exitCodeFor(state: EngineState): 0 | 1 | 2 {
  if (state.status === 'failed') return 2;
  return selectFindings(state).some((f) => f.status !== 'ruled-out') ? 1 : 0;
}
