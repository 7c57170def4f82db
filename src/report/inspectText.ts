import { notAnErrorLog } from '../../probes/read/error-log.js';
import type { Advice } from '../nginx/advice.js';
import type { ConfigModel, LocationModel } from '../nginx/model.js';
import type { ErrorLogReport } from '../errorlog/reader.js';
import type { AccessLogReport } from '../accesslog/analyze.js';
import { SIGNATURES } from '../errorlog/signatures.js';

/** `inspect config` as a person reads it: what nginx proxies where, with what settings, and what looks off. */
export function configText(model: ConfigModel, advice: Advice[], notes: string[], commands: string[]): string {
  const lines: string[] = [];
  lines.push(`nginx ${model.nginxVersion ?? '(version unknown)'} — defaults for ${model.defaultsFor}; ${model.files.length} file(s) loaded`);
  for (const command of commands) lines.push(`  $ ${command}`);
  for (const note of notes) lines.push(`  note: ${note}`);
  lines.push('', 'Upstreams');
  if (model.upstreams.length === 0) lines.push('  none (proxy_pass to literal addresses only: no keep-alive cache)');
  for (const u of model.upstreams) {
    const keepalive = u.keepalive === null ? 'keep-alive off' : `keepalive ${u.keepalive}${u.keepaliveOrigin === 'default' ? ' (default)' : ''}, keepalive_timeout ${u.keepaliveTimeoutSec === null ? 'none (nginx before 1.15.3: idle connections never time out)' : `${u.keepaliveTimeoutSec} s`}, keepalive_requests ${u.keepaliveRequests}`;
    lines.push(`  ${u.name}  ${u.file}:${u.line}  ${keepalive}`);
    for (const s of u.servers) lines.push(`    ${s.address}${s.params.length ? ` ${s.params.join(' ')}` : ''}`);
  }
  lines.push('', 'Locations');
  for (const l of model.locations) lines.push(`  ${locationLine(l)}`);
  lines.push('', 'Logs');
  for (const log of model.errorLogs) lines.push(`  error  ${log.path} (${log.level})${log.file ? `  ${log.file}:${log.line}` : '  (compiled-in default)'}`);
  for (const log of model.accessLogs) lines.push(`  access ${log.path} (format ${log.format})${log.hasUpstreamStatus ? '' : ' — no $upstream_status'}`);
  if (model.problems.length) {
    lines.push('', 'Problems');
    for (const p of model.problems) lines.push(`  ${p.file}:${p.line}: ${p.message}`);
  }
  lines.push('', advice.length ? 'Worth a look' : 'Nothing looks off in the config alone.');
  for (const a of advice) lines.push(`  ${a.severity === 'warn' ? '!' : '·'} ${a.id}: ${a.message}`);
  return lines.join('\n') + '\n';
}

function locationLine(l: LocationModel): string {
  const server = `${l.server.serverName[0] ?? '_'} ${l.server.listen.map((x) => x.address).join(',')}`;
  const head = `${server}  ${l.match}  (${l.file}:${l.line})`;
  if (!l.handler) return `${head}  no backend`;
  if (l.handler !== 'proxy_pass') return `${head}  → ${l.handler} ${l.proxyPass}`;
  const e = l.effective;
  const connection = e.connectionHeader === null ? 'no Connection header' : `Connection "${e.connectionHeader}"`;
  return `${head}  → ${l.upstream ?? l.proxyPass}  HTTP/${e.proxyHttpVersion}, ${connection}${l.upstream ? `, keep-alive ${e.keepaliveInEffect ? 'in effect' : 'not in effect'}` : ''}, timeouts connect ${e.proxyConnectTimeoutSec}/send ${e.proxySendTimeoutSec}/read ${e.proxyReadTimeoutSec} s, buffer ${e.proxyBufferSize}, next_upstream ${e.proxyNextUpstream.join(' ')}`;
}

const SPARK = '▁▂▃▄▅▆▇█';

