import type { ChangeEvent, ProbeEvent } from './events.js';
import type { ReadTranscript } from './read.js';

/** What a marker on the chart stands for; each kind has its color and its line in the legend. */
export type MarkerKind = 'nginx-reload' | 'backend-start' | 'oom-kill' | 'change';

export interface ChartData {
  /** Upstream error lines per minute (epoch ms of the minute's start). */
  minutes: Array<{ atMs: number; count: number }>;
  markers: Array<{ atMs: number; kind: MarkerKind; label: string }>;
  fromMs: number;
  toMs: number;
}

export const MARKERS: Record<MarkerKind, { color: string; legend: string }> = {
  'nginx-reload': { color: '#1f6feb', legend: 'nginx start / reload' },
  'backend-start': { color: '#2da44e', legend: 'backend start / restart' },
  'oom-kill': { color: '#cf222e', legend: 'OOM kill' },
  change: { color: '#8250df', legend: 'change applied' },
};

const TIMELINE_KINDS: Record<string, MarkerKind | undefined> = {
  'nginx-start': 'nginx-reload',
  'nginx-reload': 'nginx-reload',
  'backend-start': 'backend-start',
  'unit-start': 'backend-start',
  'workers-replaced': 'backend-start',
  'oom-kill': 'oom-kill',
};

/**
 * nginx and the error-log probe write local time of the machine that ran the
 * session ("2026/12/01 13:05"); its offset from UTC is in the start event, so
 * the page shows the same moments wherever it is opened.
 */
export function localToMs(text: string, tzOffsetMin: number): number | null {
  const m = /^(\d{4})\/(\d\d)\/(\d\d) (\d\d):(\d\d)(?::(\d\d))?/.exec(text);
  if (!m) return null;
  return Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!, +m[4]!, +m[5]!, +(m[6] ?? 0)) + tzOffsetMin * 60_000;
}

export function chartData(transcript: ReadTranscript): ChartData {
  const tz = transcript.start.tzOffsetMin ?? 0;
  const probes = transcript.events.filter((e): e is ProbeEvent => e.type === 'probe');
  // The last run of each probe is the one the findings rest on.
  const errorLog = probes.filter((p) => p.id === 'error-log' && p.chart).at(-1)?.chart;
  const timelineFacts = probes.filter((p) => p.id === 'timeline' && p.chart).at(-1)?.chart;
  const minutes = (errorLog?.perMinute ?? []).flatMap(({ minute, count }) => {
    const atMs = localToMs(minute, tz);
    return atMs === null ? [] : [{ atMs, count }];
  });
  const markers: ChartData['markers'] = [];
  for (const event of timelineFacts?.events ?? []) {
    const kind = TIMELINE_KINDS[event.kind];
    if (kind) markers.push({ atMs: event.atMs, kind, label: event.detail });
  }
  const changes = new Map<string, ChangeEvent>();
  for (const event of transcript.events) if (event.type === 'change') changes.set(event.id, event);
  for (const change of changes.values()) {
    const applied = change.steps.find((s) => /reload/i.test(s.step) && s.ok)?.at ?? change.at;
    if (change.status === 'applied' || change.status === 'rolled-back') markers.push({ atMs: applied, kind: 'change', label: `change ${change.id}${change.fix ? ` (${change.fix})` : ''}: ${change.status}` });
  }
  const from = errorLog?.window?.from ? localToMs(errorLog.window.from, tz) : null;
  const to = errorLog?.window?.to ? localToMs(errorLog.window.to, tz) : null;
  const times = [...minutes.map((m) => m.atMs), ...minutes.map((m) => m.atMs + 60_000), ...markers.map((m) => m.atMs)];
  let fromMs = Math.min(from ?? Infinity, ...times);
  let toMs = Math.max(to ?? -Infinity, ...times);
  if (!Number.isFinite(fromMs) || !Number.isFinite(toMs)) [fromMs, toMs] = [transcript.start.at - 10 * 60_000, transcript.start.at];
  // At least ten minutes wide, so one minute's bar is a bar and not the whole chart.
  if (toMs - fromMs < 10 * 60_000) fromMs = toMs - 10 * 60_000;
  fromMs = Math.floor(fromMs / 60_000) * 60_000;
  toMs = Math.ceil((toMs + 1) / 60_000) * 60_000;
  markers.sort((a, b) => a.atMs - b.atMs);
  return { minutes, markers, fromMs, toMs };
}

const W = 1160;
const H = 340;
const PAD = { left: 56, right: 16, top: 20, bottom: 64 };

