/**
 * The live view of error counts per peer and signature, with sparklines, the
 * reload marker and the latest events. `reset-doctor watch` shows it full
 * screen; the wizard's verification screen embeds it with the reload it made.
 */
import { Box, Text } from 'ink';
import type { TrafficCounts } from '../../apply/types.js';
import type { WatchEvent } from '../../watch/events.js';
import { watchScreen } from '../../watch/render.js';
import { color } from '../theme.js';

export interface WatchViewProps {
  counts: TrafficCounts;
  events: readonly WatchEvent[];
  /** Marked under its bucket (the verification's reload); else the latest nginx reload among the events. */
  reloadAtMs?: number | null;
  /** The newest bucket shown holds this time (default: now). */
  nowMs?: number;
  /** Columns (default: the terminal's, else 80). */
  width?: number;
  /** Lines the view may take (default 16: room beside the wizard's own lines). */
  height?: number;
  bucketMs?: number;
  title?: string;
  notes?: readonly string[];
}

export function WatchView(props: WatchViewProps) {
  const lines = watchScreen({ ...props, nowMs: props.nowMs ?? Date.now(), width: props.width ?? (process.stdout.columns || 80), height: props.height ?? 16 });
  return (
    <Box flexDirection="column">
      {lines.map((line, i) => (
        <Text key={i} wrap="truncate" {...(line.tone ? color(line.tone) : {})}>
          {line.text === '' ? ' ' : line.text}
        </Text>
      ))}
    </Box>
  );
}
