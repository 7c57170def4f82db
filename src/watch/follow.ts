/**
 * Follows error and access logs as nginx appends to them, through the Host
 * (stat + positioned reads), into a TrafficCounter. Polling, not inotify:
 * it works the same on every filesystem and in a recorded session.
 * Rotation: when the path names another file (inode changed) or the file
 * got shorter (truncated, copytruncate), reading starts at 0 of what is
 * there now.
 */
import type { Host } from '../host/types.js';
import { compileFormat, type CompiledFormat } from '../accesslog/format.js';
import { parseTime } from '../errorlog/line.js';
import type { AccessLogSpec, TrafficCounter } from './count.js';

/** Per poll and file at most this much is read; the rest comes on the next polls. */
const READ_BYTES = 1 << 20;
/** How far back the first poll looks when asked to start at a time (the seconds since a reload). */
const CATCH_UP_BYTES = 16 << 20;

interface Followed {
  path: string;
  format: CompiledFormat | null;
  fileId: string | null;
  offset: number;
  carry: string;
  started: boolean;
  /** The first read began inside the file: its first line may be cut. */
  skipPartial: boolean;
  /** Reading what came before following began: lines before fromMs are left out (a window read before counts them). */
  catchingUp: boolean;
  problem: string | null;
}

export interface FollowerOptions {
  /**
   * Count lines from this time on, reading the file's last bytes on the
   * first poll (the lines since a reload that came before following began);
   * older lines in those bytes are left out, so a window read up to fromMs
   * and this follower never count a line twice. Without it, following
   * starts at each file's current end.
   */
  fromMs?: number;
}

export class LogFollower {
  private readonly files: Followed[];
  /** Rotations and truncations seen, in words, for the operator. */
  readonly events: string[] = [];

  constructor(
    private readonly host: Host,
    errorLogs: string[],
    accessLogs: AccessLogSpec[],
    private readonly counter: TrafficCounter,
    private readonly options: FollowerOptions = {},
  ) {
    const base = { fileId: null, offset: 0, carry: '', started: false, skipPartial: false, catchingUp: false, problem: null };
    this.files = [
      ...errorLogs.map((path) => ({ ...base, path, format: null })),
      ...accessLogs.filter((a) => /\$status\b/.test(a.formatText)).map((a) => ({ ...base, path: a.path, format: compileFormat(a.formatText) })),
    ];
  }

  /** Files that could not be followed right now, and why. */
  problems(): string[] {
    return this.files.flatMap((f) => (f.problem ? [f.problem] : []));
  }

  /** Where each file is read up to: for a caller that wants to resume there. */
  positions(): Array<{ path: string; fileId: string | null; offset: number }> {
    return this.files.map((f) => ({ path: f.path, fileId: f.fileId, offset: f.offset }));
  }

  /** One round: reads what was appended to each file since the last round. */
  async poll(): Promise<void> {
    for (const file of this.files) await this.pollFile(file);
  }

  private async pollFile(file: Followed): Promise<void> {
    const stat = await this.host.stat(file.path, { follow: true });
    if (!stat.ok) {
      file.problem = stat.error.message; // "PATH: why"
      // Gone (rotated away, not yet reopened): whatever appears under the name next is a new file.
      if (file.started) file.fileId = null;
      return;
    }
    file.problem = null;
    const fileId = stat.fileId ?? null;
    if (!file.started) {
      file.started = true;
      file.fileId = fileId;
      if (this.options.fromMs !== undefined) {
        file.offset = Math.max(0, stat.size - CATCH_UP_BYTES);
        file.skipPartial = file.offset > 0;
        file.catchingUp = true;
      } else file.offset = stat.size;
    } else if (fileId !== file.fileId || stat.size < file.offset) {
      this.events.push(`${file.path} was ${fileId !== file.fileId ? 'rotated (a new file under its name)' : 'truncated'}: reading it from its start`);
      file.fileId = fileId;
      file.offset = 0;
      file.carry = '';
      file.skipPartial = false;
    }
    while (file.offset < stat.size) {
      const read = await this.host.readFile(file.path, { position: file.offset, maxBytes: Math.min(READ_BYTES, stat.size - file.offset), encoding: 'latin1' });
      if (!read.ok) {
        file.problem = read.error.message;
        return;
      }
      // Replaced between stat and read: the next round starts over on the new file.
      if (read.size < file.offset || read.content.length === 0) return;
      file.offset += read.content.length;
      this.feed(file, read.content);
    }
    file.catchingUp = false;
  }

  private feed(file: Followed, chunk: string): void {
    const lines = (file.carry + chunk).split('\n');
    file.carry = lines.pop() ?? '';
    let start = 0;
    if (file.skipPartial) {
      start = 1;
      file.skipPartial = false;
    }
    const fromMs = file.catchingUp ? this.options.fromMs! : null;
    for (let i = start; i < lines.length; i++) {
      const line = lines[i]!;
      if (line.length === 0) continue;
      if (fromMs !== null && !((file.format ? file.format.timeOf(line) : parseTime(line, 0)) >= fromMs)) continue;
      if (file.format) this.counter.addAccessLine(file.format, line);
      else this.counter.addErrorLine(line);
    }
  }
}

/**
 * Polls every `intervalMs` (through host.sleep, so a replay does not wait)
 * until `untilMs` by the host's clock or `stop()` says so; onTick after each
 * round.
 */
export async function followUntil(host: Host, follower: LogFollower, options: { untilMs?: number; intervalMs?: number; onTick?: () => void; stop?: () => boolean }): Promise<void> {
  const interval = options.intervalMs ?? 1000;
  for (;;) {
    await follower.poll();
    options.onTick?.();
    if (options.stop?.()) return;
    const now = host.now();
    if (options.untilMs !== undefined && now >= options.untilMs) return;
    await host.sleep(options.untilMs !== undefined ? Math.max(0, Math.min(interval, options.untilMs - now)) : interval);
  }
}
