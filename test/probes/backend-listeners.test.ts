import { describe, expect, it } from 'vitest';
import { SourceResults, type SourceResult } from '../../src/probe/contract.js';
import type { Host, StatResult } from '../../src/host/types.js';
import { backendListenersProbe } from '../../probes/read/backend-listeners.js';
import { nginxConfigProbe } from '../../probes/read/nginx-config.js';
import { nginxVersionProbe } from '../../probes/read/nginx-version.js';
import { parseIpAddr } from '../../probes/read/local-addresses.js';
import { parseTcpListeners, parseUnixListeners, type UnixListener } from '../../probes/parse/ssOutput.js';
import { commandFixture, commandResults, context } from '../support/fixtures.js';

/** nginx -T for a config written here, parsed by the real probe. */
function configFacts(http: string) {
  const dump = `# configuration file /etc/nginx/nginx.conf:\nevents {}\nhttp {\n${http}\n}\n\n`;
  const version = nginxVersionProbe.parse(commandResults(['version'], [commandFixture('nginx-V')]), context());
  return nginxConfigProbe.parse(commandResults(['dump'], [{ stdout: dump, stderr: '', exitCode: 0 }]), context({ deps: { 'nginx-version': version } }));
}

const recordedSockets = {
  tcp: parseTcpListeners(commandFixture('ss-ltnp-root').stdout),
  unix: parseUnixListeners(commandFixture('ss-lxp-root').stdout),
  ownersVisible: true,
};
const localAddresses = { addresses: parseIpAddr(commandFixture('ip-addr').stdout) };

const ENOENT = (path: string): StatResult => ({ ok: false, error: { code: 'ENOENT', message: `${path}: ENOENT` } });

async function check(
  http: string,
  extra: {
    sockets?: typeof recordedSockets;
    /** lstat, by path */
    stats?: Record<string, StatResult>;
    /** stat -L, by path (defaults to the lstat) */
    follow?: Record<string, StatResult>;
    getent?: Record<string, { stdout: string; exitCode: number | null }>;
  } = {},
) {
  const deps = { 'nginx-config': configFacts(http), 'listening-sockets': extra.sockets ?? recordedSockets, 'local-addresses': localAddresses };
  const ctx = context({ deps });
  const sources = backendListenersProbe.sources(ctx);
  const followed: string[] = [];
  const host = {
    stat: async (path: string, options?: { follow?: boolean }) => {
      if (!options?.follow) throw new Error('gather should follow links');
      followed.push(path);
      return extra.follow?.[path] ?? extra.stats?.[path] ?? ENOENT(path);
    },
  } as unknown as Host;
  const gathered = await backendListenersProbe.gather!(host, ctx);
  const results: SourceResult[] = sources.map((source) => {
    if (source.kind === 'stat') return { ...source, result: extra.stats?.[source.path] ?? ENOENT(source.path) };
    if (source.kind === 'command') {
      const host = source.command.args[1]!;
      const answer = extra.getent?.[host] ?? { stdout: '', exitCode: 2 };
      return { ...source, result: { stdout: answer.stdout, stderr: '', exitCode: answer.exitCode, durationMs: 1 } };
    }
    throw new Error('unexpected source');
  });
  return { sources, followed, facts: backendListenersProbe.parse(new SourceResults(results, 0, gathered), ctx) };
}

const socketStat: StatResult = { ok: true, type: 'socket', size: 0, mode: 0o140777, uid: 0, gid: 0, mtimeMs: 0, fileId: '8:1' };
const socketFile = (fileId: string): StatResult => ({ ...socketStat, fileId });
const unixListener = (path: string, pid?: number): UnixListener => ({ path, recvQ: 0, sendQ: 128, processes: pid ? [{ name: 'gunicorn', pid, fd: 3 }] : [] });

