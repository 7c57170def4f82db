import type { EngineState, Finding, FixSuggestion, Step } from './state.js';
import type { ProbeOutcome } from '../probe/contract.js';

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

/**
 * Every probe's latest outcome in the order the flow's steps list them, then
 * any others: state.probes holds them in the order they finished, which
 * concurrent probes make different from run to run, and reports must not be.
 */
export function selectProbes(state: EngineState): ProbeOutcome[] {
  const order = new Map<string, number>();
  for (const step of state.path) if (step.outcome?.kind === 'probe') for (const p of step.outcome.probes) if (!order.has(p.id)) order.set(p.id, order.size);
  const rank = (id: string) => order.get(id) ?? Number.MAX_SAFE_INTEGER;
  return Object.values(state.probes).sort((a, b) => rank(a.id) - rank(b.id));
}

export function currentStep(state: EngineState): Step | undefined {
  return state.path[state.path.length - 1];
}
