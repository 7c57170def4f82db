import { z } from 'zod';
import { defineProbe } from '../../src/probe/contract.js';
import type { nginxConfigProbe } from './nginx-config.js';
import type { nginxTestProbe } from './nginx-test.js';
import type { nginxVersionProbe } from './nginx-version.js';
import type { processesProbe } from './processes.js';

type Proc = z.infer<typeof processesProbe.facts>['processes'][number];

/**
 * /proc/PID/limits:
 *   Limit                     Soft Limit           Hard Limit           Units
 *   Max open files            1024                 524288               files
 */
export function parseLimits(text: string): { openFilesSoft: number | null; openFilesHard: number | null } {
  const match = /^Max open files\s+(\S+)\s+(\S+)/m.exec(text);
  const num = (v: string | undefined) => (v && /^\d+$/.test(v) ? Number(v) : null);
  return { openFilesSoft: num(match?.[1]), openFilesHard: num(match?.[2]) };
}

/** The master of the nginx being diagnosed: the one started with this config, else the one without -c. */
export function findMaster(processes: Proc[], nginxConf: string | undefined): { master: Proc | null; masters: number } {
  const masters = processes.filter((p) => p.args.startsWith('nginx: master process'));
  const master = nginxConf ? masters.find((m) => m.args.includes(nginxConf)) : (masters.find((m) => !/\s-c\s/.test(m.args)) ?? masters[0]);
  return { master: master ?? null, masters: masters.length };
}

interface Gathered {
  masterLimits: string | null;
  workerLimits: string | null;
}

export const nginxRuntimeProbe = defineProbe({
  id: 'nginx-runtime',
  title: 'nginx runtime',
  description: 'The running nginx: version and modules, whether its config tests clean, its master and workers (a recent reload?), and connection capacity.',
  requiresRoot: 'partial',
  rootNote: 'without root nginx -t usually fails on the pid file, and the workers’ limits are hidden',
  timeoutMs: 20_000,
  dependsOn: ['nginx-version', 'processes'],
  uses: ['nginx-test', 'nginx-config'],
  facts: z.object({
    version: z.string().describe('nginx version'),
    modules: z.array(z.string()).describe('Compiled-in modules (configure arguments)'),
    configTest: z.enum(['ok', 'failed', 'not-run']).describe('nginx -t result; not-run when it could not run (e.g. no root)'),
    configErrors: z.array(z.string()).describe('nginx -t error messages'),
    running: z.boolean().describe('An nginx master process for this config is running'),
    masters: z.number().int().describe('nginx master processes on the machine'),
    masterPid: z.number().int().nullable().describe('Master pid'),
    masterStartedAtMs: z.number().nullable().describe('When the master started, epoch ms'),
    workers: z.array(z.object({ pid: z.number().int().describe('Worker pid'), startedAtMs: z.number().describe('When it started, epoch ms'), uid: z.number().int().describe('Owner uid') })).describe('Worker processes'),
    lastReloadAtMs: z.number().nullable().describe('Newest worker start when workers are younger than the master: the last reload'),
    workerConnections: z.number().int().nullable().describe('events { worker_connections }'),
    workerOpenFilesLimit: z.number().int().nullable().describe("A worker's soft limit on open files (each proxied request needs two)"),
    connectionsExceedFiles: z.boolean().nullable().describe('worker_connections is above the open-files limit: connections fail with "Too many open files" before the limit nginx thinks it has'),
  }),
  sources: () => [],
  gatherPlan: () => ['read /proc/MASTER/limits and /proc/WORKER/limits'],
  gather: async (host, context): Promise<Gathered> => {
    const processes = (context.deps['processes'] as z.infer<typeof processesProbe.facts>).processes;
    const { master } = findMaster(processes, context.options.nginxConf);
    const worker = master ? processes.find((p) => p.ppid === master.pid) : undefined;
    const limits = async (pid: number | undefined) => {
      if (pid === undefined) return null;
      const file = await host.readFile(`/proc/${pid}/limits`);
      return file.ok ? file.content : null;
    };
    return { masterLimits: await limits(master?.pid), workerLimits: await limits(worker?.pid) };
  },
  parse: (results, context) => {
    const g = results.gathered as Gathered;
    const version = context.deps['nginx-version'] as z.infer<typeof nginxVersionProbe.facts>;
    const test = context.deps['nginx-test'] as z.infer<typeof nginxTestProbe.facts> | undefined;
    const config = context.deps['nginx-config'] as z.infer<typeof nginxConfigProbe.facts> | undefined;
    const processes = (context.deps['processes'] as z.infer<typeof processesProbe.facts>).processes;
    const { master, masters } = findMaster(processes, context.options.nginxConf);
    const workers = master ? processes.filter((p) => p.ppid === master.pid).map((p) => ({ pid: p.pid, startedAtMs: p.startedAtMs, uid: p.uid })) : [];
    // Workers restart on reload while the master stays: workers newer than the master date the reload.
    const newest = workers.reduce((t, w) => Math.max(t, w.startedAtMs), 0);
    const lastReloadAtMs = master && workers.length && newest - master.startedAtMs > 2000 ? newest : null;
    const openFiles = g.workerLimits ? parseLimits(g.workerLimits).openFilesSoft : null;
    const connections = config?.workers.connections ?? null;
    return {
      version: version.version,
      modules: version.modules,
      configTest: test ? (test.ok ? ('ok' as const) : ('failed' as const)) : ('not-run' as const),
      configErrors: test?.errors.map((e) => e.message) ?? [],
      running: master !== null,
      masters,
      masterPid: master?.pid ?? null,
      masterStartedAtMs: master?.startedAtMs ?? null,
      workers,
      lastReloadAtMs,
      workerConnections: connections,
      workerOpenFilesLimit: openFiles,
      connectionsExceedFiles: connections !== null && openFiles !== null ? connections > openFiles : null,
    };
  },
  summarize: (facts) =>
    `nginx ${facts.version}${facts.running ? `, master ${facts.masterPid} with ${facts.workers.length} worker(s)` : ', not running'}; config test ${facts.configTest}` +
    (facts.lastReloadAtMs ? `; reloaded ${new Date(facts.lastReloadAtMs).toISOString()}` : '') +
    (facts.connectionsExceedFiles ? `; worker_connections ${facts.workerConnections} > open files ${facts.workerOpenFilesLimit}` : ''),
});
