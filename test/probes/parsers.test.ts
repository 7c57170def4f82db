import { describe, expect, it } from 'vitest';
import { ProbeStatusError } from '../../src/probe/contract.js';
import { nginxVersionProbe } from '../../probes/read/nginx-version.js';
import { nginxTestProbe } from '../../probes/read/nginx-test.js';
import { nginxConfigProbe } from '../../probes/read/nginx-config.js';
import { listeningSocketsProbe } from '../../probes/read/listening-sockets.js';
import { processesProbe, parsePs } from '../../probes/read/processes.js';
import { parseIpAddr } from '../../probes/read/local-addresses.js';
import { parseTcpListeners, parseUnixListeners, splitHostPort } from '../../probes/parse/ssOutput.js';
import { readFileSync } from 'node:fs';
import { SourceResults } from '../../src/probe/contract.js';
import { asResult, asUser, commandFixture, commandResults, context, fixturePath } from '../support/fixtures.js';

const statusOf = (fn: () => unknown) => {
  try {
    fn();
  } catch (error) {
    if (error instanceof ProbeStatusError) return { status: error.status, message: error.message, sudo: error.sudoHint };
    throw error;
  }
  return null;
};

describe('nginx-version', () => {
  const parse = (stderr: string, exitCode = 0) => nginxVersionProbe.parse(commandResults(['version'], [{ stdout: '', stderr, exitCode }]), context());
  it('reads the recorded nginx -V of Debian 12: version, compiled-in paths, modules', () => {
    const facts = parse(commandFixture('nginx-V').stderr);
    expect(facts).toMatchObject({ product: 'nginx', version: '1.22.1', major: 1, minor: 22, patch: 1, prefix: '/usr/share/nginx', confPath: '/etc/nginx/nginx.conf', errorLogPath: 'stderr', accessLogPath: '/var/log/nginx/access.log' });
    expect(facts.modules).toContain('with-http_ssl_module');
  });
  it.each([
    ['nginx -v only', commandFixture('nginx-v').stderr, { product: 'nginx', version: '1.22.1', prefix: null, modules: [] }],
    ['openresty', 'nginx version: openresty/1.21.4.3\n', { product: 'openresty', version: '1.21.4.3', major: 1, minor: 21, patch: 4 }],
    ['mainline with suffix', 'nginx version: nginx/1.29.7 (custom)\n', { product: 'nginx', version: '1.29.7', major: 1, minor: 29, patch: 7 }],
  ])('%s', (_name, stderr, expected) => {
    expect(parse(stderr)).toMatchObject(expected);
  });
  it('rejects output without a version line', () => {
    expect(statusOf(() => parse('bash: nginx: something else\n', 1))).toMatchObject({ status: 'error' });
  });
});

describe('nginx-test', () => {
  const parse = (name: string, uid = 0) => {
    const f = commandFixture(name);
    return () => nginxTestProbe.parse(commandResults(['test'], [f]), context(asUser(uid)));
  };
  it('reads a successful test', () => {
    expect(parse('nginx-t-ok')()).toEqual({ ok: true, syntaxOk: true, configFile: '/tmp/lab1/nginx.conf', errors: [], warnings: [] });
  });
  it('reads a syntax error with its file and line', () => {
    const facts = parse('nginx-t-syntax-error')();
    expect(facts.ok).toBe(false);
    expect(facts.syntaxOk).toBe(false);
    expect(facts.errors).toEqual([{ level: 'emerg', message: 'unexpected "}" in /tmp/lab1/broken.conf:12', file: '/tmp/lab1/broken.conf', line: 12 }]);
  });
  it('reads a missing config file as a failed test', () => {
    expect(parse('nginx-t-missing')().errors[0]?.message).toContain('No such file or directory');
  });
  it('calls a permission failure without root "denied" and names the sudo command', () => {
    const f = commandFixture('nginx-t-nonroot');
    const results = commandResults(['test'], [f]);
    results.all[0] = { ...results.all[0]!, command: { file: 'nginx', args: ['-t', '-c', '/tmp/lab1/nginx.conf'], timeoutMs: 1 } } as (typeof results.all)[0];
    expect(statusOf(() => nginxTestProbe.parse(results, context(asUser(1000))))).toEqual({
      status: 'denied',
      message: 'needs root: open() "/tmp/lab1/nginx.pid" failed (13: Permission denied)',
      sudo: 'sudo nginx -t -c /tmp/lab1/nginx.conf',
    });
  });
  it('calls an unreadable TLS key without root "denied" too (OpenSSL words it its own way)', () => {
    const f = commandFixture('nginx-t-nonroot-tls-key');
    const results = commandResults(['test'], [f]);
    results.all[0] = { ...results.all[0]!, command: { file: 'nginx', args: ['-t', '-c', '/tmp/tlslab/nginx.conf'], timeoutMs: 1 } } as (typeof results.all)[0];
    expect(statusOf(() => nginxTestProbe.parse(results, context(asUser(1000))))).toMatchObject({ status: 'denied', sudo: 'sudo nginx -t -c /tmp/tlslab/nginx.conf' });
    expect(parse('nginx-t-nonroot-tls-key', 0)().ok).toBe(false);
  });
  it('keeps the same failure as a real error when already root', () => {
    expect(parse('nginx-t-nonroot', 0)().ok).toBe(false);
  });
});

