import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseIptablesSave, parseNftRuleset } from '../../probes/read/firewall.js';
import { judgePath, parsePing } from '../../probes/read/network-path.js';
import { parseAaStatus, parseAppArmorDenials, parseAvcDenials, portLabel } from '../../probes/parse/mac.js';
import { parseJournalKernel } from '../../probes/read/kernelLog.js';
import { memoryCgroup, parseMeminfo, parsePressure } from '../../probes/read/resources.js';
import { backendRestartsProbe, findCrashLines, gunicornTime, inWindow, parseSystemctlShow, parseSystemdTimestamp, systemdUnit } from '../../probes/read/backend-restarts.js';
import { parseProfilesFile } from '../../probes/read/apparmor.js';
import { commandFixture, fixturePath } from '../support/fixtures.js';

const read = (...parts: string[]) => readFileSync(fixturePath(...parts), 'utf8');

describe('firewall listings (recorded in a network namespace)', () => {
  it('finds REJECT-with-reset and DROP rules with their ports in iptables-save', () => {
    expect(parseIptablesSave(commandFixture('../firewall/iptables-save-netns').stdout)).toEqual([
      { source: 'iptables', chain: 'INPUT', action: 'reject-tcp-reset', port: 8080, loopback: false, text: '-A INPUT -p tcp -m tcp --dport 8080 -j REJECT --reject-with tcp-reset' },
      { source: 'iptables', chain: 'INPUT', action: 'drop', port: 9000, loopback: true, text: '-A INPUT -i lo -p tcp -m tcp --dport 9000 -j DROP' },
      { source: 'iptables', chain: 'OUTPUT', action: 'reject', port: 3000, loopback: true, text: '-A OUTPUT -d 127.0.0.1/32 -p tcp -m tcp --dport 3000 -j REJECT --reject-with icmp-port-unreachable' },
    ]);
  });
  it('finds the same in nft list ruleset', () => {
    const rules = parseNftRuleset(commandFixture('../firewall/nft-ruleset-netns').stdout);
    expect(rules.map((r) => [r.chain, r.action, r.port, r.loopback])).toEqual([
      ['INPUT', 'reject-tcp-reset', 8080, false],
      ['INPUT', 'drop', 9000, true],
      ['OUTPUT', 'reject', 3000, true],
      ['input', 'reject-tcp-reset', 8081, false],
      ['input', 'drop', 9001, true],
    ]);
  });
  it('finds nothing in an empty ruleset', () => {
    expect(parseIptablesSave('*filter\n:INPUT ACCEPT [0:0]\nCOMMIT\n')).toEqual([]);
    // A drop policy is listed: it drops what no rule accepts.
    expect(parseNftRuleset('table inet filter {\n\tchain input {\n\t\ttype filter hook input priority filter; policy drop;\n\t}\n}\n').map((r) => r.text)).toEqual(['chain input (inet filter) policy drop']);
    expect(parseNftRuleset('table inet filter {\n\tchain input {\n\t\ttype filter hook input priority filter; policy accept;\n\t}\n}\n')).toEqual([]);
  });
});

describe('ping (recorded between two namespaces, veth MTU 1400)', () => {
  it('reads a path that takes the size', () => {
    const f = commandFixture('ping-mtu-fits');
    expect(parsePing(f.stdout, f.stderr)).toEqual({ transmitted: 2, received: 2, lossPercent: 0, reportedMtu: null });
  });
  it('reads "message too long" with the local MTU', () => {
    const f = commandFixture('ping-mtu-too-big');
    expect(parsePing(f.stdout, f.stderr)).toEqual({ transmitted: 2, received: 0, lossPercent: 100, reportedMtu: 1400 });
  });
  it('reads loss, and rejects output without statistics', () => {
    const f = commandFixture('ping-loss');
    expect(parsePing(f.stdout, f.stderr)).toMatchObject({ transmitted: 3, received: 0, lossPercent: 100 });
    expect(parsePing('', 'ping: unknown host\n')).toBeNull();
  });
});

