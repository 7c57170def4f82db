import { z } from 'zod';
import type { CommandResult, Host } from '../../src/host/types.js';
import { ProbeStatusError, defineProbe, type ProbeContext } from '../../src/probe/contract.js';
import type { nginxConfigProbe } from './nginx-config.js';
import { parseAvcDenials, portLabel } from '../parse/mac.js';

type ConfigFacts = z.infer<typeof nginxConfigProbe.facts>;

interface Gathered {
  /** Set when SELinux is not in this kernel: nothing else was read. */
  absent?: string;
  enforce: string;
  boolean: string | null;
  ausearch: CommandResult | null;
  auditLog: string | null;
  auditLogError: string | null;
  /** The part of the window the audit logs read do not reach, in words; null when they cover it. */
  auditLogGap?: string | null;
  semanage: CommandResult | null;
}

/**
 * SELinux read from the kernel's own files when the tools are missing:
 * /sys/fs/selinux/enforce (getenforce), /sys/fs/selinux/booleans/NAME
 * ("1 1": current and pending, as getsebool shows). Denials from ausearch,
 * else /var/log/audit/audit.log.
 */
/**
 * Denials that stop nginx reaching a backend, as SELinux enforces them:
 * name_connect to a TCP port, connectto a unix socket, write to the socket
 * file. A permissive denial is only logged; a denied file read is a 403, not
 * a 502.
 */
function blocksUpstream(d: { permission: string; tclass: string; permissive: boolean }): boolean {
  const permissions = d.permission.split(/\s+/);
  if (d.permissive) return false;
  return (d.tclass === 'tcp_socket' && permissions.includes('name_connect')) || (d.tclass === 'unix_stream_socket' && permissions.includes('connectto')) || (d.tclass === 'sock_file' && permissions.includes('write'));
}

/** Denials in words, one entry per permission and target, with counts. */
function describe(denials: Array<{ permission: string; dest: number | null; path: string | null; tclass: string; permissive: boolean }>): string {
  const targets = new Map<string, number>();
  for (const d of denials) {
    const key = `${d.permission} to ${d.dest !== null ? `tcp port ${d.dest}` : d.path !== null ? d.path : d.tclass}${d.permissive ? ' (permissive: logged, not enforced)' : ''}`;
    targets.set(key, (targets.get(key) ?? 0) + 1);
  }
  return denials.length ? [...targets].map(([what, n]) => `${what} ×${n}`).join(', ') : 'none';
}

/** The ausearch -ts keyword whose start is at or before the window's: today, yesterday, else this-year. */
export function ausearchStart(context: ProbeContext): string {
  const start = context.windowEndMs - context.options.sinceMs;
  const midnight = new Date(context.windowEndMs);
  midnight.setHours(0, 0, 0, 0);
  if (start >= midnight.getTime()) return 'today';
  midnight.setDate(midnight.getDate() - 1);
  return start >= midnight.getTime() ? 'yesterday' : 'this-year';
}

const AUDIT_LOG = '/var/log/audit/audit.log';
/** Bytes read from the end of each audit log, and in all: auditd's default max_log_file is 8 MB, num_logs 5. */
const AUDIT_TAIL_BYTES = 4 * 1024 * 1024;
const AUDIT_BUDGET_BYTES = 16 * 1024 * 1024;