const nginxVersionFacts = nginxVersionProbe.parse(commandResults(['version'], [commandFixture('nginx-V')]), context());

describe('nginx-config', () => {
  it('lists upstreams and backends from a recorded nginx -T', () => {
    const facts = nginxConfigProbe.parse(commandResults(['dump'], [commandFixture('nginx-T-ok')]), context({ deps: { 'nginx-version': nginxVersionFacts } }));
    expect(facts.files).toEqual(['/tmp/lab1/nginx.conf']);
    expect(facts.upstreams).toMatchObject([{ name: 'api', file: '/tmp/lab1/nginx.conf', line: 12, serverCount: 1, keepalive: 8, keepaliveTimeoutSec: 60 }]);
    expect(facts.locations.map((l) => [l.match, l.upstream, l.effective.keepaliveInEffect])).toEqual([
      ['/', 'api', false],
      ['/direct/', null, false],
    ]);
    expect(facts.advice.map((a) => a.id)).toContain('keepalive-inert');
    expect(facts.errorLogs).toMatchObject([{ path: '/tmp/lab1/error.log', level: 'warn' }]);
    expect(facts.backends.map((b) => [b.address, b.upstream, b.usedBy[0]?.line])).toEqual([
      ['127.0.0.1:18081', 'api', 15],
      ['127.0.0.1:18082', null, 16],
    ]);
    expect(facts.backendCount).toBe(2);
  });
  it('is an error, not an empty config, when nginx -T fails', () => {
    const failed = commandFixture('nginx-t-syntax-error');
    expect(statusOf(() => nginxConfigProbe.parse(commandResults(['dump'], [failed]), context({ deps: { 'nginx-version': nginxVersionFacts } })))).toMatchObject({
      status: 'error',
      message: 'nginx -T did not dump the config: unexpected "}" in /tmp/lab1/broken.conf:12',
    });
  });
});

