import type { EngineState, FixSuggestion } from '../engine/state.js';
import { selectFixes } from '../engine/selectors.js';
import { GENERIC_COMMANDS } from '../fixes/catalog.js';
import { nginxArgs, type NginxInvocation } from '../nginx/command.js';
import { factsOf } from './impact.js';

/**
 * Fix steps for this host. The catalog writes `nginx -t && nginx -s reload`
 * and a sample log path (GENERIC_COMMANDS); run as written, those would test
 * and reload another nginx than the one diagnosed (no -c, no -p) or name a
 * log this config does not write. Here they become this run's binary, -c
 * and -p, and the access_log / error_log paths of the config with the file
 * and line of each directive.
 */
export interface HostValues {
  checkReload: string;
  tailErrorLog: string | null;
  accessLogLine: string | null;
}

type LogFacts = { errorLogs: Array<{ path: string; file: string | null; line: number | null }>; accessLogs: Array<{ path: string; file: string | null; line: number | null; hasUpstreamStatus: boolean }> };

export function hostValues(state: EngineState, nginx: NginxInvocation | undefined): HostValues {
  const bin = nginx?.nginxBin ?? 'nginx';
  const where = nginxArgs(nginx ?? {}, '-t').slice(1);
  const test = shellJoin([bin, '-t', ...where]);
  const reload = shellJoin([bin, '-s', 'reload', ...where]);
  const config = factsOf<LogFacts>(state, 'nginx-config');
  const errorFiles = [...new Set((config?.errorLogs ?? []).map((l) => l.path).filter((p) => p.startsWith('/')))];
  const withoutUpstream = (config?.accessLogs ?? []).filter((l) => !l.hasUpstreamStatus);
  return {
    checkReload: `\`${test} && ${reload}\``,
    tailErrorLog: errorFiles.length ? `\`${shellJoin(['tail', '-f', ...errorFiles])}\`` : null,
    accessLogLine: withoutUpstream.length
      ? withoutUpstream.map((l) => `\`access_log ${l.path} upstreamlog;\`${l.file ? ` in place of the access_log at ${l.file}:${l.line}` : ''}`).join(', and ')
      : null,
  };
}

export function exactSteps(steps: readonly string[], values: HostValues): string[] {
  return steps.map((step) => {
    let text = step.replaceAll(GENERIC_COMMANDS.checkReload, values.checkReload);
    if (values.tailErrorLog) text = text.replaceAll(GENERIC_COMMANDS.tailErrorLog, values.tailErrorLog);
    if (values.accessLogLine) text = text.replaceAll(GENERIC_COMMANDS.accessLogLine, values.accessLogLine);
    return text;
  });
}

/** The run's fixes with every command and path written for this host. */
export function selectExactFixes(state: EngineState, nginx: NginxInvocation | undefined): FixSuggestion[] {
  const values = hostValues(state, nginx);
  return selectFixes(state).map((fix) => ({ ...fix, steps: exactSteps(fix.steps, values) }));
}

/** Arguments as a person pastes them into a shell: quoted only when they need it. */
export function shellJoin(args: readonly string[]): string {
  return args.map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replaceAll("'", `'\\''`)}'`)).join(' ');
}
