import type { EngineState, Finding } from '../engine/state.js';
import { selectFindings } from '../engine/selectors.js';
import { findingKind, type FindingKind } from '../findings/catalog.js';
import { explainsFor, type Explains } from './explains.js';
import { computeImpact, factsOf, type Impact } from './impact.js';

export interface RankedFinding {
  finding: Finding;
  /** Its kind in this run: a cause that explains none of the window's errors is a latent risk here. */
  kind: FindingKind;
  explains: Explains;
}

export interface Ranked {
  impact: Impact;
  causes: RankedFinding[];
  risks: RankedFinding[];
  hygiene: RankedFinding[];
  /** Could not tell: a check that could not run or decide. */
  unknown: RankedFinding[];
  ruledOut: RankedFinding[];
  /** Every finding in the order above, for JSON. */
  all: RankedFinding[];
}

// Wrong now for every request that reaches them, whether or not one came in the window.
const CAUSES_WITHOUT_ERRORS: ReadonlySet<string> = new Set(['backend-down', 'body-too-large']);

/** Findings grouped as an operator acts on them — causes, risks, hygiene — each group ranked by the errors it explains. */
export function rankFindings(state: EngineState, sinceMs?: number): Ranked {
  const impact = computeImpact(state, sinceMs);
  const counted = factsOf(state, 'error-log') !== null;
  const ranked = selectFindings(state).map((finding, order) => {
    const explains = explainsFor(finding, state, impact);
    let kind = findingKind(finding.id);
    // Only a confirmed one: a suspected cause that explains nothing counted is still a possible cause, ranked below.
    if (kind === 'cause' && counted && explains.errors === 0 && finding.status === 'confirmed' && !CAUSES_WITHOUT_ERRORS.has(finding.id)) kind = 'risk';
    return { finding, kind, explains, order };
  });
  const byImpact = (a: (typeof ranked)[number], b: (typeof ranked)[number]) =>
    b.explains.errors - a.explains.errors || statusRank(a.finding) - statusRank(b.finding) || a.order - b.order;
  const active = ranked.filter((r) => r.finding.status === 'confirmed' || r.finding.status === 'suspected');
  const strip = (list: typeof ranked): RankedFinding[] => list.map(({ finding, kind, explains }) => ({ finding, kind, explains }));
  const causes = strip(active.filter((r) => r.kind === 'cause').sort(byImpact));
  const risks = strip(active.filter((r) => r.kind === 'risk').sort(byImpact));
  const hygiene = strip(active.filter((r) => r.kind === 'hygiene').sort(byImpact));
  const unknown = strip(ranked.filter((r) => r.finding.status === 'unknown').sort(byImpact));
  const ruledOut = strip(ranked.filter((r) => r.finding.status === 'ruled-out'));
  return { impact, causes, risks, hygiene, unknown, ruledOut, all: [...causes, ...risks, ...hygiene, ...unknown, ...ruledOut] };
}

function statusRank(finding: Finding): number {
  return finding.status === 'confirmed' ? 0 : finding.status === 'suspected' ? 1 : 2;
}

/** "explains 4 of 4 upstream errors (100%)", or why it explains none. */
export function explainsText(r: RankedFinding, impact: Impact): string {
  if (r.explains.share === null) return impact.upstreamErrors === 0 && factsOfKnown(impact) ? 'no 502/504 in the window to explain' : 'what it explains is not known (the error log was not read)';
  const pct = Math.round(r.explains.share * 100);
  return `explains ${r.explains.errors} of ${impact.upstreamErrors} upstream error(s) (${pct}%)`;
}

function factsOfKnown(impact: Impact): boolean {
  return impact.source !== 'none';
}
