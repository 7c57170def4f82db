import type { ChangeRecord } from './journal.js';

/** The JSON shape of a change, as in the report's fixes[].change. */
export function changeSummary(r: ChangeRecord) {
  return {
    id: r.id,
    status: r.status,
    reason: r.reason,
    startedAt: r.startedAt,
    finishedAt: r.finishedAt,
    fixes: r.fixes,
    files: r.files.map((f) => ({ path: f.path, real: f.real, backup: f.backup, diff: f.diff })),
    steps: r.steps,
    test: r.test,
    reload: r.reload ? { method: r.reload.method, oldWorkers: r.reload.oldWorkers, newWorkers: r.reload.newWorkers } : null,
    verify: r.verify,
    rollback: r.rollback,
  };
}
