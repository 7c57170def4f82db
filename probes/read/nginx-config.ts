import { createHash } from 'node:crypto';
import { z } from 'zod';
import { formatCommand } from '../../src/host/types.js';
import { ProbeStatusError, defineProbe } from '../../src/probe/contract.js';
import { splitDump } from '../../src/nginx/dump.js';
import { findPassSites, findUpstreams, listBackends } from '../../src/nginx/backends.js';
import { NginxSyntaxError } from '../../src/nginx/syntaxError.js';
import { loadConfigDump, loadConfigFiles, type ConfigSet } from '../../src/nginx/load.js';
import { buildModel } from '../../src/nginx/model.js';
import { passErrorLogs } from '../../src/nginx/errorLogScope.js';
import { ADVICE_IDS, adviseConfig } from '../../src/nginx/advice.js';
import { isAbsolute, join } from 'node:path';
import type { nginxVersionProbe } from './nginx-version.js';
import { adviceSchema, locationSchema, logsSchema, upstreamSchema } from '../parse/nginxModelSchema.js';
import { NGINX_PACKAGE_HINT, nginxCommand, nginxStderrLines } from '../../src/nginx/command.js';

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

type VersionFacts = z.infer<typeof nginxVersionProbe.facts>;

/** The first emerg/alert/crit line of a failed nginx -T (what it rejects), else its first stderr line. */
function dumpFailure(result: { stderr: string; exitCode: number | null }): string {
  const errors = nginxStderrLines(result.stderr).filter((l) => ['emerg', 'alert', 'crit'].includes(l.level));
  return errors[0]?.message ?? result.stderr.trim().split('\n')[0] ?? `exit ${result.exitCode}`;
}

const dumped = (result: { stdout: string; exitCode: number | null }) => result.exitCode === 0 && splitDump(result.stdout).length > 0;
const deniedAsUser = (uid: number, failure: string) => uid !== 0 && /\(13: Permission denied\)/.test(failure);

/** The config file nginx reads: -c, else its compiled-in --conf-path. */
function mainConfig(options: { nginxConf?: string | undefined }, version: VersionFacts | undefined): string {
  return options.nginxConf ?? version?.confPath ?? '/etc/nginx/nginx.conf';
}

