import { z } from 'zod';
import { formatCommand } from '../src/host/types.js';
import { ProbeStatusError, defineProbe } from '../src/probe/contract.js';
import { splitDump } from '../src/nginx/dump.js';
import { findPassSites, findUpstreams, listBackends } from '../src/nginx/backends.js';
import { NginxSyntaxError } from '../src/nginx/syntaxError.js';
import { loadConfigDump } from '../src/nginx/load.js';
import { buildModel } from '../src/nginx/model.js';
import { ADVICE_IDS, adviseConfig } from '../src/nginx/advice.js';
import { isAbsolute, join } from 'node:path';
import type { nginxVersionProbe } from './nginx-version.js';
import { adviceSchema, locationSchema, logsSchema, upstreamSchema } from './nginxModelSchema.js';
import { NGINX_PACKAGE_HINT, nginxCommand, nginxStderrLines } from './nginxCommand.js';

/**
 * `nginx -T` tests the config and dumps every file nginx loaded to stdout:
 *   # configuration file /etc/nginx/nginx.conf:
 *   user www-data;
 *   …
 *   # configuration file /etc/nginx/sites-enabled/default:
 *   …
 * Reading the dump, not the files, means we see exactly what nginx loaded.
 */
const location = z.object({
  directive: z.string().describe('Directive that names the backend (proxy_pass, fastcgi_pass, …)'),
  file: z.string().describe('Config file of the directive'),
  line: z.number().int().describe('Line of the directive'),
});

const backend = z.object({
  address: z.string().describe('Address as nginx connects to it: host:port or unix:/path'),
  kind: z.enum(['tcp', 'unix']).describe('TCP address or unix socket'),
  host: z.string().nullable().describe('Host part of a TCP address'),
  port: z.number().int().nullable().describe('Port of a TCP address'),
  path: z.string().nullable().describe('Path of a unix socket'),
  upstream: z.string().nullable().describe('upstream{} block it belongs to; null for a literal *_pass address'),
  markedDown: z.boolean().describe('Marked "down" in its upstream block, so nginx sends it nothing'),
  backup: z.boolean().describe('Marked "backup": used only when the primary servers fail'),
  usedBy: z.array(location).describe('Where the config sends traffic to it'),
});

export const backendFactSchema = backend;

