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
