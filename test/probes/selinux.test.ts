import { describe, expect, it } from 'vitest';
import { RealHost } from '../../src/host/realHost.js';
import { SourceResults } from '../../src/probe/contract.js';
import { ausearchStart, selinuxProbe } from '../../probes/read/selinux.js';
import { context } from '../support/fixtures.js';
import { OverlayHost } from '../support/overlayHost.js';

/** AVC records in the documented audit format (SELinux cannot run here: see *.documented.* fixtures). */
const avc = (atMs: number, permission: string, fields: string, permissive = 0) =>
  `type=AVC msg=audit(${Math.floor(atMs / 1000)}.${String(atMs % 1000).padStart(3, '0')}:2190): avc:  denied  { ${permission} } for  pid=10 comm="nginx" ${fields} scontext=system_u:system_r:httpd_t:s0 permissive=${permissive}`;

const END = new Date(2026, 10, 21, 9, 30).getTime();

function facts(log: string | null, ausearch: string | null = null, backends?: Array<{ port: number | null; path: string | null }>) {
  const gathered = {
    enforce: '1',
    boolean: '0 0',
    ausearch: ausearch === null ? { stdout: '', stderr: 'You must be root to run this program.', exitCode: 1, durationMs: 1 } : { stdout: ausearch, stderr: '', exitCode: 0, durationMs: 1 },
    auditLog: log,
    auditLogError: log === null ? '/var/log/audit/audit.log: permission denied' : null,
    semanage: null,
  };
  return selinuxProbe.parse(new SourceResults([], 0, gathered), context({ windowEndMs: END, deps: backends ? { 'nginx-config': { backends } } : {} }));
}

describe('selinux', () => {
  it('confirms only enforced denials of connections: not permissive ones, not file reads', () => {
    const f = facts(null, [
      avc(END - 60_000, 'name_connect', 'dest=8080 tcontext=system_u:object_r:unreserved_port_t:s0 tclass=tcp_socket'),
      avc(END - 50_000, 'connectto', 'path="/run/app.sock" tcontext=system_u:system_r:unconfined_service_t:s0 tclass=unix_stream_socket'),
      avc(END - 40_000, 'name_connect', 'dest=9000 tcontext=system_u:object_r:unreserved_port_t:s0 tclass=tcp_socket', 1),
      avc(END - 30_000, 'read', 'name="index.html" path="/srv/www/index.html" tcontext=unconfined_u:object_r:user_home_t:s0 tclass=file'),
    ].join('\n'));
    expect(f.blocking.map((d) => [d.permission, d.dest ?? d.path])).toEqual([['name_connect', 8080], ['connectto', '/run/app.sock']]);
    expect(f.labelCommands).toEqual(['semanage port -a -t http_port_t -p tcp 8080']);
    expect(f.otherSummary).toBe('name_connect to tcp port 9000 (permissive: logged, not enforced) ×1, read to /srv/www/index.html ×1');
  });

  it("a denied connect to a port no backend uses (a resolver, another app) is not this incident's", () => {
    const f = facts(null, avc(END - 60_000, 'name_connect', 'dest=53 tclass=tcp_socket'), [{ port: 8080, path: null }]);
    expect(f.blocking).toEqual([]);
    expect(f.otherSummary).toBe('name_connect to tcp port 53 ×1');
  });

  it('a permissive denial alone confirms nothing', () => {
    const f = facts(null, avc(END - 60_000, 'name_connect', 'dest=8080 tclass=tcp_socket', 1));
    expect(f.blocking).toEqual([]);
  });

  it('without root (no ausearch, no audit.log) says where the denials would be, and finds none', () => {
    const f = facts(null);
    expect(f.denialSource).toBe('none');
    expect(f.blocking).toEqual([]);
  });

  it('asks ausearch from the day the window starts: "recent" is only 10 minutes', () => {
    const at = (h: number, m: number) => new Date(2026, 10, 21, h, m).getTime();
    const ctx = (endMs: number, sinceMs: number) => context({ windowEndMs: endMs, options: { nginxBin: 'nginx', errorLogs: [], sinceMs } });
    expect(ausearchStart(ctx(at(9, 30), 3_600_000))).toBe('today');
    expect(ausearchStart(ctx(at(0, 20), 3_600_000))).toBe('yesterday');
    expect(ausearchStart(ctx(at(0, 20), 3 * 86_400_000))).toBe('this-year');
  });

  describe('audit.log without ausearch: it must reach the window start, or the rest is "could not tell"', () => {
    /** This machine, with SELinux enforcing and the documented audit logs overlaid; no ausearch, no semanage answer. */
    const selinuxHost = (files: Record<string, string>) =>
      new OverlayHost(new RealHost(), {
        files: { '/sys/fs/selinux/enforce': '1', '/sys/fs/selinux/booleans/httpd_can_network_connect': '0 0', ...files },
        commands: [
          { file: 'ausearch', argsPrefix: [], result: { stdout: '', stderr: 'ausearch: command not found', exitCode: 127 } },
          { file: 'semanage', argsPrefix: [], result: { stdout: '', stderr: '', exitCode: 1 } },
        ],
      });
    /** gather through the host, then parse, as the runner does: the facts and the gap it reports. */
    const run = async (host: OverlayHost, windowEndMs: number) => {
      const ctx = context({ windowEndMs, options: { nginxBin: 'nginx', errorLogs: [], sinceMs: 3_600_000 } });
      const facts = selinuxProbe.parse(new SourceResults([], 0, await selinuxProbe.gather!(host, ctx)), ctx);
      return { facts, gap: selinuxProbe.gapReason!(facts, ctx) };
    };
    // An sshd record of the documented shape: noise that fills a busy audit log.
    const noise = (atMs: number) => `type=AVC msg=audit(${Math.floor(atMs / 1000)}.000:${atMs % 100000}): avc:  denied  { read } for  pid=901 comm="sshd" name="motd" dev="dm-0" ino=123 scontext=system_u:system_r:sshd_t:s0 tcontext=system_u:object_r:etc_t:s0 tclass=file permissive=0`;
    const lines = (fromMs: number, toMs: number, n: number) => Array.from({ length: n }, (_, i) => noise(Math.round(fromMs + ((toMs - fromMs) * i) / n))).join('\n') + '\n';

    it('the last 4 MB of a busy audit.log reach back 20 minutes of a 60-minute window: the rest is a gap, not "no denial"', async () => {
      const now = Date.now();
      const outcome = await run(selinuxHost({ '/var/log/audit/audit.log': lines(now - 20 * 60_000, now, 24_000) }), now);
      expect(outcome.facts).toMatchObject({ denialSource: 'audit.log', blocking: [] });
      expect(outcome.gap).toMatch(/^read the last 4 MB of \/var\/log\/audit\/audit\.log, back to \S+; the window starts at \S+, so denials before \S+ were not read \(ausearch, as root, reads every audit log\)$/);
    });

    it('follows audit.log.1 when audit.log starts inside the window, and finds the denial there', async () => {
      const now = Date.now();
      const outcome = await run(
        selinuxHost({
          '/var/log/audit/audit.log': lines(now - 20 * 60_000, now, 50),
          '/var/log/audit/audit.log.1': lines(now - 120 * 60_000, now - 41 * 60_000, 50) + avc(now - 40 * 60_000, 'name_connect', 'dest=8080 tcontext=system_u:object_r:unreserved_port_t:s0 tclass=tcp_socket') + '\n',
        }),
        now,
      );
      expect(outcome.gap).toBeUndefined();
      expect(outcome.facts.blocking.map((d) => d.dest)).toEqual([8080]);
    });
  });
});
