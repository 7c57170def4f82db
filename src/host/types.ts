/**
 * The one door to the machine. Probes, fixes and the transcript never touch
 * node:child_process, node:fs or node:net directly: they go through a Host so
 * that a recorded session replays byte for byte (RecordedHost) and so every
 * command the tool runs can be shown to the operator first.
 */

export interface CommandSpec {
  /** Executable name or absolute path; never a shell string. */
  file: string;
  args: string[];
  timeoutMs: number;
  /** Extra environment; LC_ALL=C is always set so parsers see stable text. */
  env?: Record<string, string>;
}

/** Why a command produced no usable exit code. */
export type CommandFailure =
  | { kind: 'not-found'; message: string }
  | { kind: 'timeout'; message: string }
  | { kind: 'spawn-error'; message: string }
  | { kind: 'not-recorded'; message: string };

export interface CommandResult {
  stdout: string;
  stderr: string;
  /** null when the process never ran or was killed (see failure). */
  exitCode: number | null;
  durationMs: number;
  failure?: CommandFailure;
}

export interface ReadFileOptions {
  /** Read at most this many bytes from the end of the file (logs). */
  tailBytes?: number;
  /** Read at most this many bytes (from the start, or from position). */
  maxBytes?: number;
  /** Start reading here (byte offset), for reading a large file in blocks. */
  position?: number;
  /** latin1 keeps every byte as one character (logs, compressed files); utf8 is the default. */
  encoding?: 'utf8' | 'latin1';
}

export type FsErrorCode = 'ENOENT' | 'EACCES' | 'EISDIR' | 'ENOTDIR' | 'ELOOP' | 'OTHER' | 'NOT-RECORDED';

/** Bytes of one open file read at a position into the caller's buffer (RealHost.openBlocks, for full scans). */
export interface BlockSource {
  size: number;
  /** Reads up to `length` bytes at `position` into buffer[offset…]; 0 at the end of the file. */
  read(buffer: Buffer, offset: number, length: number, position: number): number;
  close(): void;
}

export interface FsError {
  code: FsErrorCode;
  message: string;
}

export type FileReadResult =
  | { ok: true; content: string; size: number; truncated: boolean }
  | { ok: false; error: FsError };

export type FileType = 'file' | 'directory' | 'socket' | 'symlink' | 'fifo' | 'other';

export type StatResult =
  | {
      ok: true;
      type: FileType;
      size: number;
      mode: number;
      uid: number;
      gid: number;
      mtimeMs: number;
      /** "dev:ino": equal for two paths to one file (a socket bound under /run, reached through /var/run). */
      fileId?: string | undefined;
    }
  | { ok: false; error: FsError };

export interface StatOptions {
  follow?: boolean;
}

export type ListDirResult = { ok: true; entries: string[] } | { ok: false; error: FsError };

export type ReadLinkResult = { ok: true; target: string } | { ok: false; error: FsError };

export type ConnectTarget = { kind: 'tcp'; host: string; port: number } | { kind: 'unix'; path: string };

export interface ConnectOptions {
  timeoutMs: number;
  /** Bytes to send once connected (e.g. one HTTP request). */
  send?: string;
  /** After sending, keep reading until the peer closes or this much idle time passes. */
  idleMs?: number;
  /** Give up when no data at all has come this long after sending (a backend that does not answer). */
  answerMs?: number;
}

/** One thing that happened on a connection, at ms after the connect() call. */
export type ConnectionEvent =
  | { atMs: number; kind: 'connected' }
  | { atMs: number; kind: 'data'; bytes: number; text: string }
  | { atMs: number; kind: 'fin' }
  | { atMs: number; kind: 'reset'; message: string }
  | { atMs: number; kind: 'error'; code: string; message: string }
  | { atMs: number; kind: 'idle-timeout' }
  | { atMs: number; kind: 'no-answer' };

export interface ConnectResult {
  connected: boolean;
  events: ConnectionEvent[];
  durationMs: number;
}

export interface HostInfo {
  hostname: string;
  /** Effective uid; 0 means probes see everything. */
  uid: number;
  platform: string;
  /** Kernel release (uname -r), for kernel-version dependent readings. */
  release: string;
}

export interface Host {
  info(): HostInfo;
  run(spec: CommandSpec): Promise<CommandResult>;
  readFile(path: string, options?: ReadFileOptions): Promise<FileReadResult>;
  /** lstat, or stat when `follow` (as connect() and open() see a path). */
  stat(path: string, options?: StatOptions): Promise<StatResult>;
  listDir(path: string): Promise<ListDirResult>;
  /** Where a symbolic link points (e.g. /proc/PID/fd/N → socket:[INODE]). */
  readLink(path: string): Promise<ReadLinkResult>;
  connect(target: ConnectTarget, options: ConnectOptions): Promise<ConnectResult>;
  /** Wall clock, epoch ms. */
  now(): number;
  /**
   * The wall clock at a moment a result depends on (the end of a probe run's
   * window, the time ps was read), noted under a label: a recording keeps it
   * and a replay returns the same value for the same label, in the same
   * order, however the concurrent probes interleave.
   */
  mark(label: string): number;
  /** Waiting goes through the host so a replay does not really wait. */
  sleep(ms: number): Promise<void>;
  /**
   * Changes to the machine. Only the apply engine uses them, after the
   * operator saw the diff and confirmed; probes never do. A replay has none:
   * nothing recorded can be changed.
   */
  readonly writes?: HostWrites | undefined;
}

export type WriteResult = { ok: true } | { ok: false; error: FsError };

export interface HostWrites {
  /** Writes the whole file and fsyncs it before closing; `exclusive` fails when it exists (O_EXCL). */
  writeFile(path: string, data: Buffer, options: { mode: number; exclusive?: boolean }): Promise<WriteResult>;
  /** rename(2), then fsync of the target's directory so the new name survives a crash. */
  rename(from: string, to: string): Promise<WriteResult>;
  /** mkdir -p with this mode for the directories it creates. */
  mkdir(path: string, mode: number): Promise<WriteResult>;
  remove(path: string): Promise<WriteResult>;
  chown(path: string, uid: number, gid: number): Promise<WriteResult>;
  chmod(path: string, mode: number): Promise<WriteResult>;
  /** The file behind every symbolic link. */
  realpath(path: string): Promise<{ ok: true; path: string } | { ok: false; error: FsError }>;
  /** Bytes free for this user on the file system of path (statfs), or null when it cannot be read. */
  freeBytes(path: string): Promise<number | null>;
  /** Whether a process with this pid exists (kill(pid, 0)). */
  processAlive(pid: number): boolean;
}

/** How a command is shown to the operator: exactly what runs, quoted only for display. */
export function formatCommand(spec: Pick<CommandSpec, 'file' | 'args'>): string {
  return [spec.file, ...spec.args].map(shellQuoteForDisplay).join(' ');
}

function shellQuoteForDisplay(word: string): string {
  if (word === '') return "''";
  if (/^[A-Za-z0-9_@%+=:,./-]+$/.test(word)) return word;
  return `'${word.replace(/'/g, `'\\''`)}'`;
}
