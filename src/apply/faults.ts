/**
 * The test hook for crash safety (documented in the README): with
 * RESET_DOCTOR_FAULT=STEP the process kills itself with SIGKILL right after
 * that step's journal entry is on disk, as a dropped link or the OOM killer
 * would. `stop-before-preflight` stops it (SIGSTOP) before the files are
 * compared with what the diagnosis read, so a test can change one then.
 * `break-edit` adds a directive nginx does not know to the edited text, as a
 * wrong plan would: nginx -t must catch it and the files must come back.
 */
export const KILL_STEPS = ['after-backup', 'after-write', 'after-test', 'after-reload'] as const;
export type FaultStep = (typeof KILL_STEPS)[number] | 'stop-before-preflight' | 'break-edit';

export const faultAsked = (step: FaultStep, env: NodeJS.ProcessEnv = process.env) => env.RESET_DOCTOR_FAULT === step;

export function faultAt(step: Exclude<FaultStep, 'break-edit'>, env: NodeJS.ProcessEnv = process.env): void {
  if (!faultAsked(step, env)) return;
  process.kill(process.pid, step === 'stop-before-preflight' ? 'SIGSTOP' : 'SIGKILL');
}
