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
import { RECORDING_FORMAT, RECORDING_VERSION, type Recording, type RecordingEntry } from './recording.js';

/** Passes every call to the real host and writes down what was asked and answered. */
export class RecordingHost implements Host {
  private readonly entries: RecordingEntry[] = [];
  private readonly startedAtMs: number;

  /** Changes are not recorded: a replay never applies anything. */
  get writes() {
    return this.inner.writes;
  }

  constructor(private readonly inner: Host) {
    this.startedAtMs = inner.now();
  }

  private offset(): number {
    return this.inner.now() - this.startedAtMs;
  }

  info(): HostInfo {
    return this.inner.info();
  }

  async run(spec: CommandSpec): Promise<CommandResult> {
    const atMs = this.offset();
    const result = await this.inner.run(spec);
    this.entries.push({ kind: 'command', file: spec.file, args: [...spec.args], atMs, ...result });
    return result;
  }

  async readFile(path: string, options: ReadFileOptions = {}): Promise<FileReadResult> {
    const atMs = this.offset();
    const result = await this.inner.readFile(path, options);
    this.entries.push({ kind: 'readFile', path, atMs, result, ...options });
    return result;
  }

  async stat(path: string, options: StatOptions = {}): Promise<StatResult> {
    const atMs = this.offset();
    const result = await this.inner.stat(path, options);
    this.entries.push({ kind: 'stat', path, atMs, result, ...(options.follow ? { follow: true } : {}) });
    return result;
  }

  async listDir(path: string): Promise<ListDirResult> {
    const atMs = this.offset();
    const result = await this.inner.listDir(path);
    this.entries.push({ kind: 'listDir', path, atMs, result });
    return result;
  }

  async readLink(path: string): Promise<ReadLinkResult> {
    const atMs = this.offset();
    const result = await this.inner.readLink(path);
    this.entries.push({ kind: 'readLink', path, atMs, result });
    return result;
  }

  async connect(target: ConnectTarget, options: ConnectOptions): Promise<ConnectResult> {
    const atMs = this.offset();
    const result = await this.inner.connect(target, options);
    const entry: RecordingEntry = { kind: 'connect', target, atMs, result };
    if (options.send !== undefined) entry.send = options.send;
    if (options.idleMs !== undefined) entry.idleMs = options.idleMs;
    if (options.answerMs !== undefined) entry.answerMs = options.answerMs;
    this.entries.push(entry);
    return result;
  }

  mark(label: string): number {
    const value = this.inner.mark(label);
    this.entries.push({ kind: 'mark', label, value, atMs: value - this.startedAtMs });
    return value;
  }

  now(): number {
    return this.inner.now();
  }

  sleep(ms: number): Promise<void> {
    return this.inner.sleep(ms);
  }

  toRecording(options: Record<string, unknown>, description?: string): Recording {
    const recording: Recording = {
      format: RECORDING_FORMAT,
      version: RECORDING_VERSION,
      recordedAt: new Date(this.startedAtMs).toISOString(),
      startedAtMs: this.startedAtMs,
      host: this.inner.info(),
      options,
      entries: structuredClone(this.entries),
    };
    if (description !== undefined) recording.description = description;
    return recording;
  }
}
