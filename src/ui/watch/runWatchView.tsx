import { render } from 'ink';
import type { WatchStore } from '../../watch/store.js';
import { WatchApp } from './WatchApp.js';

/**
 * Draws the watch screen until q or Ctrl-C (onQuit). close() ends it from
 * outside (a SIGINT or SIGTERM); done resolves once Ink has let go of the terminal.
 */
export function runWatchView(store: WatchStore, onQuit: () => void): { done: Promise<void>; close: () => void } {
  const instance = render(<WatchApp store={store} onQuit={onQuit} />, { exitOnCtrlC: false });
  const done = instance.waitUntilExit().then(() => instance.cleanup());
  return { done, close: () => instance.unmount() };
}
