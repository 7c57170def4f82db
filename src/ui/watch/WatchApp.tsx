/**
 * `reset-doctor watch` in a terminal: the WatchView redrawn as the follower
 * and the event watcher report; q or Ctrl-C quits.
 */
import { useApp, useInput, useStdout } from 'ink';
import { useEffect, useState } from 'react';
import type { WatchStore } from '../../watch/store.js';
import { WatchView } from './WatchView.js';

export function WatchApp({ store, onQuit }: { store: WatchStore; onQuit: () => void }) {
  const { exit } = useApp();
  const { stdout } = useStdout();
  const [, setVersion] = useState(0);
  const [size, setSize] = useState({ width: stdout.columns || 80, height: stdout.rows || 24 });
  useEffect(() => store.subscribe(() => setVersion((v) => v + 1)), [store]);
  useEffect(() => {
    const resize = () => setSize({ width: stdout.columns || 80, height: stdout.rows || 24 });
    stdout.on('resize', resize);
    return () => void stdout.off('resize', resize);
  }, [stdout]);
  useInput((input, key) => {
    if (input === 'q' || (key.ctrl && input === 'c')) {
      onQuit();
      exit();
    }
  });
  const snapshot = store.snapshot();
  // One line fewer than the terminal: a frame as tall as the screen makes Ink clear and redraw it all.
  return <WatchView counts={snapshot.counts} events={snapshot.events} nowMs={snapshot.nowMs} width={size.width} height={size.height - 1} notes={snapshot.notes} />;
}
