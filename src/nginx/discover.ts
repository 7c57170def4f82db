import { isAbsolute, join } from 'node:path';
import { formatCommand, type Host } from '../host/types.js';
import { UserError } from '../util/userError.js';
import { loadConfigDump, loadConfigFiles, type ConfigSet } from './load.js';
import { buildModel, type ConfigModel } from './model.js';
import { parseVersion, type NginxVersion } from './version.js';
import { nginxArgs } from './command.js';

/** What `nginx -V` says about the build: its version and compiled-in paths. */
export interface NginxBuild {
  version: NginxVersion | null;
  versionText: string | null;
  prefix: string | null;
  confPath: string | null;
  errorLogPath: string | null;
  accessLogPath: string | null;
}

/**
 * nginx -V prints to stderr:
 *   nginx version: nginx/1.22.1
 *   configure arguments: --prefix=/usr/share/nginx --conf-path=/etc/nginx/nginx.conf --error-log-path=stderr …
 */
export function parseNginxV(stderr: string): NginxBuild {
  const arg = (name: string) => new RegExp(`--${name}=(\\S+)`).exec(stderr)?.[1] ?? null;
  const versionText = /nginx version: [\w.-]+\/(\S+)/.exec(stderr)?.[1] ?? null;
  return {
    version: versionText ? parseVersion(versionText) : null,
    versionText,
    prefix: arg('prefix'),
    confPath: arg('conf-path'),
    errorLogPath: arg('error-log-path'),
    accessLogPath: arg('http-log-path'),
  };
}

export interface Discovered {
  set: ConfigSet;
  model: ConfigModel;
  build: NginxBuild;
  /** How the config was read, and anything the operator should know about that. */
  notes: string[];
  commands: string[];
}

/**
 * Reads what nginx loads: `nginx -T` when it works (exactly what nginx
 * sees), else the files themselves (no root, or no nginx binary here).
 * A config nginx rejects, or we cannot parse, is a UserError naming file:line.
 */
export async function discoverConfig(
  host: Host,
  options: { nginxBin: string; nginxConf?: string | undefined; nginxPrefix?: string | undefined; /** Read the files when nginx rejects the config, with a note, instead of failing. */ readRejected?: boolean },
): Promise<Discovered> {
  const notes: string[] = [];
  const commands: string[] = [];
  const versionCommand = { file: options.nginxBin, args: ['-V'], timeoutMs: 5000 };
  commands.push(formatCommand(versionCommand));
  const v = await host.run(versionCommand);
  const haveNginx = !v.failure;
  const build: NginxBuild = haveNginx ? parseNginxV(v.stderr) : { version: null, versionText: null, prefix: null, confPath: null, errorLogPath: null, accessLogPath: null };
  if (!haveNginx) notes.push(`${options.nginxBin} could not run (${v.failure?.message}): defaults assume nginx before 1.29.7`);
  const main = options.nginxConf ?? build.confPath ?? '/etc/nginx/nginx.conf';

  let set: ConfigSet | null = null;
  if (haveNginx) {
    const dumpCommand = { file: options.nginxBin, args: nginxArgs({ ...(options.nginxConf ? { nginxConf: options.nginxConf } : {}), ...(options.nginxPrefix ? { nginxPrefix: options.nginxPrefix } : {}) }, '-T'), timeoutMs: 15000 };
    commands.push(formatCommand(dumpCommand));
    const dump = await host.run(dumpCommand);
    if (dump.exitCode === 0 && dump.stdout.includes('# configuration file ')) {
      set = loadConfigDump(dump.stdout);
    } else {
      const emerg = /\[emerg\] (?:\d+#\d+: )?(.*)/.exec(dump.stderr)?.[1] ?? dump.failure?.message ?? `exit ${dump.exitCode}`;
      if (/\(13: Permission denied\)/.test(emerg) && host.info().uid !== 0) {
        notes.push(`nginx -T needs root here (${emerg}); read the config files directly instead — run with sudo to see exactly what nginx loads`);
      } else if (/ in (\S+):(\d+)$/.test(emerg) || /open\(\) ".*" failed/.test(emerg)) {
        if (!options.readRejected) throw new UserError(`nginx rejects the config: ${emerg}`);
        notes.push(`nginx rejects the config (${emerg}): read the config files directly; the running nginx still serves its last good config: do not reload until this is fixed`);
      } else {
        notes.push(`nginx -T failed (${emerg}); read the config files directly instead`);
      }
    }
  }
  if (!set) {
    commands.push(`read ${main} and its includes`);
    set = await loadConfigFiles(host, main);
  }
  const prefix = options.nginxPrefix ?? build.prefix ?? '/etc/nginx';
  const resolve = (path: string | null) => (path === null || path === 'stderr' || /^(syslog|memory):/.test(path) || isAbsolute(path) ? path : join(prefix, path));
  const model = buildModel(set, {
    version: build.version,
    ...(build.errorLogPath ? { defaultErrorLog: build.errorLogPath } : {}),
    ...(build.accessLogPath ? { defaultAccessLog: build.accessLogPath } : {}),
  });
  for (const log of model.errorLogs) log.path = resolve(log.path) ?? log.path;
  for (const log of model.accessLogs) log.path = resolve(log.path) ?? log.path;
  return { set, model, build, notes, commands };
}

/** Error logs nginx writes to files (not stderr, syslog or memory), once each. */
export function errorLogFiles(model: ConfigModel): string[] {
  return [...new Set(model.errorLogs.map((l) => l.path).filter((p) => p !== 'stderr' && !/^(syslog|memory):/.test(p)))];
}
