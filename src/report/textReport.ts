import { redactText } from '../masking/redact.js';
import type { HostInfo } from '../host/types.js';
import type { Flow } from '../flow/schema.js';
import type { EngineState, Finding, FixSuggestion } from '../engine/state.js';
import { selectProbes } from '../engine/selectors.js';
import type { NginxInvocation } from '../nginx/command.js';
import { VERSION } from '../packageRoot.js';
import { exitCodeFor, exitCodeText } from './exitCode.js';
import { clock, impactLines } from './impact.js';
import { explainsText, rankFindings, type Ranked, type RankedFinding } from './ranking.js';
import { evidenceLine } from './evidenceText.js';
import { selectExactFixes } from './exactFix.js';
import { coverage } from './coverage.js';

/** How a report is asked for: this run's nginx (for exact fix commands), and whether to show everything. */
export interface ReportOptions {
  nginx?: NginxInvocation;
  /** The window's length, for a window line when the error log gave none. */
  sinceMs?: number;
  /** Every fix, all evidence, the path and each probe's commands. */
  verbose?: boolean;
}

/** Without --verbose the report fits a screenful or two: what users got and why, first. */
export const REPORT_MAX_LINES = 60;

const STATUS_MARK: Record<string, string> = { confirmed: '✖', suspected: '!', unknown: '?', 'ruled-out': '✔' };
const PROBE_MARK: Record<string, string> = { ok: '✔', skipped: '-', unavailable: '✖', denied: '✖', timeout: '✖', error: '✖' };

/** A line and how early it goes when the report must fit: 0 never, higher first. */
interface Line {
  text: string;
  drop: number;
}

/** A finding the operator steered to is marked, so nobody takes it for what the facts said. */
function overrideNote(finding: Finding): string {
  return finding.override ? ` [operator override at ${finding.override.node}: ${finding.override.reason}]` : '';
}

/** The plain-text report: what a person reads in a terminal or pastes into a ticket. */
export function buildTextReport(state: EngineState, flow: Flow, host: HostInfo, options: ReportOptions = {}): string {
  const verbose = options.verbose ?? false;
  const ranked = rankFindings(state, options.sinceMs);
  const fixes = selectExactFixes(state, options.nginx);
  const covered = coverage(state);
  const out: Line[] = [];
  const keep = (text: string) => out.push({ text, drop: 0 });
  const optional = (text: string, drop: number) => out.push({ text, drop });

  keep(`reset-doctor ${VERSION} — ${flow.title} — host ${host.hostname}${host.uid === 0 ? '' : ' (not root)'}`);
  const { impact } = ranked;
  keep(`Window ${impact.window.from ? impact.window.from.slice(0, 16) : '?'} → ${clock(impact.window.to, impact.window.from)} (this machine's local time)${covered.logStarts.length ? `; ${covered.logStarts.join(', ')} (nothing older was written)` : ''}`);
  for (const line of impactLines(impact)) keep(line);
  keep(topCauseLine(ranked));

  // The answers frame everything below ("nothing logged in the window: latent risks only").
  const answers = state.path.flatMap((step) => {
    if (step.outcome?.kind !== 'ask') return [];
    const source = { operator: 'answered', answer: '--answer', 'headless-default': 'headless default', skipped: 'skipped: default taken' }[step.outcome.source];
    return [`${flow.nodes[step.node]?.title ?? step.node} → ${step.outcome.label} (${source})`];
  });
  if (answers.length > 0) keep(`Answers: ${answers.join('; ')}`);

  const group = (heading: string, list: RankedFinding[]) => {
    if (list.length === 0) return;
    keep('');
    keep(heading);
    list.forEach((r, i) => findingLines(r, i + 1, ranked, fixes, verbose, keep, optional));
  };
  group('Causes — what explains the errors, most first', ranked.causes);
  group('Risks — latent: no errors from them in the window', ranked.risks);
  group('Hygiene — worth fixing, not a cause: logging, settings that do nothing (does not fail the run)', ranked.hygiene);
  if (ranked.unknown.length > 0) {
    keep('');
    keep('Could not tell — checks that could not run or decide (not a clean bill of health)');
    for (const r of ranked.unknown) {
      keep(`  ? ${r.finding.id}: ${r.finding.summary}${overrideNote(r.finding)}`);
      const fix = fixes.find((f) => f.finding === r.finding.id);
      if (fix) optional(`    to find out: ${fix.title}: ${fix.steps[0]}`, 2);
    }
  }
  if (ranked.causes.length + ranked.risks.length + ranked.hygiene.length + ranked.unknown.length === 0) {
    keep('');
    keep(ranked.all.length ? 'Nothing found: every check below was ruled out.' : 'No findings recorded.');
  }
  if (ranked.ruledOut.length > 0) {
    keep('');
    keep(`Ruled out: ${ranked.ruledOut.map((r) => `${r.finding.id}${r.finding.override ? ' (operator override)' : ''}`).join(', ')}`);
    if (verbose) for (const r of ranked.ruledOut) keep(`  ✔ ${r.finding.id}: ${r.finding.summary}${overrideNote(r.finding)}`);
  }

  if (covered.notChecked.length > 0) {
    keep('');
    keep('Could not check, or only partly');
    for (const c of covered.notChecked) keep(`  - ${c.probe} ${c.text}${c.sudoHint ? ` → run: ${c.sudoHint}` : ''}`);
  }

  for (const probe of selectProbes(state)) {
    if (!probe.details) continue;
    keep('');
    keep(probe.details.title);
    probe.details.lines.forEach((line, i) => optional(`  ${line}`, i < 3 ? 3 : 5));
  }

  if (state.overrides.length > 0 || state.notes.length > 0) {
    keep('');
    keep('Operator');
    for (const o of state.overrides) keep(`  override at ${o.node}: ${o.from} → ${o.to} — ${o.reason}`);
    for (const n of state.notes) keep(`  note at ${n.node}: ${n.text}`);
  }

  if (verbose) {
    keep('');
    keep(`Path: ${state.path.map((s) => s.node).join(' → ')}`);
    keep('Probes');
    for (const probe of selectProbes(state)) {
      keep(`  ${PROBE_MARK[probe.status] ?? '?'} ${probe.id.padEnd(18)} ${probe.summary}  (${probe.durationMs} ms)`);
      for (const command of probe.commands) keep(`      $ ${command}`);
    }
  }
  if (state.failure) keep(`Flow failed: ${state.failure}`);
  const code = exitCodeFor(state);
  keep('');
  keep(`Exit ${code}: ${exitCodeText(code)}${verbose ? '' : ' · --verbose: every fix and piece of evidence, the path, each probe and its commands'}`);

  const lines = verbose ? out.map((l) => l.text) : fit(out, REPORT_MAX_LINES);
  // The report goes into tickets: evidence and example paths quote what was read, secrets included.
  return redactText(lines.join('\n') + '\n').text;
}

