/**
 * The watch screen as lines of text, from the counts and events: one row per
 * upstream peer and signature with its counts per bucket as a sparkline (the
 * last buckets that fit the width), the requests and 5xx from the access log,
 * a marker under the bucket of the reload, and the latest events. Pure, so
 * the Ink view, the wizard's verification screen and the tests share it.
 */
import type { TrafficCounts } from '../apply/types.js';
import type { WatchEvent } from './events.js';
import { BUCKET_MS } from './count.js';

export const SPARK = '▁▂▃▄▅▆▇█';
/** A bucket with nothing in it: a dot, so "none" never looks like "a few". */
export const EMPTY = '·';

/** One character per value, scaled to the row's own largest value. */
export function sparkline(values: readonly number[]): string {
  const max = Math.max(0, ...values);
  return values.map((v) => (v <= 0 ? EMPTY : SPARK[Math.min(SPARK.length - 1, Math.max(0, Math.ceil((v / max) * SPARK.length) - 1))]!)).join('');
}

export type LineTone = 'bad' | 'warn' | 'muted' | 'info' | 'accent' | 'ok';

export interface ScreenLine {
  text: string;
  tone?: LineTone;
}

export interface WatchScreenInput {
  counts: TrafficCounts;
  events: readonly WatchEvent[];
  /** The reload to mark (the verification's); else the latest nginx reload among the events. */
  reloadAtMs?: number | null;
  width: number;
  height: number;
  /** The newest bucket shown is the one holding this time. */
  nowMs: number;
  bucketMs?: number;
  title?: string;
  /** Things the view could not watch (no access log with $status, no ps …), shown at the bottom. */
  notes?: readonly string[];
}

const LABEL = 30;
const NUMBERS = 13; // " " + now (5) + " " + total (6)

