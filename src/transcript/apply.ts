import type { FixChange } from '../apply/fromDiagnosis.js';
import { listRecords, type ChangeRecord } from '../apply/journal.js';
import type { StateDir } from '../util/stateDir.js';
import { changeSummary } from '../apply/summary.js';
import { RealHost } from '../host/realHost.js';
import type { Transcript } from './writer.js';
import type { ChangeEvent, RollbackEvent, TranscriptInput } from './events.js';

type Summary = NonNullable<FixChange['change']>;

const ms = (iso: string | null | undefined, fallback: number): number => (iso ? Date.parse(iso) : fallback);

/**
 * The transcript's events for what an apply did, from its change records
 * (src/apply/summary.ts): one `change` per change (diff, steps, nginx -t,
 * reload, verify), a `rollback` when it was rolled back, and a `change`
 * with status and reason for a fix that never became one (refused, failed).
 */
export function changeEvents(run: { changes: FixChange[] }): TranscriptInput[] {
  const events: TranscriptInput[] = [];
  const seen = new Set<string>();
  for (const fix of run.changes) {
    const change = fix.change;
    if (!change) {
      events.push({ type: 'change', id: fix.fix, fix: fix.fix, status: fix.status, files: [], steps: [], ...(fix.reason ? { reason: fix.reason } : {}) });
      continue;
    }
    if (seen.has(change.id)) continue;
    seen.add(change.id);
    events.push(changeEvent(change, run.changes.filter((c) => c.change?.id === change.id).map((c) => c.fix)));
    if (change.rollback) events.push(rollbackEvent(change));
  }
  return events;
}

export function changeEvent(change: Summary, fixes: string[]): Omit<ChangeEvent, 'at'> & { at: number } {
  const started = ms(change.startedAt, Date.now());
  return {
    type: 'change',
    id: change.id,
    fix: fixes.join(', '),
    status: change.status,
    ...(change.reason ? { reason: change.reason } : {}),
    files: change.files.map((f) => ({ path: f.path, diff: f.diff })),
    steps: change.steps.map((s) => ({ step: s.step, ok: s.ok, at: ms(s.at, started), ...(s.detail ? { detail: s.command ? `${s.detail} (${s.command})` : s.detail } : {}) })),
    ...(change.test ? { test: { command: change.test.command, output: change.test.output } } : {}),
    ...(change.reload ? { reload: change.reload } : {}),
    ...(change.verify ? { verify: change.verify } : {}),
    at: ms(change.finishedAt, started),
  };
}

function rollbackEvent(change: Summary): Omit<RollbackEvent, 'at'> & { at: number } {
  const rollback = change.rollback!;
  return { type: 'rollback', id: change.id, reason: rollback.detail, ok: rollback.ok, files: change.files.map((f) => ({ path: f.path })), steps: [], at: ms(rollback.at, Date.now()) };
}

/**
 * The wizard applies through its own screen (src/ui/apply/): what it did is
 * read back from the change records this process wrote into the state dir
 * since the session started, and written into the transcript (at its end, or
 * when the terminal goes away, an unfinished change as it was left).
 */
export async function writeChangesOfThisRun(transcript: Transcript | null | undefined, state: StateDir, sinceMs: number): Promise<void> {
  if (!transcript?.open) return;
  let records: ChangeRecord[];
  try {
    records = await listRecords(new RealHost(), state);
  } catch {
    return;
  }
  const mine = records.filter((r) => r.pid === process.pid && Date.parse(r.startedAt) >= sinceMs - 1000).sort((a, b) => a.startedAt.localeCompare(b.startedAt));
  for (const record of mine) {
    const summary = changeSummary(record);
    transcript.write(changeEvent(summary, record.fixes));
    if (summary.rollback) transcript.write(rollbackEvent(summary));
  }
}
