import type { Prepared } from '../session.js';
import { buildJsonReport, type JsonReport } from '../report/jsonReport.js';
import { redactStrings, redactText } from '../masking/redact.js';
import type { CliArgs } from './args.js';
import type { ApplyRun, PlannedChange } from '../apply/fromDiagnosis.js';
import type { ChangeStep } from '../apply/journal.js';
import { buildTextReport } from '../report/textReport.js';
import { exitCodeFor } from '../report/exitCode.js';
import type { EngineState } from '../engine/state.js';
import { closeTranscript, interruptTranscript } from '../transcript/session.js';
import { changeEvents } from '../transcript/apply.js';

export { runHeadless } from '../walk.js';
import { runHeadless } from '../walk.js';

export async function diagnose(prepared: Prepared, args: Pick<CliArgs, 'answers' | 'json' | 'apply' | 'nginxBinGiven' | 'verbose'>, walk: { started?: boolean } = {}): Promise<number> {
  const { answers, json } = args;
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

function changesText(run: ApplyRun, exit: number): string {
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
      if (c.status === 'applied') lines.push(`    undo: reset-doctor rollback ${c.change.id} --yes`);
      for (const f of c.change.files) lines.push('', ...f.diff.trimEnd().split('\n').map((l) => `    ${l}`));
    }
  }
  lines.push('', `Exit ${exit}: ${EXIT_WORDS[exit] ?? ''}`);
  return redactText(lines.join("\n") + "\n").text;
}

/** --apply after a headless diagnosis: plan, show and ask on a terminal unless --yes, then run. */
async function applyHeadless(prepared: Prepared, state: EngineState, args: Pick<CliArgs, 'answers' | 'apply' | 'nginxBinGiven'>): Promise<ApplyRun> {
  const { planChange, runChange } = await import('../apply/fromDiagnosis.js');
  const planned = await planChange(prepared, state, args.apply.fixes, args.nginxBinGiven);
  if (!planned.ok) return { changes: planned.changes, exit: 3, manual: [] };
  if (!args.apply.yes && !(await confirmOnTerminal(planned.change))) {
    return { changes: args.apply.fixes.map((fix) => ({ fix, status: 'refused', reason: 'not confirmed: nothing was changed', change: null })), exit: 3, manual: [] };
  }
  // Steps go to stderr as they happen: stdout stays the report (JSON for scripts).
  const onStep = (step: ChangeStep) => process.stderr.write(`reset-doctor: ${step.ok ? '✔' : '✖'} ${step.step}: ${step.detail}${step.command ? ` (${step.command})` : ''}\n`);
  // Ctrl-C, kill or a dropped link while applying: roll the change back at the next step instead of leaving it half done.
  let stop = false;
  const onSignal = (signal: NodeJS.Signals) => {
    stop = true;
    process.stderr.write(`reset-doctor: ${signal}: rolling the change back at the next step…\n`);
  };
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
  const { createInterface } = await import('node:readline/promises');
  const out = process.stderr;
  out.write('\nThe change:\n');
  for (const plan of change.plans) for (const line of plan.describe) out.write(`  ${line}\n`);
  for (const { diff } of change.diffs) out.write(`\n${redactText(diff).text}`);
  const rl = createInterface({ input: process.stdin, output: out });
  const answer = await rl.question('\nApply it now (backup, write, nginx -t, reload, verify)? [y/N] ');
  rl.close();
  return /^y(es)?$/i.test(answer.trim());
}