/** `inspect errors` as a compact table with a per-minute sparkline. */
export function errorsText(report: ErrorLogReport): string {
  const lines: string[] = [];
  const window = report.window.from ? `${report.window.from} → ${report.window.to}` : 'whole file(s)';
  lines.push(`window ${window} · ${report.linesRead} line(s) read · ${report.unparsed} unparsed · ${report.otherLines} not about upstreams`);
  for (const f of report.files) lines.push(`  ${f.path}: ${f.mode}, ${formatBytes(f.bytesRead)} of ${formatBytes(f.size)}`);
  for (const p of report.problems) lines.push(`  problem: ${p}`);
  lines.push('');
  const foreign = notAnErrorLog(report);
  if (foreign) {
    lines.push(`Could not tell: ${foreign}`);
    if (report.signatures.length === 0) return lines.join('\n') + '\n';
  }
  if (report.signatures.length === 0) {
    lines.push('No upstream errors in this window.');
    return lines.join('\n') + '\n';
  }
  const top = (counts: Record<string, number>) => {
    const entries = Object.entries(counts).sort((a, b) => b[1] - a[1]);
    const [first] = entries;
    return first ? `${first[0]} (${first[1]})${entries.length > 1 ? ` +${entries.length - 1}` : ''}` : '';
  };
  const rows = report.signatures.map((s) => [s.id, String(s.count), s.firstSeen.slice(11), s.lastSeen.slice(11), top(s.upstreams), top(s.routes), Object.entries(s.methods).map(([m, n]) => `${m} ${n}`).join(', ')]);
  const header = ['signature', 'count', 'first', 'last', 'top peer', 'top route', 'methods'];
  const widths = header.map((h, i) => Math.min(40, Math.max(h.length, ...rows.map((r) => r[i]!.length))));
  const format = (cells: string[]) => cells.map((c, i) => (c.length > widths[i]! ? `${c.slice(0, widths[i]! - 1)}…` : c.padEnd(widths[i]!))).join('  ').trimEnd();
  lines.push(format(header));
  for (const row of rows) lines.push(format(row));
  lines.push('', `per minute  ${sparkline(report)}`);
  lines.push('', 'What they mean:');
  for (const s of report.signatures) lines.push(`  ${s.id}: ${SIGNATURES[s.id].summary} (${SIGNATURES[s.id].status})`);
  return lines.join('\n') + '\n';
}

function sparkline(report: ErrorLogReport): string {
  const minutes = report.perMinute;
  if (minutes.length === 0) return '';
  const toMs = (m: string) => new Date(`${m.slice(0, 10).replace(/\//g, '-')}T${m.slice(11)}:00`).getTime();
  const first = toMs(minutes[0]!.minute);
  const last = toMs(minutes[minutes.length - 1]!.minute);
  const span = Math.min(120, Math.round((last - first) / 60_000) + 1);
  const counts = new Array<number>(span).fill(0);
  for (const m of minutes) {
    const index = Math.round((toMs(m.minute) - first) / 60_000);
    if (index < span) counts[index]! += m.count;
  }
  const max = Math.max(...counts);
  return `${counts.map((c) => (c === 0 ? ' ' : SPARK[Math.min(SPARK.length - 1, Math.floor((c / max) * (SPARK.length - 1)))])).join('')}  (${minutes[0]!.minute.slice(11)}–${minutes[minutes.length - 1]!.minute.slice(11)}, max ${max}/min)`;
}

function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 ** 2) return `${(n / 1024).toFixed(1)} KB`;
  if (n < 1024 ** 3) return `${(n / 1024 ** 2).toFixed(1)} MB`;
  return `${(n / 1024 ** 3).toFixed(2)} GB`;
}

/** The access-log part: where clients really got 502/504, and what retries hid. */
export function accessText(report: AccessLogReport): string {
  const lines = ['', `access log ${report.path} (format ${report.format}): ${report.requests} request(s), ${report.status502} × 502, ${report.status504} × 504${report.unparsed ? `, ${report.unparsed} line(s) not in that format` : ''}`];
  for (const p of report.problems) lines.push(`  problem: ${p}`);
  if (!report.hasUpstreamStatus) lines.push('  no $upstream_status in this format: retried requests cannot be seen');
  else lines.push(`  retried: ${report.retried} (${report.retriedThenOk} saved by a later try; the error log still shows their first failure)`);
  const failing = report.routes.filter((r) => r.status502 + r.status504 > 0).slice(0, 10);
  for (const r of failing) lines.push(`  ${r.route.padEnd(30)} ${String(r.requests).padStart(7)} req  502 ${(r.rate502 * 100).toFixed(1)}%  504 ${(r.rate504 * 100).toFixed(1)}%  retried ${r.retried}`);
  for (const e of report.retriedExamples.slice(0, 3)) lines.push(`  e.g. ${e.method ?? '?'} ${e.path ?? '?'} → ${e.status} (upstream ${e.upstreamStatus})`);
  return lines.join('\n') + '\n';
}