describe('path MTU (ping across a router, recorded in namespaces A —1500— R —1400— B)', () => {
  const path = (name: string) =>
    judgePath([1472, 1372, 1172].map((size) => {
      const f = commandFixture(`ping-${name}-${size}`);
      return { wire: size + 28, ...parsePing(f.stdout, f.stderr)! };
    }));
  it('a router that says "fragmentation needed": path MTU discovery works, no problem', () => {
    expect(path('frag-needed')).toEqual({ largest: 1400, reportedMtu: 1400, blackHole: false, measured: true });
  });
  it('a router that stays silent: a black hole', () => {
    expect(path('blackhole')).toEqual({ largest: 1400, reportedMtu: null, blackHole: true, measured: true });
  });
  it('ordinary loss is no black hole: the smaller size must get through without loss', () => {
    const reading = (wire: number, received: number) => ({ wire, received, lossPercent: Math.round(((3 - received) / 3) * 100), reportedMtu: null });
    expect(judgePath([reading(1500, 0), reading(1400, 1), reading(1200, 2)]).blackHole).toBe(false);
    expect(judgePath([reading(1500, 0), reading(1400, 3), reading(1200, 3)]).blackHole).toBe(true);
  });
  it('a host that ignores ICMP echo: nothing measured, never "fine"', () => {
    expect(path('filtered')).toMatchObject({ largest: null, blackHole: false, measured: false });
  });
  it('a local link of 1400 (the veth recording): not a problem', () => {
    const sizes = [['ping-mtu-too-big', 1500], ['ping-mtu-fits', 1400]] as const;
    expect(judgePath(sizes.map(([name, wire]) => ({ wire, ...parsePing(commandFixture(name).stdout, commandFixture(name).stderr)! })))).toMatchObject({ largest: 1400, blackHole: false });
  });
});

describe('SELinux and AppArmor (documented formats: this machine runs neither)', () => {
  it('reads AVC denials of nginx: a port and a unix socket', () => {
    const denials = parseAvcDenials(read('mac', 'audit-avc-nginx.documented.log'));
    expect(denials.filter((d) => d.comm === 'nginx').map((d) => [d.permission, d.dest, d.path, d.tclass])).toEqual([
      ['name_connect', 8080, null, 'tcp_socket'],
      ['connectto', null, '/run/app/app.sock', 'unix_stream_socket'],
    ]);
    expect(denials[0]!.timeMs).toBe(1712233201417);
    expect(parseAvcDenials('type=SYSCALL msg=audit(1.2:3): arch=c000003e\n')).toEqual([]);
  });
  it('reads port labels from semanage port -l, ranges included', () => {
    const text = read('mac', 'semanage-port.documented.txt');
    expect(portLabel(text, 8080)).toBe('http_cache_port_t');
    expect(portLabel(text, 10005)).toBe('http_cache_port_t');
    expect(portLabel(text, 443)).toBe('http_port_t');
    expect(portLabel(text, 3000)).toBeNull();
  });
  it('reads aa-status, the profiles file, and DENIED kernel lines', () => {
    expect(parseAaStatus(read('mac', 'aa-status.documented.txt'))).toMatchObject({ loaded: true, enforce: ['/usr/sbin/nginx', '/usr/bin/man'], complain: ['/usr/sbin/php-fpm8.1', 'snap.lxd.lxc'] });
    expect(parseProfilesFile('/usr/sbin/nginx (enforce)\n/usr/bin/man (complain)\n')).toEqual({ enforce: ['/usr/sbin/nginx'], complain: ['/usr/bin/man'] });
    const denials = parseAppArmorDenials(parseJournalKernel(read('mac', 'kern-apparmor-denied.documented.txt')));
    expect(denials.map((d) => [d.operation, d.profile, d.target])).toEqual([
      ['connect', '/usr/sbin/nginx', '/run/php/php8.1-fpm.sock'],
      ['open', '/usr/bin/man', '/etc/shadow'],
    ]);
  });
});

