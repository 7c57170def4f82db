import { Box, Text } from 'ink';
import type { Flow } from '../flow/schema.js';
import type { EngineState } from '../engine/state.js';
import type { Session } from '../session.js';
import { ChoiceList } from './ChoiceList.js';
import type { StageOf } from './stages.js';
import { color } from './theme.js';

/** Steps the walk can go back to: its decisions and questions, the latest first. */
export function backTargets(state: EngineState, flow: Flow, stageOf: StageOf): Array<{ index: number; label: string }> {
  const over = state.status === 'finished' || state.status === 'failed';
  return state.path
    .map((step, index) => ({ step, index }))
    .filter(({ step, index }) => (over || index < state.path.length - 1) && (step.outcome?.kind === 'decide' || step.outcome?.kind === 'ask'))
    .reverse()
    .map(({ step, index }) => {
      const outcome = step.outcome!;
      const answer = outcome.kind === 'decide' || outcome.kind === 'ask' ? outcome.label : '';
      return { index, label: `${String(index + 1).padStart(2)}. ${stageOf(step.node).label} · ${flow.nodes[step.node]?.title ?? step.node} → ${answer}` };
    });
}

/** Goes back step by step (each `back` pauses at the previous stop) until the chosen step is the current one. */
export function backTo(session: Session, index: number): void {
  for (let guard = session.getState().path.length; guard > 0 && session.getState().path.length > index + 1; guard--) {
    const before = session.getState().path.length;
    session.send({ type: 'back' });
    if (session.getState().path.length === before) return;
  }
}

export function BackList({ state, flow, stageOf, onPick }: { state: EngineState; flow: Flow; stageOf: StageOf; onPick: (index: number) => void }) {
  const targets = backTargets(state, flow, stageOf);
  if (targets.length === 0) return <Text {...color('warn')}>No decision or question on the path yet to go back to. (Esc)</Text>;
  return (
    <Box flexDirection="column">
      <Text bold>Go back to which step? Its decision is shown again to continue, re-run or override. (Esc to cancel)</Text>
      {/* Long labels would wrap and make the list taller than it counts: each is one screen line. */}
      <ChoiceList items={targets.map((t) => ({ label: t.label.length > 74 ? `${t.label.slice(0, 73)}…` : t.label, value: String(t.index) }))} onSelect={(c) => onPick(Number(c.value))} />
    </Box>
  );
}
