import { formatCommand } from '../host/types.js';
import { chartData, chartSvg, escapeXml as esc } from './chart.js';
import { clock, isoTime } from './markdown.js';
import type { ReadTranscript } from './read.js';
import { summarize, timeline, type TimelineItem } from './summary.js';

const STATUS_ORDER = ['confirmed', 'suspected', 'unknown', 'ruled-out'];
const STATUS_WORD: Record<string, string> = { confirmed: 'Confirmed', suspected: 'Suspected', unknown: 'Could not tell', 'ruled-out': 'Ruled out' };

/** Nothing may be loaded from anywhere: the page is one file, attached to a ticket and opened offline. */
const CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:";

const STYLE = `
body { font: 14px/1.45 system-ui, sans-serif; margin: 24px auto; max-width: 1200px; color: #24292f; padding: 0 16px; }
h1 { font-size: 22px; margin: 0 0 6px; } h2 { font-size: 18px; border-bottom: 1px solid #d0d7de; padding-bottom: 4px; margin-top: 28px; }
.ended { padding: 8px 12px; border-radius: 6px; background: #ddf4ff; } .ended.interrupted, .ended.quit { background: #fff8c5; }
table.meta td:first-child { color: #57606a; padding-right: 16px; } code, pre { font: 12px/1.4 ui-monospace, monospace; }
pre { background: #f6f8fa; padding: 8px; overflow-x: auto; white-space: pre-wrap; word-break: break-all; }
.confirmed { color: #cf222e; } .suspected { color: #9a6700; } .unknown { color: #8250df; } .ruled-out { color: #57606a; }
ul.timeline { list-style: none; padding-left: 0; } ul.timeline li { margin: 2px 0; } .t { color: #57606a; font-variant-numeric: tabular-nums; }
details { margin: 2px 0 2px 16px; } summary { cursor: pointer; }
`;

/** One self-contained page: the summary, the incident chart (inline SVG), the timeline with each command folded. */
export function renderHtml(transcript: ReadTranscript): string {
  const summary = summarize(transcript);
  const { start } = transcript;
  const { report, ended } = summary;
  const title = `reset-doctor session on ${start.host.hostname}: ${ended.kind === 'interrupted' ? 'interrupted' : ended.kind === 'quit' ? 'quit before the end' : 'finished'}`;
  const out: string[] = [];
  out.push('<!doctype html>', '<html lang="en"><head><meta charset="utf-8">', `<meta http-equiv="Content-Security-Policy" content="${CSP}">`);
  out.push(`<title>${esc(title)}</title><style>${STYLE}</style></head><body>`);
  out.push(`<h1>${esc(title)}</h1>`);
  const endedText =
    ended.kind === 'interrupted'
      ? `Interrupted: the last event was written at ${isoTime(ended.at)}. ${ended.reason ?? ''}`
      : ended.kind === 'quit'
        ? `Quit before the end at ${isoTime(ended.at)} (exit ${ended.exitCode}).`
        : `Finished at ${isoTime(ended.at)} (exit ${ended.exitCode}).`;
  out.push(`<p class="ended ${ended.kind}">${esc(endedText)}</p>`);
  const rows: Array<[string, string]> = [
    ['host', `${start.host.hostname} (${start.host.platform} ${start.host.release})`],
    ['user', `${start.user} (uid ${start.uid})`],
    ['tool', start.tool],
    ['command', `reset-doctor ${start.args.map((a) => formatCommand({ file: a, args: [] })).join(' ')} (${start.mode})`],
    ['nginx', `${summary.nginxVersion ?? 'version not known'} (${start.nginx.bin}${start.nginx.conf ? ` -c ${start.nginx.conf}` : ''})`],
    ['started', isoTime(start.at)],
    ['transcript', transcript.path],
    ['secrets', start.masking === 'on' ? 'masked before writing (one * per character)' : 'NOT masked: written with --no-mask'],
  ];
  if (start.replaying) rows.splice(4, 0, ['replaying', 'demo' in start.replaying ? `demo ${start.replaying.demo}` : start.replaying.file]);
  out.push('<table class="meta">', ...rows.map(([k, v]) => `<tr><td>${esc(k)}</td><td>${esc(v)}</td></tr>`), '</table>');

  out.push('<h2>Upstream errors per minute</h2>', chartSvg(chartData(transcript), (ms) => clock(ms)), '<p class="t">Times are UTC.</p>');

  out.push('<h2>Findings</h2>');
  if (report.findings.length === 0) out.push(`<p>${ended.kind === 'interrupted' ? 'None reached before the interruption.' : 'None.'}</p>`);
  for (const status of STATUS_ORDER) {
    const group = report.findings.filter((f) => f.status === status);
    if (group.length === 0) continue;
    out.push(`<h3 class="${status}">${esc(STATUS_WORD[status]!)}</h3><ul>`);
    for (const f of group) out.push(`<li><code>${esc(f.id)}</code> <span class="${status}">${esc(status)}</span>: ${esc(f.summary)}${f.override ? esc(` (after an override at ${f.override.node}: ${f.override.reason})`) : ''}</li>`);
    out.push('</ul>');
  }
  out.push('<h2>Changes</h2>');
  if (summary.changes.length === 0) out.push('<p>No change was applied.</p>');
  for (const { change, rollbacks } of summary.changes) {
    out.push(`<h3>Change <code>${esc(change.id)}</code>: ${esc(change.status)}${change.verify ? `, verdict <strong>${esc(change.verify.verdict)}</strong>` : ''}</h3>`);
    if (change.reason) out.push(`<p>${esc(change.reason)}</p>`);
    if (change.verify) out.push(`<p>${esc(change.verify.reason)}</p>`);
    for (const file of change.files) out.push(fold(`diff of ${file.path}`, file.diff));
    out.push('<ul>');
    for (const step of change.steps) out.push(`<li><span class="t">${clock(step.at)}</span> ${step.ok ? '✔' : '✘'} ${esc(step.step)}${step.detail ? esc(`: ${step.detail}`) : ''}</li>`);
    if (change.reload) out.push(`<li>reload (${esc(change.reload.method)}): workers ${esc(change.reload.oldWorkers.join(', ') || 'none')} → ${esc(change.reload.newWorkers.join(', ') || 'none')}</li>`);
    for (const r of rollbacks) out.push(`<li><span class="t">${clock(r.at)}</span> <strong>rolled back</strong> (${r.ok ? 'ok' : 'FAILED'}): ${esc(r.reason)}</li>`);
    out.push('</ul>');
    if (change.test) out.push(fold(change.test.command ?? 'nginx -t', change.test.output));
  }
  if (report.fixes.length > 0) {
    out.push('<h2>Fixes suggested</h2><ul>');
    for (const fix of report.fixes) out.push(`<li><code>${esc(fix.id)}</code> for <code>${esc(fix.finding)}</code>: ${esc(fix.title)}<ul>${fix.steps.map((s) => `<li>${esc(s)}</li>`).join('')}</ul></li>`);
    out.push('</ul>');
  }
  out.push('<h2>Timeline</h2><ul class="timeline">');
  for (const item of timeline(transcript)) out.push(...itemHtml(item));
  out.push('</ul>', `<p class="ended ${ended.kind}">${esc(endedText)}</p>`, '</body></html>', '');
  return out.join('\n');
}

