/**
 * Progress of log reads on a terminal: after a read has taken a second,
 * bytes, lines and rate on stderr, one line redrawn in place with the
 * wizard's spinner frames (src/ui/Spinner.tsx), wiped when the reads end.
 * Reads in flight at once (the error log and the access logs, read side by
 * side) are shown as one total. Off unless a command turns it on: the CLI
 * does when both stdout and stderr are terminals, so nothing is written
 * when the output is piped or --json goes to a file.
 */
const FRAMES = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];
const AFTER_MS = 1000;
const EVERY_MS = 150;

export interface ReadProgress {
  /** bytes and lines read since the last call. */
  advance(bytes: number, lines: number): void;
  end(): void;
}

let stream: NodeJS.WriteStream | null = null;
let active = 0;
let total = 0;
let bytes = 0;
let lines = 0;
let startedAt = 0;
let timer: NodeJS.Timeout | null = null;
let frame = 0;
let drawn = false;

/** Shows progress on `to` from now on (null: never). */
export function showReadProgress(to: NodeJS.WriteStream | null): void {
  stream = to;
}

/** Whether this process should show progress: both its output and its stderr are terminals. */
export function progressWanted(): boolean {
  return Boolean(process.stdout.isTTY && process.stderr.isTTY);
}

const NOTHING: ReadProgress = { advance: () => undefined, end: () => undefined };

/** A read of `size` bytes starts. */
export function startRead(size: number): ReadProgress {
  if (!stream) return NOTHING;
  if (active++ === 0) {
    total = bytes = lines = 0;
    startedAt = performance.now();
    timer = setInterval(draw, EVERY_MS);
    timer.unref();
  }
  total += size;
  let ended = false;
  return {
    advance: (b, l) => {
      bytes += b;
      lines += l;
    },
    end: () => {
      if (ended) return;
      ended = true;
      if (--active === 0) {
        if (timer) clearInterval(timer);
        timer = null;
        if (drawn && stream) stream.write('\r\x1b[K');
        drawn = false;
      }
    },
  };
}

const mb = (n: number) => (n >= 1e9 ? `${(n / 1e9).toFixed(2)} GB` : `${(n / 1e6).toFixed(0)} MB`);
const count = (n: number) => (n >= 1e6 ? `${(n / 1e6).toFixed(1)} M` : n >= 1e3 ? `${(n / 1e3).toFixed(0)} k` : String(n));

function draw(): void {
  const elapsed = performance.now() - startedAt;
  if (!stream || elapsed < AFTER_MS) return;
  frame = (frame + 1) % FRAMES.length;
  const rate = bytes / (elapsed / 1000);
  stream.write(`\r\x1b[K${FRAMES[frame]} reading logs: ${mb(bytes)} of ${mb(total)}, ${count(lines)} lines, ${mb(rate)}/s`);
  drawn = true;
}
