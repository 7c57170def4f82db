import { Text } from 'ink';
import type { Flow } from '../flow/schema.js';
import { stageResult, type StageRun } from './stages.js';
import { color } from './theme.js';

/** A finished stage in the scrollback: one line, its mark and result (`d` opens its decisions, evidence and commands). */
export function StageLine({ run, flow }: { run: StageRun; flow: Flow }) {
  const result = stageResult(run, flow);
  return (
    <Text wrap="truncate-end">
      <Text {...color(result.tone)}>{result.mark} </Text>
      <Text bold>{run.stage.label}</Text>
      <Text {...color('muted')}>: </Text>
      {result.text}
    </Text>
  );
}
