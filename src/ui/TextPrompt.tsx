import { Box, Text, useInput } from 'ink';
import { useRef, useState } from 'react';
import { color } from './theme.js';

interface Props {
  label: string;
  onSubmit: (text: string) => void;
  onCancel: () => void;
}

/** One line of text: Enter submits, Esc cancels, Backspace deletes. Pasted text arrives whole. */
export function TextPrompt({ label, onSubmit, onCancel }: Props) {
  const value = useRef('');
  const [shown, setShown] = useState('');
  useInput((input, key) => {
    if (key.escape) return onCancel();
    if (key.return) return onSubmit(value.current);
    if (key.backspace || key.delete) value.current = value.current.slice(0, -1);
    else if (!key.ctrl && !key.meta && input) value.current += input.replace(/[\r\n]+/g, ' ');
    setShown(value.current);
  });
  return (
    <Box flexDirection="column">
      <Text>{label}</Text>
      <Text>
        <Text {...color('info')}>› </Text>
        {shown}
        <Text inverse> </Text>
      </Text>
      <Text {...color('muted')}>Enter to save · Esc to cancel</Text>
    </Box>
  );
}