/** The time of the first audit record in a text (epoch ms): "msg=audit(1712233201.417:2190)". */
export function earliestAuditMs(text: string): number | null {
  const match = /msg=audit\((\d+)\.(\d+):/.exec(text);
  return match ? Number(match[1]) * 1000 + Number(match[2]!.padEnd(3, '0').slice(0, 3)) : null;
}

/**
 * Without ausearch: audit.log from its end, then the rotated audit.log.1,
 * .2 … (auditd's names, uncompressed), until a record older than the window
 * start. What a bounded read does not reach is a gap, named: no denial
 * found is then no evidence for the part before it.
 */
async function readAuditLogs(host: Host, fromMs: number): Promise<{ text: string | null; error: string | null; gap: string | null }> {
  const texts: string[] = [];
  let budget = AUDIT_BUDGET_BYTES;
  let reached: number | null = null;
  const iso = (ms: number) => new Date(ms).toISOString();
  const untilThen = (what: string) => ({ text: texts.reverse().join('\n'), error: null, gap: `${what}; the window starts at ${iso(fromMs)}, so denials ${reached === null ? 'in it' : `before ${iso(reached)}`} were not read (ausearch, as root, reads every audit log)` });
  for (let i = 0; ; i++) {
    const path = i === 0 ? AUDIT_LOG : `${AUDIT_LOG}.${i}`;
    const file = await host.readFile(path, { tailBytes: Math.min(AUDIT_TAIL_BYTES, budget) });
    if (!file.ok) {
      if (i === 0) return { text: null, error: file.error.message, gap: null };
      // No older rotated log: the window starts before the first record there is.
      if (file.error.code === 'ENOENT') break;
      return untilThen(`${path} could not be read (${file.error.message})`);
    }
    texts.push(file.content);
    budget -= file.content.length;
    reached = earliestAuditMs(file.content) ?? reached;
    if (reached !== null && reached <= fromMs) break;
    if (file.truncated) return untilThen(`read the last ${Math.round(file.content.length / 1024 / 1024)} MB of ${path}, back to ${reached === null ? 'no record' : iso(reached)}`);
    if (budget <= 0) return untilThen(`read ${AUDIT_BUDGET_BYTES / 1024 / 1024} MB of audit logs, back to ${path}`);
  }
  return { text: texts.reverse().join('\n'), error: null, gap: null };
}

export const selinuxProbe = defineProbe({
  id: 'selinux',
  title: 'SELinux',
  description: 'Whether SELinux is enforcing, whether nginx may connect to the network, and recent denials of nginx.',
  requiresRoot: 'partial',
  rootNote: 'the audit log and ausearch need root',
  timeoutMs: 20_000,
  uses: ['nginx-config'],
  facts: z.object({
    mode: z.enum(['enforcing', 'permissive', 'disabled']).describe('SELinux mode; disabled when the kernel has no SELinux'),
    disabledReason: z.string().nullable().describe('Why SELinux is disabled here, when it is'),
    httpdCanNetworkConnect: z.boolean().nullable().describe('httpd_can_network_connect (lets nginx connect to any port)'),
    denials: z
      .array(
        z.object({
          time: z.string().describe('When'),
          permission: z.string().describe('Denied permission: name_connect (TCP port) or connectto (unix socket)'),
          dest: z.number().int().nullable().describe('TCP port nginx tried'),
          path: z.string().nullable().describe('Socket path nginx tried'),
          tclass: z.string().describe('Object class'),
          permissive: z.boolean().describe('Logged only (permissive), not enforced'),
        }),
      )
      .describe('AVC denials of nginx in the window, of any kind'),
    blocking: z
      .array(z.object({ time: z.string().describe('When'), permission: z.string().describe('Denied permission'), dest: z.number().int().nullable().describe('TCP port'), path: z.string().nullable().describe('Socket path'), tclass: z.string().describe('Object class') }))
      .describe('The denials that stop nginx reaching a backend: enforced (not permissive) name_connect on a TCP port, connectto on a unix socket, write on a socket file'),
    otherSummary: z.string().describe('Denials of nginx that do not stop upstream connections (permissive, file reads, …), in words; "none" when there are none'),
    denialsSince: z.string().describe('ausearch -ts keyword used: it covers the window (today, yesterday or this-year)'),
    denialSource: z.enum(['ausearch', 'audit.log', 'none']).describe('Where denials were read; none when neither could be read'),
    auditLogGap: z.string().nullable().describe('Read from audit.log (no ausearch): the part of the window the logs read do not reach, in words; null when covered'),
    denialSummary: z.string().describe('The denials in words, one entry per permission and target, with counts'),
    unixDenials: z.array(z.string()).describe('Unix sockets nginx was denied connecting to (connectto), once each'),
    booleanText: z.string().describe('httpd_can_network_connect as getsebool shows it: on, off or unknown'),
    labelCommands: z.array(z.string()).describe('The narrowest fix per denied TCP port: the semanage command that labels it http_port_t'),
    portLabels: z.array(z.object({ port: z.number().int().describe('Backend port'), label: z.string().nullable().describe('SELinux port type (http_port_t lets nginx connect)') })).describe('Labels of the backend ports (semanage port -l)'),
  }),
  sources: () => [],
  gatherPlan: (context) => ['read /sys/fs/selinux/enforce and /sys/fs/selinux/booleans/httpd_can_network_connect', `ausearch -m avc -ts ${ausearchStart(context)} -c nginx (else read /var/log/audit/audit.log)`, 'semanage port -l'],
  gather: async (host, context): Promise<Gathered> => {
    const enforce = await host.readFile('/sys/fs/selinux/enforce');
    // Not in this kernel is an answer (nothing can deny), not a gap; an unreadable enforce file is a gap.
    if (!enforce.ok && enforce.error.code === 'ENOENT') return { absent: 'SELinux is not enabled on this kernel (no /sys/fs/selinux)', enforce: '', boolean: null, ausearch: null, auditLog: null, auditLogError: null, semanage: null };
    if (!enforce.ok) throw new ProbeStatusError(enforce.error.code === 'EACCES' ? 'denied' : 'unavailable', enforce.error.message);
    const bool = await host.readFile('/sys/fs/selinux/booleans/httpd_can_network_connect');
    // "recent" is only the last 10 minutes: ask from the day the window starts, and keep the window's part.
    const ausearch = await host.run({ file: 'ausearch', args: ['-m', 'avc', '-ts', ausearchStart(context), '-c', 'nginx'], timeoutMs: 10_000 });
    let auditLog: string | null = null;
    let auditLogError: string | null = null;
    let auditLogGap: string | null = null;
    if (ausearch.failure || ausearch.exitCode !== 0) {
      const logs = await readAuditLogs(host, context.windowEndMs - context.options.sinceMs);
      auditLog = logs.text;
      auditLogError = logs.error;
      auditLogGap = logs.gap;
    }
    const semanage = await host.run({ file: 'semanage', args: ['port', '-l'], timeoutMs: 15_000 });
    return { enforce: enforce.content.trim(), boolean: bool.ok ? bool.content.trim() : null, ausearch: ausearch.failure ? null : ausearch, auditLog, auditLogError, auditLogGap, semanage: semanage.failure ? null : semanage };
  },
  parse: (results, context) => {
    const g = results.gathered as Gathered;
    if (g.absent) {
      return { mode: 'disabled' as const, disabledReason: g.absent, httpdCanNetworkConnect: null, denials: [], blocking: [], otherSummary: 'none', denialsSince: ausearchStart(context), denialSource: 'none' as const, auditLogGap: null, denialSummary: 'none', unixDenials: [], booleanText: 'unknown', labelCommands: [], portLabels: [] };
    }
    const sinceMs = context.windowEndMs - context.options.sinceMs;
    const usedAusearch = g.ausearch !== null && (g.ausearch.exitCode === 0 || /no matches/i.test(g.ausearch.stderr));
    const text = usedAusearch ? g.ausearch!.stdout : (g.auditLog ?? '');
    const denials = parseAvcDenials(text)
      .filter((d) => d.comm === 'nginx' && d.timeMs >= sinceMs)
      .map((d) => ({ time: new Date(d.timeMs).toISOString(), permission: d.permission, dest: d.dest, path: d.path, tclass: d.tclass, permissive: d.permissive }));
    const config = context.deps['nginx-config'] as ConfigFacts | undefined;
    const ports = [...new Set((config?.backends ?? []).map((b) => b.port).filter((p): p is number => p !== null))];
    // A denial counts for this incident when it is about a backend's port or socket; a resolver's or another app's is listed apart.
    const socketPaths = new Set((config?.backends ?? []).map((b) => b.path).filter((p): p is string => p !== null));
    const aboutBackend = (d: (typeof denials)[number]) => !config || (d.dest !== null ? ports.includes(d.dest) : d.path === null || socketPaths.has(d.path));
    const blocking = denials.filter((d) => blocksUpstream(d) && aboutBackend(d));
    const others = denials.filter((d) => !blocking.includes(d));
    const deniedPorts = [...new Set(blocking.map((d) => d.dest).filter((p): p is number => p !== null))];
    return {
      denialSummary: describe(blocking),
      blocking: blocking.map(({ time, permission, dest, path, tclass }) => ({ time, permission, dest, path, tclass })),
      otherSummary: describe(others),
      denialsSince: ausearchStart(context),
      unixDenials: [...new Set(blocking.filter((d) => d.tclass !== 'tcp_socket').map((d) => d.path ?? 'a unix socket'))],
      booleanText: g.boolean === null ? 'unknown' : g.boolean.startsWith('1') ? 'on' : 'off',
      labelCommands: deniedPorts.map((port) => `semanage port -a -t http_port_t -p tcp ${port}`),
      mode: g.enforce === '1' ? ('enforcing' as const) : ('permissive' as const),
      disabledReason: null,
      httpdCanNetworkConnect: g.boolean === null ? null : g.boolean.startsWith('1'),
      denials,
      denialSource: usedAusearch ? ('ausearch' as const) : g.auditLog !== null ? ('audit.log' as const) : ('none' as const),
      auditLogGap: usedAusearch ? null : (g.auditLogGap ?? null),
      portLabels: ports.map((port) => ({ port, label: g.semanage?.exitCode === 0 ? portLabel(g.semanage.stdout, port) : null })),
    };
  },
  summarize: (facts) => facts.mode === 'disabled' ? facts.disabledReason! : `${facts.mode}; httpd_can_network_connect ${facts.httpdCanNetworkConnect === null ? 'unknown' : facts.httpdCanNetworkConnect ? 'on' : 'off'}; ${facts.denials.length} nginx denial(s)`,
  partialReason: (facts) => (facts.denialSource === 'none' && facts.mode !== 'disabled' ? 'denials not read: ausearch and /var/log/audit/audit.log need root' : (facts.auditLogGap ?? undefined)),
  gapReason: (facts) => facts.auditLogGap ?? undefined,
});
