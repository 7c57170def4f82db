import { FINDINGS, isFindingId } from '../findings/catalog.js';
import type { FleetSummary } from './summary.js';

/** The fleet view fits an 80-column terminal: long lists of hosts wrap under their label. */
const WIDTH = 80;
/** Continuation lines start at most this far in, so wrapped text keeps at least 40 columns. */
const HANG_MAX = 40;
/** Label columns (host names, values) are at most this wide; a longer label pushes only its own row. */
const LABEL_MAX = 18;

/**
 * Words of text filled to WIDTH, the first line after `lead`, the rest indented
 * to `hang`. A lead too long for anything after it (a long host name or value)
 * is wrapped on its own, and the text starts on the next line.
 */
function fill(lead: string, text: string, hang: number): string[] {
  const lines: string[] = [];
  let line = lead;
  if (lead.trimEnd().length > WIDTH - 12) {
    const indent = /^ */.exec(lead)![0];
    lines.push(...fill(indent, lead.trim(), indent.length + 2));
    line = ' '.repeat(hang);
  }
  let empty = true;
  // A word longer than a line (a long path) is cut where the line ends.
  const room = Math.max(20, WIDTH - hang);
  const words = text.split(/\s+/).flatMap((w) => w.match(new RegExp(`.{1,${room}}`, 'g')) ?? []);
  for (const word of words) {
    if (line.length + (empty ? 0 : 1) + word.length > WIDTH && line.trim() !== '') {
      lines.push(line.trimEnd());
      line = ' '.repeat(hang) + word;
    } else line += (empty ? '' : ' ') + word;
    empty = false;
  }
  if (line.trim() !== '' || lines.length === 0) lines.push(line.trimEnd());
  return lines;
}

/** A label column then text: `  label      text…`, the text's continuation lines under its start. */
function row(indent: number, label: string, width: number, text: string): string[] {
  const lead = `${' '.repeat(indent)}${label.padEnd(width)}  `;
  // Continuation lines under the column, not under one long label.
  return fill(lead, text, Math.min(indent + width + 2, HANG_MAX));
}

const hostList = (hosts: string[]) => hosts.join(', ');

const STATUS_WORDS = { confirmed: 'confirmed', suspected: 'suspected', unknown: 'could not tell' } as const;

export function fleetText(summary: FleetSummary, dir: string): string {
  const out: string[] = [];
  const failed = summary.hosts.filter((h) => !h.ok);
  out.push(...fill('', `reset-doctor fleet report: ${summary.hosts.length} hosts, ${summary.hosts.length - failed.length} ok, ${failed.length} failed (${dir})`, 2), '');

  out.push('Hosts');
  const hostWidth = Math.min(LABEL_MAX, Math.max(...summary.hosts.map((h) => h.host.length)));
  for (const h of summary.hosts) {
    const exit = h.exit === null ? 'no exit' : `exit ${h.exit}`;
    const lead = `  ${h.host.padEnd(hostWidth)}  ${(h.ok ? 'ok' : 'FAILED').padEnd(6)}  ${exit.padEnd(8)}  `;
    out.push(...fill(lead, h.error ?? '', Math.min(2 + hostWidth + 20, HANG_MAX)));
  }

  out.push('', 'Findings (hosts where confirmed, suspected, could not tell)');
  if (summary.findings.length === 0) out.push('  none on any host that reported');
  for (const f of summary.findings) {
    out.push(...fill(`  ${f.id}: `, isFindingId(f.id) ? FINDINGS[f.id] : '', 4));
    for (const status of ['confirmed', 'suspected', 'unknown'] as const) {
      if (f[status].length > 0) out.push(...row(4, STATUS_WORDS[status], 14, hostList(f[status])));
    }
  }

  out.push('', 'Upstream peers with resets (resets logged, and the cause each host found)');
  if (summary.peers.length === 0) out.push(summary.peersNotRead.length === 0 ? '  none on any host that reported' : '  none on the hosts where they were read');
  for (const p of summary.peers) {
    out.push(...fill("  ", p.peer, 4));
    const width = Math.min(LABEL_MAX, Math.max(...p.hosts.map((h) => h.host.length)));
    for (const h of p.hosts) out.push(...row(4, h.host, width, `${h.resets} reset(s), cause: ${h.cause}`));
  }
  if (summary.peersNotRead.length > 0) out.push(...fill('  not read (reset-attribution did not run) on: ', hostList(summary.peersNotRead), 4));

  out.push('', 'Drift (settings that differ between hosts)');
  if (summary.drift.length === 0) out.push('  none among the settings compared');
  for (const d of summary.drift) {
    out.push(...fill('  ', d.what, 4));
    const byValue = new Map<string, string[]>();
    for (const [host, value] of Object.entries(d.values)) byValue.set(value, [...(byValue.get(value) ?? []), host]);
    const width = Math.min(LABEL_MAX, Math.max(...[...byValue.keys()].map((v) => v.length)));
    for (const [value, hosts] of byValue) out.push(...row(4, value, width, hostList(hosts)));
  }

  if (summary.changes.length > 0) {
    out.push('', 'Changes (--apply)');
    const width = Math.min(LABEL_MAX, Math.max(...summary.changes.map((c) => c.host.length)));
    for (const c of summary.changes) out.push(...row(2, c.host, width, `${c.fix}: ${c.status}, verify ${c.verdict ?? 'none'}`));
  }
  return out.join('\n') + '\n';
}
