import type { EngineState, FixSuggestion } from '../engine/state.js';
import type { NginxInvocation } from '../nginx/command.js';
import type { RankedFinding } from '../report/ranking.js';
import { explainsText } from '../report/ranking.js';
import type { Impact } from '../report/impact.js';
import { evidenceLine } from '../report/evidenceText.js';
import type { ViewAction } from './Pager.js';

const KIND_WORD: Record<string, string> = { cause: 'cause', risk: 'latent risk', hygiene: 'hygiene' };
const STATUS_WORD: Record<string, string> = { confirmed: 'confirmed', suspected: 'suspected', unknown: 'could not tell', 'ruled-out': 'ruled out' };
export const FINDING_MARK: Record<string, string> = { confirmed: '✖', suspected: '!', unknown: '?', 'ruled-out': '✔' };

/** One line per finding in the end screen's list: status, kind and what it explains. Long lines wrap; nothing is cut. */
export function findingLabel(r: RankedFinding, impact: Impact): string {
  const explains = r.explains.share === null ? '' : `, explains ${r.explains.errors} of ${impact.upstreamErrors} error(s)`;
  return `${FINDING_MARK[r.finding.status] ?? '•'} ${r.finding.id} ${r.finding.status} · ${r.finding.status === 'unknown' ? 'could not tell' : KIND_WORD[r.kind]}${explains}`;
}

/** A finding opened from the end screen: what it says, its evidence in words, and its fixes for this host. */
export function findingLines(r: RankedFinding, impact: Impact, fixes: FixSuggestion[]): string[] {
  const f = r.finding;
  const lines = [`${STATUS_WORD[f.status] ?? f.status} ${KIND_WORD[r.kind]}; ${explainsText(r, impact)}`, f.summary];
  if (f.override) lines.push(`operator override at ${f.override.node}: ${f.override.reason} (the facts alone said otherwise)`);
  if (f.evidence.length) {
    lines.push('', 'Evidence');
    for (const item of f.evidence) lines.push(`  - ${evidenceLine(item)}`);
  }
  lines.push('', fixes.length ? 'Fixes, narrowest first (suggested: nothing was changed)' : 'No fix suggested for it.');
  fixes.forEach((fix, i) => {
    lines.push(`  ${i + 1}. ${fix.title}`);
    for (const step of fix.steps) lines.push(`     - ${step}`);
    lines.push(`     persists: ${fix.persistence}`);
  });
  return lines;
}

/**
 * What can be done from an opened finding besides reading it (Esc goes back
 * to the list). The apply issue adds its action here: {key: 'a', label:
 * 'apply the first fix', run}, given the finding and its fixes.
 */
export interface FindingContext {
  finding: RankedFinding;
  /** Its fixes, written for this host (src/report/exactFix.ts). */
  fixes: FixSuggestion[];
  state: EngineState;
  nginx: NginxInvocation | undefined;
  /** Shows a line under the view (what an action did). */
  say: (message: string) => void;
}

export function findingActions(_context: FindingContext): ViewAction[] {
  return [];
}
