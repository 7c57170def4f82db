/**
 * Verification traffic: the target is chosen from the facts the nginx-config
 * probe reads from a real config (nginx -T), and the GETs go to a real nginx
 * on loopback, whose access log must show exactly the requests sent.
 */
import { execFileSync } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { networkInterfaces, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROBES } from '../../probes/index.js';
import { RealHost } from '../../src/host/realHost.js';
import type { ConnectOptions, ConnectTarget, Host } from '../../src/host/types.js';
import { runProbes } from '../../src/probe/runner.js';
import { getRequest, isLoopback, localListener, pickVerifyTarget, sendGets, type ConfigFactsForTarget } from '../../src/apply/traffic.js';
import { createLab, findNginx, freePort, hasCommand, type Lab } from '../support/lab.js';
import { describeWithTools } from '../support/tools.js';

const nginx = findNginx();
/** An address of this machine that is not loopback: nginx -T binds the listens it checks, so a foreign one would fail. */
const external = Object.values(networkInterfaces()).flat().find((a) => a && a.family === 'IPv4' && !a.internal)?.address;

describe('listen addresses and loopback', () => {
  it('maps wildcards to loopback, keeps loopback, refuses any other address', () => {
    expect(localListener('8080')).toEqual({ address: '127.0.0.1', port: 8080 });
    expect(localListener('*:80')).toEqual({ address: '127.0.0.1', port: 80 });
    expect(localListener('0.0.0.0:81')).toEqual({ address: '127.0.0.1', port: 81 });
    expect(localListener('[::]:82')).toEqual({ address: '::1', port: 82 });
    expect(localListener('127.0.0.2:83')).toEqual({ address: '127.0.0.2', port: 83 });
    expect(localListener('[::1]:84')).toEqual({ address: '::1', port: 84 });
    expect(localListener('localhost:85')).toEqual({ address: '127.0.0.1', port: 85 });
    expect(localListener('10.1.2.3:8080')).toEqual({ reason: expect.stringContaining('only to loopback') });
    expect(localListener('unix:/run/nginx.sock')).toEqual({ reason: expect.stringContaining('unix socket') });
    expect(isLoopback('127.0.0.1')).toBe(true);
    expect(isLoopback('::1')).toBe(true);
    expect(isLoopback('10.0.0.1')).toBe(false);
    expect(isLoopback('128.0.0.1')).toBe(false);
  });

  it('builds one plain GET with Connection: close and its User-Agent, and refuses a path that could smuggle a line', () => {
    expect(getRequest({ address: '127.0.0.1', port: 80, host: 'app.example.com', path: '/api/x' })).toBe(
      'GET /api/x HTTP/1.1\r\nHost: app.example.com\r\nUser-Agent: reset-doctor-verify\r\nAccept: */*\r\nConnection: close\r\n\r\n',
    );
    expect(() => getRequest({ address: '127.0.0.1', port: 80, host: 'a', path: '/x HTTP/1.1\r\nX: y' })).toThrow(/not a plain request path/);
    expect(() => getRequest({ address: '127.0.0.1', port: 80, host: 'a\r\nX: y', path: '/' })).toThrow(/not a plain host/);
  });

  it('never connects to a non-loopback address, nor sends more than 200', async () => {
    const connects: ConnectTarget[] = [];
    // A host that only notes what it was asked to connect to: the refusal must come before any connect.
    const noting = { connect: async (target: ConnectTarget, _o: ConnectOptions) => (connects.push(target), { connected: false, events: [], durationMs: 0 }) } as unknown as Host;
    await expect(sendGets(noting, { address: '10.1.2.3', port: 80, host: 'a', path: '/' }, 1)).rejects.toThrow(/only to loopback/);
    await expect(sendGets(noting, { address: '127.0.0.1', port: 80, host: 'a', path: '/' }, 201)).rejects.toThrow(/0 to 200/);
    expect(connects).toEqual([]);
  });
});

