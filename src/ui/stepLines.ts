import type { Flow } from '../flow/schema.js';
import type { Step } from '../engine/state.js';
import { describeEvidence } from '../engine/conditions.js';

/**
 * A finished step as plain lines, for the details of a stage (the key `d`):
 * what was looked at with its commands, what was decided and why, the
 * finding and the fixes. Plain text so the pager can wrap and scroll it.
 */
export function stepLines(step: Step, number: number, flow: Flow): string[] {
  const node = flow.nodes[step.node];
  const outcome = step.outcome;
  if (!node || !outcome || outcome.kind === 'end') return [];
  const lines = [`${String(number).padStart(2)}. ${node.title}${step.skipped ? ' (skipped)' : ''}`];
  const add = (text: string) => lines.push(`    ${text}`);
  switch (outcome.kind) {
    case 'probe':
      for (const probe of outcome.probes) {
        add(`${probe.status === 'ok' ? '✔' : '✖'} ${probe.id} ${probe.summary}${probe.partial ? ` (${probe.partial})` : ''}${probe.status === 'ok' ? '' : ` — ${probe.status}: ${probe.reason ?? ''}`}`);
        if (probe.sudoHint) add(`  run as root: ${probe.sudoHint}`);
        for (const command of probe.commands) add(`  $ ${command}`);
      }
      break;
    case 'decide':
      add(`→ ${outcome.label}${outcome.override ? ` (operator override: ${outcome.override.reason}; evaluated: ${outcome.override.evaluated})` : ''}`);
      for (const item of outcome.evidence) add(`  ${describeEvidence(item)}`);
      break;
    case 'ask':
      add(`→ ${outcome.label} (${outcome.source === 'operator' ? 'your answer' : outcome.source})`);
      break;
    case 'diagnose':
      add(`${outcome.finding.id} ${outcome.finding.status}: ${outcome.finding.summary}`);
      break;
    case 'fix':
      outcome.fixes.forEach((fix, i) => {
        add(`${i + 1}. ${fix.title} (suggested; nothing was changed)`);
        for (const s of fix.steps) add(`   - ${s}`);
      });
      break;
  }
  return lines;
}

/** Text wrapped at word boundaries to a width, continuation lines indented like the first: nothing is cut. */
export function wrap(text: string, width: number): string[] {
  const indent = /^ */.exec(text)![0];
  const out: string[] = [];
  let line = '';
  // Split on single spaces: runs of spaces (aligned columns, "x  [gt 0? yes]") stay as written.
  for (const word of text.trimStart().split(' ')) {
    const candidate = line ? `${line} ${word}` : `${indent}${word}`;
    if (candidate.length <= width || !line.trim()) {
      line = candidate;
      // A word longer than the line (a path, a command) is broken where it must be.
      while (line.length > width) {
        out.push(line.slice(0, width));
        line = `${indent}  ${line.slice(width)}`;
      }
      continue;
    }
    out.push(line);
    line = `${indent}  ${word}`;
    while (line.length > width) {
      out.push(line.slice(0, width));
      line = `${indent}  ${line.slice(width)}`;
    }
  }
  if (line) out.push(line);
  return out.length ? out : [''];
}
