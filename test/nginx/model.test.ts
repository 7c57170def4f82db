import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { RealHost } from '../../src/host/realHost.js';
import { loadConfigDump, loadConfigFiles } from '../../src/nginx/load.js';
import { buildModel, type ConfigModel } from '../../src/nginx/model.js';
import { parseVersion } from '../../src/nginx/version.js';
import { fixturePath } from '../support/fixtures.js';

const DUMPED_ROOT = '/tmp/reset-doctor-fixtures/debian';
const dump = readFileSync(fixturePath('nginx', 'debian.nginx-T.txt'), 'utf8');
const v1_22 = parseVersion('1.22.1');
const fromDump = (version = v1_22) => buildModel(loadConfigDump(dump), { version });
const location = (model: ConfigModel, match: string) => model.locations.find((l) => l.match === match)!;

describe('config model (Debian layout, nginx -T of the real nginx 1.22.1)', () => {
  it('lists the files nginx loaded, following the include globs and the sites-enabled symlinks', () => {
    const model = fromDump();
    expect(model.files.map((f) => f.replace(DUMPED_ROOT, ''))).toEqual([
      '/nginx.conf',
      '/mime.types',
      '/conf.d/upstreams.conf',
      '/conf.d/ws.conf',
      '/sites-enabled/app',
      '/snippets/proxy-keepalive.conf',
      '/sites-enabled/static',
    ]);
    expect(model.problems).toEqual([]);
  });

  it('reads upstreams from conf.d with their servers, keep-alive and failure settings, at the right file and line', () => {
    const [api, php, realtime] = fromDump().upstreams;
    expect(api).toMatchObject({
      name: 'api',
      file: `${DUMPED_ROOT}/conf.d/upstreams.conf`,
      line: 1,
      servers: [
        { address: '127.0.0.1:8081', params: ['max_fails=3', 'fail_timeout=30s'], line: 2 },
        { address: '127.0.0.1:8082', params: ['backup'], line: 3 },
      ],
      keepalive: 32,
      keepaliveTimeoutSec: 65,
      keepaliveRequests: 500,
      maxFails: [
        { address: '127.0.0.1:8081', maxFails: 3, failTimeoutSec: 30 },
        { address: '127.0.0.1:8082', maxFails: 1, failTimeoutSec: 10 },
      ],
    });
    expect(php).toMatchObject({ name: 'php', servers: [{ address: 'unix:/run/php/php8.2-fpm.sock' }], keepalive: null, keepaliveTimeoutSec: 60, keepaliveRequests: 1000 });
    expect(realtime).toMatchObject({ name: 'realtime', keepalive: 8, file: `${DUMPED_ROOT}/conf.d/ws.conf` });
  });

  it('gives every location its server, target and the file and line it is written at', () => {
    const model = fromDump();
    expect(model.locations.map((l) => [l.match, l.handler, l.upstream, l.file.replace(DUMPED_ROOT, ''), l.line])).toEqual([
      ['/', 'proxy_pass', 'api', '/sites-enabled/app', 6],
      ['= /healthz', null, null, '/sites-enabled/app', 12],
      ['~ ^/api/v[0-9]+/(orders|cart)', 'proxy_pass', 'api', '/sites-enabled/app', 16],
      ['/ws/', 'proxy_pass', 'realtime', '/sites-enabled/app', 25],
      ['~ \\.php$', 'fastcgi_pass', 'php', '/sites-enabled/app', 33],
      ['/img/', 'proxy_pass', null, '/sites-enabled/static', 5],
    ]);
    expect(location(model, '/').server).toMatchObject({
      listen: [{ address: '127.0.0.1:8080', backlog: 4096, defaultServer: true }],
      serverName: ['app.example.com', 'www.app.example.com'],
    });
  });

  it('computes effective settings with http → server → location inheritance', () => {
    const model = fromDump();
    const root = location(model, '/').effective;
    // HTTP/1.1 and Connection "" come from an included snippet; keep-alive is therefore in effect on 1.22.
    expect(root).toMatchObject({ proxyHttpVersion: '1.1', connectionHeader: '', keepaliveInEffect: true, proxyReadTimeoutSec: 30, proxyConnectTimeoutSec: 60 });
    expect(root.origins['proxyHttpVersion']).toEqual({ file: `${DUMPED_ROOT}/snippets/proxy-keepalive.conf`, line: 1 });
    expect(root.origins['proxyReadTimeoutSec']).toEqual({ file: `${DUMPED_ROOT}/nginx.conf`, line: 24 });
    expect(root.origins['proxyConnectTimeoutSec']).toBe('default');

    const orders = location(model, '~ ^/api/v[0-9]+/(orders|cart)').effective;
    expect(orders).toMatchObject({
      proxyReadTimeoutSec: 5,
      proxyNextUpstream: ['error', 'timeout', 'http_502', 'non_idempotent'],
      proxyBufferSize: '16k',
      proxyBufferSizeBytes: 16384,
      // No proxy_http_version here: the 1.0 default, so upstream keep-alive is inert for this location.
      proxyHttpVersion: '1.0',
      connectionHeader: 'close',
      keepaliveInEffect: false,
    });
  });

  it('applies the proxy_set_header all-or-nothing rule', () => {
    const model = fromDump();
    // "/" sets its own headers, so the http-level X-Forwarded-For is not inherited.
    expect(location(model, '/').effective.headers).toEqual({ Connection: '', Host: '$host' });
    expect(location(model, '~ ^/api/v[0-9]+/(orders|cart)').effective.headers).toEqual({ Host: '$host', 'X-Forwarded-For': '$proxy_add_x_forwarded_for' });
    expect(location(model, '/ws/').effective).toMatchObject({ upgradeHeader: '$http_upgrade', connectionHeader: '$connection_upgrade', proxyReadTimeoutSec: 3600 });
  });

  it('takes defaults from the running version', () => {
    const modern = fromDump(parseVersion('1.29.7'));
    expect(location(modern, '~ ^/api/v[0-9]+/(orders|cart)').effective).toMatchObject({ proxyHttpVersion: '1.1', connectionHeader: null, keepaliveInEffect: true });
    expect(modern.upstreams.find((u) => u.name === 'php')!.keepalive).toBe(32);
    const old = fromDump(parseVersion('1.18.0'));
    expect(old.upstreams.find((u) => u.name === 'php')!.keepaliveRequests).toBe(100);
    expect(fromDump(null).defaultsFor).toMatch(/unknown nginx version/);
  });

  it('finds the logs and whether the access log records $upstream_status', () => {
    const model = fromDump();
    expect(model.errorLogs).toEqual([{ path: 'logs/error.log', level: 'warn', file: `${DUMPED_ROOT}/nginx.conf`, line: 4 }]);
    expect(model.accessLogs.map((a) => [a.path, a.format, a.hasStatus, a.hasUpstreamStatus, a.line])).toEqual([
      ['logs/access.log', 'combined', true, false, 16],
      ['logs/app.access.log', 'upstreamlog', true, true, 4],
    ]);
    expect(model.logFormats['upstreamlog']).toContain('us=$upstream_status');
  });

  it('reads the same tree from disk as from the dump', async () => {
    const root = fixturePath('nginx', 'debian');
    const disk = buildModel(await loadConfigFiles(new RealHost(), `${root}/nginx.conf`), { version: v1_22 });
    const normalize = (model: ConfigModel, prefix: string) => JSON.parse(JSON.stringify(model).replaceAll(prefix, '<root>')) as ConfigModel;
    const a = normalize(disk, root);
    const b = normalize(fromDump(), DUMPED_ROOT);
    expect(a.files).toEqual(b.files);
    expect(a.upstreams).toEqual(b.upstreams);
    expect(a.locations).toEqual(b.locations);
  });
});