describe('resources', () => {
  it('reads PSI, meminfo and the memory cgroup of a process', () => {
    expect(parsePressure('some avg10=1.50 avg60=0.25 avg300=0.00 total=1311\nfull avg10=0.10 avg60=0.00 avg300=0.00 total=968\n')).toEqual({ someAvg10: 1.5, someAvg60: 0.25, fullAvg10: 0.1 });
    expect(parsePressure('')).toBeNull();
    expect(parseMeminfo('MemTotal:       24684096 kB\nMemAvailable:   24198780 kB\nHugePages_Total:       0\n')).toEqual({ MemTotal: 24684096, MemAvailable: 24198780, HugePages_Total: 0 });
    expect(memoryCgroup('0::/system.slice/app.service\n')).toEqual({ version: 2, path: '/system.slice/app.service' });
    expect(memoryCgroup('9:name=systemd:/\n4:memory:/rdtest\n')).toEqual({ version: 1, path: '/rdtest' });
  });
});

describe('backend restarts', () => {
  it('finds the systemd unit in /proc/PID/cgroup (v1 and v2)', () => {
    expect(systemdUnit('0::/system.slice/gunicorn.service\n')).toBe('gunicorn.service');
    expect(systemdUnit('1:name=systemd:/system.slice/app@2.service\n')).toBe('app@2.service');
    expect(systemdUnit('9:name=systemd:/\n')).toBeNull();
  });
  it('reads systemctl show and gunicorn log times', () => {
    expect(parseSystemctlShow('NRestarts=3\nActiveEnterTimestamp=Sun 2024-02-11 03:14:10 UTC\nResult=success\n')).toEqual({ NRestarts: '3', ActiveEnterTimestamp: 'Sun 2024-02-11 03:14:10 UTC', Result: 'success' });
    expect(gunicornTime('[2024-02-11 03:14:07 +0000] [4242] [CRITICAL] WORKER TIMEOUT (pid:4245)')).toBe(Date.parse('2024-02-11T03:14:07Z'));
    expect(gunicornTime('no time')).toBeNaN();
  });
  it('keeps a traceback with the timed line before it, and drops lines of unknown age', () => {
    const log = [
      'Traceback (most recent call last):', // before any timed line: age unknown
      '  File "app.py", line 1, in <module>',
      '[2024-02-11 02:00:00 +0000] [4242] [ERROR] Exception in worker process', // before the window
      'Traceback (most recent call last):',
      '[2024-02-11 03:14:07 +0000] [4242] [ERROR] Exception in worker process',
      'Traceback (most recent call last):',
      'ZeroDivisionError: division by zero',
    ].join('\n');
    expect(inWindow(log, Date.parse('2024-02-11T03:00:00Z')).split('\n')).toEqual(['[2024-02-11 03:14:07 +0000] [4242] [ERROR] Exception in worker process', 'Traceback (most recent call last):', 'ZeroDivisionError: division by zero']);
  });
  it('recognizes crash lines and ignores the rest', () => {
    expect(findCrashLines('[x] [4242] [CRITICAL] WORKER TIMEOUT (pid:4245)\n[x] [4245] [INFO] Worker exiting (pid: 4245)\nTraceback (most recent call last):\nall good\n').map((c) => c.kind)).toEqual(['worker-timeout', 'traceback']);
  });
});