function itemHtml(item: TimelineItem): string[] {
  const t = `<span class="t">${clock(item.at)}</span>`;
  switch (item.type) {
    case 'command': {
      const body = [item.stdout && `stdout:\n${item.stdout}`, item.stderr && `stderr:\n${item.stderr}`].filter(Boolean).join('\n') || '(no output)';
      return [`<li>${fold(`${clock(item.at)} ${formatCommand({ file: item.argv[0]!, args: item.argv.slice(1) })}: ${item.failure ?? `exit ${item.exitCode}`}, ${item.durationMs} ms`, body)}</li>`];
    }
    case 'read':
      return [`<li>${t} <span class="t">${esc(item.what)}</span></li>`];
    case 'step':
      return [`<li>${t} step ${item.index}: <strong>${esc(item.title)}</strong> (<code>${esc(item.node)}</code>)</li>`];
    case 'probe':
      return [`<li>${t} probe <code>${esc(item.id)}</code> ${esc(item.status)}: ${esc(item.summary)}${item.reason && item.status !== 'ok' ? esc(` (${item.reason})`) : ''}</li>`];
    case 'decision':
      return [`<li>${t} decision at <code>${esc(item.node)}</code>: ${esc(item.label)}${item.override ? esc(` (overridden: ${item.override.reason})`) : ''}</li>`];
    case 'answer':
      return [`<li>${t} answer at <code>${esc(item.node)}</code>: ${esc(item.label)} (${esc(item.source)})</li>`];
    case 'operator':
      return item.action === 'choose' ? [] : [`<li>${t} operator: ${esc(item.action)}${item.input.type === 'note' ? esc(`: ${item.input.text}`) : item.input.type === 'override' ? esc(` at ${item.input.node} to ${item.input.to}: ${item.input.reason}`) : ''}</li>`];
    case 'finding':
      return [`<li>${t} finding <code>${esc(item.finding.id)}</code> <span class="${item.finding.status}">${esc(item.finding.status)}</span>: ${esc(item.finding.summary)}</li>`];
    case 'fixes':
      return [`<li>${t} fixes suggested: ${item.fixes.map((f) => `<code>${esc(f.id)}</code>`).join(', ')}</li>`];
    case 'change':
      return [`<li>${t} change <code>${esc(item.id)}</code> ${esc(item.status)}${item.verify ? esc(`, verdict ${item.verify.verdict}`) : ''}</li>`];
    case 'rollback':
      return [`<li>${t} rollback of <code>${esc(item.id)}</code> ${item.ok ? 'done' : 'FAILED'}: ${esc(item.reason)}</li>`];
    case 'end':
      return [`<li>${t} end: ${esc(item.status)}, exit ${item.exitCode}</li>`];
    case 'interrupted':
      return [`<li>${t} <strong>interrupted</strong>: ${esc(item.reason)}</li>`];
    default:
      return [];
  }
}

function fold(summary: string, body: string): string {
  return `<details><summary><code>${esc(summary)}</code></summary><pre>${esc(body)}</pre></details>`;
}
