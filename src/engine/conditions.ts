import type { Comparison, Condition } from '../flow/schema.js';
import type { ProbeOutcome } from '../probe/contract.js';
import { lookupFact } from './facts.js';

/**
 * Three-valued: a comparison over a fact that is missing (probe failed,
 * denied, skipped) is "unknown", not false, so `not` cannot turn "we could
 * not look" into "we looked and it is fine". Kleene logic for all/any/not.
 */
export type Truth = true | false | 'unknown';

/** What a comparison looked at, for the "branch taken because…" line. */
export interface EvidenceItem {
  fact: string;
  operator: string;
  expected: unknown;
  actual: unknown;
  present: boolean;
  result: Truth;
  why?: string;
}

export function evaluate(condition: Condition, probes: Readonly<Record<string, ProbeOutcome>>, evidence: EvidenceItem[] = []): Truth {
  if ('all' in condition) {
    let result: Truth = true;
    for (const part of condition.all) {
      const value = evaluate(part, probes, evidence);
      if (value === false) return false;
      if (value === 'unknown') result = 'unknown';
    }
    return result;
  }
  if ('any' in condition) {
    let result: Truth = false;
    for (const part of condition.any) {
      const value = evaluate(part, probes, evidence);
      if (value === true) return true;
      if (value === 'unknown') result = 'unknown';
    }
    return result;
  }
  if ('not' in condition) {
    const value = evaluate(condition.not, probes, evidence);
    return value === 'unknown' ? 'unknown' : !value;
  }
  return compare(condition, probes, evidence);
}

function compare(comparison: Comparison, probes: Readonly<Record<string, ProbeOutcome>>, evidence: EvidenceItem[]): Truth {
  const fact = lookupFact(probes, comparison.fact);
  const [operator, expected] = operatorOf(comparison);
  let result: Truth;
  if (operator === 'exists') {
    result = fact.present === expected;
  } else if (!fact.present) {
    result = 'unknown';
  } else {
    result = apply(operator, fact.value, expected);
  }
  evidence.push({
    fact: comparison.fact,
    operator,
    expected,
    actual: fact.present ? fact.value : undefined,
    present: fact.present,
    result,
    ...(fact.present ? {} : { why: fact.why }),
  });
  return result;
}

function operatorOf(comparison: Comparison): [string, unknown] {
  for (const op of ['eq', 'ne', 'gt', 'gte', 'lt', 'lte', 'in', 'exists', 'matches'] as const) {
    if (comparison[op] !== undefined) return [op, comparison[op]];
  }
  throw new Error(`comparison on ${comparison.fact} has no operator`);
}

function apply(operator: string, actual: unknown, expected: unknown): boolean {
  switch (operator) {
    case 'eq':
      return actual === expected;
    case 'ne':
      return actual !== expected;
    case 'gt':
      return typeof actual === 'number' && actual > (expected as number);
    case 'gte':
      return typeof actual === 'number' && actual >= (expected as number);
    case 'lt':
      return typeof actual === 'number' && actual < (expected as number);
    case 'lte':
      return typeof actual === 'number' && actual <= (expected as number);
    case 'in':
      return (expected as unknown[]).includes(actual);
    case 'matches':
      return typeof actual === 'string' && new RegExp(expected as string).test(actual);
    default:
      throw new Error(`unknown operator ${operator}`);
  }
}

export function describeEvidence(item: EvidenceItem): string {
  if (!item.present) return `${item.fact} unknown (${item.why ?? 'missing'})`;
  const verdict = item.result === true ? 'yes' : item.result === false ? 'no' : 'unknown';
  return `${item.fact} = ${formatValue(item.actual)}  [${item.operator} ${formatValue(item.expected)}? ${verdict}]`;
}

/** A value as evidence reads: strings quoted, lists cut after three, objects as short key=value pairs. */
export function formatValue(value: unknown, depth = 0): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (Array.isArray(value)) return value.length > 3 ? `[${value.slice(0, 3).map((v) => formatValue(v, depth + 1)).join(', ')}, … ${value.length} in all]` : `[${value.map((v) => formatValue(v, depth + 1)).join(', ')}]`;
  if (value !== null && typeof value === 'object') {
    if (depth > 2) return '{…}';
    const entries = Object.entries(value as Record<string, unknown>).filter(([, v]) => v !== null && !(Array.isArray(v) && v.length === 0));
    const text = `{${entries.map(([k, v]) => `${k}: ${formatValue(v, depth + 1)}`).join(', ')}}`;
    return text.length > 160 ? `${text.slice(0, 157)}…}` : text;
  }
  return String(value);
}
