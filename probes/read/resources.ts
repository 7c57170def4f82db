import { z } from 'zod';
import type { Host } from '../../src/host/types.js';
import { ProbeStatusError, defineProbe } from '../../src/probe/contract.js';
import type { backendProcessProbe } from './backend-process.js';

type ProcessFacts = z.infer<typeof backendProcessProbe.facts>;

/** /proc/pressure/memory: "some avg10=0.00 avg60=0.00 avg300=0.00 total=1311" */
export function parsePressure(text: string): { someAvg10: number; someAvg60: number; fullAvg10: number } | null {
  const some = /^some avg10=([\d.]+) avg60=([\d.]+)/m.exec(text);
  const full = /^full avg10=([\d.]+)/m.exec(text);
  return some ? { someAvg10: Number(some[1]), someAvg60: Number(some[2]), fullAvg10: full ? Number(full[1]) : 0 } : null;
}

/** /proc/meminfo in kB. */
export function parseMeminfo(text: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const match of text.matchAll(/^(\w+):\s+(\d+)(?: kB)?$/gm)) out[match[1]!] = Number(match[2]);
  return out;
}

/** /proc/PID/cgroup: v2 "0::/system.slice/app.service", v1 "4:memory:/system.slice/app.service". */
export function memoryCgroup(text: string): { version: 1 | 2; path: string } | null {
  const v1 = /^\d+:(?:[^:]*,)?memory(?:,[^:]*)?:(.*)$/m.exec(text);
  if (v1) return { version: 1, path: v1[1]! };
  const v2 = /^0::(.*)$/m.exec(text);
  return v2 ? { version: 2, path: v2[1]! } : null;
}

interface BackendMemory {
  address: string;
  pid: number;
  rssKb: number | null;
  limitBytes: number | null;
  cgroup: string | null;
}

async function backendMemory(host: Host, address: string, pid: number): Promise<BackendMemory> {
  const status = await host.readFile(`/proc/${pid}/status`);
  const rss = status.ok ? /^VmRSS:\s+(\d+) kB/m.exec(status.content) : null;
  const cgroupFile = await host.readFile(`/proc/${pid}/cgroup`);
  const cgroup = cgroupFile.ok ? memoryCgroup(cgroupFile.content) : null;
  let limit: number | null = null;
  if (cgroup) {
    const path = cgroup.version === 2 ? `/sys/fs/cgroup${cgroup.path}/memory.max` : `/sys/fs/cgroup/memory${cgroup.path}/memory.limit_in_bytes`;
    const read = await host.readFile(path);
    // "max" (v2) and a near-2^63 number (v1) both mean no limit.
    if (read.ok && /^\d+$/.test(read.content.trim()) && Number(read.content.trim()) < 2 ** 60) limit = Number(read.content.trim());
  }
  return { address, pid, rssKb: rss ? Number(rss[1]) : null, limitBytes: limit, cgroup: cgroup?.path ?? null };
}

export const resourcesProbe = defineProbe({
  id: 'resources',
  title: 'Memory and load',
  description: 'Memory pressure and what is left, load, and each backend’s memory against its cgroup limit.',
  requiresRoot: false,
  timeoutMs: 10_000,
  uses: ['backend-process'],
  facts: z.object({
    memAvailableMb: z.number().describe('MemAvailable, MB'),
    memTotalMb: z.number().describe('MemTotal, MB'),
    pressure: z.object({ someAvg10: z.number().describe('% of time some task waited for memory, last 10 s'), someAvg60: z.number().describe('Same over 60 s'), fullAvg10: z.number().describe('% of time all tasks waited, last 10 s') }).nullable().describe('/proc/pressure/memory (PSI); null on kernels without it'),
    load1: z.number().describe('1-minute load average'),
    cpus: z.number().int().describe('CPUs the kernel reports runnable'),
    backends: z
      .array(
        z.object({
          address: z.string().describe('Backend address'),
          pid: z.number().int().describe('Main process'),
          rssMb: z.number().nullable().describe('Resident memory, MB'),
          limitMb: z.number().nullable().describe('Memory limit of its cgroup, MB; null when unlimited'),
          usedOfLimit: z.number().nullable().describe('RSS as a share of the limit'),
          cgroup: z.string().nullable().describe('Its memory cgroup'),
        }),
      )
      .describe('Memory of each backend process'),
  }),
  sources: () => [
    { id: 'meminfo', kind: 'file', path: '/proc/meminfo' },
    { id: 'pressure', kind: 'file', path: '/proc/pressure/memory' },
    { id: 'loadavg', kind: 'file', path: '/proc/loadavg' },
    { id: 'cpus', kind: 'file', path: '/proc/stat' },
  ],
  gatherPlan: () => ['read /proc/PID/status, /proc/PID/cgroup and its memory limit for each backend process'],
  gather: async (host, context) => {
    const processes = context.deps['backend-process'] as ProcessFacts | undefined;
    const out: BackendMemory[] = [];
    for (const backend of processes?.backends ?? []) if (backend.pid !== null) out.push(await backendMemory(host, backend.address, backend.pid));
    return out;
  },
  parse: (results) => {
    const meminfo = results.file('meminfo').result;
    if (!meminfo.ok) throw new ProbeStatusError('error', meminfo.error.message);
    const mem = parseMeminfo(meminfo.content);
    const pressure = results.file('pressure').result;
    const load = results.file('loadavg').result;
    const stat = results.file('cpus').result;
    const backends = (results.gathered as BackendMemory[]).map((b) => {
      const rssMb = b.rssKb === null ? null : Math.round(b.rssKb / 102.4) / 10;
      const limitMb = b.limitBytes === null ? null : Math.round(b.limitBytes / 1024 / 102.4) / 10;
      return { address: b.address, pid: b.pid, rssMb, limitMb, usedOfLimit: rssMb !== null && limitMb ? Math.round((rssMb / limitMb) * 100) / 100 : null, cgroup: b.cgroup };
    });
    return {
      memAvailableMb: Math.round((mem['MemAvailable'] ?? 0) / 1024),
      memTotalMb: Math.round((mem['MemTotal'] ?? 0) / 1024),
      pressure: pressure.ok ? parsePressure(pressure.content) : null,
      load1: load.ok ? Number(load.content.split(' ')[0]) : 0,
      cpus: stat.ok ? (stat.content.match(/^cpu\d+ /gm)?.length ?? 1) : 1,
      backends,
    };
  },
  summarize: (facts) =>
    `${facts.memAvailableMb} of ${facts.memTotalMb} MB available${facts.pressure ? `, memory pressure ${facts.pressure.someAvg60}%` : ''}, load ${facts.load1} on ${facts.cpus} CPU(s)` +
    facts.backends.filter((b) => b.usedOfLimit !== null).map((b) => `; ${b.address} at ${Math.round(b.usedOfLimit! * 100)}% of its ${b.limitMb} MB limit`).join(''),
});
