import { useRef } from 'react';
import type { EngineState, Step } from '../engine/state.js';

export type LogEntry =
  | { key: number; kind: 'step'; step: Step; number: number }
  | { key: number; kind: 'rewind'; text: string }
  | { key: number; kind: 'note'; text: string };

/**
 * <Static> only appends, but `b`, `r` and overrides shorten the path. The
 * log is therefore append-only: finished steps are printed once; a rewind is
 * printed as a line saying where the session went back to, and the steps
 * taken after it are printed again as they happen.
 */
export function useStepLog(state: EngineState): LogEntry[] {
  const log = useRef<LogEntry[]>([]);
  const printed = useRef<Step[]>([]);
  const notesSeen = useRef(0);
  const nextKey = useRef(0);

  const finished = state.path.filter((step, i) => {
    if (!step.outcome) return false;
    const isCurrent = i === state.path.length - 1;
    // The paused step is shown live, not yet in the log.
    return !(isCurrent && state.status === 'paused');
  });
  let common = 0;
  while (common < printed.current.length && common < finished.length && printed.current[common] === finished[common]) common++;
  if (common < printed.current.length) {
    const where = state.path[common];
    log.current = [...log.current, { key: nextKey.current++, kind: 'rewind', text: `↩ back to step ${common + 1}${where ? ` (${where.node})` : ''}` }];
  }
  const added = finished.slice(common).map((step, i) => ({ key: nextKey.current++, kind: 'step' as const, step, number: common + i + 1 }));
  if (added.length > 0 || common < printed.current.length) {
    log.current = [...log.current, ...added];
    printed.current = finished;
  }
  if (state.notes.length > notesSeen.current) {
    const notes = state.notes.slice(notesSeen.current).map((n) => ({ key: nextKey.current++, kind: 'note' as const, text: `note at ${n.node}: ${n.text}` }));
    log.current = [...log.current, ...notes];
    notesSeen.current = state.notes.length;
  }
  return log.current;
}