describe('connection timelines (keepalive-measure, header-size)', async () => {
  const { readTimeline } = await import('../../probes/read/keepalive-measure.js');
  const { headerBytes } = await import('../../probes/read/header-size.js');
  const answer = 'HTTP/1.1 200 OK\r\nConnection: keep-alive\r\nKeep-Alive: timeout=5\r\n\r\n';
  it('times the idle close after the answer, FIN or RST', () => {
    const fin = { connected: true, durationMs: 6012, events: [{ atMs: 1, kind: 'connected' as const }, { atMs: 4, kind: 'data' as const, bytes: answer.length, text: answer }, { atMs: 6010, kind: 'fin' as const }] };
    expect(readTimeline(fin)).toEqual({ connected: true, statusLine: 'HTTP/1.1 200 OK', keepAliveOffered: true, keepAliveHeaderSec: 5, closedBy: 'fin', idleTimeoutSec: 6.01, error: null });
    const rst = { ...fin, events: [fin.events[0]!, fin.events[1]!, { atMs: 2004, kind: 'reset' as const, message: 'read ECONNRESET' }] };
    expect(readTimeline(rst)).toMatchObject({ closedBy: 'reset', idleTimeoutSec: 2 });
    expect(headerBytes(fin)).toBe(answer.length);
  });
  it('says when it never got an answer, or the connection outlived the cap', () => {
    const refused = { connected: false, durationMs: 1, events: [{ atMs: 1, kind: 'error' as const, code: 'ECONNREFUSED', message: 'connect ECONNREFUSED' }] };
    expect(readTimeline(refused)).toMatchObject({ connected: false, statusLine: null, closedBy: 'error', idleTimeoutSec: null, error: 'ECONNREFUSED: connect ECONNREFUSED' });
    expect(headerBytes(refused)).toBeNull();
    const open = { connected: true, durationMs: 61000, events: [{ atMs: 1, kind: 'connected' as const }, { atMs: 3, kind: 'data' as const, bytes: 10, text: answer }, { atMs: 61003, kind: 'idle-timeout' as const }] };
    expect(readTimeline(open)).toMatchObject({ closedBy: 'still-open', idleTimeoutSec: null });
  });
});

describe('systemd NRestarts is a lifetime counter, counted only when the unit last started in the window', () => {
  const windowEndMs = Date.parse('2026-12-01T14:00:00Z');
  const restarts = (fixture: string) => {
    const stdout = readFileSync(fixturePath('systemd', fixture), 'utf8');
    const proc = { address: '127.0.0.1:8000', pid: 4242, kind: 'gunicorn', args: 'gunicorn app:app', startedAtMs: null, workers: [] };
    const gathered = [{ address: '127.0.0.1:8000', pid: 4242, unit: 'app.service', show: { stdout, stderr: '', exitCode: 0, durationMs: 1 }, journal: null, logFile: null }];
    const context = { deps: { 'backend-process': { backends: [proc] } }, options: { sinceMs: 3_600_000 }, windowEndMs };
    return backendRestartsProbe.parse({ gathered } as never, context as never);
  };

  it('reads systemctl timestamps', () => {
    expect(parseSystemdTimestamp('Tue 2026-11-24 09:12:44 UTC')).toBe(Date.parse('2026-11-24T09:12:44Z'));
    expect(parseSystemdTimestamp('Tue 2026-11-24 09:12:44.123456 UTC')).toBe(Date.parse('2026-11-24T09:12:44.123Z'));
    expect(parseSystemdTimestamp('')).toBeNull();
    expect(parseSystemdTimestamp('n/a')).toBeNull();
  });

  it('3 restarts, the last a week ago: context, not a restart now', () => {
    const facts = restarts('show-restarted-last-week.documented.txt');
    expect(facts.backends[0]).toMatchObject({ nRestarts: 3, nRestartsInWindow: 0, lastStartAtMs: Date.parse('2026-11-24T09:12:44Z') });
    expect(facts.backends[0]!.restartsContext).toMatch(/^3 automatic restart\(s\) of app\.service in its lifetime, the last at .*, before the window: not counted$/);
    expect(facts.restartedBackends).toBe(0);
  });

  it('a restart whose start falls in the window counts', () => {
    const facts = restarts('show-restarted-now.documented.txt');
    expect(facts.backends[0]).toMatchObject({ nRestarts: 1, nRestartsInWindow: 1, restartsContext: null });
    expect(facts.restartedBackends).toBe(1);
  });
});