/** The incident as one picture: bars of upstream errors per minute, with a vertical line at each reload, (re)start, OOM kill and change. */
export function chartSvg(data: ChartData, clock: (ms: number) => string): string {
  const plotW = W - PAD.left - PAD.right;
  const plotH = H - PAD.top - PAD.bottom;
  const span = Math.max(data.toMs - data.fromMs, 60_000);
  const x = (ms: number) => PAD.left + ((ms - data.fromMs) / span) * plotW;
  const max = Math.max(1, ...data.minutes.map((m) => m.count));
  const y = (count: number) => PAD.top + plotH - (count / max) * plotH;
  const barW = Math.max(2, (60_000 / span) * plotW - 1);
  const parts: string[] = [];
  parts.push(`<svg viewBox="0 0 ${W} ${H}" width="100%" role="img" aria-label="Upstream errors per minute, with reloads, restarts, OOM kills and changes">`);
  parts.push(`<rect x="0" y="0" width="${W}" height="${H}" fill="#ffffff"/>`);
  // Y axis: 0, half, max.
  for (const tick of new Set([0, Math.round(max / 2), max])) {
    parts.push(`<line x1="${PAD.left}" x2="${W - PAD.right}" y1="${y(tick).toFixed(1)}" y2="${y(tick).toFixed(1)}" stroke="#d0d7de" stroke-width="1"/>`);
    parts.push(`<text x="${PAD.left - 6}" y="${(y(tick) + 4).toFixed(1)}" text-anchor="end" font-size="12" fill="#57606a">${tick}</text>`);
  }
  parts.push(`<text x="14" y="${PAD.top + plotH / 2}" transform="rotate(-90 14 ${PAD.top + plotH / 2})" text-anchor="middle" font-size="12" fill="#57606a">upstream errors / min</text>`);
  for (const m of data.minutes) {
    parts.push(`<rect class="bar" x="${x(m.atMs).toFixed(1)}" y="${y(m.count).toFixed(1)}" width="${barW.toFixed(1)}" height="${(PAD.top + plotH - y(m.count)).toFixed(1)}" fill="#fb8500"><title>${escapeXml(`${clock(m.atMs)}: ${m.count} upstream error line(s)`)}</title></rect>`);
  }
  // X axis with about six time labels.
  parts.push(`<line x1="${PAD.left}" x2="${W - PAD.right}" y1="${PAD.top + plotH}" y2="${PAD.top + plotH}" stroke="#57606a"/>`);
  for (let i = 0; i <= 6; i++) {
    const at = data.fromMs + (span * i) / 6;
    parts.push(`<text x="${x(at).toFixed(1)}" y="${PAD.top + plotH + 16}" text-anchor="${i === 0 ? 'start' : i === 6 ? 'end' : 'middle'}" font-size="12" fill="#57606a">${escapeXml(clock(at))}</text>`);
  }
  let lastX = -Infinity;
  for (const marker of data.markers) {
    const { color } = MARKERS[marker.kind];
    // Events in the same second would hide each other: set each a line's width apart.
    const at = Math.max(x(marker.atMs), lastX + 7);
    lastX = at;
    const mx = at.toFixed(1);
    parts.push(`<g class="marker marker-${marker.kind}"><line x1="${mx}" x2="${mx}" y1="${PAD.top}" y2="${PAD.top + plotH}" stroke="${color}" stroke-width="3" stroke-dasharray="6 3"/><polygon points="${mx},${PAD.top + 10} ${(+mx - 6).toFixed(1)},${PAD.top} ${(+mx + 6).toFixed(1)},${PAD.top}" fill="${color}"/><title>${escapeXml(`${clock(marker.atMs)} ${marker.label}`)}</title></g>`);
  }
  // Legend.
  let lx = PAD.left;
  const ly = H - 18;
  parts.push(`<rect x="${lx}" y="${ly - 10}" width="14" height="12" fill="#fb8500"/><text x="${lx + 20}" y="${ly}" font-size="12" fill="#24292f">upstream errors per minute</text>`);
  lx += 210;
  for (const kind of Object.keys(MARKERS) as MarkerKind[]) {
    const count = data.markers.filter((m) => m.kind === kind).length;
    parts.push(`<line x1="${lx}" x2="${lx + 14}" y1="${ly - 4}" y2="${ly - 4}" stroke="${MARKERS[kind].color}" stroke-width="3"/><text x="${lx + 20}" y="${ly}" font-size="12" fill="#24292f">${escapeXml(`${MARKERS[kind].legend} (${count})`)}</text>`);
    lx += 210;
  }
  if (data.minutes.length === 0) parts.push(`<text x="${PAD.left + plotW / 2}" y="${PAD.top + plotH / 2}" text-anchor="middle" font-size="14" fill="#57606a">no upstream error lines in the window (or the error log was not read)</text>`);
  parts.push('</svg>');
  return parts.join('\n');
}

export function escapeXml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');
}
