import { z } from 'zod';
import { ProbeStatusError, defineProbe, type ProbeContext } from '../../src/probe/contract.js';
import { analyzeAccessLog, type AccessLogReport } from '../../src/accesslog/analyze.js';
import type { nginxConfigProbe } from './nginx-config.js';

type ConfigFacts = z.infer<typeof nginxConfigProbe.facts>;

/** Access logs whose format records $status: the only ones that can say what clients got. */
function accessLogs(context: ProbeContext): ConfigFacts['accessLogs'] {
  const config = context.deps['nginx-config'] as ConfigFacts;
  return config.accessLogs.filter((log) => log.hasStatus);
}

const routeStats = z.object({
  route: z.string().describe('Route prefix'),
  requests: z.number().int().describe('Requests in the window'),
  status502: z.number().int().describe('Answered 502'),
  status504: z.number().int().describe('Answered 504'),
  retried: z.number().int().describe('Sent to more than one upstream try ($upstream_status "502, 200")'),
  retriedThenOk: z.number().int().describe('Retried and answered below 500 by a later try'),
  rate502: z.number().describe('Share of requests answered 502'),
  rate504: z.number().describe('Share of requests answered 504'),
});

export const accessLogProbe = defineProbe({
  id: 'access-log',
  title: 'nginx access log',
  description: 'What clients really got: per-route 502/504 rates, and requests a retry hid.',
  requiresRoot: 'partial',
  rootNote: 'access logs are often readable only by root or the adm group',
  timeoutMs: 60_000,
  dependsOn: ['nginx-config'],
  facts: z.object({
    logs: z
      .array(
        z.object({
          path: z.string().describe('Access log path'),
          format: z.string().describe('log_format name'),
          hasUpstreamStatus: z.boolean().describe('The format records $upstream_status, so retries are visible'),
          requests: z.number().int().describe('Requests in the window'),
          status502: z.number().int().describe('Answered 502'),
          status504: z.number().int().describe('Answered 504'),
          retried: z.number().int().describe('Requests nginx retried on another try'),
          retriedThenOk: z.number().int().describe('Retried requests a later try answered below 500'),
          unparsed: z.number().int().describe('Lines not in the configured format'),
          routes: z.array(routeStats).describe('Routes with the most 502/504 first'),
          problems: z.array(z.string()).describe('Why the file could not be read'),
          statuses: z.record(z.string(), z.number().int()).describe('Requests per status code in the window'),
          counter: z
            .object({ engine: z.enum(['wasm', 'js']).describe('What counted the lines: the WebAssembly field plan of the format, or the JS parser'), why: z.string().optional().describe('Why JS counted them (a format the plan cannot read, a recorded host)') })
            .describe('How the log was counted'),
        }),
      )
      .describe('Each access log with $status'),
    requests: z.number().int().describe('Requests across the logs'),
    status502: z.number().int().describe('502 answers across the logs'),
    status504: z.number().int().describe('504 answers across the logs'),
    retried: z.number().int().describe('Retried requests across the logs'),
    anyUpstreamStatus: z.boolean().describe('At least one log records $upstream_status'),
  }),
  sources: () => [],
  gatherPlan: (context) => accessLogs(context).map((log) => `read ${log.path} (format ${log.format}) back to ${Math.round(context.options.sinceMs / 60_000)} min ago`),
  gather: async (host, context): Promise<AccessLogReport[]> => {
    const logs = accessLogs(context);
    if (logs.length === 0) throw new ProbeStatusError('unavailable', 'no access log records $status (access_log off, or a format without it)');
    const toMs = context.windowEndMs;
    const reports = [];
    for (const log of logs) reports.push(await analyzeAccessLog(host, log.path, log.format, log.formatText, { fromMs: toMs - context.options.sinceMs, toMs }));
    return reports;
  },
  parse: (results) => {
    const reports = results.gathered as AccessLogReport[];
    if (reports.every((r) => r.files.length === 0)) throw new ProbeStatusError(reports.some((r) => r.problems.some((p) => /permission denied/.test(p))) ? 'denied' : 'error', reports.flatMap((r) => r.problems).join('; '));
    const logs = reports.map((r) => ({
      path: r.path,
      format: r.format,
      hasUpstreamStatus: r.hasUpstreamStatus,
      requests: r.requests,
      status502: r.status502,
      status504: r.status504,
      retried: r.retried,
      retriedThenOk: r.retriedThenOk,
      unparsed: r.unparsed,
      routes: r.routes.slice(0, 20),
      problems: r.problems,
      statuses: r.statuses,
      counter: r.counter,
    }));
    const sum = (pick: (l: (typeof logs)[number]) => number) => logs.reduce((n, l) => n + pick(l), 0);
    return {
      logs,
      requests: sum((l) => l.requests),
      status502: sum((l) => l.status502),
      status504: sum((l) => l.status504),
      retried: sum((l) => l.retried),
      anyUpstreamStatus: logs.some((l) => l.hasUpstreamStatus),
    };
  },
  summarize: (facts) => `${facts.requests} request(s): ${facts.status502} × 502, ${facts.status504} × 504${facts.anyUpstreamStatus ? `, ${facts.retried} retried` : ''}`,
  partialReason: (facts) => {
    const problems = facts.logs.flatMap((l) => l.problems);
    return problems.length ? problems.join('; ') : undefined;
  },
});
