import { closeSync, fsyncSync, mkdirSync, openSync, statSync, chmodSync, writeSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { redactDeep, redactStringsCounted } from '../masking/redact.js';
import { UserError } from '../util/userError.js';
import type { TranscriptEvent, TranscriptInput } from './events.js';

/**
 * The session's transcript file, written as the session goes: each event is
 * masked and appended as one line with a write(2) before the call returns,
 * so a SIGKILL or a dropped link loses at most the event being written (a
 * partial last line, which the reader skips): what was written is in the
 * kernel's hands. Each step entered is also fsynced, with everything before
 * it, so the next step starts only once the last one is on disk, and even a
 * power cut loses at most the step in progress. (An fsync per event, ~110 in
 * a demo, made a session a second slower on a busy machine.)
 */
export class Transcript {
  private fd: number | null;
  private maskedCount = 0;
  private failed = false;

  private constructor(
    readonly path: string,
    fd: number,
    readonly mask: boolean,
    /** The session host's clock: a replay's events keep the recorded times, in step with its commands. */
    private readonly clock: () => number,
  ) {
    this.fd = fd;
  }

  /**
   * Opens a new transcript: at `path` when given (--transcript), else in
   * STATE_DIR/sessions/ (0700) named by start time (UTC) and host. Never
   * overwrites a file. The file is 0600: it holds configs and logs.
   */
  static create(options: { path?: string | undefined; stateDir: string; hostname: string; at: number; mask: boolean; clock?: () => number }): Transcript {
    const clock = options.clock ?? Date.now;
    if (options.path) {
      mkdirSync(dirname(options.path), { recursive: true, mode: 0o700 });
      return new Transcript(options.path, openNew(options.path), options.mask, clock);
    }
    const dir = join(options.stateDir, 'sessions');
    try {
      mkdirSync(dir, { recursive: true, mode: 0o700 });
      // mkdir's mode applies only to a directory it creates (and passes the umask): make sure.
      const stat = statSync(dir);
      if ((stat.mode & 0o777) !== 0o700 && stat.uid === process.getuid?.()) chmodSync(dir, 0o700);
    } catch (error) {
      throw new UserError(`cannot create the transcript folder ${dir}: ${(error as Error).message} (give --state-dir DIR or --transcript PATH, or --no-transcript)`);
    }
    const base = `${compactTime(options.at)}-${options.hostname.replace(/[^A-Za-z0-9.-]/g, '_') || 'host'}`;
    for (let n = 1; ; n++) {
      const path = join(dir, n === 1 ? `${base}.jsonl` : `${base}-${n}.jsonl`);
      try {
        return new Transcript(path, openNew(path), options.mask, clock);
      } catch (error) {
        if (!(error instanceof UserError) || !error.message.includes('already exists') || n > 50) throw error;
      }
    }
  }

  get open(): boolean {
    return this.fd !== null;
  }

  /** Secret values masked so far. */
  get masked(): number {
    return this.maskedCount;
  }

  /** Appends one event and fsyncs it. After the transcript is closed (or a write failed) it does nothing. */
  write(input: TranscriptInput): void {
    if (this.fd === null) return;
    const event = { ...input, at: input.at ?? this.clock() } as TranscriptEvent;
    const line = JSON.stringify(this.mask ? this.redact(event) : event) + '\n';
    try {
      writeSync(this.fd, line);
      if (SYNCED.has(event.type)) fsyncSync(this.fd);
    } catch (error) {
      // A full disk must not take the diagnosis down with it: say so once and go on without.
      if (!this.failed) process.stderr.write(`reset-doctor: transcript ${this.path}: ${(error as Error).message}; no more events are written to it\n`);
      this.failed = true;
      this.closeFile();
    }
  }

  /** Writes the last event (end or interrupted) and closes the file; later calls do nothing. */
  close(last: DistributiveOmit<Extract<TranscriptInput, { type: 'end' | 'interrupted' }>, 'masked'>): void {
    if (this.fd === null) return;
    this.write({ ...last, masked: this.maskedCount } as TranscriptInput);
    this.closeFile();
  }

  private closeFile(): void {
    if (this.fd === null) return;
    try {
      closeSync(this.fd);
    } catch {
      // already gone
    }
    this.fd = null;
  }

  /**
   * Host calls are masked exactly as --record masks them (their text fields:
   * what was read), so a transcript replays like a recording; every other
   * event has all its strings masked, as the reports do.
   */
  private redact(event: TranscriptEvent): TranscriptEvent {
    if (event.type === 'host') {
      const { value, masked } = redactDeep(event.entry);
      this.maskedCount += masked;
      return { ...event, entry: value };
    }
    const { value, masked } = redactStringsCounted(event);
    this.maskedCount += masked;
    return value;
  }
}

/**
 * Events after which the file is fsynced: each step entered (so all that
 * came before it is on disk before the step starts), what the operator did,
 * each change and rollback, and the last event. The rest (commands, probe
 * results, the decision and finding a step reached) is written at once and
 * synced with the next of these.
 */
const SYNCED = new Set<TranscriptEvent['type']>(['start', 'step', 'operator', 'answer', 'change', 'rollback', 'end', 'interrupted']);

function openNew(path: string): number {
  try {
    return openSync(path, 'wx', 0o600);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') throw new UserError(`transcript ${path} already exists: give another --transcript PATH`);
    throw new UserError(`cannot write the transcript ${path}: ${(error as Error).message} (give --transcript PATH or --no-transcript)`);
  }
}

/** 2026-12-01T16:36:51.123Z → 20261201T163651Z: sorts by time, no characters a shell or a ticket system minds. */
function compactTime(ms: number): string {
  return new Date(ms).toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
}

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;
