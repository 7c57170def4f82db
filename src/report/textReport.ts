import { redactText } from '../masking/redact.js';
import type { HostInfo } from '../host/types.js';
import type { Flow } from '../flow/schema.js';
import type { EngineState, Finding } from '../engine/state.js';
import { selectFindings, selectFixes, selectProbes } from '../engine/selectors.js';
import { formatValue } from '../engine/conditions.js';
import { VERSION } from '../packageRoot.js';
import { exitCodeFor } from './exitCode.js';

const STATUS_MARK: Record<string, string> = { confirmed: '✖', suspected: '!', unknown: '?', 'ruled-out': '✔' };
const PROBE_MARK: Record<string, string> = { ok: '✔', skipped: '-', unavailable: '✖', denied: '✖', timeout: '✖', error: '✖' };

/** A finding the operator steered to is marked, so nobody takes it for what the facts said. */
function overrideNote(finding: Finding): string {
  return finding.override ? ` [operator override at ${finding.override.node}: ${finding.override.reason}]` : '';
}

/** The plain-text report: what a person reads in a terminal or pastes into a ticket. */
export function buildTextReport(state: EngineState, flow: Flow, host: HostInfo): string {
  const lines: string[] = [];
  lines.push(`reset-doctor ${VERSION} — ${flow.title} — host ${host.hostname}${host.uid === 0 ? '' : ' (not root)'}`);
  lines.push('');

  // The answers frame everything below ("nothing logged in the window: latent risks only").
  const answers = state.path.flatMap((step) => {
    if (step.outcome?.kind !== 'ask') return [];
    const source = { operator: 'answered', answer: '--answer', 'headless-default': 'headless default', skipped: 'skipped: default taken' }[step.outcome.source];
    return [`  ${flow.nodes[step.node]?.title ?? step.node} → ${step.outcome.label} (${source})`];
  });
  if (answers.length > 0) lines.push('Answers', ...answers, '');

  // What needs action first, with its evidence; what was ruled out last, one line each.
  const findings = selectFindings(state);
  const sections: Array<[string, string]> = [
    ['confirmed', 'Confirmed'],
    ['suspected', 'Suspected'],
    ['unknown', 'Could not tell'],
  ];
  if (findings.length === 0) lines.push('Findings', '  none recorded');
  for (const [status, heading] of sections) {
    const group = findings.filter((f) => f.status === status);
    if (group.length === 0) continue;
    lines.push(heading);
    for (const finding of group) {
      lines.push(`  ${STATUS_MARK[finding.status] ?? '•'} ${finding.id}: ${finding.summary}${overrideNote(finding)}`);
      for (const item of finding.evidence) lines.push(`      evidence: ${item.probe} ${item.fact} = ${formatValue(item.value)}`);
    }
    lines.push('');
  }
  const ruledOut = findings.filter((f) => f.status === 'ruled-out');
  if (ruledOut.length > 0) {
    lines.push('Ruled out');
    for (const finding of ruledOut) lines.push(`  ${STATUS_MARK[finding.status]} ${finding.id}: ${finding.summary}${overrideNote(finding)}`);
  }
  if (lines.at(-1) === '') lines.pop();

  for (const probe of selectProbes(state)) {
    if (!probe.details) continue;
    lines.push('', probe.details.title);
    for (const line of probe.details.lines) lines.push(`  ${line}`);
  }

  const fixes = selectFixes(state);
  if (fixes.length > 0) {
    lines.push('');
    lines.push('Suggested fixes (nothing was changed), narrowest first');
    fixes.forEach((fix, i) => {
      lines.push(`  ${i + 1}. ${fix.title} [${fix.finding}]`);
      for (const step of fix.steps) lines.push(`     - ${step}`);
      lines.push(`     persists: ${fix.persistence}`);
    });
  }

  const notOk = selectProbes(state).filter((p) => p.status !== 'ok' || p.partial || p.gap);
  if (notOk.length > 0) {
    lines.push('');
    lines.push('Could not check, or only partly');
    for (const probe of notOk) {
      // A gap (what it had to read and did not) often repeats a partial reading's problems: each said once.
      const parts = [probe.partial, ...(probe.gap ?? '').split('; ').filter((g) => g && !(probe.partial ?? '').includes(g))].filter(Boolean);
      const why = probe.status === 'ok' ? `partial: ${parts.join('; ')}` : `${probe.status}: ${probe.reason ?? ''}`;
      lines.push(`  - ${probe.id} ${why}${probe.sudoHint ? ` → run: ${probe.sudoHint}` : ''}`);
    }
  }

  if (state.overrides.length > 0 || state.notes.length > 0) {
    lines.push('');
    lines.push('Operator');
    for (const o of state.overrides) lines.push(`  override at ${o.node}: ${o.from} → ${o.to} — ${o.reason}`);
    for (const n of state.notes) lines.push(`  note at ${n.node}: ${n.text}`);
  }

  lines.push('');
  lines.push(`Path: ${state.path.map((s) => s.node).join(' → ')}`);
  lines.push('Probes');
  for (const probe of selectProbes(state)) {
    lines.push(`  ${PROBE_MARK[probe.status] ?? '?'} ${probe.id.padEnd(18)} ${probe.summary}  (${probe.durationMs} ms)`);
    for (const command of probe.commands) lines.push(`      $ ${command}`);
  }
  if (state.failure) lines.push('', `Flow failed: ${state.failure}`);
  const code = exitCodeFor(state);
  lines.push('', `Exit ${code}: ${code === 0 ? 'nothing found' : code === 1 ? 'findings (confirmed, suspected or unknown)' : 'the flow could not finish'}`);
  // The report goes into tickets: evidence and example paths quote what was read, secrets included.
  return redactText(lines.join('\n') + '\n').text;
}
