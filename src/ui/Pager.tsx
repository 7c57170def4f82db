import { Box, Text, useInput, useStdout } from 'ink';
import { useState } from 'react';
import { wrap } from './stepLines.js';
import { color } from './theme.js';

/** A key the view offers besides scrolling, e.g. {key: 'a', label: 'apply', run}. Esc always closes. */
export interface ViewAction {
  key: string;
  label: string;
  run: () => void;
}

interface Props {
  title: string;
  lines: string[];
  actions: ViewAction[];
  onClose: () => void;
}

/**
 * Lines longer than the screen, shown a screenful at a time: ↑↓ scroll a
 * line, PgUp/PgDn/Space a page. The view stays within the terminal's rows,
 * so it never garbles the redraw or floods the scrollback.
 */
export function Pager({ title, lines, actions, onClose }: Props) {
  const { stdout } = useStdout();
  const width = Math.max(40, (stdout.columns || 80) - 1);
  const height = Math.max(5, (stdout.rows || 24) - 6);
  const wrapped = lines.flatMap((l) => wrap(l, width));
  const [top, setTop] = useState(0);
  const maxTop = Math.max(0, wrapped.length - height);
  useInput((input, key) => {
    if (key.escape) return onClose();
    if (key.downArrow) return setTop((t) => Math.min(maxTop, t + 1));
    if (key.upArrow) return setTop((t) => Math.max(0, t - 1));
    if (key.pageDown || input === ' ') return setTop((t) => Math.min(maxTop, t + height));
    if (key.pageUp) return setTop((t) => Math.max(0, t - height));
    const action = actions.find((a) => a.key === input);
    if (action) action.run();
  });
  const shown = wrapped.slice(top, top + height);
  const more = wrapped.length > height ? ` · lines ${top + 1}–${top + shown.length} of ${wrapped.length}, ↑↓ PgUp PgDn to scroll` : '';
  return (
    <Box flexDirection="column">
      <Text bold wrap="truncate-end">
        {title}
      </Text>
      {shown.map((line, i) => (
        <Text key={top + i}>{line}</Text>
      ))}
      <Text {...color('muted')} wrap="truncate-end">
        {['Esc back', ...actions.map((a) => `${a.key} ${a.label}`)].join('  ')}
        {more}
      </Text>
    </Box>
  );
}
