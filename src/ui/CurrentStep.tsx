import { Box, Text, useStdout } from 'ink';
import type { Flow } from '../flow/schema.js';
import type { EngineState } from '../engine/state.js';
import { currentStep } from '../engine/selectors.js';
import { ChoiceList, type Choice } from './ChoiceList.js';
import { stepLines, wrap } from './stepLines.js';
import { Spinner } from './Spinner.js';
import { color } from './theme.js';

export type StepChoice = 'continue' | 'rerun' | 'override' | 'quit' | 'back' | `choice:${string}`;

interface Props {
  state: EngineState;
  flow: Flow;
  active: boolean;
  onChoice: (choice: StepChoice) => void;
}

/** The live part of the screen: only the node being worked on. */
export function CurrentStep({ state, flow, active, onChoice }: Props) {
  const { stdout } = useStdout();
  const width = Math.max(40, (stdout.columns || 80) - 1);
  const rows = stdout.rows || 24;
  const step = currentStep(state);
  if (!step) return <Text>Starting…</Text>;
  const node = flow.nodes[step.node];
  if (!node) return <Text {...color('bad')}>Flow has no node {step.node}</Text>;
  const select = (choice: Choice) => onChoice(choice.value as StepChoice);
  const listKey = `${step.node}:${step.enteredAt}:${state.status}:${state.path.length}`;

  // The end of the walk is the end screen (EndScreen.tsx), not a step.
  if (state.status === 'finished' || state.status === 'failed') return null;

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
    // Compact, so the live frame stays well below the terminal's height: the running probes with their
    // commands, the finished ones counted (their lines are in the stage's details, key d).
    const run = state.probeRun;
    const results = run?.results ?? [];
    const pending = node.probes.filter((id) => !results.some((r) => r.id === id));
    const failed = results.filter((r) => r.status !== 'ok');
    return (
      <Box flexDirection="column">
        <Text bold {...color('info')} wrap="truncate-end">
          {node.title}
        </Text>
        {pending.slice(0, 4).map((id) => {
          const commands = run?.started[id];
          return (
            <Text key={id} wrap="truncate-end">
              {commands || run?.awaiting.includes(id) ? <Spinner /> : <Text {...color('muted')}>·</Text>} <Text bold>{id}</Text>{' '}
              <Text {...color('muted')}>{commands ? `$ ${commands.join(' ; ')}` : run?.awaiting.includes(id) ? 'waiting for its background run' : 'waiting'}</Text>
            </Text>
          );
        })}
        {pending.length > 4 ? <Text {...color('muted')}>  … {pending.length - 4} more waiting</Text> : null}
        {results.length ? (
          <Text {...color('muted')} wrap="truncate-end">
            {results.length} done{failed.length ? `; could not run: ${failed.map((r) => `${r.id} (${r.status})`).join(', ')}` : ''}
          </Text>
        ) : null}
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
    // The step's lines, clipped so the frame fits the terminal (d shows the whole stage).
    const lines = stepLines(step, state.path.length, flow).flatMap((l) => wrap(l, width));
    const room = Math.max(3, rows - 12);
    return (
      <Box flexDirection="column">
        <Text {...color('warn')}>Went back to step {state.path.length}:</Text>
        {lines.slice(0, room).map((line, i) => (
          <Text key={i}>{line}</Text>
        ))}
        {lines.length > room ? <Text {...color('muted')}>  … {lines.length - room} more line(s): d shows the stage in full</Text> : null}
        <ChoiceList key={listKey} isActive={active} onSelect={select} items={items} />
      </Box>
    );
  }

  return (
    <Box flexDirection="column">
      <Text bold {...color('info')} wrap="truncate-end">
        {node.title}
      </Text>
      <Text>
        <Spinner /> working…
      </Text>
    </Box>
  );
}
