/**
 * The wizard's fix half for one finding's fix: the plan and its diff to read
 * (scrollable at 80×24), a confirmation, the steps ticking off, the
 * verification live (the finding's errors per 10 s before and after the
 * reload), the verdict, then keep or roll back. The work itself is done by
 * src/apply/ — this only shows its state and sends the operator's keys.
 */
import { Box, Text, useInput, useStdout } from 'ink';
import { useEffect, useRef, useState } from 'react';
import type { Prepared } from '../../session.js';
import type { EngineState } from '../../engine/state.js';
import { planChange, runChange, type ApplyRun, type ChangeOptions, type PlannedChange } from '../../apply/fromDiagnosis.js';
import { loadRecord, type ChangeStep } from '../../apply/journal.js';
import { rollbackChange } from '../../apply/rollbackChange.js';
import { changeSummary } from '../../apply/summary.js';
import { changeEvent } from '../../transcript/apply.js';
import { stateDir } from '../../util/stateDir.js';
import type { TrafficCounts } from '../../apply/types.js';
import { mergeCounts } from '../../watch/count.js';
import { redactText } from '../../masking/redact.js';
import { Spinner } from '../Spinner.js';
import { beforeHangupExit } from '../terminalLost.js';
import { WatchView } from '../watch/WatchView.js';
import { color } from '../theme.js';
import { diffLines, pageOf, type PagerLine } from './diffPager.js';
import { wrap } from '../stepLines.js';

/** What the wizard passes down: the session's host and options, and the command line's apply options. */
export interface ApplyContext {
  prepared: Prepared;
  options: ChangeOptions;
  nginxBinGiven: boolean;
  answers: ReadonlyMap<string, string>;
}

/** The wizard watches the traffic this long after a reload unless --verify says otherwise. */
export const WIZARD_VERIFY_SECONDS = 60;

type Phase =
  | { kind: 'planning' }
  | { kind: 'refused'; reasons: string[] }
  | { kind: 'review'; change: PlannedChange }
  | { kind: 'running'; change: PlannedChange }
  | { kind: 'done'; run: ApplyRun }
  | { kind: 'rolling-back'; run: ApplyRun }
  | { kind: 'rolled-back'; run: ApplyRun; detail: string; ok: boolean };

interface Live {
  before: TrafficCounts;
  after: TrafficCounts;
  reloadAtMs: number;
  untilMs: number;
}

