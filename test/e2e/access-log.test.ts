import http from 'node:http';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { AccessLogReport } from '../../src/accesslog/analyze.js';
import type { ErrorLogReport } from '../../src/errorlog/reader.js';
import { compileFormat } from '../../src/accesslog/format.js';
import { runCli } from '../support/cli.js';
import { createLab, findNginx, freePort, type Lab } from '../support/lab.js';
import { describeWithTools } from '../support/tools.js';

const nginx = findNginx();

const get = (port: number, path: string, method = 'GET') =>
  new Promise<number>((resolve) => {
    const req = http.request({ host: '127.0.0.1', port, path, method, agent: false, headers: method === 'POST' ? { 'content-length': 2 } : {} }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', () => resolve(0));
    req.end(method === 'POST' ? '{}' : undefined);
  });

describeWithTools('inspect errors reads the access log nginx really wrote', nginx ? [] : ['nginx'], () => {
  let lab: Lab;
  let conf: string;

  beforeAll(async () => {
    lab = await createLab('access');
    const [down, up] = [await freePort(), await freePort()];
    await lab.startBackend({ port: up });
    const started = await lab.startNginx({
      http: [
        `log_format withupstream '$remote_addr [$time_local] "$request" $status us="$upstream_status" ua="$upstream_addr"';`,
        `access_log ${join(lab.dir, 'upstream.log')} withupstream;`,
        `upstream pool {\n  server 127.0.0.1:${down} max_fails=0;\n  server 127.0.0.1:${up} max_fails=0;\n}`,
      ].join('\n'),
      server: `location / {\n  proxy_pass http://pool;\n}`,
    });
    conf = started.conf;
    // Round robin sends every other request to the dead peer first: GETs are retried on the live one;
    // POSTs are retried too here, since nothing was sent before the connect failed.
    for (let i = 0; i < 8; i++) await get(started.port, `/api/items/${i}`);
    for (let i = 0; i < 2; i++) await get(started.port, '/api/checkout', 'POST');
  }, 30_000);

  afterAll(async () => {
    await lab?.cleanup();
  });

  it('counts per-route statuses and the requests a retry saved', async () => {
    const run = await runCli(['inspect', 'errors', '--json', '--nginx-bin', nginx!, '--nginx-conf', conf]);
    expect(run.code).toBe(0);
    const report = JSON.parse(run.stdout) as ErrorLogReport & { access: AccessLogReport[] };
    const refused = report.signatures.find((s) => s.id === 'refused')!;
    const access = report.access.find((a) => a.format === 'withupstream')!;
    expect(access).toMatchObject({ requests: 10, status502: 0, unparsed: 0, hasUpstreamStatus: true });
    // Every connect() refusal in the error log was hidden from the client by the retry.
    expect(access.retried).toBe(refused.count);
    expect(access.retriedThenOk).toBe(refused.count);
    expect(access.retriedExamples[0]).toMatchObject({ status: 200, upstreamStatus: '502, 200' });
    expect(access.routes.map((r) => r.route).sort()).toEqual(['/api/checkout', '/api/items']);
  });
});

it('compiles log formats: combined, custom with $upstream_status, and time formats', () => {
  const combined = compileFormat('$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent "$http_referer" "$http_user_agent"');
  const line = '127.0.0.1 - - [21/Nov/2026:09:11:23 +0100] "POST /api/checkout?x=1 HTTP/1.1" 502 157 "-" "curl/7.88.1"';
  expect(combined.parse(line)).toEqual({ status: 502, upstreamStatus: null, method: 'POST', path: '/api/checkout?x=1', timeMs: Date.UTC(2026, 10, 21, 8, 11, 23), upstreamAddr: null });
  expect(combined.timeOf(line)).toBe(Date.UTC(2026, 10, 21, 8, 11, 23));
  expect(combined.parse('garbage')).toBeNull();
  const iso = compileFormat('$time_iso8601 $request_method $request_uri $status $upstream_status');
  expect(iso.parse('2026-11-21T09:11:23+00:00 GET /x 200 502, 200')).toMatchObject({ method: 'GET', path: '/x', status: 200, upstreamStatus: '502, 200', timeMs: Date.UTC(2026, 10, 21, 9, 11, 23) });
});
