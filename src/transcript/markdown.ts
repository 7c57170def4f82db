import { formatCommand } from '../host/types.js';
import type { ChangeEvent, RollbackEvent } from './events.js';
import type { EvidenceItem } from '../engine/conditions.js';
import type { ReadTranscript } from './read.js';
import { summarize, timeline, type Summary, type TimelineItem } from './summary.js';

const STATUS_ORDER = ['confirmed', 'suspected', 'unknown', 'ruled-out'];
const STATUS_WORD: Record<string, string> = { confirmed: 'Confirmed', suspected: 'Suspected', unknown: 'Could not tell', 'ruled-out': 'Ruled out' };

/** `HH:MM:SS` UTC: the header gives the date and says the times are UTC. */
export const clock = (ms: number): string => new Date(ms).toISOString().slice(11, 19);
export const isoTime = (ms: number): string => new Date(ms).toISOString().replace(/\.\d+Z$/, 'Z');

/**
 * The transcript for a ticket: the summary first (how it ended, findings by
 * status, changes and their verdicts, fixes), then the timeline, each command
 * and its output folded in a <details> block so the ticket stays readable.
 */
export function renderMarkdown(transcript: ReadTranscript): string {
  const summary = summarize(transcript);
  const { start } = transcript;
  const { report } = summary;
  const out: string[] = [];
  out.push(`# reset-doctor session on ${start.host.hostname}: ${headline(summary)}`, '');
  out.push(endedLine(summary), '');
  out.push('| | |', '| --- | --- |');
  out.push(`| host | ${cell(start.host.hostname)} (${cell(start.host.platform)} ${cell(start.host.release)}) |`);
  out.push(`| user | ${cell(start.user)} (uid ${start.uid}) |`);
  out.push(`| tool | ${cell(start.tool)} |`);
  out.push(`| command | \`reset-doctor ${cell(start.args.map((a) => formatCommand({ file: a, args: [] })).join(' '))}\` (${start.mode}) |`);
  if (start.replaying) out.push(`| replaying | ${'demo' in start.replaying ? `demo ${cell(start.replaying.demo)}` : cell(start.replaying.file)}: not this machine |`);
  out.push(`| nginx | ${cell(summary.nginxVersion ?? 'version not known')} (${cell(start.nginx.bin)}${start.nginx.conf ? ` -c ${cell(start.nginx.conf)}` : ''}) |`);
  out.push(`| flow | ${cell(start.flow)} |`);
  out.push(`| started | ${isoTime(start.at)}${start.replaying ? ` (recorded time; replayed at ${isoTime(start.ranAt)})` : ''} |`);
  out.push(`| transcript | ${cell(transcript.path)} |`);
  out.push(`| secrets | ${start.masking === 'on' ? 'masked before writing (one `*` per character)' : '**NOT masked: written with --no-mask**'} |`);
  if (start.resumes) out.push(`| resumes | ${cell(start.resumes)} |`);
  out.push('');

  out.push('## Findings', '');
  if (report.findings.length === 0) out.push(summary.ended.kind === 'interrupted' ? '(none reached before the interruption)' : '(none)');
  for (const status of STATUS_ORDER) {
    const group = report.findings.filter((f) => f.status === status);
    if (group.length === 0) continue;
    out.push(`**${STATUS_WORD[status]}**`, '');
    for (const f of group) {
      out.push(`- \`${f.id}\` ${status}: ${f.summary}${f.override ? ` (after an override at ${f.override.node}: ${f.override.reason})` : ''}`);
      // What ruled a finding out is in the JSON rendering; the ticket needs the evidence of what is open.
      if (status !== 'ruled-out') for (const e of f.evidence) out.push(`  - ${e.probe} \`${e.fact}\`: ${inlineValue(e.value)}`);
    }
    out.push('');
  }
  out.push('', '## Changes', '');
  if (summary.changes.length === 0) out.push('No change was applied.', '');
  for (const { change, rollbacks } of summary.changes) out.push(...changeLines(change, rollbacks), '');
  if (report.fixes.length > 0) {
    out.push('## Fixes suggested', '');
    for (const fix of report.fixes) {
      out.push(`- \`${fix.id}\` for \`${fix.finding}\`: ${fix.title}${fix.applied ? ' (applied)' : ''}`);
      for (const step of fix.steps) out.push(`  - ${step.replace(/\n/g, '\n    ')}`);
    }
    out.push('');
  }
  if (report.answers.length + report.overrides.length + report.notes.length > 0) {
    out.push('## Answers, overrides and notes', '');
    for (const a of report.answers) out.push(`- answer at \`${a.node}\`: ${a.choice} (${a.source})`);
    for (const o of report.overrides) out.push(`- override at \`${o.node}\`: ${o.from ? `${o.from} → ` : ''}${o.to}, because: ${o.reason}`);
    for (const n of report.notes) out.push(`- note at \`${n.node}\`: ${n.text}`);
    out.push('');
  }
  out.push('## Timeline', '', `Times are UTC (${isoTime(start.at).slice(0, 10)}).`, '');
  out.push(...timelineLines(timeline(transcript)));
  out.push('', endedLine(summary), '');
  return out.join('\n');
}

