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

/**
 * Passes every call to the real host and writes down what was asked and
 * answered. The same entries feed --record (kept, saved at the end) and the
 * transcript (handed to a sink as they happen), so the two cannot drift.
 */
export class RecordingHost implements Host {
  private entries: RecordingEntry[] = [];
  readonly startedAtMs: number;
  private sink: ((entry: RecordingEntry) => void) | null = null;

  /** Changes are not recorded: a replay never applies anything. */
  get writes() {
    return this.inner.writes;
  }

  constructor(
    private readonly inner: Host,
    /** false: hand entries to the sink only (a transcript without --record), so a long session does not hold them all. */
    private keep = true,
  ) {
    this.startedAtMs = inner.now();
  }

  /** Hands every entry so far, then each new one, to `sink`. */
  setSink(sink: (entry: RecordingEntry) => void): void {
    for (const entry of this.entries) sink(entry);
    if (!this.keep) this.entries = [];
    this.sink = sink;
  }

  private add(entry: RecordingEntry): void {
    if (this.keep || !this.sink) this.entries.push(entry);
    this.sink?.(entry);
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
    this.add({ kind: 'command', file: spec.file, args: [...spec.args], atMs, ...result });
    return result;
  }

  async readFile(path: string, options: ReadFileOptions = {}): Promise<FileReadResult> {
    const atMs = this.offset();
    const result = await this.inner.readFile(path, options);
    this.add({ kind: 'readFile', path, atMs, result, ...options });
    return result;
  }

  async stat(path: string, options: StatOptions = {}): Promise<StatResult> {
    const atMs = this.offset();
    const result = await this.inner.stat(path, options);
    this.add({ kind: 'stat', path, atMs, result, ...(options.follow ? { follow: true } : {}) });
    return result;
  }

  async listDir(path: string): Promise<ListDirResult> {
    const atMs = this.offset();
    const result = await this.inner.listDir(path);
    this.add({ kind: 'listDir', path, atMs, result });
    return result;
  }

  async readLink(path: string): Promise<ReadLinkResult> {
    const atMs = this.offset();
    const result = await this.inner.readLink(path);
    this.add({ kind: 'readLink', path, atMs, result });
    return result;
  }

  async connect(target: ConnectTarget, options: ConnectOptions): Promise<ConnectResult> {
    const atMs = this.offset();
    const result = await this.inner.connect(target, options);
    const entry: RecordingEntry = { kind: 'connect', target, atMs, result };
    if (options.send !== undefined) entry.send = options.send;
    if (options.idleMs !== undefined) entry.idleMs = options.idleMs;
    if (options.answerMs !== undefined) entry.answerMs = options.answerMs;
    this.add(entry);
    return result;
  }

  mark(label: string): number {
    const value = this.inner.mark(label);
    this.add({ kind: 'mark', label, value, atMs: value - this.startedAtMs });
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