describeWithTools('the verification target from a real config', [...(nginx ? [] : ['nginx']), ...(hasCommand('openssl') ? [] : ['openssl']), ...(external ? [] : ['a non-loopback IPv4 address'])], () => {
  let dir: string;
  let facts: ConfigFactsForTarget;
  // nginx -T binds every listen: ports nothing else holds.
  const ports: number[] = [];

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'reset-doctor-target-'));
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=lab', '-days', '1', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem')], { stdio: 'ignore' });
    for (let i = 0; i < 5; i++) ports.push(await freePort());
    const [p1, p2, p3, p4, p5] = ports;
    const conf = join(dir, 'nginx.conf');
    await writeFile(
      conf,
      `pid ${dir}/nginx.pid;
error_log ${dir}/error.log;
events {}
http {
  access_log ${dir}/access.log;
  upstream app { server 127.0.0.1:9001; }
  upstream tls_only { server 127.0.0.1:9002; }
  upstream remote_only { server 127.0.0.1:9003; }
  server {
    listen 127.0.0.1:${p1};
    server_name *.example.com ~^www\\d+$ app.example.com;
    location /api/ { proxy_pass http://app; }
    location ~ ^/re/ { proxy_pass http://127.0.0.1:9004; }
    location = /exact { proxy_pass http://127.0.0.1:9005; }
    location /named/ { proxy_pass http://localhost:9008; }
  }
  server {
    listen ${p2} ssl;
    ssl_certificate ${dir}/cert.pem;
    ssl_certificate_key ${dir}/key.pem;
    location / { proxy_pass http://tls_only; }
  }
  server {
    listen ${external}:${p3};
    server_name remote.example.com;
    location / { proxy_pass http://remote_only; }
  }
  server {
    listen ${p4};
    server_name _;
    location /v1/ { proxy_pass http://127.0.0.1:9006; }
  }
  server {
    listen [::]:${p5};
    server_name api.local;
    location / { proxy_pass http://127.0.0.1:9007; }
  }
}
`,
    );
    const outcomes = await runProbes({ ids: ['nginx-config'], registry: PROBES, host: new RealHost(), options: { nginxBin: nginx!, nginxConf: conf, errorLogs: [], sinceMs: 60_000 } });
    const config = outcomes.find((o) => o.id === 'nginx-config')!;
    expect(config.status, config.summary).toBe('ok');
    expect((config.facts as { source: string }).source).toBe('dump');
    facts = config.facts as unknown as ConfigFactsForTarget;
  }, 30_000);

  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("picks the affected route on the server's loopback listener, with its first plain server_name", () => {
    expect(pickVerifyTarget(facts, { peers: ['127.0.0.1:9001'], paths: ['/api/orders/:id', '/api/orders/17?token=x'] })).toMatchObject({
      address: '127.0.0.1',
      port: ports[0],
      host: `app.example.com:${ports[0]}`,
      path: '/api/orders/17',
    });
    // No usable route: the location's prefix; an exact location its path.
    expect(pickVerifyTarget(facts, { peers: ['127.0.0.1:9001'] })).toMatchObject({ path: '/api/' });
    expect(pickVerifyTarget(facts, { peers: ['app'] })).toMatchObject({ path: '/api/' });
    expect(pickVerifyTarget(facts, { peers: ['127.0.0.1:9005'] })).toMatchObject({ port: ports[0], path: '/exact' });
    // A name in the config is matched through the addresses it resolved to (backend-listeners' peers).
    expect(pickVerifyTarget(facts, { peers: ['127.0.0.1:9008'] })).toEqual({ reason: 'no location in the config passes requests to 127.0.0.1:9008' });
    expect(pickVerifyTarget(facts, { peers: ['127.0.0.1:9008'], resolved: [{ address: 'localhost:9008', peers: [{ ip: '127.0.0.1', port: 9008 }] }] })).toMatchObject({ path: '/named/' });
    // A route another location serves is not sent to this one.
    expect(pickVerifyTarget(facts, { peers: ['127.0.0.1:9005'], paths: ['/api/x'] })).toMatchObject({ path: '/exact' });
  });

  it('maps wildcard listens to loopback and uses the listen address as Host without a plain name', () => {
    expect(pickVerifyTarget(facts, { peers: ['127.0.0.1:9006'] })).toMatchObject({ address: '127.0.0.1', port: ports[3], host: `127.0.0.1:${ports[3]}`, path: '/v1/' });
    expect(pickVerifyTarget(facts, { peers: ['127.0.0.1:9007'] })).toMatchObject({ address: '::1', port: ports[4], host: `api.local:${ports[4]}`, path: '/' });
  });

  it('refuses a non-loopback listen, a TLS-only server and a regex-only location, saying why', () => {
    expect(pickVerifyTarget(facts, { peers: ['127.0.0.1:9003'] })).toEqual({ reason: expect.stringContaining(`listen ${external}:${ports[2]} is not a loopback or wildcard address: verification GETs go only to loopback`) });
    expect(pickVerifyTarget(facts, { peers: ['127.0.0.1:9002'] })).toEqual({ reason: expect.stringMatching(/listens only with TLS \(ssl\): verification GETs are plain HTTP only/) });
    expect(pickVerifyTarget(facts, { peers: ['127.0.0.1:9004'] })).toEqual({ reason: expect.stringMatching(/location ~ \^\/re\/ .* is a regex or named location/) });
    expect(pickVerifyTarget(facts, { peers: ['127.0.0.1:9999'] })).toEqual({ reason: 'no location in the config passes requests to 127.0.0.1:9999' });
  });
});

