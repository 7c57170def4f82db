import { Box, Static, Text, useApp, useInput } from 'ink';
import { useMemo, useState, useSyncExternalStore } from 'react';
import type { Session } from '../session.js';
import type { Flow } from '../flow/schema.js';
import type { HostInfo } from '../host/types.js';
import { exitCodeFor } from '../report/exitCode.js';
import { rankFindings } from '../report/ranking.js';
import { selectExactFixes } from '../report/exactFix.js';
import { buildTextReport } from '../report/textReport.js';
import { ChoiceList } from './ChoiceList.js';
import { CurrentStep, type StepChoice } from './CurrentStep.js';
import { HelpPanel } from './HelpPanel.js';
import { BackgroundProbes } from './BackgroundProbes.js';
import { TextPrompt } from './TextPrompt.js';
import { EndScreen, type EndChoice } from './EndScreen.js';
import { Pager } from './Pager.js';
import { StageLine } from './StageLine.js';
import { BackList, backTo } from './BackList.js';
import { findingActions, findingLines, FINDING_MARK } from './findingView.js';
import { saveReport as saveReportFile } from './saveReport.js';
import { stageRuns, stagesOf, upcoming } from './stages.js';
import { stepLines } from './stepLines.js';
import { actionFor, FOOTER } from './keymap.js';
import { color } from './theme.js';
import { useStageLog } from './useStageLog.js';

/** Exit code when the operator quits before the flow reaches its end. */
export const QUIT_EARLY = 130;

type Mode =
  | { kind: 'normal' }
  | { kind: 'help' }
  | { kind: 'confirm-quit' }
  | { kind: 'note' }
  | { kind: 'override-node' }
  | { kind: 'override-branch'; node: string }
  | { kind: 'override-reason'; node: string; to: string }
  | { kind: 'back-list' }
  | { kind: 'details-pick' }
  | { kind: 'details'; run: number }
  | { kind: 'finding'; id: string };

interface Props {
  session: Session;
  flow: Flow;
  host: HostInfo;
  demo: string | null;
  onExit: (code: number) => void;
  /** Where "Save the report" writes (a test gives its own); returns the path. */
  saveReport?: (text: string, hostname: string) => Promise<string>;
}

