import type { ProbeOutcome } from '../probe/contract.js';
import { PLACEHOLDER } from '../flow/template.js';
import { lookupFact } from './facts.js';

/**
 * Fills summary templates (syntax in src/flow/template.ts). A missing value
 * prints as "unknown" so a report never shows a blank where a number should be.
 */
export function fillTemplate(template: string, probes: Readonly<Record<string, ProbeOutcome>>): string {
  return template.replace(PLACEHOLDER, (_whole, path: string, filter: string | undefined) => {
    const fact = lookupFact(probes, path);
    if (!fact.present) return 'unknown';
    const value = fact.value;
    if (filter === 'count') return String(Array.isArray(value) ? value.length : value === null ? 0 : 1);
    if (filter === 'join' || Array.isArray(value)) return Array.isArray(value) ? value.map(String).join(', ') : String(value);
    return value === null ? 'none' : String(value);
  });
}

/**
 * A fix parameter from its fact path: "" when the fact is absent or null, so
 * the step built around it is left out (applicableSteps). A fix never prints
 * "unknown" or "none": a fix whose value is unknown says how to measure it in
 * a step of its own, filled from another parameter.
 */
export function fixParamValue(path: string, probes: Readonly<Record<string, ProbeOutcome>>): string {
  const fact = lookupFact(probes, path);
  if (!fact.present || fact.value === null || fact.value === undefined) return '';
  const value = fact.value;
  // inert[*].locations is a list of lists: one flat, comma-separated list, empty entries left out.
  return Array.isArray(value) ? (value.flat(Infinity) as unknown[]).filter((v) => v !== null && v !== undefined && v !== '').map(String).join(', ') : String(value);
}

/** Placeholders filled with plain values, for fix texts whose params are already resolved. */
/** The parameter names a fix step uses. */
export function stepParams(template: string): string[] {
  return [...template.matchAll(/\{\{\s*(\w+)\s*\}\}/g)].map((m) => m[1]!);
}

export function fillParams(template: string, params: Readonly<Record<string, string>>): string {
  return template.replace(/\{\{\s*(\w+)\s*\}\}/g, (whole, name: string) => params[name] ?? whole);
}
