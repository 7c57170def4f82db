/**
 * A memory cgroup of the test's own (cgroup v1 or v2), so a backend can be
 * OOM-killed for real without pressing on the machine.
 */
import { existsSync } from 'node:fs';
import { mkdir, readFile, rmdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

export interface MemoryCgroup {
  path: string;
  add(pid: number): Promise<void>;
  remove(): Promise<void>;
}

const V1 = '/sys/fs/cgroup/memory';
const V2 = '/sys/fs/cgroup';

/** Why a memory cgroup cannot be made here, or null when it can. */
export function memoryCgroupUnavailable(): string | null {
  if (process.getuid?.() !== 0) return 'making a cgroup needs root';
  if (existsSync(join(V1, 'memory.limit_in_bytes'))) return null;
  if (existsSync(join(V2, 'cgroup.controllers'))) return null;
  return 'no memory cgroup controller mounted';
}

export async function createMemoryCgroup(name: string, limitBytes: number): Promise<MemoryCgroup> {
  const v1 = existsSync(join(V1, 'memory.limit_in_bytes'));
  const path = join(v1 ? V1 : V2, name);
  await mkdir(path);
  await writeFile(join(path, v1 ? 'memory.limit_in_bytes' : 'memory.max'), String(limitBytes));
  // Without swap limits the group would page out instead of being killed.
  if (v1 && existsSync(join(path, 'memory.memsw.limit_in_bytes'))) await writeFile(join(path, 'memory.memsw.limit_in_bytes'), String(limitBytes));
  if (!v1 && existsSync(join(path, 'memory.swap.max'))) await writeFile(join(path, 'memory.swap.max'), '0');
  return {
    path,
    add: (pid) => writeFile(join(path, 'cgroup.procs'), String(pid)),
    async remove() {
      const procs = (await readFile(join(path, 'cgroup.procs'), 'utf8').catch(() => '')).split('\n').filter(Boolean);
      for (const pid of procs) {
        try {
          process.kill(Number(pid), 'SIGKILL');
        } catch {
          // already gone
        }
      }
      for (let i = 0; i < 20; i++) {
        try {
          await rmdir(path);
          return;
        } catch {
          await new Promise((resolve) => setTimeout(resolve, 100));
        }
      }
    },
  };
}
