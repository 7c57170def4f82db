import { describe, expect, it } from 'vitest';
import { adviseConfig } from '../../src/nginx/advice.js';
import { loadConfigDump } from '../../src/nginx/load.js';
import { buildModel } from '../../src/nginx/model.js';
import { parseVersion } from '../../src/nginx/version.js';

/** A one-file config in the form nginx -T prints it. */
const model = (http: string) => buildModel(loadConfigDump(`# configuration file /etc/nginx/nginx.conf:\nevents {}\nhttp {\n${http}\n}\n`), { version: parseVersion('1.22.1') });
const ids = (http: string) => adviseConfig(model(http)).map((a) => a.id);

describe('config advice: proxy_next_upstream non_idempotent', () => {
  const location = (extra = '') => `server {\n  listen 80;\n  location / {\n    proxy_pass http://app;\n    proxy_next_upstream error timeout non_idempotent;\n${extra}  }\n}`;

  it('warns where a second try exists: another server of the group', () => {
    expect(ids(`upstream app {\n  server 127.0.0.1:8001;\n  server 127.0.0.1:8002;\n}\n${location()}`)).toContain('next-upstream-non-idempotent');
  });

  it('warns where a second try exists: a cached keep-alive connection that failed, even with one server', () => {
    const keepalive = '    proxy_http_version 1.1;\n    proxy_set_header Connection "";\n';
    expect(ids(`upstream app {\n  server 127.0.0.1:8001;\n  keepalive 8;\n}\n${location(keepalive)}`)).toContain('next-upstream-non-idempotent');
  });

  it('stays quiet where nothing can be resent: one server without keep-alive, or a single try', () => {
    expect(ids(`upstream app {\n  server 127.0.0.1:8001;\n}\n${location()}`)).not.toContain('next-upstream-non-idempotent');
    expect(ids(`upstream app {\n  server 127.0.0.1:8001;\n  server 127.0.0.1:8002;\n}\n${location('    proxy_next_upstream_tries 1;\n')}`)).not.toContain('next-upstream-non-idempotent');
  });
});

describe('config advice in the location family (fastcgi, uwsgi)', () => {
  const php = (extra = '', upstreamExtra = '  keepalive 4;\n') =>
    `upstream php {\n  server unix:/run/php/php8.2-fpm.sock;\n  server 127.0.0.1:9000;\n${upstreamExtra}}\nserver {\n  listen 80;\n  location ~ \\.php$ {\n    fastcgi_pass php;\n${extra}  }\n}`;
  const advice = (http: string, version = '1.22.1') => adviseConfig(buildModel(loadConfigDump(`# configuration file /etc/nginx/nginx.conf:\nevents {}\nhttp {\n${http}\n}\n`), { version: parseVersion(version) }));

  it('an upstream keepalive behind fastcgi_pass without fastcgi_keep_conn is inert, and says fastcgi_keep_conn, not proxy_http_version', () => {
    const [inert] = advice(php()).filter((a) => a.id === 'keepalive-inert');
    expect(inert!.message).toContain('fastcgi_keep_conn is off');
    expect(inert!.message).not.toContain('proxy_');
    expect(advice(php('    fastcgi_keep_conn on;\n')).map((a) => a.id)).not.toContain('keepalive-inert');
    // The 1.29.7 default keepalive 32 is nobody's half-done config.
    expect(advice(php('', ''), '1.29.7').map((a) => a.id)).not.toContain('keepalive-inert');
  });

  it('names fastcgi_next_upstream when it retries non-idempotent requests or http_502', () => {
    const found = advice(php('    fastcgi_next_upstream error timeout http_502 non_idempotent;\n'));
    expect(found.find((a) => a.id === 'next-upstream-non-idempotent')!.message).toContain('fastcgi_next_upstream non_idempotent retries POST/PATCH');
    expect(found.find((a) => a.id === 'next-upstream-http-502')!.message).toContain('fastcgi_next_upstream http_502');
    // proxy_next_upstream at http level does not apply to a FastCGI location.
    expect(advice(`proxy_next_upstream error non_idempotent;\n${php()}`).map((a) => a.id)).not.toContain('next-upstream-non-idempotent');
  });

  it('says uwsgi_pass never reuses a written keepalive', () => {
    const http = 'upstream py {\n  server 127.0.0.1:3031;\n  keepalive 4;\n}\nserver {\n  listen 80;\n  location / {\n    uwsgi_pass py;\n  }\n}';
    expect(advice(http).find((a) => a.id === 'keepalive-inert')!.message).toContain('uwsgi_pass never reuses an upstream connection');
  });
});

describe('config advice: a WebSocket fix drops inherited proxy_set_header', () => {
  const ws = (locationHeaders: string) =>
    `map $http_upgrade $connection_upgrade {\n  default upgrade;\n  "" close;\n}\nserver {\n  listen 80;\n  proxy_set_header Host $host;\n  proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;\n  proxy_set_header Upgrade $http_upgrade;\n  location /ws/ {\n    proxy_pass http://127.0.0.1:9000;\n${locationHeaders}  }\n}`;

  it('lists the headers the location inherits, with where they are set, to repeat them', () => {
    const [advice] = adviseConfig(model(ws(''))).filter((a) => a.id === 'websocket-headers');
    expect(advice!.message).toContain(
      'a proxy_set_header added in this location drops every one it inherits, so repeat them there: `proxy_set_header Host $host;` `proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;` `proxy_set_header Upgrade $http_upgrade;` (inherited from /etc/nginx/nginx.conf:9)',
    );
  });

  it('says nothing about dropping when the location already sets its own', () => {
    const [advice] = adviseConfig(model(ws('    proxy_set_header Upgrade $http_upgrade;\n'))).filter((a) => a.id === 'websocket-headers');
    expect(advice!.message).not.toContain('inherits');
  });
});
