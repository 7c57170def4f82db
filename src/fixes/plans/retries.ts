/**
 * retry-non-idempotent: the <prefix>next_upstream line a flagged location
 * uses (its own, or the server's/http's it inherits), with the same
 * conditions minus non_idempotent.
 */
import { refOf } from '../../nginx/edit.js';
import type { FixPlan, PlanInput } from '../../apply/types.js';
import { NotApplicableError, PlanBuilder, configFacts, directiveAt, line, locationLabel, notApplicable, where } from './context.js';

export function planRetryNonIdempotent(input: PlanInput): FixPlan {
  const b = new PlanBuilder(input.fix.id);
  const config = configFacts(input);
  // The locations the advice flagged: non_idempotent where another try exists (src/nginx/advice.ts).
  const flagged = config.advice.filter((a) => a.id === 'next-upstream-non-idempotent');
  if (flagged.length === 0) return notApplicable(b.fix, 'no location retries non-idempotent requests in the config read in this run');
  const done = new Set<string>();
  for (const advice of flagged) {
    const location = config.locations.find((l) => l.file === advice.file && l.line === advice.line);
    const handler = location?.effective.handler;
    if (!location || !handler) throw new NotApplicableError(`the location at ${advice.file}:${advice.line} is not among the locations nginx loaded in this run`);
    const name = `${handler.prefix}next_upstream`;
    const origin = handler.origins['nextUpstream'];
    if (!origin || origin === 'default') continue;
    const key = `${origin.file}:${origin.line}`;
    if (done.has(key)) continue;
    done.add(key);
    const placed = directiveAt(input.config, origin.file, origin.line, name, (d) => d.args.some((a) => a.value === 'non_idempotent'));
    const directive = placed.directive;
    const parent = placed.parents.at(-1);
    const kept = directive.args.map((a) => a.value).filter((v) => v !== 'non_idempotent');
    // non_idempotent alone lists no condition to retry on: `off` keeps that.
    const next = line(name, ...(kept.length ? kept : ['off']));
    const own = parent?.name === 'location' && parent.file === location.file && parent.line === location.line;
    const shared = own ? '' : ` (set at ${parent?.name ?? 'http'} level: every location that inherits it stops retrying non-idempotent requests too)`;
    b.edit({ kind: 'replace', file: directive.file, target: refOf(directive), directive: next }, `${where(locationLabel(location), origin.file, origin.line)}: ${line(name, ...directive.args.map((a) => a.value))} → ${next}${shared}`);
  }
  if (b.edits.length) b.notes.push('a POST that meets a reset then gets a 502 instead of a second submission: fix the resets themselves too');
  return b.result('non_idempotent is already gone');
}
