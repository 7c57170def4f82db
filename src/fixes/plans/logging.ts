/**
 * log-upstream-status: a log_format that records what the upstream did, at the
 * start of the http block (access_log looks its format up as nginx reads it,
 * so the format must come first), and every access log without
 * $upstream_status switched to it — its own path and parameters kept.
 */
import { refOf } from '../../nginx/edit.js';
import { walkResolved } from '../../nginx/resolved.js';
import type { ConfigSet } from '../../nginx/load.js';
import type { FixPlan, PlanInput } from '../../apply/types.js';
import { PlanBuilder, configFacts, directiveAt, factsOf, httpBlock, line, notApplicable, where } from './context.js';

/** nginx's combined format plus the upstream's address, status(es) and times: tools that read combined still find their fields first. */
export const UPSTREAM_FORMAT =
  '$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent "$http_referer" "$http_user_agent" upstream=$upstream_addr us="$upstream_status" urt=$upstream_response_time uct=$upstream_connect_time';

/** log_format name → text, as defined at http level (escape= left out). */
function formats(config: ConfigSet): Map<string, string> {
  const out = new Map<string, string>();
  for (const { directive, parents } of walkResolved(config)) {
    if (directive.name !== 'log_format' || parents.length !== 1 || parents[0]!.name !== 'http' || !directive.args[0]) continue;
    const words = directive.args.slice(1).map((a) => a.value);
    out.set(directive.args[0].value, (words[0]?.startsWith('escape=') ? words.slice(1) : words).join(''));
  }
  return out;
}

export function planLogUpstreamStatus(input: PlanInput): FixPlan {
  const b = new PlanBuilder(input.fix.id);
  const config = configFacts(input);
  const missing = config.accessLogs.filter((l) => !l.hasUpstreamStatus);
  if (missing.length === 0) {
    return notApplicable(b.fix, config.accessLogs.length ? 'every access log already records $upstream_status' : 'no access log is written (access_log off): turning logging on is a choice of disk and privacy, not made here');
  }
  const known = formats(input.config);
  const existing = [...known].find(([, text]) => /\$upstream_status\b/.test(text))?.[0];
  let name = existing ?? 'upstreamlog';
  for (let i = 2; !existing && known.has(name); i++) name = `upstreamlog${i}`;
  const http = httpBlock(input.config);
  if (!existing) {
    const directive = line('log_format', name, UPSTREAM_FORMAT);
    b.edit({ kind: 'insert', file: http.file, block: refOf(http), directive, at: 'start' }, `${where('http', http.file, http.line)}: add ${directive} (first in http: the access_log lines below name it)`);
  } else {
    b.notes.push(`log_format ${existing} already records $upstream_status: the access logs are switched to it`);
  }
  for (const log of missing) {
    if (log.file === null || log.line === null) {
      // The compiled-in default: no directive to change, so one with the same path goes at http level — the
      // path nginx -V names, never a guess.
      if (!factsOf<{ accessLogPath: string | null }>(input, 'nginx-version')?.accessLogPath) {
        b.refuse(`nginx writes its compiled-in access log, and nginx -V did not name it (--http-log-path) in this run: add \`access_log PATH ${name};\` at http level by hand, with the path nginx writes to`);
        continue;
      }
      const directive = line('access_log', log.path, name);
      b.edit({ kind: 'insert', file: http.file, block: refOf(http), directive }, `${where('http', http.file, http.line)}: add ${directive} (the access log nginx writes by default, ${log.path} in format combined, kept at its path)`);
      continue;
    }
    const placed = directiveAt(input.config, log.file, log.line, 'access_log');
    const args = placed.directive.args.map((a) => a.value);
    const next = line('access_log', args[0]!, name, ...args.slice(2));
    const was = args[1] ?? 'combined';
    b.edit({ kind: 'replace', file: placed.directive.file, target: refOf(placed.directive), directive: next }, `${where('access_log', log.file, log.line)}: ${line('access_log', ...args)} → ${next}`);
    if (was !== 'combined' && was !== 'main') b.notes.push(`${log.path} changes from format ${was} to ${name}: anything that parses its lines (a log shipper) must follow`);
  }
  return b.result('every access log already uses a format with $upstream_status');
}