export function ApplyFlow({ context, state, fixes, onDone }: { context: ApplyContext; state: EngineState; fixes: string[]; onDone: (run: ApplyRun | null) => void }) {
  const { stdout } = useStdout();
  const rows = stdout.rows || 24;
  const width = Math.max(40, (stdout.columns || 80) - 1);
  const [phase, setPhase] = useState<Phase>({ kind: 'planning' });
  const [steps, setSteps] = useState<ChangeStep[]>([]);
  const [live, setLive] = useState<Live | null>(null);
  const [scroll, setScroll] = useState(0);
  const [asking, setAsking] = useState(false);
  const stop = useRef(false);
  const [, setTick] = useState(0);

  useEffect(() => {
    let gone = false;
    void planChange(context.prepared, state, fixes, context.nginxBinGiven).then((planned) => {
      if (gone) return;
      setPhase(planned.ok ? { kind: 'review', change: planned.change } : { kind: 'refused', reasons: planned.changes.map((c) => `${c.fix}: ${c.reason ?? 'refused'}`) });
    });
    return () => {
      gone = true;
    };
  }, []);

  // A second's tick while verifying: the countdown and the newest bucket move on even when no line comes.
  useEffect(() => {
    if (phase.kind !== 'running') return;
    const timer = setInterval(() => setTick((t) => t + 1), 1000);
    return () => clearInterval(timer);
  }, [phase.kind]);

  const start = (change: PlannedChange) => {
    setPhase({ kind: 'running', change });
    const running = runChange(context.prepared, state, change, { ...context.options, yes: true }, { answers: context.answers, onStep: (s, record) => {
      setSteps((all) => [...all, s]);
      if (record) context.prepared.transcript?.write(changeEvent(changeSummary(record), record.fixes));
    }, onVerifyTick: setLive, stopRequested: () => stop.current }, WIZARD_VERIFY_SECONDS);
    // A dropped link mid-apply: roll back at the next step, while the transcript is still open; what does not
    // finish in time is left to the journal, which the next run reports.
    const unregister = beforeHangupExit(async () => {
      stop.current = true;
      await running.catch(() => undefined);
    });
    void running.then(
      (run) => setPhase({ kind: 'done', run }),
      (error: unknown) => setPhase({ kind: 'refused', reasons: [`the apply failed: ${(error as Error).message}`] }),
    ).finally(unregister);
  };

  const rollBack = (run: ApplyRun) => {
    const id = run.changes[0]?.change?.id;
    if (!id) return;
    setPhase({ kind: 'rolling-back', run });
    const store = stateDir({ stateDir: context.options.stateDir });
    void (async () => {
      const record = await loadRecord(context.prepared.host, store, id);
      if (!record) return setPhase({ kind: 'rolled-back', run, detail: `no record of change ${id} in ${store.dir}`, ok: false });
      const outcome = await rollbackChange(context.prepared.host, store, record, (s) => setSteps((all) => [...all, s]));
      // The run as it ended: rolled back (or not quite), with the record's rollback, for the end screen and the report.
      const summary = changeSummary(record);
      const after: ApplyRun = { ...run, changes: run.changes.map((c) => ({ ...c, status: record.status, reason: record.reason, change: summary })), manual: outcome.manual };
      setPhase({ kind: 'rolled-back', run: after, ok: outcome.exit === 0, detail: outcome.exit === 4 ? `could not restore every file; by hand: ${outcome.manual.join('; ')}` : outcome.detail });
    })();
  };

  const diff = phase.kind === 'review' ? reviewLines(phase.change, width) : [];
  const pageRows = Math.max(5, rows - 6);

  useInput((input, key) => {
    if (phase.kind === 'refused' || phase.kind === 'rolled-back') {
      if (key.return || key.escape || input === 'q') onDone(phase.kind === 'rolled-back' ? phase.run : null);
      return;
    }
    if (phase.kind === 'review') {
      if (key.downArrow || input === 'j') setScroll((s) => Math.min(Math.max(0, diff.length - pageRows), s + 1));
      else if (key.upArrow || input === 'k') setScroll((s) => Math.max(0, s - 1));
      else if (key.pageDown || input === ' ') setScroll((s) => Math.min(Math.max(0, diff.length - pageRows), s + pageRows - 1));
      else if (key.pageUp) setScroll((s) => Math.max(0, s - pageRows + 1));
      else if (input === 'y') start(phase.change);
      else if (input === 'n' || key.escape || input === 'q') onDone(null);
      return;
    }
    if (phase.kind === 'running') {
      if (asking) {
        if (input === 'y') {
          stop.current = true;
          setAsking(false);
        } else if (input === 'n' || key.escape) setAsking(false);
        return;
      }
      if (input === 'q' || (key.ctrl && input === 'c')) setAsking(true);
      return;
    }
    if (phase.kind === 'done') {
      const kept = phase.run.changes[0]?.status === 'applied';
      if (kept && input === 'r') rollBack(phase.run);
      else if (key.return || input === 'k' || key.escape || input === 'q') onDone(phase.run);
    }
  });

  const title = `Apply ${fixes.join(', ')}`;
  if (phase.kind === 'planning') {
    return (
      <Text>
        <Spinner /> Planning {fixes.join(', ')} on the config files as they are now…
      </Text>
    );
  }
  if (phase.kind === 'refused') {
    return (
      <Box flexDirection="column">
        <Text bold>{title}: not applied, nothing was changed</Text>
        {phase.reasons.map((r, i) => (
          <Text key={i} {...color('warn')}>
            {redactText(r).text}
          </Text>
        ))}
        <Text {...color('muted')}>Enter: back</Text>
      </Box>
    );
  }
  if (phase.kind === 'review') {
    const page = pageOf(diff, scroll, pageRows);
    return (
      <Box flexDirection="column">
        <Text bold>
          {title} — one change: backup, nginx -t, reload, verify {context.options.verifySeconds ?? WIZARD_VERIFY_SECONDS} s
        </Text>
        {page.lines.map((line, i) => (
          <Text key={i} wrap="truncate" {...(line.tone ? color(line.tone) : {})}>
            {line.text === '' ? ' ' : line.text}
          </Text>
        ))}
        <Text {...color('muted')}>
          lines {page.from + 1}–{page.to} of {diff.length} · ↑↓ PgUp PgDn scroll · y apply · n back
        </Text>
      </Box>
    );
  }
  const shownSteps = steps.slice(-Math.max(3, rows - 16));
  const verifying = phase.kind === 'running' && live !== null;
  return (
    <Box flexDirection="column">
      <Text bold>{title}</Text>
      {shownSteps.map((s, i) => (
        <Text key={i} wrap="truncate" {...color(s.ok ? 'ok' : 'bad')}>
          {s.ok ? '✔' : '✖'} {s.step}: {redactText(s.detail).text}
        </Text>
      ))}
      {phase.kind === 'running' && !verifying ? (
        <Text>
          <Spinner /> {steps.length === 0 ? 'preflight: root, lock, files as read, nginx -t…' : 'working…'}
        </Text>
      ) : null}
      {verifying && live ? (
        <Box flexDirection="column">
          <Text>
            <Spinner /> verifying: {Math.max(0, Math.ceil((live.untilMs - Date.now()) / 1000))} s left, then the finding's probes run again
          </Text>
          <WatchView counts={mergeCounts(live.before, live.after)} events={[]} reloadAtMs={live.reloadAtMs} width={width} height={Math.max(6, rows - shownSteps.length - 6)} title="the finding's errors per 10 s, before and after the reload" />
        </Box>
      ) : null}
      {phase.kind === 'rolling-back' ? (
        <Text>
          <Spinner /> rolling back…
        </Text>
      ) : null}
      {phase.kind === 'done' ? <Verdict run={phase.run} /> : null}
      {phase.kind === 'rolled-back' ? (
        <Box flexDirection="column">
          <Text {...color(phase.ok ? 'ok' : 'bad')}>{phase.ok ? `Rolled back: ${phase.detail}` : `Rollback incomplete: ${phase.detail}`}</Text>
          <Text {...color('muted')}>Enter: back</Text>
        </Box>
      ) : null}
      {asking ? <Text {...color('warn')}>Stop and roll the change back? y/n</Text> : null}
    </Box>
  );
}

