import { Box, Text } from 'ink';
import type { Flow } from '../flow/schema.js';
import type { Step } from '../engine/state.js';
import { describeEvidence } from '../engine/conditions.js';
import type { ProbeOutcome } from '../probe/contract.js';
import { FINDING_MARK, FINDING_TONE, PROBE_MARK, color } from './theme.js';

/** A finished step as it stays on screen (in <Static>): what was looked at, what was decided and why. */
export function StepView({ step, number, flow }: { step: Step; number: number; flow: Flow }) {
  const node = flow.nodes[step.node];
  const outcome = step.outcome;
  if (!node || !outcome) return null;
  return (
    <Box flexDirection="column" marginBottom={outcome.kind === 'end' ? 0 : 0}>
      <Text>
        <Text {...color('muted')}>{String(number).padStart(2)}. </Text>
        <Text bold>{node.title}</Text>
        {step.skipped ? <Text {...color('warn')}> (skipped)</Text> : null}
      </Text>
      <Box flexDirection="column" marginLeft={4}>
        <OutcomeLines step={step} />
      </Box>
    </Box>
  );
}

function OutcomeLines({ step }: { step: Step }) {
  const outcome = step.outcome!;
  switch (outcome.kind) {
    case 'probe':
      return (
        <>
          {outcome.probes.map((probe) => (
            <ProbeLine key={probe.id} probe={probe} showCommands />
          ))}
        </>
      );
    case 'decide':
      return (
        <>
          <Text>
            <Text {...color('accent')}>→ </Text>
            {outcome.label}
            {outcome.override ? <Text {...color('warn')}> (operator override: {outcome.override.reason}; evaluated: {outcome.override.evaluated})</Text> : null}
          </Text>
          {outcome.evidence.map((item, i) => (
            <Text key={i} {...color('muted')}>
              {'  '}
              {describeEvidence(item)}
            </Text>
          ))}
        </>
      );
    case 'ask':
      return (
        <Text>
          <Text {...color('accent')}>→ </Text>
          {outcome.label}
          <Text {...color('muted')}> ({outcome.source === 'operator' ? 'your answer' : outcome.source})</Text>
        </Text>
      );
    case 'diagnose': {
      const f = outcome.finding;
      return (
        <Text>
          <Text {...color(FINDING_TONE[f.status] ?? 'info')} bold>
            {FINDING_MARK[f.status]} {f.id} {f.status}
          </Text>
          : {f.summary}
        </Text>
      );
    }
    case 'fix':
      return (
        <>
          {outcome.fixes.map((fix, i) => (
            <Box key={fix.id} flexDirection="column">
              <Text>
                <Text {...color('info')}>{i + 1}. </Text>
                <Text bold>{fix.title}</Text>
                <Text {...color('muted')}> (suggested; nothing was changed)</Text>
              </Text>
              {fix.steps.map((s, j) => (
                <Text key={j}>   - {s}</Text>
              ))}
              <Text {...color('muted')}>   persists: {fix.persistence}</Text>
            </Box>
          ))}
        </>
      );
    case 'end':
      return null;
  }
}

export function ProbeLine({ probe, showCommands = false }: { probe: ProbeOutcome; showCommands?: boolean }) {
  const mark = PROBE_MARK[probe.status] ?? { mark: '?', tone: 'warn' as const };
  return (
    <Box flexDirection="column">
      <Text>
        <Text {...color(mark.tone)}>{mark.mark} </Text>
        <Text bold>{probe.id}</Text> {probe.summary}
        {probe.partial ? <Text {...color('warn')}> ({probe.partial})</Text> : null}
      </Text>
      {probe.sudoHint ? <Text {...color('warn')}>    run as root: {probe.sudoHint}</Text> : null}
      {showCommands
        ? probe.commands.map((command, i) => (
            <Text key={i} {...color('muted')} wrap="truncate-end">
              {'    $ '}
              {command}
            </Text>
          ))
        : null}
    </Box>
  );
}
