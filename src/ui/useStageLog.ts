import { useRef } from 'react';
import type { EngineState, Step } from '../engine/state.js';
import { stageRuns, type StageOf, type StageRun } from './stages.js';

export type StageLogEntry =
  | { key: number; kind: 'stage'; run: StageRun }
  | { key: number; kind: 'rewind'; text: string }
  | { key: number; kind: 'note'; text: string };

/**
 * The walk's scrollback: one checklist line per finished stage. <Static>
 * only appends, and `b`, `r` and overrides shorten the path: a stage
 * printed once stays; going back prints a line saying where to, and the
 * stages walked again are printed again as they finish.
 */
export function useStageLog(state: EngineState, stageOf: StageOf): StageLogEntry[] {
  const log = useRef<StageLogEntry[]>([]);
  const printed = useRef<Array<{ id: string; steps: Step[] }>>([]);
  const notesSeen = useRef(0);
  const nextKey = useRef(0);

  const over = state.status === 'finished' || state.status === 'failed';
  const runs = stageRuns(state, stageOf);
  // The stage being walked is live until the walk moves on (or ends); a paused step is live too.
  const finished = runs.filter((run, i) => {
    if (i < runs.length - 1) return !(state.status === 'paused' && run.start + run.steps.length >= state.path.length);
    return over;
  });
  const same = (a: { id: string; steps: Step[] }, b: StageRun) => a.id === b.stage.id && a.steps.length === b.steps.length && a.steps.every((s, i) => s === b.steps[i]);
  let common = 0;
  while (common < printed.current.length && common < finished.length && same(printed.current[common]!, finished[common]!)) common++;
  if (common < printed.current.length) {
    const where = runs.at(-1);
    log.current = [...log.current, { key: nextKey.current++, kind: 'rewind', text: `↩ back to step ${state.path.length}${where ? ` (${where.stage.label})` : ''}` }];
  }
  const added = finished.slice(common).map((run) => ({ key: nextKey.current++, kind: 'stage' as const, run }));
  if (added.length > 0 || common < printed.current.length) {
    log.current = [...log.current, ...added];
    printed.current = finished.map((run) => ({ id: run.stage.id, steps: [...run.steps] }));
  }
  if (state.notes.length > notesSeen.current) {
    const notes = state.notes.slice(notesSeen.current).map((n) => ({ key: nextKey.current++, kind: 'note' as const, text: `note at ${n.node}: ${n.text}` }));
    log.current = [...log.current, ...notes];
    notesSeen.current = state.notes.length;
  }
  return log.current;
}