describeWithTools('verification GETs through a real nginx', nginx ? [] : ['nginx'], () => {
  let lab: Lab;
  let port: number;

  beforeAll(async () => {
    lab = await createLab('verify-gets');
    const up = await freePort();
    await lab.startBackend({ port: up });
    port = (await lab.startNginx({ server: `location /ok/ { proxy_pass http://127.0.0.1:${up}; }` })).port;
  }, 30_000);

  afterAll(async () => {
    await lab?.cleanup();
  });

  it('sends exactly N GETs, which nginx logs, and counts their statuses', async () => {
    const result = await sendGets(new RealHost(), { address: '127.0.0.1', port, host: 'localhost', path: '/ok/verify' }, 7);
    expect(result).toEqual({ sent: 7, statuses: { '200': 7 } });
    await new Promise((r) => setTimeout(r, 200));
    const lines = (await readFile(join(lab.dir, 'access.log'), 'utf8')).split('\n').filter(Boolean);
    expect(lines.length).toBe(7);
    expect(lines.every((l) => l.includes('"GET /ok/verify HTTP/1.1" 200'))).toBe(true);
  });

  it('spaces the GETs gapMs apart when asked', async () => {
    const started = Date.now();
    expect(await sendGets(new RealHost(), { address: '127.0.0.1', port, host: 'localhost', path: '/ok/gap' }, 3, { gapMs: 300 })).toEqual({ sent: 3, statuses: { '200': 3 } });
    expect(Date.now() - started).toBeGreaterThanOrEqual(600);
  });

  it('counts a refused connection as no-connection', async () => {
    const closed = await freePort();
    expect(await sendGets(new RealHost(), { address: '127.0.0.1', port: closed, host: 'localhost', path: '/' }, 2)).toEqual({ sent: 2, statuses: { 'no-connection': 2 } });
  });
});

describe('scopeFromErrorLog', () => {
  it("takes the finding's peers and its GET paths first, without queries", async () => {
    const { scopeFromErrorLog } = await import('../../src/apply/traffic.js');
    const groups = [
      { signature: 'refused', peer: '127.0.0.1:8081', method: 'POST', examplePath: '/checkout', count: 9 },
      { signature: 'refused', peer: '127.0.0.1:8082', method: 'GET', examplePath: '/items/4?q=1', count: 3 },
      { signature: 'timeout-read', peer: '127.0.0.1:8083', method: 'GET', examplePath: '/slow', count: 20 },
    ];
    expect(scopeFromErrorLog({ groups }, ['refused'])).toEqual({ peers: ['127.0.0.1:8081', '127.0.0.1:8082'], paths: ['/items/4', '/checkout'] });
  });
});
