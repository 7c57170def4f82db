import { Box, Static, Text, useApp, useInput } from 'ink';
import { useState, useSyncExternalStore } from 'react';
import type { Session } from '../session.js';
import type { Flow } from '../flow/schema.js';
import type { HostInfo } from '../host/types.js';
import { exitCodeFor } from '../report/exitCode.js';
import { ChoiceList } from './ChoiceList.js';
import { CurrentStep, type StepChoice } from './CurrentStep.js';
import { HelpPanel } from './HelpPanel.js';
import { BackgroundProbes } from './BackgroundProbes.js';
import { StepView } from './StepView.js';
import { TextPrompt } from './TextPrompt.js';
import { actionFor, FOOTER } from './keymap.js';
import { color } from './theme.js';
import { useStepLog } from './useStepLog.js';

/** Exit code when the operator quits before the flow reaches its end. */
export const QUIT_EARLY = 130;

type Mode =
  | { kind: 'normal' }
  | { kind: 'help' }
  | { kind: 'confirm-quit' }
  | { kind: 'note' }
  | { kind: 'override-node' }
  | { kind: 'override-branch'; node: string }
  | { kind: 'override-reason'; node: string; to: string };

interface Props {
  session: Session;
  flow: Flow;
  host: HostInfo;
  demo: string | null;
  onExit: (code: number) => void;
}

export function App({ session, flow, host, demo, onExit }: Props) {
  const state = useSyncExternalStore(session.subscribe, session.getState);
  const [mode, setMode] = useState<Mode>({ kind: 'normal' });
  const { exit } = useApp();
  const log = useStepLog(state);
  const over = state.status === 'finished' || state.status === 'failed';

  const quit = () => {
    onExit(over ? exitCodeFor(state) : QUIT_EARLY);
    exit();
  };
  const normal = () => setMode({ kind: 'normal' });

  useInput((input, key) => {
    const action = actionFor(input, key);
    if (action === 'interrupt') return setMode({ kind: 'confirm-quit' });
    if (mode.kind === 'note' || mode.kind === 'override-reason') return; // typing: the prompt owns the keys
    if (action === 'cancel' || (mode.kind === 'help' && action === 'help')) return normal();
    if (mode.kind !== 'normal') return;
    switch (action) {
      case 'quit':
        return setMode({ kind: 'confirm-quit' });
      case 'help':
        return setMode({ kind: 'help' });
      case 'back':
        return session.send({ type: 'back' });
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
        return session.send({ type: 'back' });
      case 'quit':
        return quit();
      case 'override': {
        const node = state.path[state.path.length - 1]?.node;
        if (node) setMode({ kind: 'override-branch', node });
        return;
      }
    }
  };

  const decisions = state.path.filter((s) => s.outcome?.kind === 'decide').reverse();

  return (
    <Box flexDirection="column">
      <Static items={log}>
        {(entry) =>
          entry.kind === 'step' ? (
            <StepView key={entry.key} step={entry.step} number={entry.number} flow={flow} />
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
      {mode.kind === 'normal' ? <CurrentStep state={state} flow={flow} active={mode.kind === 'normal'} onChoice={onStepChoice} /> : null}
      <Text {...color('muted')} wrap="truncate-end">
        {FOOTER}
      </Text>
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
