import { execa } from 'execa';
import { promises as fs, constants as fsConstants, openSync, fstatSync, readSync, closeSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import { setTimeout as delay } from 'node:timers/promises';
import { RealWrites } from './realWrites.js';
import type {
  CommandResult,
  CommandSpec,
  ConnectOptions,
  ConnectResult,
  ConnectTarget,
  ConnectionEvent,
  FileReadResult,
  FileType,
  BlockSource,
  FsError,
  Host,
  HostInfo,
  ListDirResult,
  ReadFileOptions,
  ReadLinkResult,
  StatOptions,
  StatResult,
} from './types.js';

/** Output beyond this is cut: a probe never needs more, and a runaway command must not eat the heap. */
const MAX_OUTPUT_BYTES = 64 * 1024 * 1024;

export class RealHost implements Host {
  readonly writes = new RealWrites();

  info(): HostInfo {
    return {
      hostname: os.hostname(),
      uid: typeof process.geteuid === 'function' ? process.geteuid() : -1,
      platform: process.platform,
      release: os.release(),
    };
  }

  async run(spec: CommandSpec): Promise<CommandResult> {
    const started = performance.now();
    const result = await execa(spec.file, spec.args, {
      reject: false,
      shell: false,
      stdin: 'ignore',
      timeout: spec.timeoutMs,
      forceKillAfterDelay: 1000,
      maxBuffer: MAX_OUTPUT_BYTES,
      stripFinalNewline: false,
      env: { ...spec.env, LC_ALL: 'C', LANG: 'C' },
      encoding: 'utf8',
    });
    const durationMs = Math.round(performance.now() - started);
    const base = {
      stdout: typeof result.stdout === 'string' ? result.stdout : '',
      stderr: typeof result.stderr === 'string' ? result.stderr : '',
      exitCode: typeof result.exitCode === 'number' ? result.exitCode : null,
      durationMs,
    };
    if (result.timedOut) {
      return { ...base, exitCode: null, failure: { kind: 'timeout', message: `no answer within ${spec.timeoutMs} ms` } };
    }
    const code = (result as { code?: string }).code;
    if (code === 'ENOENT') {
      return { ...base, exitCode: null, failure: { kind: 'not-found', message: `${spec.file}: command not found` } };
    }
    if (base.exitCode === null) {
      const message = result.signal ? `killed by ${result.signal}` : (result.shortMessage ?? 'could not be started');
      return { ...base, failure: { kind: 'spawn-error', message } };
    }
    return base;
  }

  async readFile(path: string, options: ReadFileOptions = {}): Promise<FileReadResult> {
    const encoding = options.encoding ?? 'utf8';
    let handle: fs.FileHandle | undefined;
    try {
      handle = await fs.open(path, fsConstants.O_RDONLY | fsConstants.O_NONBLOCK);
      const stat = await handle.stat();
      if (stat.isDirectory()) return { ok: false, error: { code: 'EISDIR', message: `${path} is a directory` } };
      const ranged = options.tailBytes !== undefined || options.maxBytes !== undefined || options.position !== undefined;
      // /proc and /sys files report size 0: read them whole.
      if (stat.size === 0 || !ranged) {
        const buffer = await handle.readFile();
        const limit = options.maxBytes ?? buffer.length;
        return { ok: true, content: buffer.subarray(0, limit).toString(encoding), size: buffer.length, truncated: buffer.length > limit };
      }
      let position = Math.min(options.position ?? 0, stat.size);
      let length = Math.min(stat.size - position, options.maxBytes ?? stat.size);
      if (options.tailBytes !== undefined) {
        length = Math.min(stat.size, options.tailBytes);
        position = stat.size - length;
      }
      const buffer = Buffer.alloc(length);
      const { bytesRead } = await handle.read(buffer, 0, length, position);
      return { ok: true, content: buffer.subarray(0, bytesRead).toString(encoding), size: stat.size, truncated: bytesRead < stat.size };
    } catch (error) {
      return { ok: false, error: toFsError(error, path) };
    } finally {
      await handle?.close();
    }
  }

  /**
   * An open file read block by block into the caller's buffer: what a full
   * scan of a multi-gigabyte log needs, where opening the file and allocating
   * a buffer and a string per block (readFile) would cost more than the scan.
   * Synchronous: it serves the scanning worker threads, which do nothing else.
   */
  openBlocks(path: string): { ok: true; source: BlockSource } | { ok: false; error: FsError } {
    try {
      const fd = openSync(path, fsConstants.O_RDONLY | fsConstants.O_NONBLOCK);
      const stat = fstatSync(fd);
      if (stat.isDirectory()) {
        closeSync(fd);
        return { ok: false, error: { code: 'EISDIR', message: `${path} is a directory` } };
      }
      return {
        ok: true,
        source: { size: stat.size, read: (buffer, offset, length, position) => readSync(fd, buffer, offset, length, position), close: () => closeSync(fd) },
      };
    } catch (error) {
      return { ok: false, error: toFsError(error, path) };
    }
  }

  async stat(path: string, options: StatOptions = {}): Promise<StatResult> {
    try {
      // bigint: inode numbers of XFS and btrfs pass 2^53.
      const stat = options.follow ? await fs.stat(path, { bigint: true }) : await fs.lstat(path, { bigint: true });
      return {
        ok: true,
        type: fileType(stat),
        size: Number(stat.size),
        mode: Number(stat.mode),
        uid: Number(stat.uid),
        gid: Number(stat.gid),
        mtimeMs: Number(stat.mtimeNs / 1000n) / 1000,
        fileId: `${stat.dev}:${stat.ino}`,
      };
    } catch (error) {
      return { ok: false, error: toFsError(error, path) };
    }
  }

  async listDir(path: string): Promise<ListDirResult> {
    try {
      return { ok: true, entries: (await fs.readdir(path)).sort() };
    } catch (error) {
      return { ok: false, error: toFsError(error, path) };
    }
  }

  async readLink(path: string): Promise<ReadLinkResult> {
    try {
      return { ok: true, target: await fs.readlink(path) };
    } catch (error) {
      return { ok: false, error: toFsError(error, path) };
    }
  }

  connect(target: ConnectTarget, options: ConnectOptions): Promise<ConnectResult> {
    return new Promise((resolve) => {
      const started = performance.now();
      const at = () => Math.round(performance.now() - started);
      const events: ConnectionEvent[] = [];
      let connected = false;
      let settled = false;
      const socket = target.kind === 'tcp' ? net.connect({ host: target.host, port: target.port }) : net.connect({ path: target.path });
      const finish = () => {
        if (settled) return;
        settled = true;
        clearTimeout(connectTimer);
        socket.destroy();
        resolve({ connected, events, durationMs: at() });
      };
      const connectTimer = setTimeout(() => {
        events.push({ atMs: at(), kind: 'error', code: 'ETIMEDOUT', message: `no connection within ${options.timeoutMs} ms` });
        finish();
      }, options.timeoutMs);
      socket.setTimeout(options.idleMs ?? options.timeoutMs, () => {
        events.push({ atMs: at(), kind: 'idle-timeout' });
        finish();
      });
      let answerTimer: NodeJS.Timeout | undefined;
      socket.on('connect', () => {
        connected = true;
        clearTimeout(connectTimer);
        events.push({ atMs: at(), kind: 'connected' });
        if (options.send !== undefined) socket.write(options.send);
        if (options.idleMs === undefined) finish();
        else if (options.answerMs !== undefined) {
          answerTimer = setTimeout(() => {
            events.push({ atMs: at(), kind: 'no-answer' });
            finish();
          }, options.answerMs);
        }
      });
      socket.on('data', (chunk: Buffer) => {
        clearTimeout(answerTimer);
        events.push({ atMs: at(), kind: 'data', bytes: chunk.length, text: chunk.toString('latin1') });
      });
      socket.on('close', () => clearTimeout(answerTimer));
      socket.on('end', () => {
        events.push({ atMs: at(), kind: 'fin' });
        finish();
      });
      socket.on('error', (error: NodeJS.ErrnoException) => {
        if (error.code === 'ECONNRESET') events.push({ atMs: at(), kind: 'reset', message: error.message });
        else events.push({ atMs: at(), kind: 'error', code: error.code ?? 'ERROR', message: error.message });
        finish();
      });
    });
  }

  mark(): number {
    return Date.now();
  }

  now(): number {
    return Date.now();
  }

  async sleep(ms: number): Promise<void> {
    await delay(ms);
  }
}

function fileType(stat: import('node:fs').BigIntStats): FileType {
  if (stat.isFile()) return 'file';
  if (stat.isDirectory()) return 'directory';
  if (stat.isSocket()) return 'socket';
  if (stat.isSymbolicLink()) return 'symlink';
  if (stat.isFIFO()) return 'fifo';
  return 'other';
}

const ERRNO_TEXT: Record<string, string> = {
  ENOENT: 'no such file or directory',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  EISDIR: 'is a directory',
  ENOTDIR: 'a path component is not a directory',
  ELOOP: 'too many symbolic links',
};

function toFsError(error: unknown, path: string): FsError {
  const code = (error as NodeJS.ErrnoException).code ?? '';
  const known = ['ENOENT', 'EACCES', 'EISDIR', 'ENOTDIR', 'ELOOP'] as const;
  const mapped = known.find((k) => k === code) ?? (code === 'EPERM' ? 'EACCES' : 'OTHER');
  return { code: mapped, message: `${path}: ${ERRNO_TEXT[code] ?? (error as Error).message}` };
}
