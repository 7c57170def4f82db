import type { ProbeOutcome } from '../probe/contract.js';
import { parseFactPath, readPath, type FactPath } from '../flow/factPath.js';

/** What a fact path resolved to: absent when the probe did not run ok or the value is not there. */
export type FactValue = { present: true; value: unknown } | { present: false; why: string };

const parsedPaths = new Map<string, FactPath>();

function cachedParse(path: string): FactPath {
  let parsed = parsedPaths.get(path);
  if (!parsed) {
    parsed = parseFactPath(path);
    parsedPaths.set(path, parsed);
  }
  return parsed;
}

export function lookupFact(probes: Readonly<Record<string, ProbeOutcome>>, path: string): FactValue {
  const parsed = cachedParse(path);
  const outcome = probes[parsed.probe];
  if (parsed.meta === 'status') return { present: true, value: outcome?.status ?? 'not-run' };
  if (parsed.meta === 'reason') return outcome?.reason ? { present: true, value: outcome.reason } : { present: false, why: `${parsed.probe} gave no reason` };
  if (!outcome) return { present: false, why: `${parsed.probe} has not run` };
  if (outcome.status !== 'ok' || !outcome.facts) return { present: false, why: `${parsed.probe} ${outcome.status}: ${outcome.reason ?? 'no facts'}` };
  const read = readPath(outcome.facts, parsed.segments);
  return read.found ? { present: true, value: read.value } : { present: false, why: `${path} is not in the facts` };
}
