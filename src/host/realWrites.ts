import { promises as fs, constants as fsConstants } from 'node:fs';
import { dirname } from 'node:path';
import type { FsError, HostWrites, WriteResult } from './types.js';

/**
 * The only code that changes files on the machine (see Host.writes). Every
 * write is fsynced, and every rename is followed by an fsync of the
 * directory, so what the journal says was done is what a crash leaves.
 */
export class RealWrites implements HostWrites {
  async writeFile(path: string, data: Buffer, options: { mode: number; exclusive?: boolean }): Promise<WriteResult> {
    let handle: fs.FileHandle | undefined;
    try {
      const flags = fsConstants.O_WRONLY | fsConstants.O_CREAT | (options.exclusive ? fsConstants.O_EXCL : fsConstants.O_TRUNC) | fsConstants.O_NOFOLLOW;
      handle = await fs.open(path, flags, options.mode);
      await handle.writeFile(data);
      // The umask may have narrowed the mode open() was given.
      await handle.chmod(options.mode);
      await handle.sync();
      return { ok: true };
    } catch (error) {
      return failed(error, path);
    } finally {
      await handle?.close().catch(() => undefined);
    }
  }

  async rename(from: string, to: string): Promise<WriteResult> {
    try {
      await fs.rename(from, to);
      await syncDirectory(dirname(to));
      return { ok: true };
    } catch (error) {
      return failed(error, `${from} → ${to}`);
    }
  }

  async mkdir(path: string, mode: number): Promise<WriteResult> {
    try {
      await fs.mkdir(path, { recursive: true, mode });
      return { ok: true };
    } catch (error) {
      return failed(error, path);
    }
  }

  async remove(path: string): Promise<WriteResult> {
    try {
      await fs.rm(path, { force: true });
      await syncDirectory(dirname(path));
      return { ok: true };
    } catch (error) {
      return failed(error, path);
    }
  }

  async chown(path: string, uid: number, gid: number): Promise<WriteResult> {
    try {
      await fs.lchown(path, uid, gid);
      return { ok: true };
    } catch (error) {
      return failed(error, path);
    }
  }

  async chmod(path: string, mode: number): Promise<WriteResult> {
    try {
      await fs.chmod(path, mode);
      return { ok: true };
    } catch (error) {
      return failed(error, path);
    }
  }

  async realpath(path: string): Promise<{ ok: true; path: string } | { ok: false; error: FsError }> {
    try {
      return { ok: true, path: await fs.realpath(path) };
    } catch (error) {
      return failed(error, path);
    }
  }

  async freeBytes(path: string): Promise<number | null> {
    try {
      const stats = await fs.statfs(path);
      return Number(stats.bavail) * Number(stats.bsize);
    } catch {
      return null;
    }
  }

  processAlive(pid: number): boolean {
    try {
      process.kill(pid, 0);
      return true;
    } catch (error) {
      // EPERM: it exists, owned by someone else.
      return (error as NodeJS.ErrnoException).code === 'EPERM';
    }
  }
}

async function syncDirectory(path: string): Promise<void> {
  const handle = await fs.open(path, fsConstants.O_RDONLY | fsConstants.O_DIRECTORY);
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

function failed(error: unknown, what: string): { ok: false; error: FsError } {
  const code = (error as NodeJS.ErrnoException).code ?? 'OTHER';
  const mapped = (['ENOENT', 'EACCES', 'EISDIR', 'ENOTDIR', 'ELOOP'] as const).find((k) => k === code) ?? (code === 'EPERM' ? 'EACCES' : 'OTHER');
  return { ok: false, error: { code: mapped, message: `${what}: ${(error as Error).message.replace(/^[A-Z]+: /, '')}` } };
}
