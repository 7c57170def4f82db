import { describe, expect, it } from 'vitest';
import { SourceResults, type SourceResult } from '../../src/probe/contract.js';
import type { StatResult } from '../../src/host/types.js';
import { backendListenersProbe } from '../../probes/backend-listeners.js';
import { nginxConfigProbe } from '../../probes/nginx-config.js';
import { nginxVersionProbe } from '../../probes/nginx-version.js';
import { parseIpAddr } from '../../probes/local-addresses.js';
import { parseTcpListeners, parseUnixListeners } from '../../probes/ssOutput.js';
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

function check(
  http: string,
  extra: { sockets?: typeof recordedSockets; stats?: Record<string, StatResult>; getent?: Record<string, { stdout: string; exitCode: number | null }> } = {},
) {
  const deps = { 'nginx-config': configFacts(http), 'listening-sockets': extra.sockets ?? recordedSockets, 'local-addresses': localAddresses };
  const ctx = context({ deps });
  const sources = backendListenersProbe.sources(ctx);
  const results: SourceResult[] = sources.map((source) => {
    if (source.kind === 'stat') return { ...source, result: extra.stats?.[source.path] ?? { ok: false, error: { code: 'ENOENT', message: `${source.path}: ENOENT` } } };
    if (source.kind === 'command') {
      const host = source.command.args[1]!;
      const answer = extra.getent?.[host] ?? { stdout: '', exitCode: 2 };
      return { ...source, result: { stdout: answer.stdout, stderr: '', exitCode: answer.exitCode, durationMs: 1 } };
    }
    throw new Error('unexpected source');
  });
  return { sources, facts: backendListenersProbe.parse(new SourceResults(results, 0), ctx) };
}

const socketStat: StatResult = { ok: true, type: 'socket', size: 0, mode: 0o140777, uid: 0, gid: 0, mtimeMs: 0 };

describe('backend-listeners', () => {
  it('finds the recorded lab: upstream api down, the literal proxy_pass backend up', () => {
    const { facts } = check('upstream api { server 127.0.0.1:18081; }\nserver { location / { proxy_pass http://api; } location /d/ { proxy_pass http://127.0.0.1:18082; } }');
    expect(facts.down.map((b) => [b.label, b.state])).toEqual([['upstream api (127.0.0.1:18081)', 'not-listening']]);
    const up = facts.backends.find((b) => b.address === '127.0.0.1:18082');
    expect(up).toMatchObject({ state: 'listening', processes: [{ name: 'node', pid: 2466 }], recvQ: 0, sendQ: 511 });
  });

  it('ignores servers marked down', () => {
    const { facts } = check('upstream api { server 127.0.0.1:18081 down; server 127.0.0.1:18082; }\nserver { location / { proxy_pass http://api; } }');
    expect(facts.backendCount).toBe(1);
    expect(facts.downCount).toBe(0);
  });

  it('tells a missing socket file from a stale one and a live one', () => {
    const http = [
      'upstream a { server unix:/run/a.sock; }',
      'upstream b { server unix:/run/b.sock; }',
      'upstream c { server unix:/tmp/lab1/app.sock; }',
      'server { location /a { proxy_pass http://a; } location /b { proxy_pass http://b; } location /c { proxy_pass http://c; } }',
    ].join('\n');
    const { facts } = check(http, { stats: { '/run/b.sock': socketStat, '/tmp/lab1/app.sock': socketStat } });
    expect(facts.backends.map((b) => [b.address, b.state])).toEqual([
      ['unix:/run/a.sock', 'socket-missing'],
      ['unix:/run/b.sock', 'not-listening'],
      ['unix:/tmp/lab1/app.sock', 'listening'],
    ]);
  });

  it('resolves host names with getent, and only plain names reach the command line', () => {
    const { sources, facts } = check('server { location / { proxy_pass http://localhost:18082; } location /x { proxy_pass http://gone.invalid:80; } }', {
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

  it('does not claim a remote address is down', () => {
    const { facts } = check('server { location / { proxy_pass http://203.0.113.7:8080; } }');
    expect(facts.backends[0]).toMatchObject({ state: 'remote' });
    expect(facts.downCount).toBe(0);
    expect(facts.uncheckedCount).toBe(1);
  });

  it('matches wildcard binds by family: * is dual-stack, :: is IPv6 only', () => {
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
    const { facts } = check(http, { sockets });
    expect(facts.backends.map((b) => [b.address, b.state])).toEqual([
      ['127.0.0.1:7001', 'listening'],
      ['127.0.0.1:7002', 'not-listening'],
      ['[::1]:7003', 'not-listening'],
      ['[::1]:7002', 'listening'],
    ]);
  });

  it('flags a name that resolves to several addresses with only some listening', () => {
    const getent = { stdout: '127.0.0.1       STREAM app.local\n::1             STREAM \n', exitCode: 0 };
    const { facts } = check('server { location / { proxy_pass http://app.local:18082; } }', { getent: { 'app.local': getent } });
    expect(facts.partlyListening.map((b) => b.reason)).toEqual(['app.local resolves to 2 addresses; nothing listens on [::1]:18082']);
  });

  it('reports a full accept queue (Recv-Q at the backlog)', () => {
    const sockets = { tcp: parseTcpListeners(commandFixture('ss-ltnp-centos7.documented').stdout), unix: [], ownersVisible: true };
    const { facts } = check('server { location / { proxy_pass http://127.0.0.1:8080; } }', { sockets });
    expect(facts.fullQueues.map((b) => [b.address, b.recvQ, b.sendQ])).toEqual([['127.0.0.1:8080', 129, 128]]);
  });
});
