import { Text } from 'ink';
import { useEffect, useState } from 'react';
import { color } from './theme.js';

const FRAMES = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];

/** 120 ms a frame: smooth enough, and cheap over a slow SSH link. */
export function Spinner() {
  const [frame, setFrame] = useState(0);
  useEffect(() => {
    const timer = setInterval(() => setFrame((f) => (f + 1) % FRAMES.length), 120);
    return () => clearInterval(timer);
  }, []);
  return <Text {...color('info')}>{FRAMES[frame]}</Text>;
}
