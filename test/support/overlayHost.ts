/**
 * A real host with a few answers replaced by documented ones: how the lab
 * records scenarios this machine cannot produce (SELinux, AppArmor, a full
 * conntrack table). Everything not overlaid — nginx, its config and logs,
 * ss, ps, the backends — is real.
 */
import type { CommandResult, CommandSpec, FileReadResult, Host, HostInfo, ReadFileOptions, StatOptions, StatResult } from '../../src/host/types.js';

export interface CommandOverlay {
  file: string;
  /** The overlay applies when the command's arguments start with these. */
  argsPrefix: string[];
  result: Pick<CommandResult, 'stdout' | 'stderr' | 'exitCode'>;
}

export interface Overlays {
  commands?: CommandOverlay[];
  /** Path → content, or a directory (for stat). */
  files?: Record<string, string | { directory: true }>;
}

export class OverlayHost implements Host {
  constructor(
    private readonly real: Host,
    private readonly overlays: Overlays,
  ) {}

  get writes() {
    return this.real.writes;
  }

  info(): HostInfo {
    return this.real.info();
  }

  async run(spec: CommandSpec): Promise<CommandResult> {
    const overlay = this.overlays.commands?.find((c) => c.file === spec.file && c.argsPrefix.every((arg, i) => spec.args[i] === arg));
    if (!overlay) return this.real.run(spec);
    return { ...overlay.result, durationMs: 5 };
  }

  async readFile(path: string, options: ReadFileOptions = {}): Promise<FileReadResult> {
    const overlay = this.overlays.files?.[path];
    if (overlay === undefined) return this.real.readFile(path, options);
    if (typeof overlay !== 'string') return { ok: false, error: { code: 'EISDIR', message: `EISDIR: illegal operation on a directory, read '${path}'` } };
    const bytes = Buffer.from(overlay, options.encoding ?? 'utf8');
    let slice = bytes;
    if (options.tailBytes !== undefined) slice = bytes.subarray(Math.max(0, bytes.length - options.tailBytes));
    else if (options.position !== undefined || options.maxBytes !== undefined) {
      const from = Math.min(options.position ?? 0, bytes.length);
      slice = bytes.subarray(from, from + (options.maxBytes ?? bytes.length));
    }
    return { ok: true, content: slice.toString(options.encoding ?? 'utf8'), size: bytes.length, truncated: slice.length < bytes.length };
  }

  async stat(path: string, options?: StatOptions): Promise<StatResult> {
    const overlay = this.overlays.files?.[path];
    if (overlay === undefined) return this.real.stat(path, options);
    const directory = typeof overlay !== 'string';
    return { ok: true, type: directory ? 'directory' : 'file', size: directory ? 0 : Buffer.byteLength(overlay), mode: directory ? 0o40755 : 0o100444, uid: 0, gid: 0, mtimeMs: this.now() };
  }

  listDir(path: string) {
    return this.real.listDir(path);
  }

  readLink(path: string) {
    return this.real.readLink(path);
  }

  connect(...args: Parameters<Host['connect']>) {
    return this.real.connect(...args);
  }

  now(): number {
    return this.real.now();
  }

  mark(label: string): number {
    return this.real.mark(label);
  }

  sleep(ms: number): Promise<void> {
    return this.real.sleep(ms);
  }
}
