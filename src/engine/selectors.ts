import type { EngineState, Finding, FixSuggestion, Step } from './state.js';

/** Findings are what the diagnose steps on the path recorded; a later step about the same id wins. */
export function selectFindings(state: EngineState): Finding[] {
  const byId = new Map<string, Finding>();
  // A finding reached through an overridden decision (before the next decision) carries the override.
  let overridden: Finding['override'] | undefined;
  for (const step of state.path) {
    if (step.outcome?.kind === 'decide') overridden = step.outcome.override ? { node: step.node, reason: step.outcome.override.reason } : undefined;
    if (step.outcome?.kind === 'diagnose') {
      byId.delete(step.outcome.finding.id);
      byId.set(step.outcome.finding.id, overridden ? { ...step.outcome.finding, override: overridden } : step.outcome.finding);
    }
  }
  return [...byId.values()];
}

export function selectFixes(state: EngineState): FixSuggestion[] {
  return state.path.flatMap((step) => (step.outcome?.kind === 'fix' ? step.outcome.fixes : []));
}

/** Findings that count toward exit code 1: something is wrong, or may be. */
export function actionableFindings(state: EngineState): Finding[] {
  return selectFindings(state).filter((f) => f.status === 'confirmed' || f.status === 'suspected');
}

export function currentStep(state: EngineState): Step | undefined {
  return state.path[state.path.length - 1];
}
