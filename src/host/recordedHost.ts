import type {
  CommandResult,
  CommandSpec,
  ConnectOptions,
  ConnectResult,
  ConnectTarget,
  FileReadResult,
  Host,
  HostInfo,
  ListDirResult,
  ReadFileOptions,
  ReadLinkResult,
  StatOptions,
  StatResult,
} from './types.js';
import type { Recording, RecordingEntry } from './recording.js';

type EntryOf<K extends RecordingEntry['kind']> = Extract<RecordingEntry, { kind: K }>;

/**
 * Replays a recording. Calls are matched by what was asked (command and
 * arguments, path, target); repeated identical calls get the recorded answers
 * in order, and the last one again once those run out, so re-running a probe
 * in a demo behaves like re-running it on the real host. Anything never
 * recorded answers as "not recorded" rather than inventing output.
 */
export class RecordedHost implements Host {
  private readonly queues = new Map<string, RecordingEntry[]>();
  private readonly lastServed = new Map<string, RecordingEntry>();
  private clockMs: number;

  constructor(private readonly recording: Recording) {
    this.clockMs = recording.startedAtMs;
    for (const entry of recording.entries) {
      const key = keyOf(entry);
      const queue = this.queues.get(key) ?? [];
      queue.push(entry);
      this.queues.set(key, queue);
    }
  }

  info(): HostInfo {
    return { ...this.recording.host };
  }

  private take<K extends RecordingEntry['kind']>(key: string): EntryOf<K> | undefined {
    const queue = this.queues.get(key);
    const next = queue?.shift() ?? this.lastServed.get(key);
    if (next) {
      this.lastServed.set(key, next);
      this.clockMs = Math.max(this.clockMs, this.recording.startedAtMs + next.atMs);
    }
    return next as EntryOf<K> | undefined;
  }

  async run(spec: CommandSpec): Promise<CommandResult> {
    const entry = this.take<'command'>(commandKey(spec.file, spec.args));
    if (!entry) {
      return {
        stdout: '',
        stderr: '',
        exitCode: null,
        durationMs: 0,
        failure: { kind: 'not-recorded', message: `not in the recording: ${[spec.file, ...spec.args].join(' ')}` },
      };
    }
    const result: CommandResult = { stdout: entry.stdout, stderr: entry.stderr, exitCode: entry.exitCode, durationMs: entry.durationMs };
    if (entry.failure) result.failure = { ...entry.failure };
    return result;
  }

  async readFile(path: string, options: ReadFileOptions = {}): Promise<FileReadResult> {
    const entry = this.take<'readFile'>(readFileKey(path, options));
    return entry ? entry.result : notRecorded(path);
  }

  async stat(path: string, options: StatOptions = {}): Promise<StatResult> {
    const entry = this.take<'stat'>(statKey(path, options.follow));
    return entry ? entry.result : notRecorded(path);
  }

  async listDir(path: string): Promise<ListDirResult> {
    const entry = this.take<'listDir'>(`listDir\0${path}`);
    return entry ? entry.result : notRecorded(path);
  }

  async readLink(path: string): Promise<ReadLinkResult> {
    const entry = this.take<'readLink'>(`readLink\0${path}`);
    return entry ? entry.result : notRecorded(path);
  }

  async connect(target: ConnectTarget, options: ConnectOptions): Promise<ConnectResult> {
    const entry = this.take<'connect'>(connectKey(target, options));
    if (!entry) {
      return { connected: false, durationMs: 0, events: [{ atMs: 0, kind: 'error', code: 'NOT-RECORDED', message: 'not in the recording' }] };
    }
    return entry.result;
  }

  now(): number {
    return this.clockMs;
  }

  /** The recorded moment; recordings made before marks existed fall back to the replay clock. */
  mark(label: string): number {
    const entry = this.take<'mark'>(`mark\0${label}`);
    return entry ? entry.value : this.clockMs;
  }

  async sleep(ms: number): Promise<void> {
    this.clockMs += ms;
  }
}

function notRecorded(path: string): { ok: false; error: { code: 'NOT-RECORDED'; message: string } } {
  return { ok: false, error: { code: 'NOT-RECORDED', message: `${path}: not in the recording` } };
}

/** lstat and stat of one path are two readings: a symbolic link is one thing to lstat, its target to stat. */
function statKey(path: string, follow: boolean | undefined): string {
  return follow ? `stat\0${path}\0follow` : `stat\0${path}`;
}

export function commandKey(file: string, args: readonly string[]): string {
  return ['command', file, ...args].join('\0');
}

export function readFileKey(path: string, options: ReadFileOptions | { [K in keyof ReadFileOptions]?: ReadFileOptions[K] | undefined }): string {
  const { tailBytes, maxBytes, position, encoding } = options;
  return `readFile\0${path}\0${tailBytes ?? ''}\0${maxBytes ?? ''}\0${position ?? ''}\0${encoding ?? 'utf8'}`;
}

export function connectKey(target: ConnectTarget, options: { send?: string | undefined; idleMs?: number | undefined; answerMs?: number | undefined }): string {
  const where = target.kind === 'tcp' ? `${target.host}:${target.port}` : `unix:${target.path}`;
  return `connect\0${where}\0${options.send ?? ''}\0${options.idleMs ?? ''}\0${options.answerMs ?? ''}`;
}

function keyOf(entry: RecordingEntry): string {
  switch (entry.kind) {
    case 'command':
      return commandKey(entry.file, entry.args);
    case 'readFile':
      return readFileKey(entry.path, entry);
    case 'stat':
      return statKey(entry.path, entry.follow);
    case 'listDir':
      return `listDir\0${entry.path}`;
    case 'readLink':
      return `readLink\0${entry.path}`;
    case 'connect':
      return connectKey(entry.target, entry);
    case 'mark':
      return `mark\0${entry.label}`;
  }
}