describe('backend-listeners', () => {
  it('finds the recorded lab: upstream api down, the literal proxy_pass backend up', async () => {
    const { facts } = await check('upstream api { server 127.0.0.1:18081; }\nserver { location / { proxy_pass http://api; } location /d/ { proxy_pass http://127.0.0.1:18082; } }');
    expect(facts.down.map((b) => [b.label, b.state])).toEqual([['upstream api (127.0.0.1:18081)', 'not-listening']]);
    const up = facts.backends.find((b) => b.address === '127.0.0.1:18082');
    expect(up).toMatchObject({ state: 'listening', processes: [{ name: 'node', pid: 2466 }], recvQ: 0, sendQ: 511 });
  });

  it('ignores servers marked down', async () => {
    const { facts } = await check('upstream api { server 127.0.0.1:18081 down; server 127.0.0.1:18082; }\nserver { location / { proxy_pass http://api; } }');
    expect(facts.backendCount).toBe(1);
    expect(facts.downCount).toBe(0);
  });

  it('tells a missing socket file from a stale one and a live one', async () => {
    const http = [
      'upstream a { server unix:/run/a.sock; }',
      'upstream b { server unix:/run/b.sock; }',
      'upstream c { server unix:/tmp/lab1/app.sock; }',
      'server { location /a { proxy_pass http://a; } location /b { proxy_pass http://b; } location /c { proxy_pass http://c; } }',
    ].join('\n');
    const { facts, followed } = await check(http, { stats: { '/run/b.sock': socketFile('8:2'), '/tmp/lab1/app.sock': socketFile('8:3') } });
    expect(facts.backends.map((b) => [b.address, b.state])).toEqual([
      ['unix:/run/a.sock', 'socket-missing'],
      ['unix:/run/b.sock', 'not-listening'],
      ['unix:/tmp/lab1/app.sock', 'listening'],
    ]);
    // Only for the stale one were the listeners' files compared.
    expect(followed).toEqual(['/run/a.sock', '/run/b.sock', '/tmp/lab1/app.sock']);
  });

  it('finds a socket served under another name: /var/run → /run, a symlink to it, a name relative to its process', async () => {
    const sockets = { tcp: [], unix: [unixListener('/run/app.sock', 10), unixListener('/srv/releases/7/puma.sock', 11), unixListener('php.sock', 12)], ownersVisible: true };
    const http = [
      'upstream a { server unix:/var/run/app.sock; }',
      'upstream b { server unix:/srv/current/puma.sock; }',
      'upstream c { server unix:/etc/app/link.sock; }',
      'upstream d { server unix:/var/www/php.sock; }',
      'server { location /a { proxy_pass http://a; } location /b { proxy_pass http://b; } location /c { proxy_pass http://c; } location /d { proxy_pass http://d; } }',
    ].join('\n');
    const { facts } = await check(http, {
      sockets,
      stats: {
        '/var/run/app.sock': socketFile('8:1'),
        '/run/app.sock': socketFile('8:1'),
        '/srv/current/puma.sock': socketFile('9:7'),
        '/srv/releases/7/puma.sock': socketFile('9:7'),
        '/etc/app/link.sock': { ...socketStat, type: 'symlink' },
        '/proc/12/cwd/php.sock': socketFile('8:5'),
        '/var/www/php.sock': socketFile('8:5'),
      },
      follow: { '/etc/app/link.sock': socketFile('9:7') },
    });
    expect(facts.backends.map((b) => [b.address, b.state, b.listenerPath])).toEqual([
      ['unix:/var/run/app.sock', 'listening', '/run/app.sock'],
      ['unix:/srv/current/puma.sock', 'listening', '/srv/releases/7/puma.sock'],
      ['unix:/etc/app/link.sock', 'listening', '/srv/releases/7/puma.sock'],
      ['unix:/var/www/php.sock', 'listening', 'php.sock'],
    ]);
    expect(facts.backends[0]!.reason).toBe('ss -lx lists a listener on /run/app.sock, the same socket file as /var/run/app.sock');
    expect(facts.backends[0]!.processes).toEqual([{ name: 'gunicorn', pid: 10 }]);
    expect(facts.downCount).toBe(0);
  });

  it('says "cannot tell" rather than "down" when a listener\'s file cannot be compared', async () => {
    const http = 'upstream a { server unix:/var/run/app.sock; }\nserver { location / { proxy_pass http://a; } }';
    const stale = { '/var/run/app.sock': socketFile('8:1') };
    // A listener in a directory this user cannot read.
    const hidden = await check(http, {
      sockets: { tcp: [], unix: [unixListener('/run/user/1000/app.sock')], ownersVisible: false },
      stats: { ...stale, '/run/user/1000/app.sock': { ok: false, error: { code: 'EACCES', message: '/run/user/1000/app.sock: permission denied' } } },
    });
    expect(hidden.facts.backends[0]).toMatchObject({ state: 'unchecked' });
    expect(hidden.facts.backends[0]!.reason).toContain('/run/user/1000/app.sock (/run/user/1000/app.sock: permission denied)');
    // A relative name whose process ss does not show (not root).
    const relative = await check(http, { sockets: { tcp: [], unix: [unixListener('app.sock')], ownersVisible: false }, stats: stale });
    expect(relative.facts.backends[0]).toMatchObject({ state: 'unchecked' });
    // A recording made before file ids were kept.
    const old = await check(http, { sockets: { tcp: [], unix: [], ownersVisible: true }, stats: { '/var/run/app.sock': socketStat }, follow: { '/var/run/app.sock': { ...socketStat, fileId: undefined } } });
    expect(old.facts.backends[0]).toMatchObject({ state: 'unchecked' });
    expect(old.facts.downCount).toBe(0);
  });

  it('a symbolic link to nothing is a missing socket; to a file that is no socket, not a socket', async () => {
    const http = 'upstream a { server unix:/etc/app/a.sock; }\nupstream b { server unix:/etc/app/b.sock; }\nserver { location /a { proxy_pass http://a; } location /b { proxy_pass http://b; } }';
    const link: StatResult = { ...socketStat, type: 'symlink' };
    const { facts } = await check(http, {
      stats: { '/etc/app/a.sock': link, '/etc/app/b.sock': link },
      follow: { '/etc/app/a.sock': ENOENT('/etc/app/a.sock'), '/etc/app/b.sock': { ...socketStat, type: 'file' } },
    });
    expect(facts.backends.map((b) => [b.address, b.state, b.reason])).toEqual([
      ['unix:/etc/app/a.sock', 'socket-missing', '/etc/app/a.sock (a symbolic link) leads to no file'],
      ['unix:/etc/app/b.sock', 'not-a-socket', '/etc/app/b.sock (a symbolic link) is a file, not a socket'],
    ]);
  });

  it('resolves host names with getent, and only plain names reach the command line', async () => {
    const { sources, facts } = await check('server { location / { proxy_pass http://localhost:18082; } location /x { proxy_pass http://gone.invalid:80; } }', {
      getent: { localhost: commandFixture('getent-localhost') },
    });
    expect(sources.filter((s) => s.kind === 'command').map((s) => (s.kind === 'command' ? s.command.args : []))).toEqual([
      ['ahosts', 'localhost'],
      ['ahosts', 'gone.invalid'],
    ]);
    expect(facts.backends.map((b) => [b.address, b.state])).toEqual([
      ['localhost:18082', 'listening'],
      ['gone.invalid:80', 'unresolved'],
    ]);
  });

  it('does not claim a remote address is down', async () => {
    const { facts } = await check('server { location / { proxy_pass http://203.0.113.7:8080; } }');
    expect(facts.backends[0]).toMatchObject({ state: 'remote' });
    expect(facts.downCount).toBe(0);
    expect(facts.uncheckedCount).toBe(1);
  });

  it('matches wildcard binds by family: * is dual-stack, :: is IPv6 only', async () => {
    const sockets = {
      tcp: [
        { host: '*', port: 7001, interface: null, recvQ: 0, sendQ: 511, processes: [] },
        { host: '::', port: 7002, interface: null, recvQ: 0, sendQ: 5, processes: [] },
        { host: '0.0.0.0', port: 7003, interface: null, recvQ: 0, sendQ: 5, processes: [] },
      ],
      unix: [],
      ownersVisible: true,
    };
    const http = 'server { location /1 { proxy_pass http://127.0.0.1:7001; } location /2 { proxy_pass http://127.0.0.1:7002; } location /3 { proxy_pass http://[::1]:7003; } location /4 { proxy_pass http://[::1]:7002; } }';
    const { facts } = await check(http, { sockets });
    expect(facts.backends.map((b) => [b.address, b.state])).toEqual([
      ['127.0.0.1:7001', 'listening'],
      ['127.0.0.1:7002', 'not-listening'],
      ['[::1]:7003', 'not-listening'],
      ['[::1]:7002', 'listening'],
    ]);
  });

  it('flags a name that resolves to several addresses with only some listening', async () => {
    const getent = { stdout: '127.0.0.1       STREAM app.local\n::1             STREAM \n', exitCode: 0 };
    const { facts } = await check('server { location / { proxy_pass http://app.local:18082; } }', { getent: { 'app.local': getent } });
    expect(facts.partlyListening.map((b) => b.reason)).toEqual(['app.local resolves to 2 addresses; nothing listens on [::1]:18082']);
  });

  it('reports a full accept queue (Recv-Q at the backlog)', async () => {
    const sockets = { tcp: parseTcpListeners(commandFixture('ss-ltnp-centos7.documented').stdout), unix: [], ownersVisible: true };
    const { facts } = await check('server { location / { proxy_pass http://127.0.0.1:8080; } }', { sockets });
    expect(facts.fullQueues.map((b) => [b.address, b.recvQ, b.sendQ])).toEqual([['127.0.0.1:8080', 129, 128]]);
  });
});
