import type { Prepared } from '../session.js';
import type { Session } from '../session.js';
import type { Flow } from '../flow/schema.js';
import { buildJsonReport, type JsonReport } from '../report/jsonReport.js';
import { redactStrings, redactText } from '../masking/redact.js';
import type { CliArgs } from './args.js';
import type { ApplyRun } from './applyFixes.js';
import { buildTextReport } from '../report/textReport.js';
import { exitCodeFor } from '../report/exitCode.js';
import type { EngineState } from '../engine/state.js';

/** Walks the flow without a person: questions take --answer or their headless default. */
export async function runHeadless(session: Session, flow: Flow, answers: ReadonlyMap<string, string>): Promise<EngineState> {
  session.send({ type: 'start' });
  for (;;) {
    const state = await session.waitForStop();
    if (state.status !== 'asking') return state;
    const node = state.path[state.path.length - 1]!.node;
    const ask = flow.nodes[node];
    if (ask?.kind !== 'ask') return state;
    const answer = answers.get(node);
    session.send(answer ? { type: 'choose', choice: answer, source: 'answer' } : { type: 'choose', choice: ask.headless, source: 'headless-default' });
  }
}

export async function diagnose(prepared: Prepared, args: Pick<CliArgs, 'answers' | 'json' | 'apply' | 'nginxBinGiven'>): Promise<number> {
  const { answers, json } = args;
  const state = await runHeadless(prepared.session, prepared.flow, answers);
  const info = prepared.host.info();
  if (args.apply.fixes.length === 0) {
    await prepared.finish();
    process.stdout.write(json ? JSON.stringify(buildJsonReport(state, info), null, 2) + '\n' : buildTextReport(state, prepared.flow, info));
    return exitCodeFor(state);
  }
  await prepared.session.settle();
  const { applyRequested } = await import('./applyFixes.js');
  // Steps go to stderr as they happen: stdout stays the report (JSON for scripts).
  const run = await applyRequested(prepared, state, args.apply, answers, args.nginxBinGiven, (step) =>
    process.stderr.write(`reset-doctor: ${step.ok ? '✔' : '✖'} ${step.step}: ${step.detail}${step.command ? ` (${step.command})` : ''}\n`),
  );
  await prepared.finish();
  if (json) {
    const report = buildJsonReport(state, info);
    process.stdout.write(JSON.stringify(withChanges(report, run), null, 2) + '\n');
  } else {
    // The diagnosis' own exit line no longer holds once a change was made: the run's exit comes last.
    process.stdout.write(buildTextReport(state, prepared.flow, info).replace(/^Exit \d+: .*\n?/m, '') + changesText(run, finalExit(run, state)));
  }
  for (const line of run.manual) process.stderr.write(`reset-doctor: by hand: ${line}\n`);
  return finalExit(run, state);
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
