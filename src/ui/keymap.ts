import type { Key } from 'ink';

/** Every shortcut of the wizard, in one place: the handler, the footer and the help screen read this. */
export type Action = 'back' | 'details' | 'rerun' | 'skip' | 'note' | 'override' | 'help' | 'quit' | 'interrupt' | 'cancel';

export const KEYMAP: ReadonlyArray<{ action: Action; keys: string; label: string; matches: (input: string, key: Key) => boolean }> = [
  { action: 'interrupt', keys: 'Ctrl-C', label: 'quit (asks first)', matches: (input, key) => key.ctrl && input === 'c' },
  { action: 'back', keys: 'b', label: 'go back to a step (a list of the decisions and questions)', matches: (input, key) => input === 'b' && !key.ctrl && !key.meta },
  { action: 'details', keys: 'd', label: "a stage's decisions, evidence and commands", matches: (input, key) => input === 'd' && !key.ctrl && !key.meta },
  { action: 'rerun', keys: 'r', label: 're-run the latest probes', matches: (input, key) => input === 'r' && !key.ctrl && !key.meta },
  { action: 'skip', keys: 's', label: 'skip this step', matches: (input, key) => input === 's' && !key.ctrl && !key.meta },
  { action: 'override', keys: 'o', label: 'override a decision', matches: (input, key) => input === 'o' && !key.ctrl && !key.meta },
  { action: 'note', keys: 'n', label: 'add a note', matches: (input, key) => input === 'n' && !key.ctrl && !key.meta },
  { action: 'help', keys: '?', label: 'help', matches: (input) => input === '?' },
  { action: 'quit', keys: 'q', label: 'quit (asks first)', matches: (input, key) => input === 'q' && !key.ctrl && !key.meta },
  { action: 'cancel', keys: 'Esc', label: 'close', matches: (_input, key) => key.escape },
];

export const CHOICE_KEYS = '↑↓ move  Enter choose  1-9 pick';

export function actionFor(input: string, key: Key): Action | null {
  return KEYMAP.find((k) => k.matches(input, key))?.action ?? null;
}

export const FOOTER = 'b back  d details  r re-run  s skip  o override  n note  ? help  q quit';