/** When nginx -T rejects the config: the files on disk, read and parsed here (or why they could not be). */
type FilesRead = { set: ConfigSet } | { problem: string } | null;

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
    source: z.enum(['dump', 'files']).describe('dump: what nginx -T says it loads; files: read from disk because nginx -T rejects the config (not what the running nginx serves)'),
    rejected: z.string().nullable().describe('What nginx -T rejects, when the config was read from the files'),
    unparsed: z.array(z.string()).describe('Included files that did not parse ("file:line:col: what"): the upstreams, locations and logs they hold are not in this model'),
    configFile: z.string().nullable().describe('The main config file (first in the dump)'),
    files: z.array(z.string()).describe('Every file nginx loaded, in load order'),
    fileHashes: z.record(z.string(), z.string()).describe('sha256 of each file as read here: a change is applied only to files still exactly like this'),
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
    upstreamLogging: z.string().describe('The access logs written and their formats, in words ("access log(s) /var/log/nginx/access.log use format(s) combined"), or that none is written (access_log off)'),
    upstreamLoggingWhere: z.string().describe('The access log paths without $upstream_status, or "none is written (access_log off)"'),
    multiServerUpstreamCount: z.number().int().describe('upstream{} blocks with more than one server: only those can have a server taken out by max_fails'),
    warnLogged: z.boolean().describe('An error_log records warn (or more): "upstream server temporarily disabled" is a warn line'),
    dynamicTargets: z.array(location.extend({ target: z.string().describe('The target as written') })).describe('*_pass targets built from variables, only known per request'),
    backends: z.array(backend).describe('Every concrete backend address, once per upstream'),
    backendCount: z.number().int().describe('Number of backends, not counting ones marked down'),
  }),
  sources: ({ options }) => [{ id: 'dump', kind: 'command', command: nginxCommand(options, '-T', 15000) }],
  gatherPlan: ({ options, deps }) => [`if nginx -T rejects the config: read ${mainConfig(options, deps['nginx-version'] as VersionFacts | undefined)} and its includes`],
  // A config nginx rejects stops nginx -T, not the diagnosis: the running nginx still serves its last good
  // config, and the files on disk still say where it sends traffic and where it logs.
  gather: async (host, { options, deps, host: info }, sources): Promise<FilesRead> => {
    const dump = sources?.find((s) => s.id === 'dump');
    if (dump?.kind !== 'command' || dump.result.failure || dumped(dump.result)) return null;
    if (deniedAsUser(info.uid, dumpFailure(dump.result))) return null;
    try {
      return { set: await loadConfigFiles(host, mainConfig(options, deps['nginx-version'] as VersionFacts | undefined)) };
    } catch (error) {
      if (error instanceof NginxSyntaxError) return { problem: error.message };
      throw error;
    }
  },
  parse: (results, { host, options, deps }) => {
    const { command, result } = results.command('dump');
    const version = deps['nginx-version'] as VersionFacts;
    let set: ConfigSet;
    let rejected: string | null = null;
    if (!dumped(result)) {
      const first = dumpFailure(result);
      if (deniedAsUser(host.uid, first)) throw new ProbeStatusError('denied', `needs root: ${first}`, `sudo ${formatCommand(command)}`);
      const files = results.gathered as FilesRead;
      if (!files || 'problem' in files) throw new ProbeStatusError('error', `nginx -T did not dump the config: ${first}${files ? `; reading the files failed too: ${files.problem}` : ''}`);
      set = files.set;
      rejected = first;
    } else {
      try {
        set = loadConfigDump(result.stdout);
      } catch (error) {
        if (error instanceof NginxSyntaxError) throw new ProbeStatusError('error', `could not read the dumped config at ${error.message}`);
        throw error;
      }
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
      source: rejected ? ('files' as const) : ('dump' as const),
      rejected,
      unparsed: (set.unparsed ?? []).map((u) => u.message),
      configFile: set.files[0]?.path ?? null,
      files: set.files.map((f) => f.path),
      fileHashes: Object.fromEntries(set.files.map((f) => [f.path, createHash('sha256').update(f.text, 'utf8').digest('hex')])),
      defaultsFor: model.defaultsFor,
      workers: model.workers,
      upstreams: model.upstreams.map((u) => ({ ...u, serverCount: u.servers.length })),
      locations: model.locations,
      errorLogs: model.errorLogs.map((l) => ({ ...l, path: absolute(l.path) })),
      // The compiled-in log (the model's entry without a file) when the main level sets none.
      passErrorLogs: passErrorLogs(set, model.errorLogs.find((l) => l.file === null) ?? { path: '/var/log/nginx/error.log', level: 'error' }).map((p) => ({ ...p, logs: p.logs.map((l) => ({ path: absolute(l.path), level: l.level })) })),
      accessLogs: model.accessLogs.map((l) => ({ ...l, path: absolute(l.path) })),
      advice,
      adviceCounts: Object.fromEntries(ADVICE_IDS.map((id) => [id, advice.filter((a) => a.id === id).length])),
      adviceText: Object.fromEntries(ADVICE_IDS.map((id) => [id, advice.filter((a) => a.id === id).map((a) => a.message).join('; ')])),
      upstreamStatusLogged: model.accessLogs.some((l) => l.hasUpstreamStatus),
      ...upstreamLogging(model.accessLogs.map((l) => ({ path: absolute(l.path), format: l.format }))),
      multiServerUpstreamCount: model.upstreams.filter((u) => u.servers.length > 1).length,
      warnLogged: model.errorLogs.some((l) => ['debug', 'info', 'notice', 'warn'].includes(l.level)),
      dynamicTargets: sites.filter((s) => s.kind === 'variable').map((s) => ({ directive: s.directive, file: s.file, line: s.line, target: s.target })),
      backends,
      backendCount: backends.filter((b) => !b.markedDown).length,
    };
  },
  gapReason: (facts) => unparsedGap(facts.unparsed),
  summarize: (facts) =>
    (facts.rejected ? `read from the files (nginx -T rejects the config: ${facts.rejected}): ` : '') +
    (facts.unparsed.length ? `${facts.unparsed.length} included file(s) did not parse and are left out; ` : '') +
    `${facts.files.length} file(s), ${facts.upstreams.length} upstream block(s), ${facts.backendCount} backend address(es)` +
    (facts.dynamicTargets.length ? `, ${facts.dynamicTargets.length} target(s) from variables` : ''),
});

/** What a model missing some included files cannot rule out: the backends and logs those files hold. */
export function unparsedGap(unparsed: readonly string[]): string | undefined {
  return unparsed.length ? `${unparsed.join('; ')}: the file did not parse, so its upstreams, locations and logs are not among those checked` : undefined;
}

/**
 * The access logs in words, for the finding that nothing records $upstream_status. With access_log off there is no
 * log at all: said so, never an empty list.
 */
function upstreamLogging(logs: Array<{ path: string; format: string }>): { upstreamLogging: string; upstreamLoggingWhere: string } {
  if (logs.length === 0) {
    return { upstreamLogging: 'no access log is written (access_log off): 502s per route cannot be counted, and nothing records $upstream_status', upstreamLoggingWhere: 'none is written (access_log off)' };
  }
  const paths = [...new Set(logs.map((l) => l.path))].join(', ');
  return { upstreamLogging: `access log(s) ${paths} use format(s) ${[...new Set(logs.map((l) => l.format))].join(', ')} without $upstream_status`, upstreamLoggingWhere: paths };
}
