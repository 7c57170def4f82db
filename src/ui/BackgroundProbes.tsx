import { Text } from 'ink';
import { useEffect, useRef, useState } from 'react';
import type { EngineState } from '../engine/state.js';
import { Spinner } from './Spinner.js';
import { color } from './theme.js';

/** Slow probes running while the flow goes on, each with a countdown to its longest wait. */
export function BackgroundProbes({ state }: { state: EngineState }) {
  const entries = Object.entries(state.background);
  const seen = useRef(new Map<string, number>());
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    if (entries.length === 0) return;
    const timer = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(timer);
  }, [entries.length]);
  if (entries.length === 0) return null;
  return (
    <>
      {entries.map(([id, probe]) => {
        const key = `${id}:${probe.runId}`;
        if (probe.startedAt !== null && !seen.current.has(key)) seen.current.set(key, Date.now());
        const since = seen.current.get(key);
        const elapsed = since === undefined ? 0 : Math.max(0, now - since);
        const left = probe.expectedMs !== null && since !== undefined ? Math.max(0, Math.ceil((probe.expectedMs - elapsed) / 1000)) : null;
        return (
          <Text key={key} wrap="truncate-end">
            <Spinner /> <Text bold>{id}</Text>
            <Text {...color('muted')}> in the background{left !== null ? `, at most ${left} s left` : ''}{probe.commands[0] ? ` — ${probe.commands[0]}` : ''}</Text>
          </Text>
        );
      })}
    </>
  );
}
