import type { Prepared } from '../session.js';
import { buildJsonReport, type JsonReport } from '../report/jsonReport.js';
import { redactText } from '../masking/redact.js';
import { changesText, withChanges } from '../apply/changesText.js';
import type { CliArgs } from './args.js';
import { askYesNo } from './askYesNo.js';
import type { ApplyRun, PlannedChange } from '../apply/fromDiagnosis.js';
import type { ChangeRecord, ChangeStep } from '../apply/journal.js';
import { buildTextReport } from '../report/textReport.js';
import { exitCodeFor } from '../report/exitCode.js';
import type { EngineState } from '../engine/state.js';
import { progressWanted, showReadProgress } from '../logs/progress.js';
import { closeTranscript, interruptTranscript } from '../transcript/session.js';
import { changeEvent, changeEvents } from '../transcript/apply.js';
import { changeSummary } from '../apply/summary.js';

export { runHeadless } from '../walk.js';
import { runHeadless } from '../walk.js';

export async function diagnose(prepared: Prepared, args: Pick<CliArgs, 'answers' | 'json' | 'apply' | 'nginxBinGiven' | 'verbose'>, walk: { started?: boolean } = {}): Promise<number> {
  const { answers, json } = args;
  // The report comes at the end: until then, long log reads show their progress on a terminal.
  if (progressWanted()) showReadProgress(process.stderr);
  // During the walk a signal closes the transcript as interrupted; during an apply, the apply's own handlers roll back.
  const unwatch = closeOnSignals(prepared);
  const state = await runHeadless(prepared.session, prepared.flow, answers, walk);
  unwatch();
  const info = prepared.host.info();
  const options = { nginx: prepared.options, sinceMs: prepared.options.sinceMs, verbose: args.verbose };
  // The report names its transcript, so a script that files the report can attach it.
  const named = (report: JsonReport) => (prepared.transcript ? { ...report, transcript: prepared.transcript.path } : report);
  if (args.apply.fixes.length === 0) {
    await prepared.finish();
    const code = exitCodeFor(state);
    closeTranscript(prepared.transcript, state, info, code, options);
    process.stdout.write(json ? JSON.stringify(named(buildJsonReport(state, info, options)), null, 2) + '\n' : buildTextReport(state, prepared.flow, info, options));
    return code;
  }
  await prepared.session.settle();
  const run = await applyHeadless(prepared, state, args);
  for (const event of changeEvents(run)) prepared.transcript?.write(event);
  await prepared.finish();
  closeTranscript(prepared.transcript, state, info, finalExit(run, state), options);
  if (json) {
    const report = buildJsonReport(state, info, options);
    process.stdout.write(JSON.stringify(named(withChanges(report, run)), null, 2) + '\n');
  } else {
    // The diagnosis' own exit line no longer holds once a change was made: the run's exit comes last.
    process.stdout.write(buildTextReport(state, prepared.flow, info, options).replace(/^Exit \d+: .*\n?/m, '') + changesText(run, finalExit(run, state)));
  }
  for (const line of run.manual) process.stderr.write(`reset-doctor: by hand: ${line}\n`);
  return finalExit(run, state);
}

const SIGNALS = { SIGHUP: 1, SIGINT: 2, SIGTERM: 15 } as const;

/** A headless walk stopped by a signal (its SSH link dropped, Ctrl-C, kill) closes its transcript saying so, and exits 128 + the signal. */
function closeOnSignals(prepared: Prepared): () => void {
  const handlers = Object.entries(SIGNALS).map(([signal, number]) => {
    const handler = () => {
      interruptTranscript(prepared.transcript, prepared.session.getState(), `${signal}: the run was stopped`);
      process.exit(128 + number);
    };
    process.on(signal, handler);
    return [signal, handler] as const;
  });
  return () => {
    for (const [signal, handler] of handlers) process.off(signal, handler);
  };
}

const finalExit = (run: ApplyRun, state: EngineState): number => (run.exit === 1 ? Math.max(1, exitCodeFor(state)) : run.exit);

/** --apply after a headless diagnosis: plan, show and ask on a terminal unless --yes, then run. */
async function applyHeadless(prepared: Prepared, state: EngineState, args: Pick<CliArgs, 'answers' | 'apply' | 'nginxBinGiven'>): Promise<ApplyRun> {
  const { planChange, runChange } = await import('../apply/fromDiagnosis.js');
  const planned = await planChange(prepared, state, args.apply.fixes, args.nginxBinGiven);
  if (!planned.ok) return { changes: planned.changes, exit: 3, manual: [] };
  if (!args.apply.yes && !(await confirmOnTerminal(planned.change))) {
    return { changes: args.apply.fixes.map((fix) => ({ fix, status: 'refused', reason: 'not confirmed: nothing was changed', change: null })), exit: 3, manual: [] };
  }
  // Steps go to stderr as they happen: stdout stays the report (JSON for scripts).
  const onStep = (step: ChangeStep, record: ChangeRecord | null) => {
    process.stderr.write(`reset-doctor: ${step.ok ? '✔' : '✖'} ${step.step}: ${step.detail}${step.command ? ` (${step.command})` : ''}\n`);
    // The change as it stands, into the transcript at each step: a run killed mid-apply leaves it there as far as it got.
    if (record) prepared.transcript?.write(changeEvent(changeSummary(record), record.fixes));
  };
  // Ctrl-C, kill or a dropped link while applying: roll the change back at the next step instead of leaving it half done.
  let stop = false;
  const onSignal = (signal: NodeJS.Signals) => {
    stop = true;
    process.stderr.write(`reset-doctor: ${signal}: rolling the change back at the next step…\n`);
  };
  // After a hang-up every write to the terminal fails with EIO (EPIPE for a closed pipe): unhandled, that
  // 'error' event kills the process mid-change instead of letting it roll back. The journal has every step.
  const deadTerminal = (error: NodeJS.ErrnoException) => {
    if (error.code !== 'EIO' && error.code !== 'EPIPE') throw error;
  };
  process.stderr.on('error', deadTerminal);
  process.stdout.on('error', deadTerminal);
  const signals: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];
  for (const signal of signals) process.on(signal, onSignal);
  try {
    return await runChange(prepared, state, planned.change, args.apply, { answers: args.answers, onStep, stopRequested: () => stop }, HEADLESS_VERIFY_SECONDS);
  } finally {
    for (const signal of signals) process.off(signal, onSignal);
  }
}

/** Headless runs watch the traffic this long after a reload unless --verify says otherwise. */
const HEADLESS_VERIFY_SECONDS = 30;

async function confirmOnTerminal(change: PlannedChange): Promise<boolean> {
  const out = process.stderr;
  out.write('\nThe change:\n');
  for (const plan of change.plans) for (const line of plan.describe) out.write(`  ${line}\n`);
  for (const { diff } of change.diffs) out.write(`\n${redactText(diff).text}`);
  return askYesNo('\nApply it now (backup, write, nginx -t, reload, verify)?', out);
}
