import { Box, Text, useStdout } from 'ink';
import { wrap } from './stepLines.js';
import type { Impact } from '../report/impact.js';
import { impactLines } from '../report/impact.js';
import type { Ranked, RankedFinding } from '../report/ranking.js';
import { ChoiceList, type Choice } from './ChoiceList.js';
import { findingLabel } from './findingView.js';
import { color } from './theme.js';

export type EndChoice = { kind: 'finding'; finding: RankedFinding } | { kind: 'save' } | { kind: 'back' } | { kind: 'rerun' } | { kind: 'quit' };

interface Props {
  ranked: Ranked;
  failure: string | undefined;
  active: boolean;
  /** A line about what the last action did ("saved to …"). */
  message: string | null;
  onChoice: (choice: EndChoice) => void;
}

/** The counts that head the end screen: every finding listed is counted, by what it is. */
export function finishedLine(ranked: Ranked): string {
  const parts = [
    [ranked.causes.length, 'cause'],
    [ranked.risks.length, 'risk'],
    [ranked.unknown.length, 'could not tell'],
    [ranked.hygiene.length, 'hygiene'],
  ]
    .filter(([n]) => (n as number) > 0)
    .map(([n, word]) => `${n} ${word === 'cause' || word === 'risk' ? `${word}${n === 1 ? '' : 's'}` : word}`);
  return parts.length ? `Finished: ${parts.join(', ')}.` : 'Finished. Nothing found that needs action.';
}

/**
 * The end of the walk: what users got, then the findings ranked (Enter
 * opens one: its evidence in words and its fixes), and what to do next.
 */
export function EndScreen({ ranked, failure, active, message, onChoice }: Props) {
  const { stdout } = useStdout();
  const rows = stdout.rows || 24;
  const width = Math.max(40, (stdout.columns || 80) - 1);
  const head = impactHead(ranked.impact).flatMap((l) => wrap(l, width));
  const listed = [...ranked.causes, ...ranked.risks, ...ranked.unknown, ...ranked.hygiene];
  const items: Choice[] = [
    ...listed.map((r) => ({ label: findingLabel(r, ranked.impact), value: `finding:${r.finding.id}` })),
    { label: 'Save the report to a file', value: 'save' },
    { label: 'Go back to a step…', value: 'back' },
    { label: 'Re-run the probes', value: 'rerun' },
    { label: 'Quit and print the report', value: 'quit' },
  ];
  const select = (choice: Choice) => {
    if (choice.value.startsWith('finding:')) {
      const finding = listed.find((r) => `finding:${r.finding.id}` === choice.value);
      if (finding) onChoice({ kind: 'finding', finding });
      return;
    }
    onChoice({ kind: choice.value as 'save' | 'back' | 'rerun' | 'quit' });
  };
  return (
    <Box flexDirection="column">
      {failure ? <Text {...color('bad')}>The flow stopped: {failure}</Text> : null}
      <Text bold>{finishedLine(ranked)}</Text>
      {head.map((line, i) => (
        <Text key={i}>{line}</Text>
      ))}
      {ranked.ruledOut.length ? (
        <Text {...color('muted')}>✔ {ranked.ruledOut.length} ruled out (listed in the report)</Text>
      ) : null}
      {listed.length ? <Text {...color('muted')}>Findings, most errors explained first — Enter opens one (evidence, fixes):</Text> : null}
      {/* Remounted when the findings change (a re-run), so the highlight starts at the top cause. */}
      {/* The frame stays below the terminal's height: header, counts, impact, list, message, footer. */}
      <ChoiceList key={items.map((i) => i.value).join('|')} isActive={active} onSelect={select} items={items} limit={rows - 10 - head.length} />
      {message ? <Text {...color('info')}>{message}</Text> : null}
    </Box>
  );
}

/** The impact's first two lines: the counts, since when and whether it goes on. Routes and peers are in the report. */
function impactHead(impact: Impact): string[] {
  return impactLines(impact).slice(0, 2).map((l) => l.trim());
}