function clock(ms: number): string {
  const d = new Date(ms);
  const p = (n: number) => String(n).padStart(2, '0');
  return `${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
}

function fit(text: string, width: number): string {
  const chars = [...text];
  return chars.length <= width ? text : `${chars.slice(0, Math.max(0, width - 1)).join('')}…`;
}

function pad(text: string, width: number): string {
  const f = fit(text, width);
  return f + ' '.repeat(Math.max(0, width - [...f].length));
}

/** "peer signature" in the label column: the signature whole, the peer cut from its start when too long (its port or socket name is at the end). */
function rowLabel(peer: string, signature: string): string {
  if (!peer) return signature;
  const room = LABEL - signature.length - 1;
  const chars = [...peer];
  const shown = chars.length <= room ? peer : room <= 1 ? '…' : `…${chars.slice(chars.length - room + 1).join('')}`;
  return `${shown} ${signature}`;
}

function minutes(ms: number): string {
  const s = Math.round(ms / 1000);
  return s < 120 ? `${s} s` : `${Math.round(s / 60)} min`;
}

export function watchScreen(input: WatchScreenInput): ScreenLine[] {
  const bucketMs = input.bucketMs ?? BUCKET_MS;
  const width = Math.max(50, input.width);
  const sparkWidth = width - LABEL - 1 - NUMBERS;
  const lastStart = Math.floor(input.nowMs / bucketMs) * bucketMs;
  const firstStart = lastStart - (sparkWidth - 1) * bucketMs;
  const index = new Map(input.counts.buckets.map((b) => [b.startMs, b]));
  const starts = Array.from({ length: sparkWidth }, (_, i) => firstStart + i * bucketMs);

  // Rows per peer and signature, from the buckets on screen (the bucket's peers when it has them).
  const series = new Map<string, { peer: string; signature: string; values: number[] }>();
  starts.forEach((start, i) => {
    const b = index.get(start) as (TrafficCounts['buckets'][number] & { peers?: Record<string, Record<string, number>> }) | undefined;
    if (!b) return;
    const perPeer = b.peers && Object.keys(b.peers).length > 0 ? b.peers : { '': b.signatures };
    for (const [peer, signatures] of Object.entries(perPeer)) {
      for (const [signature, n] of Object.entries(signatures)) {
        const key = `${peer}\0${signature}`;
        let row = series.get(key);
        if (!row) series.set(key, (row = { peer, signature, values: new Array<number>(sparkWidth).fill(0) }));
        row.values[i] = (row.values[i] ?? 0) + n;
      }
    }
  });
  const requests = starts.map((s) => index.get(s)?.requests ?? 0);
  const errors5xx = starts.map((s) => index.get(s)?.errors5xx ?? 0);
  const sum = (v: number[]) => v.reduce((a, b) => a + b, 0);
  const rows = [...series.values()].sort((a, b) => sum(b.values) - sum(a.values) || a.peer.localeCompare(b.peer) || a.signature.localeCompare(b.signature));

  const lines: ScreenLine[] = [];
  const title = input.title ?? 'reset-doctor watch';
  lines.push({ text: fit(`${title} · nginx upstream errors per ${bucketMs / 1000} s · ${clock(input.nowMs)} · q quits`, width), tone: 'accent' });
  lines.push({ text: `${pad('peer · signature', LABEL)} ${pad(`last ${minutes(sparkWidth * bucketMs)}`, sparkWidth)} ${'now'.padStart(5)} ${'total'.padStart(6)}`, tone: 'muted' });
  const row = (label: string, values: number[], tone?: LineTone): ScreenLine => ({
    text: `${pad(label, LABEL)} ${sparkline(values)} ${String(values.at(-1) ?? 0).padStart(5)} ${String(sum(values)).padStart(6)}`,
    ...(tone ? { tone } : {}),
  });

  const events = [...input.events].sort((a, b) => a.atMs - b.atMs);
  // Room: title, header, the two access-log rows, the marker, "Events" and at least 3 events (more when the rows leave room).
  const fixed = 2 + 2 + 1 + 1;
  const notes = (input.notes ?? []).slice(0, 2);
  const eventRoom = Math.min(Math.max(3, events.length), 8);
  const rowRoom = Math.max(1, input.height - fixed - eventRoom - notes.length);
  if (rows.length === 0) lines.push({ text: pad('no upstream error lines in this window', width), tone: 'ok' });
  for (const r of rows.slice(0, rows.length > rowRoom ? rowRoom - 1 : rowRoom)) {
    lines.push(row(rowLabel(r.peer, r.signature), r.values, 'bad'));
  }
  if (rows.length > rowRoom) lines.push({ text: `… ${rows.length - rowRoom + 1} more peer/signature rows (a wider window shows fewer buckets, not more rows)`, tone: 'muted' });
  lines.push(row('requests (access log)', requests, 'info'));
  lines.push(row('5xx (access log)', errors5xx, 'warn'));

  // The marker under the reload's bucket: the verification's reload, else the latest one seen.
  const reloadAt = input.reloadAtMs ?? events.filter((e) => e.kind === 'nginx-reload').at(-1)?.atMs ?? null;
  if (reloadAt !== null && reloadAt >= firstStart && reloadAt < lastStart + bucketMs) {
    const col = LABEL + 1 + Math.floor((reloadAt - firstStart) / bucketMs);
    const label = `reload ${clock(reloadAt)}`;
    const text = col + 2 + label.length <= width ? `${' '.repeat(col)}▲ ${label}` : `${' '.repeat(Math.max(0, col - label.length - 1))}${label} ▲`;
    lines.push({ text, tone: 'accent' });
  } else lines.push({ text: '' });

  const room = Math.max(1, input.height - lines.length - 1 - notes.length);
  lines.push({ text: events.length === 0 ? 'Events: none yet (nginx reloads, backend restarts, OOM kills, changes applied)' : 'Events', tone: 'muted' });
  for (const e of events.slice(-room)) {
    const tone: LineTone = e.kind === 'oom-kill' || e.kind === 'backend-stop' || e.kind === 'nginx-stop' ? 'bad' : e.kind === 'change' ? 'accent' : 'info';
    lines.push({ text: fit(`${clock(e.atMs)} ${e.text}`, width), tone });
  }
  for (const note of notes) lines.push({ text: fit(`note: ${note}`, width), tone: 'warn' });
  return lines;
}
