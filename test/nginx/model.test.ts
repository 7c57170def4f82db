import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { RealHost } from '../../src/host/realHost.js';
import { loadConfigDump, loadConfigFiles } from '../../src/nginx/load.js';
import { buildModel, type ConfigModel } from '../../src/nginx/model.js';
import { parseVersion } from '../../src/nginx/version.js';
import { locationSchema } from '../../probes/parse/nginxModelSchema.js';
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

describe('handler families (fastcgi, grpc, uwsgi, memcached) and their own settings', () => {
  // Checked with the real nginx 1.22.1 here: `nginx -t` accepts it (the test below repeats that).
  const conf = (dir: string) => `pid ${dir}/nginx.pid;
error_log ${dir}/error.log;
events {}
http {
    fastcgi_buffers 16 8k;
    uwsgi_read_timeout 90s;
    upstream php { server unix:/run/php/php8.2-fpm.sock; keepalive 4; }
    upstream grpcs { server 127.0.0.1:50051; keepalive 8; }
    server {
        listen 127.0.0.1:18080;
        fastcgi_read_timeout 120s;
        fastcgi_keep_conn on;
        location ~ \\.php$ {
            fastcgi_pass php;
            fastcgi_buffer_size 32k;
            fastcgi_next_upstream error timeout http_503;
        }
        location /plain.php {
            fastcgi_pass php;
            fastcgi_keep_conn off;
        }
        location /rpc {
            grpc_pass grpc://grpcs;
            grpc_read_timeout 1h;
        }
        location /py {
            uwsgi_pass 127.0.0.1:3031;
            uwsgi_intercept_errors on;
        }
        location /cache {
            set $memcached_key $uri;
            memcached_pass 127.0.0.1:11211;
        }
        location /static { root /tmp; }
    }
}
`;
  const FILE = '/etc/nginx/nginx.conf';
  const model = buildModel(loadConfigDump(`# configuration file ${FILE}:\n${conf('/tmp')}`), { version: v1_22 });
  const at = (line: number) => ({ file: FILE, line });

  it('is a config the real nginx accepts', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rd-families-'));
    writeFileSync(join(dir, 'nginx.conf'), conf(dir));
    const result = await execa('nginx', ['-t', '-c', join(dir, 'nginx.conf')], { reject: false });
    expect(result.stderr).toContain('test is successful');
  });

  it('names the family of each location from its handler directive, null when there is none', () => {
    expect(model.locations.map((l) => [l.match, l.handler, l.family])).toEqual([
      ['~ \\.php$', 'fastcgi_pass', 'fastcgi'],
      ['/plain.php', 'fastcgi_pass', 'fastcgi'],
      ['/rpc', 'grpc_pass', 'grpc'],
      ['/py', 'uwsgi_pass', 'uwsgi'],
      ['/cache', 'memcached_pass', 'memcached'],
      ['/static', null, null],
    ]);
    expect(location(model, '/static').effective.handler).toBeNull();
  });

  it('inherits fastcgi_* from server and http, the nearest level winning, with origins', () => {
    const php = location(model, '~ \\.php$').effective.handler!;
    expect(php).toMatchObject({
      family: 'fastcgi',
      prefix: 'fastcgi_',
      readTimeoutSec: 120,
      connectTimeoutSec: 60,
      sendTimeoutSec: 60,
      bufferSize: '32k',
      bufferSizeBytes: 32768,
      buffers: '16 8k',
      nextUpstream: ['error', 'timeout', 'http_503'],
      nextUpstreamTries: 0,
      nextUpstreamTimeoutSec: 0,
      keepConn: true,
      interceptErrors: false,
    });
    expect(php.origins).toMatchObject({ readTimeoutSec: at(11), buffers: at(5), bufferSize: at(15), keepConn: at(12), connectTimeoutSec: 'default' });
    // The proxy_* fields stay as they were: a PHP location reads none of them.
    expect(location(model, '~ \\.php$').effective).toMatchObject({ proxyReadTimeoutSec: 60, proxyBufferSize: '4k' });
  });

  it('takes upstream keep-alive as in effect for FastCGI only with fastcgi_keep_conn on', () => {
    expect(location(model, '~ \\.php$').effective.keepaliveInEffect).toBe(true);
    const plain = location(model, '/plain.php').effective;
    expect(plain.handler).toMatchObject({ keepConn: false, readTimeoutSec: 120, bufferSize: '4k', buffers: '16 8k' });
    expect(plain.handler!.origins['keepConn']).toEqual(at(20));
    expect(plain.keepaliveInEffect).toBe(false);
  });

  it('gives grpc its own timeouts, one buffer and no grpc_buffers or keep_conn', () => {
    const rpc = location(model, '/rpc').effective;
    expect(rpc.handler).toEqual({
      family: 'grpc',
      prefix: 'grpc_',
      connectTimeoutSec: 60,
      sendTimeoutSec: 60,
      readTimeoutSec: 3600,
      bufferSize: '4k',
      bufferSizeBytes: 4096,
      buffers: '',
      nextUpstream: ['error', 'timeout'],
      nextUpstreamTries: 0,
      nextUpstreamTimeoutSec: 0,
      keepConn: null,
      interceptErrors: false,
      origins: expect.objectContaining({ readTimeoutSec: at(24), buffers: 'default', keepConn: 'default' }),
    });
    // gRPC is HTTP/2: nginx reuses the connection whenever the upstream keeps some.
    expect(rpc.keepaliveInEffect).toBe(true);
  });

  it('gives uwsgi its http-level read timeout and memcached its defaults without buffers or intercept_errors', () => {
    const py = location(model, '/py').effective.handler!;
    expect(py).toMatchObject({ family: 'uwsgi', readTimeoutSec: 90, interceptErrors: true, keepConn: null, buffers: '8 4k', bufferSize: '4k' });
    expect(py.origins).toMatchObject({ readTimeoutSec: at(6), interceptErrors: at(28), buffers: 'default' });
    const cache = location(model, '/cache').effective.handler!;
    expect(cache).toMatchObject({ family: 'memcached', prefix: 'memcached_', readTimeoutSec: 60, buffers: '', interceptErrors: false, keepConn: null });
  });

  it('is described by the probe schema', () => {
    for (const l of model.locations) expect(() => locationSchema.parse(l)).not.toThrow();
  });
});