function topCauseLine(ranked: Ranked): string {
  const top = ranked.causes[0];
  if (top) return `Top cause: ${top.finding.id} (${top.finding.status}) — ${explainsText(top, ranked.impact)}${ranked.causes.length > 1 ? `; ${ranked.causes.length - 1} more below` : ''}`;
  if (ranked.unknown.length) return `Top cause: none found; could not tell: ${ranked.unknown.map((r) => r.finding.id).join(', ')}`;
  if (ranked.risks.length) return `Top cause: none found; latent risks: ${ranked.risks.map((r) => r.finding.id).join(', ')}`;
  return 'Top cause: none found';
}

function findingLines(r: RankedFinding, n: number, ranked: Ranked, allFixes: FixSuggestion[], verbose: boolean, keep: (t: string) => void, optional: (t: string, d: number) => void): void {
  const f = r.finding;
  keep(`  ${n}. ${STATUS_MARK[f.status] ?? '•'} ${f.id} (${f.status}; ${explainsText(r, ranked.impact)})${overrideNote(f)}`);
  keep(`     ${f.summary}`);
  f.evidence.forEach((item, i) => (verbose ? keep(`     evidence: ${evidenceLine(item)}`) : optional(`     evidence: ${evidenceLine(item)}`, i === 0 ? 3 : 6)));
  const fixes = allFixes.filter((x) => x.finding === f.id);
  // The narrowest fix in full (the flow orders them narrowest first); the others by title, or in full with --verbose.
  fixes.forEach((fix, i) => {
    if (i > 0 && !verbose) return;
    keep(`     fix${fixes.length > 1 ? ` ${i + 1}` : ''}: ${fix.title}`);
    const watch = fix.steps.length - 1;
    fix.steps.forEach((step, j) => (verbose ? keep(`       - ${step}`) : optional(`       - ${step}`, j === 0 || j === watch ? 1 : r.kind === 'cause' ? 2 : 4)));
    (verbose ? keep : (t: string) => optional(t, 4))(`       persists: ${fix.persistence}`);
  });
  if (!verbose && fixes.length > 1) keep(`     also: ${fixes.slice(1).map((x) => x.title).join(' · ')} (--verbose)`);
}

/** Drops the most droppable lines (the last of them first) until the report fits, and says how many went. */
function fit(lines: Line[], max: number): string[] {
  const kept = [...lines];
  let dropped = 0;
  // Once a line goes, one more says so.
  while (kept.length + (dropped ? 1 : 0) > max) {
    let worst = -1;
    for (let i = kept.length - 1; i >= 0; i--) if (kept[i]!.drop > 0 && (worst === -1 || kept[i]!.drop > kept[worst]!.drop)) worst = i;
    if (worst === -1) break;
    kept.splice(worst, 1);
    dropped++;
  }
  const text = kept.map((l) => l.text);
  if (dropped) text.splice(text.length - 1, 0, `(${dropped} line(s) of evidence, fix steps and timeline left out to fit ${max} lines: --verbose shows them)`);
  return text;
}