function headline(summary: Summary): string {
  if (summary.ended.kind === 'interrupted') return 'interrupted';
  if (summary.ended.kind === 'quit') return 'quit before the end';
  const open = summary.report.findings.filter((f) => f.status !== 'ruled-out');
  return open.length === 0 ? 'nothing found' : `${open.length} finding(s) need attention`;
}

function endedLine(summary: Summary): string {
  const { ended } = summary;
  if (ended.kind === 'interrupted') return `**Interrupted**: the last event was written at ${isoTime(ended.at)}. ${ended.reason ?? ''} \`reset-doctor resume FILE\` walks on from there.`;
  if (ended.kind === 'quit') return `**Quit before the end** at ${isoTime(ended.at)} (exit ${ended.exitCode}).`;
  return `**Finished** at ${isoTime(ended.at)} (exit ${ended.exitCode}).`;
}

function changeLines(change: ChangeEvent, rollbacks: RollbackEvent[]): string[] {
  const out = [`### Change \`${change.id}\`${change.fix ? ` (fix \`${change.fix}\`${change.finding ? ` for \`${change.finding}\`` : ''})` : ''}: ${change.status}`, ''];
  if (change.reason) out.push(change.reason, '');
  if (change.verify) out.push(`Verdict: **${change.verify.verdict}**: ${change.verify.reason}`, '');
  for (const file of change.files) out.push(...details(`diff of ${file.path}`, file.diff, 'diff'));
  for (const command of change.commands ?? []) out.push(`- command: \`${command}\``);
  for (const step of change.steps) out.push(`- ${clock(step.at)} ${step.ok ? '✔' : '✘'} ${step.step}${step.detail ? `: ${step.detail}` : ''}`);
  if (change.test) out.push(...details(`${change.test.command ?? 'nginx -t'}${change.test.ok === undefined ? '' : change.test.ok ? ': ok' : ': FAILED'}`, change.test.output));
  if (change.reload) out.push(`- reload (${change.reload.method}): workers ${change.reload.oldWorkers.join(', ') || 'none'} → ${change.reload.newWorkers.join(', ') || 'none'}${change.reload.detail ? `; ${change.reload.detail}` : ''}`);
  if (change.verify) {
    const { before, after, redetected, traffic } = change.verify;
    out.push(`- verify over ${change.verify.seconds} s: before ${before.errors5xx} 5xx of ${before.requests} requests, after ${after.errors5xx} of ${after.requests}${redetected ? `; finding re-checked: ${redetected}` : ''}`);
    if (traffic) out.push(`- test traffic to ${traffic.url} (Host ${traffic.host}): ${Object.entries(traffic.statuses).map(([s, n]) => `${n}× ${s}`).join(', ')}`);
  }
  for (const r of rollbacks) {
    out.push(`- ${clock(r.at)} **rolled back** (${r.ok ? 'ok' : 'FAILED'}): ${r.reason}`);
    for (const step of r.steps) out.push(`  - ${step.ok ? '✔' : '✘'} ${step.step}${step.detail ? `: ${step.detail}` : ''}`);
  }
  return out;
}

function timelineLines(items: TimelineItem[]): string[] {
  const out: string[] = [];
  let reads: Array<{ at: number; what: string }> = [];
  const flushReads = () => {
    if (reads.length === 0) return;
    out.push(...details(`${clock(reads[0]!.at)} ${reads.length} file read(s), stat(s) and connection(s)`, reads.map((r) => `${clock(r.at)} ${r.what}`).join('\n')).map((l) => (l ? `  ${l}` : l)));
    reads = [];
  };
  for (const item of items) {
    if (item.type === 'read') {
      reads.push(item);
      continue;
    }
    flushReads();
    out.push(...itemLines(item));
  }
  flushReads();
  return out;
}

