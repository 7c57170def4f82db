import { join } from 'node:path';
import { evaluate } from '../../src/engine/conditions.js';
import { composeFlow } from '../../src/flow/compose.js';
import type { Flow } from '../../src/flow/schema.js';
import type { ProbeOutcome } from '../../src/probe/contract.js';
import { PACKAGE_ROOT } from '../../src/packageRoot.js';
import { SIGNATURE_IDS } from '../../src/errorlog/signatures.js';

const FLOW = join(PACKAGE_ROOT, 'flows', 'reset-by-peer.yaml');

/** A probe that ended ok with these facts, as the engine holds it. */
export const okOutcome = (id: string, facts: unknown): ProbeOutcome => ({ id, status: 'ok', facts: facts as Record<string, unknown>, summary: '', commands: [], startedAt: 0, durationMs: 0 });

/** error-log facts as the probe gives them for these signatures: `counts` holds every signature id, 0 when not seen. */
export function errorLogFacts(signatures: Array<{ id: string; upstreams: Record<string, number> }>): { signatures: typeof signatures; counts: Record<string, number> } {
  const counts: Record<string, number> = Object.fromEntries(SIGNATURE_IDS.map((id) => [id, 0]));
  for (const s of signatures) counts[s.id] = Object.values(s.upstreams).reduce((n, c) => n + c, 0);
  return { signatures, counts };
}

/**
 * Where a decide node of the shipped flow goes on these facts, the way the engine decides it
 * (src/engine/reducer.ts): the first true branch; an undecidable branch before it sends to `unknown`.
 */
export function decideNode(node: string, probes: Record<string, ProbeOutcome>): string {
  const flow = composeFlow(FLOW).flow as Flow;
  const step = flow.nodes[node];
  if (!step || step.kind !== 'decide') throw new Error(`${node} is not a decide node of ${FLOW}`);
  for (const branch of step.branches) {
    const result = evaluate(branch.when, probes);
    if (result === true) return branch.next;
    if (result === 'unknown') return step.unknown ?? step.otherwise;
  }
  return step.otherwise;
}