function Verdict({ run }: { run: ApplyRun }) {
  const first = run.changes[0];
  const change = first?.change;
  const kept = first?.status === 'applied';
  const verdict = change?.verify ? `verdict ${change.verify.verdict}: ${change.verify.reason}` : (first?.reason ?? '');
  return (
    <Box flexDirection="column">
      <Text bold {...color(kept ? (change?.verify?.verdict === 'fixed' || change?.verify?.verdict === 'no-traffic' ? 'ok' : 'warn') : 'bad')}>
        {kept ? `Applied (change ${change?.id}) — ${verdict}` : `Not applied (${first?.status}): ${redactText(first?.reason ?? '').text}`}
      </Text>
      {run.manual.map((m, i) => (
        <Text key={i} {...color('bad')}>
          by hand: {m}
        </Text>
      ))}
      <Text {...color('muted')}>{kept ? 'k keep it · r roll it back' : 'Enter: back'}</Text>
    </Box>
  );
}

/** The plan in words, its notes, then each file's diff with + and − lines colored. */
function reviewLines(change: PlannedChange, width: number): PagerLine[] {
  const head: PagerLine[] = [
    ...change.plans.flatMap((p) => p.describe.map((d) => ({ text: `• ${d}` }))),
    ...change.plans.flatMap((p) => p.notes.map((n) => ({ text: `  note: ${n}`, tone: 'muted' as const }))),
    { text: `nginx: ${change.target.bin}${change.target.conf ? ` -c ${change.target.conf}` : ''}${change.target.prefix ? ` -p ${change.target.prefix}` : ''}, master ${change.target.masterPid}`, tone: 'muted' as const },
    { text: '' },
  ];
  return [...head.flatMap((l) => (l.text === '' ? [l] : wrap(l.text, width).map((text) => ({ ...l, text })))), ...change.diffs.flatMap((d) => diffLines(redactText(d.diff).text, width))];
}