export const nginxConfigProbe = defineProbe({
  id: 'nginx-config',
  title: 'nginx loaded config',
  description: 'The config nginx actually loads (nginx -T): upstreams, locations with their effective settings, logs, and every backend address.',
  requiresRoot: 'partial',
  rootNote: 'without root nginx -T usually cannot open the pid file or read every included file',
  timeoutMs: 15000,
  packageHint: NGINX_PACKAGE_HINT,
  dependsOn: ['nginx-version'],
  facts: z.object({
    configFile: z.string().nullable().describe('The main config file (first in the dump)'),
    files: z.array(z.string()).describe('Every file nginx loaded, in load order'),
    defaultsFor: z.string().describe('The nginx version whose defaults the effective settings use'),
    workers: z
      .object({
        processes: z.string().describe('worker_processes as written (auto or a number)'),
        connections: z.number().int().describe('events { worker_connections } (default 512)'),
        rlimitNofile: z.number().int().nullable().describe('worker_rlimit_nofile, if set'),
      })
      .describe('Worker capacity settings'),
    upstreams: z.array(upstreamSchema).describe('upstream{} blocks'),
    locations: z.array(locationSchema).describe('Every location with its target and effective proxy settings'),
    ...logsSchema,
    advice: adviceSchema,
    adviceCounts: z.record(z.string(), z.number().int()).describe('Remarks per advice id'),
    adviceText: z.record(z.string(), z.string()).describe('The remarks of each advice id, joined ("" when none): what a finding about one kind quotes'),
    upstreamStatusLogged: z.boolean().describe('At least one access log records $upstream_status'),
    multiServerUpstreamCount: z.number().int().describe('upstream{} blocks with more than one server: only those can have a server taken out by max_fails'),
    warnLogged: z.boolean().describe('An error_log records warn (or more): "upstream server temporarily disabled" is a warn line'),
    dynamicTargets: z.array(location.extend({ target: z.string().describe('The target as written') })).describe('*_pass targets built from variables, only known per request'),
    backends: z.array(backend).describe('Every concrete backend address, once per upstream'),
    backendCount: z.number().int().describe('Number of backends, not counting ones marked down'),
  }),
  sources: ({ options }) => [{ id: 'dump', kind: 'command', command: nginxCommand(options, '-T', 15000) }],
  parse: (results, { host, options, deps }) => {
    const { command, result } = results.command('dump');
    const files = splitDump(result.stdout);
    if (result.exitCode !== 0 || files.length === 0) {
      const errors = nginxStderrLines(result.stderr).filter((l) => ['emerg', 'alert', 'crit'].includes(l.level));
      const first = errors[0]?.message ?? result.stderr.trim().split('\n')[0] ?? `exit ${result.exitCode}`;
      if (host.uid !== 0 && /\(13: Permission denied\)/.test(first)) {
        throw new ProbeStatusError('denied', `needs root: ${first}`, `sudo ${formatCommand(command)}`);
      }
      throw new ProbeStatusError('error', `nginx -T did not dump the config: ${first}`);
    }
    const version = deps['nginx-version'] as z.infer<typeof nginxVersionProbe.facts>;
    let set;
    try {
      set = loadConfigDump(result.stdout);
    } catch (error) {
      if (error instanceof NginxSyntaxError) throw new ProbeStatusError('error', `could not read the dumped config at ${error.message}`);
      throw error;
    }
    const model = buildModel(set, {
      version,
      ...(version.errorLogPath ? { defaultErrorLog: version.errorLogPath } : {}),
      ...(version.accessLogPath ? { defaultAccessLog: version.accessLogPath } : {}),
    });
    const prefix = options.nginxPrefix ?? version.prefix ?? '/etc/nginx';
    const absolute = (path: string) => (path === 'stderr' || /^(syslog|memory):/.test(path) || isAbsolute(path) ? path : join(prefix, path));
    const advice = adviseConfig(model);
    const upstreams = findUpstreams(set.files);
    const sites = findPassSites(set.files, upstreams);
    const backends = listBackends(upstreams, sites);
    return {
      configFile: files[0]?.path ?? null,
      files: files.map((f) => f.path),
      defaultsFor: model.defaultsFor,
      workers: model.workers,
      upstreams: model.upstreams.map((u) => ({ ...u, serverCount: u.servers.length })),
      locations: model.locations,
      errorLogs: model.errorLogs.map((l) => ({ ...l, path: absolute(l.path) })),
      accessLogs: model.accessLogs.map((l) => ({ ...l, path: absolute(l.path) })),
      advice,
      adviceCounts: Object.fromEntries(ADVICE_IDS.map((id) => [id, advice.filter((a) => a.id === id).length])),
      adviceText: Object.fromEntries(ADVICE_IDS.map((id) => [id, advice.filter((a) => a.id === id).map((a) => a.message).join('; ')])),
      upstreamStatusLogged: model.accessLogs.some((l) => l.hasUpstreamStatus),
      multiServerUpstreamCount: model.upstreams.filter((u) => u.servers.length > 1).length,
      warnLogged: model.errorLogs.some((l) => ['debug', 'info', 'notice', 'warn'].includes(l.level)),
      dynamicTargets: sites.filter((s) => s.kind === 'variable').map((s) => ({ directive: s.directive, file: s.file, line: s.line, target: s.target })),
      backends,
      backendCount: backends.filter((b) => !b.markedDown).length,
    };
  },
  summarize: (facts) =>
    `${facts.files.length} file(s), ${facts.upstreams.length} upstream block(s), ${facts.backendCount} backend address(es)` +
    (facts.dynamicTargets.length ? `, ${facts.dynamicTargets.length} target(s) from variables` : ''),
});
