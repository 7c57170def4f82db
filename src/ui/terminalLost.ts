import { closeSync, openSync } from 'node:fs';

/** Exit code of a session whose terminal went away: 128 + SIGHUP, what a shell reports for a hung-up job. */
export const HANGUP_EXIT = 129;

/**
 * Calls `onLost` once when the wizard's terminal goes away: SIGHUP (an SSH
 * link dropped, tmux killed), or EIO / EOF reading or writing it.
 *
 * Why this is needed: without it, signal-exit (through Ink) answers SIGHUP by
 * unmounting Ink, whose last write (show the cursor) fails with EIO on the
 * dead terminal; that error is unhandled, and at exit Node's ResetStdio()
 * asserts that restoring the terminal's mode worked. tcsetattr() on a hung-up
 * tty fails with EIO, the assertion aborts, and the backtrace printer then
 * crashes in libgcc_s's unwinder: the `segfault … in libgcc_s.so.1` lines in
 * the kernel log. A SIGHUP listener of our own makes signal-exit stand back
 * (it acts only when its listeners are the only ones).
 */
export function watchTerminal(onLost: (reason: string) => void): () => void {
  let fired = false;
  const lost = (reason: string) => {
    if (fired) return;
    fired = true;
    onLost(reason);
  };
  const onHup = () => lost('SIGHUP: the terminal went away (a dropped SSH link, a closed window, tmux killed)');
  const onInputError = (error: NodeJS.ErrnoException) => lost(`the terminal could not be read (${error.code ?? error.message})`);
  const onOutputError = (error: NodeJS.ErrnoException) => lost(`the terminal could not be written (${error.code ?? error.message})`);
  const onEnd = () => lost('EOF on the terminal: it went away');
  process.on('SIGHUP', onHup);
  process.stdin.on('error', onInputError);
  process.stdin.on('end', onEnd);
  process.stdout.on('error', onOutputError);
  process.stderr.on('error', onOutputError);
  return () => {
    process.off('SIGHUP', onHup);
    process.stdin.off('error', onInputError);
    process.stdin.off('end', onEnd);
    process.stdout.off('error', onOutputError);
    process.stderr.off('error', onOutputError);
  };
}

/**
 * Exits without touching the dead terminal: stdin, stdout and stderr are
 * pointed at /dev/null first (close, then open takes the lowest free
 * descriptor), so late writes (Ink's exit handler) go nowhere and Node's
 * ResetStdio() at exit skips them, their file no longer being the terminal.
 */
export function exitWithoutTerminal(code: number = HANGUP_EXIT): never {
  for (const fd of [0, 1, 2]) {
    try {
      closeSync(fd);
      openSync('/dev/null', fd === 0 ? 'r' : 'w');
    } catch {
      // Nothing to restore there: go on with the others.
    }
  }
  process.exit(code);
}
