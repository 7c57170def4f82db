import { Box, Text } from 'ink';
import type { Flow } from '../flow/schema.js';
import type { EngineState } from '../engine/state.js';
import { actionableFindings, currentStep, selectFindings } from '../engine/selectors.js';
import { ChoiceList, type Choice } from './ChoiceList.js';
import { ProbeLine, StepView } from './StepView.js';
import { Spinner } from './Spinner.js';
import { FINDING_MARK, FINDING_TONE, color } from './theme.js';

const STATUS_ORDER = ['confirmed', 'suspected', 'unknown'];

export type StepChoice = 'continue' | 'rerun' | 'override' | 'quit' | 'back' | `choice:${string}`;

interface Props {
  state: EngineState;
  flow: Flow;
  active: boolean;
  onChoice: (choice: StepChoice) => void;
}

/** The live part of the screen: only the node being worked on. */
export function CurrentStep({ state, flow, active, onChoice }: Props) {
  const step = currentStep(state);
  if (!step) return <Text>Starting…</Text>;
  const node = flow.nodes[step.node];
  if (!node) return <Text {...color('bad')}>Flow has no node {step.node}</Text>;
  const select = (choice: Choice) => onChoice(choice.value as StepChoice);
  const listKey = `${step.node}:${step.enteredAt}:${state.status}:${state.path.length}`;

  if (state.status === 'finished' || state.status === 'failed') {
    const findings = selectFindings(state);
    const attention = findings.filter((f) => f.status !== 'ruled-out');
    const ruledOut = findings.filter((f) => f.status === 'ruled-out');
    const actionable = actionableFindings(state).length;
    return (
      <Box flexDirection="column">
        {state.failure ? <Text {...color('bad')}>The flow stopped: {state.failure}</Text> : null}
        <Text bold>
          Finished. {actionable === 0 ? 'Nothing found that needs action.' : `${actionable} finding(s) need attention.`}
        </Text>
        {/* What needs action first, one line each; the ruled-out ones are in the log above, so one line says which. */}
        {[...attention].sort((a, b) => STATUS_ORDER.indexOf(a.status) - STATUS_ORDER.indexOf(b.status)).map((f) => (
          <Text key={f.id} wrap="truncate-end">
            <Text {...color(FINDING_TONE[f.status] ?? 'info')}>
              {FINDING_MARK[f.status]} {f.id} {f.status}
            </Text>
            : {f.summary}
          </Text>
        ))}
        {ruledOut.length ? (
          <Text wrap="truncate-end" {...color('muted')}>
            {FINDING_MARK['ruled-out']} {ruledOut.length} ruled out: {ruledOut.map((f) => f.id).join(', ')}
          </Text>
        ) : null}
        <ChoiceList
          key={listKey}
          isActive={active}
          onSelect={select}
          items={[
            { label: 'Quit and print the report', value: 'quit' },
            { label: 'Go back to the last decision', value: 'back' },
            { label: 'Re-run the probes', value: 'rerun' },
          ]}
        />
      </Box>
    );
  }

  const heading = (
    <>
      <Text bold {...color('info')}>
        {node.title}
      </Text>
      <Text wrap="wrap" {...color('muted')}>
        {node.why.trim()}
      </Text>
      {(node.docs ?? []).map((url) => (
        <Text key={url} wrap="truncate-end" {...color('muted')}>
          docs: {url}
        </Text>
      ))}
    </>
  );

  if (state.status === 'probing' && node.kind === 'probe') {
    const run = state.probeRun;
    const results = run?.results ?? [];
    const ids = [...new Set([...node.probes, ...results.map((r) => r.id)])];
    return (
      <Box flexDirection="column">
        {heading}
        {ids.map((id) => {
          const result = results.find((r) => r.id === id);
          if (result) return <ProbeLine key={id} probe={result} />;
          const commands = run?.started[id];
          return (
            <Text key={id} wrap="truncate-end">
              {commands || run?.awaiting.includes(id) ? <Spinner /> : <Text {...color('muted')}>·</Text>} <Text bold>{id}</Text>{' '}
              <Text {...color('muted')}>{commands ? `$ ${commands.join(' ; ')}` : run?.awaiting.includes(id) ? 'waiting for its background run' : 'waiting'}</Text>
            </Text>
          );
        })}
      </Box>
    );
  }

  if (state.status === 'asking' && node.kind === 'ask') {
    return (
      <Box flexDirection="column">
        {heading}
        <Text bold>{node.question}</Text>
        <ChoiceList key={listKey} isActive={active} onSelect={select} items={node.choices.map((c) => ({ label: c.label, value: `choice:${c.id}` }))} />
      </Box>
    );
  }

  if (state.status === 'paused') {
    const items: Choice[] = [{ label: 'Continue from here', value: 'continue' }];
    if (node.kind === 'probe') items.push({ label: 'Re-run these probes', value: 'rerun' });
    if (node.kind === 'decide') items.push({ label: 'Override this decision…', value: 'override' });
    return (
      <Box flexDirection="column">
        <Text {...color('warn')}>Went back to step {state.path.length}:</Text>
        <StepView step={step} number={state.path.length} flow={flow} />
        <ChoiceList key={listKey} isActive={active} onSelect={select} items={items} />
      </Box>
    );
  }

  return (
    <Box flexDirection="column">
      {heading}
      <Text>
        <Spinner /> working…
      </Text>
    </Box>
  );
}