export function App({ session, flow, host, demo, onExit, saveReport = saveReportFile }: Props) {
  const state = useSyncExternalStore(session.subscribe, session.getState);
  const [mode, setMode] = useState<Mode>({ kind: 'normal' });
  const [message, setMessage] = useState<string | null>(null);
  // A choice uses up the end screen's list; a new round shows it afresh (after a save).
  const [endRound, setEndRound] = useState(0);
  const { exit } = useApp();
  const stageOf = useMemo(() => stagesOf(flow), [flow]);
  const log = useStageLog(state, stageOf);
  const over = state.status === 'finished' || state.status === 'failed';
  const nginx = session.config.options;
  const reportOptions = { nginx, sinceMs: nginx.sinceMs };
  const ranked = useMemo(() => rankFindings(state, nginx.sinceMs), [state, nginx.sinceMs]);
  const runs = stageRuns(state, stageOf);

  const quit = () => {
    onExit(over ? exitCodeFor(state) : QUIT_EARLY);
    exit();
  };
  const normal = () => setMode({ kind: 'normal' });

  useInput((input, key) => {
    const action = actionFor(input, key);
    if (action === 'interrupt') return setMode({ kind: 'confirm-quit' });
    // Typing, or a view with keys of its own (the pager): they own the keys.
    if (mode.kind === 'note' || mode.kind === 'override-reason' || mode.kind === 'details' || mode.kind === 'finding') return;
    if (action === 'cancel' || (mode.kind === 'help' && action === 'help')) return normal();
    if (mode.kind !== 'normal') return;
    switch (action) {
      case 'quit':
        return setMode({ kind: 'confirm-quit' });
      case 'help':
        return setMode({ kind: 'help' });
      case 'back':
        return setMode({ kind: 'back-list' });
      case 'details':
        return setMode({ kind: 'details-pick' });
      case 'rerun':
        return session.send({ type: 'rerun' });
      case 'skip':
        return session.send({ type: 'skip' });
      case 'note':
        return setMode({ kind: 'note' });
      case 'override':
        return setMode({ kind: 'override-node' });
      default:
        return;
    }
  });

  const onStepChoice = (choice: StepChoice) => {
    if (choice.startsWith('choice:')) return session.send({ type: 'choose', choice: choice.slice('choice:'.length), source: 'operator' });
    switch (choice) {
      case 'continue':
        return session.send({ type: 'continue' });
      case 'rerun':
        return session.send({ type: 'rerun' });
      case 'back':
        return setMode({ kind: 'back-list' });
      case 'quit':
        return quit();
      case 'override': {
        const node = state.path[state.path.length - 1]?.node;
        if (node) setMode({ kind: 'override-branch', node });
        return;
      }
    }
  };

  const onEndChoice = (choice: EndChoice) => {
    setMessage(null);
    switch (choice.kind) {
      case 'finding':
        return setMode({ kind: 'finding', id: choice.finding.finding.id });
      case 'save': {
        const text = buildTextReport(state, flow, host, reportOptions);
        void saveReport(text, host.hostname).then(
          (path) => setMessage(`Saved the report to ${path}`),
          (error: unknown) => setMessage(`Could not save the report: ${(error as Error).message}`),
        );
        return setEndRound((n) => n + 1);
      }
      case 'back':
        return setMode({ kind: 'back-list' });
      case 'rerun':
        return session.send({ type: 'rerun' });
      case 'quit':
        return quit();
    }
  };

  const decisions = state.path.filter((s) => s.outcome?.kind === 'decide').reverse();
  const opened = mode.kind === 'finding' ? ranked.all.find((r) => r.finding.id === mode.id) : undefined;
  const live = runs.at(-1);
  const next = upcoming(runs);

  return (
    <Box flexDirection="column">
      <Static items={log}>
        {(entry) =>
          entry.kind === 'stage' ? (
            <StageLine key={entry.key} run={entry.run} flow={flow} />
          ) : (
            <Text key={entry.key} {...color('warn')}>
              {entry.text}
            </Text>
          )
        }
      </Static>
      <Box borderStyle="single" borderLeft={false} borderRight={false} borderBottom={false} {...color('muted')}>
        <Text wrap="truncate-end">
          <Text bold>reset-doctor</Text> · {flow.title} · step {Math.max(state.path.length, 1)} · host {host.hostname}
          {host.uid === 0 ? '' : ' (not root)'}
          {demo ? ` · demo ${demo}` : ''}
        </Text>
      </Box>
      <BackgroundProbes state={state} />
      {mode.kind === 'help' ? <HelpPanel /> : null}
      {mode.kind === 'confirm-quit' ? (
        <Box flexDirection="column">
          <Text bold {...color('warn')}>
            {over ? 'Quit and print the report?' : 'Quit before the end? Findings so far are printed; nothing was changed.'}
          </Text>
          <ChoiceList
            items={[
              { label: 'No, keep going', value: 'no' },
              { label: 'Yes, quit', value: 'yes' },
            ]}
            onSelect={(c) => (c.value === 'yes' ? quit() : normal())}
          />
        </Box>
      ) : null}
      {mode.kind === 'note' ? (
        <TextPrompt
          label="Note for the transcript (what you saw or did):"
          onSubmit={(text) => {
            session.send({ type: 'note', text });
            normal();
          }}
          onCancel={normal}
        />
      ) : null}
      {mode.kind === 'back-list' ? (
        <BackList
          state={state}
          flow={flow}
          stageOf={stageOf}
          onPick={(index) => {
            backTo(session, index);
            normal();
          }}
        />
      ) : null}
      {mode.kind === 'details-pick' ? (
        runs.length === 0 ? (
          <Text {...color('warn')}>Nothing walked yet. (Esc)</Text>
        ) : (
          <Box flexDirection="column">
            <Text bold>Details of which stage? (Esc to cancel)</Text>
            <ChoiceList items={runs.map((r, i) => ({ label: `${r.stage.label} (steps ${r.start + 1}–${r.start + r.steps.length})`, value: String(i) })).reverse()} onSelect={(c) => setMode({ kind: 'details', run: Number(c.value) })} />
          </Box>
        )
      ) : null}
      {mode.kind === 'details' && runs[mode.run] ? (
        <Pager
          title={`${runs[mode.run]!.stage.label}: decisions, evidence and commands`}
          lines={runs[mode.run]!.steps.flatMap((step, i) => stepLines(step, runs[mode.run]!.start + i + 1, flow))}
          actions={[]}
          onClose={normal}
        />
      ) : null}
      {opened ? (
        <Pager
          title={`${FINDING_MARK[opened.finding.status] ?? '•'} ${opened.finding.id}`}
          lines={findingLines(opened, ranked.impact, selectExactFixes(state, nginx).filter((f) => f.finding === opened.finding.id))}
          actions={findingActions({ finding: opened, fixes: selectExactFixes(state, nginx).filter((f) => f.finding === opened.finding.id), state, nginx, say: setMessage })}
          onClose={normal}
        />
      ) : null}
      {mode.kind === 'override-node' ? (
        decisions.length === 0 ? (
          <Text {...color('warn')}>No decision on the path yet to override. (Esc)</Text>
        ) : (
          <Box flexDirection="column">
            <Text bold>Override which decision? (Esc to cancel)</Text>
            <ChoiceList
              items={decisions.map((s) => ({ label: `${flow.nodes[s.node]?.title ?? s.node} → ${s.outcome?.kind === 'decide' ? s.outcome.label : ''}`, value: s.node }))}
              onSelect={(c) => setMode({ kind: 'override-branch', node: c.value })}
            />
          </Box>
        )
      ) : null}
      {mode.kind === 'override-branch' ? <OverrideBranch flow={flow} node={mode.node} current={state.path.findLast((s) => s.node === mode.node)?.next} onPick={(to) => setMode({ kind: 'override-reason', node: mode.node, to })} /> : null}
      {mode.kind === 'override-reason' ? (
        <TextPrompt
          label={`Why take "${mode.to}" instead? (recorded in the report)`}
          onSubmit={(reason) => {
            if (!reason.trim()) return;
            session.send({ type: 'override', node: mode.node, to: mode.to, reason });
            normal();
          }}
          onCancel={normal}
        />
      ) : null}
      {mode.kind === 'normal' && over ? <EndScreen key={endRound} ranked={ranked} failure={state.failure} active message={message} onChoice={onEndChoice} /> : null}
      {mode.kind === 'normal' && !over ? (
        <>
          {live && state.status !== 'paused' ? (
            <Text wrap="truncate-end">
              <Text {...color('info')}>▸ {live.stage.label}</Text>
              <Text {...color('muted')}>{next.length ? `  next: ${next.map((s) => s.label).join(' · ')}` : ''}</Text>
            </Text>
          ) : null}
          <CurrentStep state={state} flow={flow} active onChoice={onStepChoice} />
        </>
      ) : null}
      {/* Views with keys of their own (a finding, a stage's details) show theirs instead. */}
      {mode.kind === 'details' || mode.kind === 'finding' ? null : (
        <Text {...color('muted')} wrap="truncate-end">
          {FOOTER}
        </Text>
      )}
    </Box>
  );
}

function OverrideBranch({ flow, node, current, onPick }: { flow: Flow; node: string; current: string | undefined; onPick: (to: string) => void }) {
  const decide = flow.nodes[node];
  if (decide?.kind !== 'decide') return null;
  const options = [...decide.branches.map((b) => ({ label: `${b.label} → ${b.next}`, value: b.next })), { label: `${decide.otherwiseLabel ?? 'none of the above'} → ${decide.otherwise}`, value: decide.otherwise }].filter(
    (o, i, all) => o.value !== current && all.findIndex((x) => x.value === o.value) === i,
  );
  return (
    <Box flexDirection="column">
      <Text bold>Take which branch at "{decide.title}" instead? (Esc to cancel)</Text>
      <ChoiceList items={options} onSelect={(c) => onPick(c.value)} />
    </Box>
  );
}
