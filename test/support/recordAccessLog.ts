/**
 * Produces a real nginx access log in the lab's log_format (upstreamlog,
 * test/support/lab.ts) by sending requests a real nginx on loopback answers
 * 200, 404, 502 (a dead peer, a reset), 504 (a backend that never answers),
 * after a retry on the next peer ("502, 200") and after an internal redirect
 * to a fallback ("502 : 200"): `npm run record-access-log`. The same
 * requests are logged in three more formats (nginx's predefined combined, one
 * with $time_iso8601 and $request_uri, one with $msec). Writes
 * test/fixtures/accesslog/NAME.access.log and, beside each, its format
 * (NAME.format.txt).
 */

/** The formats besides the lab's upstreamlog; combined is nginx's own (ngx_http_log_module.c). */
const FORMATS: Record<string, string> = {
  combined: '$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent "$http_referer" "$http_user_agent"',
  isouri: '$time_iso8601 $request_method $request_uri $status $upstream_status rt=$request_time',
  msec: '$msec "$request" $status us=$upstream_status ua="$upstream_addr"',
};
import { spawn, type ChildProcess } from 'node:child_process';
import { copyFile, mkdir, readFile, writeFile } from 'node:fs/promises';
import http from 'node:http';
import net from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as delay } from 'node:timers/promises';
import { createLab, freePort, waitForListen } from './lab.js';

const HERE = fileURLToPath(new URL('.', import.meta.url));
const MISBEHAVE = join(HERE, 'misbehave.js');
const OUT = join(HERE, '..', '..', '..', 'test', 'fixtures', 'accesslog');

function send(port: number, path: string, method = 'GET'): Promise<number> {
  return new Promise((resolve) => {
    const req = http.request({ host: '127.0.0.1', port, path, method, agent: false, headers: method === 'POST' ? { 'content-length': 2 } : {} }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
      res.on('error', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', () => resolve(0));
    req.end(method === 'POST' ? '{}' : undefined);
  });
}

/** A request line as written (node's http refuses spaces and quotes in a path; nginx logs them as sent). */
function sendRaw(port: number, requestLine: string): Promise<void> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1', () => socket.end(`${requestLine}\r\nHost: localhost\r\nConnection: close\r\n\r\n`));
    socket.on('data', () => undefined);
    socket.on('close', () => resolve());
    socket.on('error', () => resolve());
  });
}

async function main(): Promise<void> {
  const lab = await createLab('record-access');
  const children: ChildProcess[] = [];
  try {
    const [dead, live, hang, reset] = [await freePort(), await freePort(), await freePort(), await freePort()];
    await lab.startBackend({ port: live });
    for (const [mode, port] of [['never-respond', hang], ['reset-after-request', reset]] as const) {
      children.push(spawn(process.execPath, [MISBEHAVE, mode, String(port)], { stdio: 'ignore' }));
      await waitForListen({ port });
    }
    const { port, conf } = await lab.startNginx({
      http: [
        ...Object.entries(FORMATS).filter(([name]) => name !== 'combined').map(([name, text]) => `log_format ${name} '${text}';`),
        ...Object.keys(FORMATS).map((name) => `access_log ${join(lab.dir, `${name}.log`)} ${name};`),
        `upstream pool {\n  server 127.0.0.1:${dead} max_fails=0;\n  server 127.0.0.1:${live} max_fails=0;\n}`].join('\n'),
      server: [
        `location /api/ { proxy_pass http://pool; }`,
        `location /down/ { proxy_pass http://127.0.0.1:${dead}; }`,
        `location /slow/ { proxy_pass http://127.0.0.1:${hang}; proxy_read_timeout 1s; }`,
        `location /reset/ { proxy_pass http://127.0.0.1:${reset}; }`,
        `location /saved/ { proxy_pass http://127.0.0.1:${dead}; proxy_intercept_errors on; error_page 502 = @fallback; }`,
        `location @fallback { proxy_pass http://127.0.0.1:${live}; }`,
        `location /static/ { return 404; }`,
      ].join('\n'),
    });
    const requests: Array<[string, string]> = [];
    for (let i = 0; i < 12; i++) requests.push(['GET', `/api/items/${1000 + i}`], ['GET', `/api/users/${i}/orders?page=${i}`]);
    for (let i = 0; i < 4; i++) requests.push(['POST', '/api/checkout'], ['GET', `/down/report/${i}`], ['GET', `/reset/upload/${i}`], ['GET', `/saved/page/${i}`], ['GET', `/static/img/${i}.png`]);
    requests.push(['GET', '/slow/export'], ['GET', '/slow/export?full=1'], ['GET', '/api/a%20b/c'], ['GET', '/api/550e8400-e29b-41d4-a716-446655440000/z'], ['HEAD', '/api/items/1']);
    for (const [method, path] of requests) await send(port, path, method);
    const raw = ['GET /api/items/7?q=a b HTTP/1.1', 'GET /api/"quoted"/x HTTP/1.1', 'GET /api/weird path/ x HTTP/1.1', 'GET /api/x', 'BREW /api/pot HTTP/1.1'];
    for (const line of raw) await sendRaw(port, line);
    await delay(300);
    await mkdir(OUT, { recursive: true });
    await copyFile(join(lab.dir, 'access.log'), join(OUT, 'upstreamlog.access.log'));
    const format = /log_format upstreamlog '([^']*)'/.exec(await readFile(conf, 'utf8'))![1]!;
    await writeFile(join(OUT, 'upstreamlog.format.txt'), `${format}\n`);
    for (const [name, text] of Object.entries(FORMATS)) {
      await copyFile(join(lab.dir, `${name}.log`), join(OUT, `${name}.access.log`));
      await writeFile(join(OUT, `${name}.format.txt`), `${text}\n`);
    }
    process.stdout.write(`wrote ${requests.length + raw.length} requests' lines to ${OUT}\n`);
  } finally {
    for (const child of children) child.kill('SIGKILL');
    await lab.cleanup();
  }
}

await main();
