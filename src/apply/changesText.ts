import { redactStrings, redactText } from '../masking/redact.js';
import type { JsonReport } from '../report/jsonReport.js';
import type { ApplyRun } from './fromDiagnosis.js';

/** What became of the changes asked for (headless --apply, or the wizard's apply): after the diagnosis, in both reports. */
const EXIT_WORDS: Record<number, string> = {
  0: 'every requested change applied, and verified fixed',
  1: 'the change is kept, but not verified fixed: see the verdict (roll it back with the command above if wanted)',
  3: 'a requested change was not applied, or was rolled back: nginx is as it was',
  4: 'files could not be restored: do by hand what is said above',
};

/** Each requested fix gains its change; one the diagnosis did not suggest is listed with why it was refused. */
export function withChanges(report: JsonReport, run: ApplyRun): JsonReport {
  const fixes = report.fixes.map((f) => {
    const done = run.changes.find((c) => c.fix === f.id);
    return done ? { ...f, applied: done.status === 'applied', change: { ...(done.change ?? {}), status: done.status, reason: done.reason } } : f;
  });
  for (const c of run.changes) {
    if (!fixes.some((f) => f.id === c.fix)) fixes.push({ id: c.fix, finding: '', kind: 'not-suggested', applied: false, title: '', steps: [], persistence: '', change: { status: c.status, reason: c.reason } });
  }
  return redactStrings({ ...report, fixes });
}

export function changesText(run: ApplyRun, exit: number | null): string {
  const lines = ['', 'Changes'];
  const seen = new Set<string>();
  for (const c of run.changes) {
    const id = c.change?.id ?? c.fix;
    if (seen.has(id)) continue;
    seen.add(id);
    const fixes = run.changes.filter((o) => (o.change?.id ?? o.fix) === id).map((o) => o.fix);
    lines.push(`  ${c.status === 'applied' ? '✔' : '✖'} ${fixes.join(', ')}: ${c.status}${c.change ? ` (change ${c.change.id})` : ''}${c.reason ? ` — ${c.reason}` : ''}`);
    if (c.change) {
      for (const f of c.change.files) lines.push(`    ${f.path}: backup ${f.backup}`);
      if (c.change.reload) lines.push(`    reload: ${c.change.reload.method}, workers ${c.change.reload.oldWorkers.join(',')} → ${c.change.reload.newWorkers.join(',')}`);
      if (c.change.verify) lines.push(`    verify: ${c.change.verify.verdict} — ${c.change.verify.reason}`);
      if (c.change.rollback) lines.push(`    rolled back ${c.change.rollback.at}: ${c.change.rollback.detail}`);
      if (c.status === 'applied') lines.push(`    undo: reset-doctor rollback ${c.change.id} --yes`);
      for (const f of c.change.files) lines.push('', ...f.diff.trimEnd().split('\n').map((l) => `    ${l}`));
    }
  }
  if (exit !== null) lines.push('', `Exit ${exit}: ${EXIT_WORDS[exit] ?? ''}`);
  return redactText(lines.join("\n") + "\n").text;
}
