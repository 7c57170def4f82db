import { Box, Text, useInput, useStdout } from 'ink';
import SelectInput from 'ink-select-input';
import { useRef, useState } from 'react';
import { color } from './theme.js';

export interface Choice {
  label: string;
  value: string;
}

interface Props {
  items: Choice[];
  onSelect: (choice: Choice) => void;
  isActive?: boolean;
  /** At most this many rows of items (the rest scroll); default: the screen's height less 12. */
  limit?: number;
}

/**
 * ink-select-input renders the list; the keys are ours. Its own handler
 * reads the highlighted index from a closure that is refreshed only after the
 * next frame, so Down+Enter arriving together (pasted, or sent by tmux) runs
 * the old item while the screen shows the new one. Here the index lives in a
 * ref updated on every key, and the list is remounted at that index, so Enter
 * always acts on what is highlighted. After a choice, further keys from the
 * same burst are dropped rather than applied to a question not yet shown.
 */
export function ChoiceList({ items, onSelect, isActive = true, limit: rowsAllowed }: Props) {
  const index = useRef(0);
  const chosen = useRef(false);
  const [shown, setShown] = useState(0);
  // A list taller than the screen garbles the redraw: long lists (the decisions to override) scroll instead.
  const { stdout } = useStdout();
  const limit = Math.max(4, Math.min(items.length, rowsAllowed ?? (stdout.rows || 24) - 12));
  const scrolls = items.length > limit;

  useInput(
    (input, key) => {
      if (chosen.current || items.length === 0) return;
      if (key.downArrow || key.upArrow) {
        const step = key.downArrow ? 1 : -1;
        index.current = (index.current + step + items.length) % items.length;
        setShown(index.current);
        return;
      }
      // Digits pick by position only when every item is on screen.
      const picked = key.return ? index.current : !scrolls && /^[1-9]$/.test(input) ? Number(input) - 1 : -1;
      const item = items[picked];
      if (!item) return;
      index.current = picked;
      setShown(picked);
      chosen.current = true;
      onSelect(item);
    },
    { isActive },
  );

  return (
    <Box flexDirection="column">
      <SelectInput
        key={shown}
        items={items.map((item) => ({ ...item, key: item.value }))}
        initialIndex={shown}
        isFocused={false}
        indicatorComponent={Indicator}
        itemComponent={Item}
        {...(scrolls ? { limit } : {})}
      />
      {scrolls ? (
        <Text {...color('muted')}>
          ({shown + 1} of {items.length}; ↑↓ for more)
        </Text>
      ) : null}
    </Box>
  );
}

function Indicator({ isSelected = false }: { isSelected?: boolean }) {
  return (
    <Box marginRight={1}>
      <Text {...(isSelected ? color('info') : {})}>{isSelected ? '❯' : ' '}</Text>
    </Box>
  );
}

function Item({ isSelected = false, label }: { isSelected?: boolean; label: string }) {
  return (
    <Text {...(isSelected ? color('info') : {})} bold={isSelected}>
      {label}
    </Text>
  );
}
