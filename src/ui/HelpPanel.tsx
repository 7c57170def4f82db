import { Box, Text } from 'ink';
import { CHOICE_KEYS, KEYMAP } from './keymap.js';
import { color } from './theme.js';

export function HelpPanel() {
  return (
    <Box flexDirection="column" borderStyle="round" paddingX={1}>
      <Text bold>Keys</Text>
      <Text>{CHOICE_KEYS}</Text>
      {KEYMAP.map((k) => (
        <Text key={k.action}>
          <Text {...color('info')}>{k.keys.padEnd(7)}</Text> {k.label}
        </Text>
      ))}
      <Text {...color('muted')}>Every command is shown before it runs; nothing on this machine is changed. ? or Esc closes.</Text>
    </Box>
  );
}
