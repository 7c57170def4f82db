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

type Cleanup = (reason: string) => Promise<void> | void;
const cleanups = new Set<Cleanup>();

/**
 * Work that must finish before a session whose terminal went away exits:
 * the apply engine rolls back a change in progress here (or leaves it to its
 * journal), writing its rollback events while the transcript is still open.
 * Returns the unregister. Each gets at most CLEANUP_MS.
 */
export function beforeHangupExit(cleanup: Cleanup): () => void {
  cleanups.add(cleanup);
  return () => cleanups.delete(cleanup);
}

const CLEANUP_MS = 20_000;

/**
 * Points stdin, stdout and stderr at /dev/null (close, then open takes the
 * lowest free descriptor), so late writes (Ink's re-renders, its exit
 * handler) go nowhere and Node's ResetStdio() at exit skips them, their file
 * no longer being the terminal.
 */
export function detachFromTerminal(): void {
  for (const fd of [0, 1, 2]) {
    try {
      closeSync(fd);
      openSync('/dev/null', fd === 0 ? 'r' : 'w');
    } catch {
      // Nothing to restore there: go on with the others.
    }
  }
}

/** Off the dead terminal, the registered cleanups run (bounded), then `last` (the transcript's interrupted event), then exit 129. */
export async function exitAfterHangup(reason: string, last: () => Promise<void> | void, code: number = HANGUP_EXIT): Promise<never> {
  detachFromTerminal();
  const timeout = new Promise<void>((resolve) => setTimeout(resolve, CLEANUP_MS).unref());
  await Promise.race([Promise.allSettled([...cleanups].map(async (cleanup) => cleanup(reason))), timeout]);
  try {
    await last();
  } finally {
    process.exit(code);
  }
}