function itemLines(item: TimelineItem): string[] {
  // Every kind is handled below; a new one falls through to nothing, not to a crash.
  const t = clock(item.at);
  switch (item.type) {
    case 'command': {
      const result = item.failure ?? `exit ${item.exitCode}`;
      const body = [item.stdout && `stdout:\n${item.stdout}`, item.stderr && `stderr:\n${item.stderr}`].filter(Boolean).join('\n') || '(no output)';
      return details(`${t} \`${formatCommand({ file: item.argv[0]!, args: item.argv.slice(1) })}\`: ${result}, ${item.durationMs} ms`, body).map((l) => (l ? `  ${l}` : l));
    }
    case 'step':
      return [`- ${t} step ${item.index}: **${item.title}** (\`${item.node}\`, ${item.kind})`];
    case 'probe-start':
      return [`- ${t} probe \`${item.probe}\` started`];
    case 'probe':
      return [`- ${t} probe \`${item.id}\` ${item.status}: ${item.summary}${item.reason && item.status !== 'ok' ? ` (${item.reason})` : ''}${item.sudoHint ? ` (as root: \`${item.sudoHint}\`)` : ''}, ${item.durationMs} ms`];
    case 'decision':
      return [`- ${t} decision at \`${item.node}\`: ${item.label}${item.override ? ` (overridden: the facts said ${item.override.evaluated}; ${item.override.reason})` : ''}`, ...item.evidence.map((e) => `  - ${evidenceText(e)}`)];
    case 'answer':
      return [`- ${t} answer at \`${item.node}\`: ${item.label} (${item.source})`];
    case 'operator':
      return item.action === 'choose' ? [] : [`- ${t} operator: ${operatorText(item)}`];
    case 'finding':
      return [`- ${t} finding \`${item.finding.id}\` ${item.finding.status}: ${item.finding.summary}`];
    case 'findings':
      return [];
    case 'fixes':
      return [`- ${t} fixes suggested: ${item.fixes.map((f) => `\`${f.id}\``).join(', ')}`];
    case 'change':
      return [`- ${t} change \`${item.id}\` ${item.status}${item.verify ? `, verdict ${item.verify.verdict}` : ''}`];
    case 'rollback':
      return [`- ${t} rollback of \`${item.id}\` ${item.ok ? 'done' : 'FAILED'}: ${item.reason}`];
    case 'report':
      return [`- ${t} report written: ${item.report.findings.length} finding(s)`];
    case 'end':
      return [`- ${t} end: ${item.status}, exit ${item.exitCode}`];
    case 'interrupted':
      return [`- ${t} **interrupted**: ${item.reason}`];
  }
  return [];
}

function operatorText(item: Extract<TimelineItem, { type: 'operator' }>): string {
  const input = item.input;
  switch (input.type) {
    case 'note':
      return `note: ${input.text}`;
    case 'override':
      return `override at \`${input.node}\` to ${input.to}, because: ${input.reason}`;
    case 'back':
      return `back (from \`${item.node}\`)`;
    case 'skip':
      return `skip \`${item.node}\``;
    case 'rerun':
      return `re-run the probes (at \`${item.node}\`)`;
    default:
      return `${input.type} (at \`${item.node}\`)`;
  }
}

function evidenceText(e: EvidenceItem): string {
  const actual = e.present ? inlineValue(e.actual) : 'missing';
  return `\`${e.fact}\` ${e.operator} ${inlineValue(e.expected)}: ${actual} → ${e.result}${e.why ? ` (${e.why})` : ''}`;
}

function inlineValue(value: unknown): string {
  const text = typeof value === 'string' ? value : JSON.stringify(value);
  const short = text === undefined ? 'undefined' : text.length > 300 ? `${text.slice(0, 300)}…` : text;
  return `\`${short.replace(/`/g, "'")}\``;
}

/** A collapsible block; the fence is longer than any run of backticks in the text. */
function details(summary: string, body: string, lang = ''): string[] {
  const longest = Math.max(2, ...[...body.matchAll(/`+/g)].map((m) => m[0].length));
  const fence = '`'.repeat(longest + 1);
  return [`<details><summary>${escapeHtml(summary).replace(/`([^`]+)`/g, "<code>$1</code>")}</summary>`, '', `${fence}${lang}`, ...body.split('\n'), fence, '', '</details>'];
}

function escapeHtml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

function cell(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/\n/g, ' ');
}