describe('ss listings', () => {
  it('reads recorded ss -ltnp as root, with owners', () => {
    const listeners = parseTcpListeners(commandFixture('ss-ltnp-root').stdout);
    expect(listeners).toContainEqual({
      host: '127.0.0.1',
      port: 18080,
      interface: null,
      recvQ: 0,
      sendQ: 511,
      processes: [
        { name: 'nginx', pid: 2463, fd: 5 },
        { name: 'nginx', pid: 2462, fd: 5 },
      ],
    });
  });
  it('reads recorded ss -ltnp without root: sockets listed, other owners hidden', () => {
    const listeners = parseTcpListeners(commandFixture('ss-ltnp-nonroot').stdout);
    expect(listeners.find((l) => l.port === 18082)?.processes).toEqual([]);
    expect(listeners.find((l) => l.port === 18080)?.processes).toEqual([{ name: 'nginx', pid: 2463, fd: 5 }]);
  });
  it('reads the older iproute2 format (documented, CentOS 7)', () => {
    const listeners = parseTcpListeners(commandFixture('ss-ltnp-centos7.documented').stdout);
    expect(listeners.map((l) => [l.host, l.port, l.recvQ, l.sendQ])).toEqual([
      ['*', 22, 0, 128],
      ['127.0.0.1', 25, 0, 100],
      ['127.0.0.1', 8080, 129, 128],
      ['::', 22, 0, 128],
    ]);
    expect(listeners[2]?.processes.map((p) => p.pid)).toEqual([2201, 2200]);
  });
  it.each([
    ['127.0.0.1:8080', { host: '127.0.0.1', port: 8080, interface: null }],
    ['[::1]:8080', { host: '::1', port: 8080, interface: null }],
    ['[::]:80', { host: '::', port: 80, interface: null }],
    ['*:80', { host: '*', port: 80, interface: null }],
    [':::22', { host: '::', port: 22, interface: null }],
    ['127.0.0.53%lo:53', { host: '127.0.0.53', port: 53, interface: 'lo' }],
    ['[::ffff:127.0.0.1]:80', { host: '::ffff:127.0.0.1', port: 80, interface: null }],
  ])('splits %s', (text, expected) => {
    expect(splitHostPort(text)).toEqual(expected);
  });
  it('rejects a line whose address it cannot read', () => {
    expect(() => parseTcpListeners('LISTEN 0 128 nonsense *:*\n')).toThrow(/unreadable local address/);
  });
  it('reads recorded ss -lxp', () => {
    const unix = parseUnixListeners(commandFixture('ss-lxp-root').stdout);
    expect(unix.length).toBeGreaterThan(0);
    for (const listener of unix) expect(listener.path.startsWith('/') || listener.path.startsWith('@') || listener.path === '*').toBe(true);
    expect(parseUnixListeners('u_str LISTEN 0 5 /run/my app.sock 6765 * 0 users:(("php-fpm",pid=7,fd=3))\n')).toEqual([
      { path: '/run/my app.sock', recvQ: 0, sendQ: 5, processes: [{ name: 'php-fpm', pid: 7, fd: 3 }] },
    ]);
  });
  const ssGathered = (tcp: { stdout: string; stderr: string; exitCode: number | null }, unix = { stdout: '', stderr: '', exitCode: 0 }) =>
    new SourceResults([], 0, {
      via: 'ss',
      tcp: { command: { file: 'ss', args: ['-ltnp'], timeoutMs: 1 }, result: asResult(tcp) },
      unix: { command: { file: 'ss', args: ['-lxp'], timeoutMs: 1 }, result: asResult(unix) },
    });

  it('marks owners hidden when not root', () => {
    const facts = listeningSocketsProbe.parse(ssGathered(commandFixture('ss-ltnp-nonroot')), context(asUser(1000)));
    expect(facts.ownersVisible).toBe(false);
    expect(listeningSocketsProbe.partialReason?.(facts, context(asUser(1000)))).toMatch(/not root/);
  });

  it('says denied when ss itself is refused', () => {
    const refused = { stdout: '', stderr: 'Cannot open netlink socket: Operation not permitted\n', exitCode: 1 };
    expect(statusOf(() => listeningSocketsProbe.parse(ssGathered(refused, refused), context(asUser(1000))))).toMatchObject({ status: 'denied', sudo: 'sudo ss -ltnp' });
  });

  it('reads /proc/net when ss is not installed (recorded /proc/net/tcp and unix)', () => {
    const results = new SourceResults([], 0, { via: 'proc', tcp4: readFileSync(fixturePath('proc', 'net-tcp.txt'), 'utf8'), tcp6: readFileSync(fixturePath('proc', 'net-tcp6.txt'), 'utf8'), unix: readFileSync(fixturePath('proc', 'net-unix.txt'), 'utf8'), why: '' });
    const facts = listeningSocketsProbe.parse(results, context());
    expect(facts.via).toBe('proc');
    expect(facts.tcp).toContainEqual({ host: '127.0.0.1', port: 18085, interface: null, recvQ: 0, sendQ: null, processes: [] });
    expect(facts.tcp.find((t) => t.host === '::')).toBeTruthy();
    expect(facts.unix).toContainEqual({ path: '/tmp/lab1/fix.sock', recvQ: 0, sendQ: null, processes: [] });
    expect(listeningSocketsProbe.partialReason?.(facts, context())).toMatch(/ss not installed/);
  });
});

describe('processes', () => {
  it('reads recorded ps output in fixed columns', () => {
    const rows = parsePs(commandFixture('ps-root').stdout, 1_800_000_000_000);
    expect(rows.find((r) => r.comm === 'node')).toEqual({
      pid: 2466,
      ppid: 1,
      uid: 0,
      elapsedSec: 7,
      startedAtMs: 1_800_000_000_000 - 7500, // 7 whole seconds elapsed: started 7–8 s ago, taken as 7.5
      comm: 'node',
      args: 'node backend.js 18082',
    });
    expect(rows.find((r) => r.pid === 2463)).toMatchObject({ ppid: 2462, uid: 65534, args: 'nginx: worker process' });
  });
  it('rejects shifted columns', () => {
    expect(() => parsePs('  12 oops\n', 0)).toThrow(/unexpected ps line/);
  });
  it('counts processes', () => {
    const facts = processesProbe.parse(commandResults(['ps'], [commandFixture('ps-root')]), context());
    expect(facts.count).toBe(facts.processes.length);
  });
});

describe('local addresses', () => {
  it('reads recorded ip -o addr show', () => {
    const rows = parseIpAddr(commandFixture('ip-addr').stdout);
    expect(rows).toContainEqual({ interface: 'lo', family: 'inet', address: '127.0.0.1', prefix: 8 });
    expect(rows).toContainEqual({ interface: 'lo', family: 'inet6', address: '::1', prefix: 128 });
  });
  it('ignores lines that are not addresses', () => {
    expect(parseIpAddr('garbage\n2: eth0: <BROADCAST> mtu 1500\n')).toEqual([]);
  });
});
