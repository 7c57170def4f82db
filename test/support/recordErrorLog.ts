/**
 * Produces a real nginx error log with a line for every signature the
 * analyzer knows, by really triggering each failure against a real nginx on
 * loopback: `npm run record-error-log`. Writes
 * test/fixtures/errorlog/signatures.error.log and, beside it, what was sent
 * (signatures.requests.json) so tests can check counts against traffic.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { copyFile, chmod, mkdir, writeFile } from 'node:fs/promises';
import http from 'node:http';
import net from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as delay } from 'node:timers/promises';
import { createLab, freePort, waitForListen, type Lab } from './lab.js';
import type { Mode } from './misbehave.js';

const HERE = fileURLToPath(new URL('.', import.meta.url));
const MISBEHAVE = join(HERE, 'misbehave.js');
const OUT = join(HERE, '..', '..', '..', 'test', 'fixtures', 'errorlog');

interface Request {
  route: string;
  method: 'GET' | 'POST' | 'PUT';
  bodyBytes?: number;
  expect: string;
}

function startMode(lab: Lab, mode: Mode, where: string, children: ChildProcess[]): ChildProcess {
  const child = spawn(process.execPath, [MISBEHAVE, mode, where], { stdio: 'ignore' });
  children.push(child);
  void lab;
  return child;
}

/** A listener that never accepts, its queue already full: new connections hang (TCP) or fail with EAGAIN (unix). */
async function fullQueue(where: { port: number } | { path: string }, children: ChildProcess[]): Promise<net.Socket[]> {
  const target = 'port' in where ? `('127.0.0.1', ${where.port})` : JSON.stringify(where.path);
  const family = 'port' in where ? 'socket.AF_INET' : 'socket.AF_UNIX';
  const script = `import socket, time, os\ns = socket.socket(${family})\ns.bind(${target})\n${'path' in where ? `os.chmod(${JSON.stringify(where.path)}, 0o777)\n` : ''}s.listen(0)\ntime.sleep(120)\n`;
  const child = spawn('python3', ['-c', script], { stdio: 'ignore' });
  children.push(child);
  await delay(300);
  const fillers: net.Socket[] = [];
  for (let i = 0; i < 3; i++) {
    const socket = 'port' in where ? net.connect(where.port, '127.0.0.1') : net.connect(where.path);
    socket.on('error', () => undefined);
    fillers.push(socket);
    await delay(50);
  }
  return fillers;
}

function send(port: number, request: Request): Promise<number | string> {
  return new Promise((resolve) => {
    const body = request.bodyBytes ? Buffer.alloc(request.bodyBytes, 0x61) : undefined;
    const req = http.request({ host: '127.0.0.1', port, path: request.route, method: request.method, headers: body ? { 'content-length': body.length } : {}, agent: false }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
      res.on('error', () => resolve(res.statusCode ?? 'error'));
    });
    req.on('error', (error) => resolve(error.message));
    req.setTimeout(15_000, () => req.destroy(new Error('client timeout')));
    req.end(body);
  });
}

async function main(): Promise<void> {
  const lab = await createLab('errorlog');
  const children: ChildProcess[] = [];
  const fillers: net.Socket[] = [];
  try {
    const port = async (mode: Mode) => {
      const p = await freePort();
      startMode(lab, mode, String(p), children);
      await waitForListen({ port: p });
      return p;
    };
    const modes: Mode[] = ['never-respond', 'reset-after-request', 'close-after-request', 'reset-while-receiving', 'stall-body', 'reset-mid-body', 'close-mid-body', 'big-header', 'invalid-header', 'extra-body', 'not-http', 'never-read'];
    const ports = Object.fromEntries(await Promise.all(modes.map(async (m) => [m, await port(m)] as const))) as Record<Mode, number>;
    const refusedPort = await freePort();
    const deadPorts = [await freePort(), await freePort()];
    const hangPort = await freePort();
    fillers.push(...(await fullQueue({ port: hangPort }, children)));
    const fullSocket = join(lab.dir, 'full.sock');
    fillers.push(...(await fullQueue({ path: fullSocket }, children)));
    const privateSocket = join(lab.dir, 'private.sock');
    const privateBackend = spawn(process.execPath, [MISBEHAVE, 'ok', privateSocket], { stdio: 'ignore' });
    children.push(privateBackend);
    await waitForListen({ path: privateSocket });
    await chmod(privateSocket, 0o600); // root's socket: nginx workers (nobody) get EACCES

    const upstream = (name: string, servers: string) => `upstream ${name} {\n  ${servers}\n}`;
    const http_ = [
      ...modes.map((m) => upstream(`u_${m.replace(/-/g, '_')}`, `server 127.0.0.1:${ports[m]};`)),
      upstream('u_refused', `server 127.0.0.1:${refusedPort};`),
      upstream('u_missing', `server unix:${join(lab.dir, 'missing.sock')};`),
      upstream('u_private', `server unix:${privateSocket};`),
      upstream('u_full_unix', `server unix:${fullSocket};`),
      upstream('u_hang', `server 127.0.0.1:${hangPort};`),
      upstream('pool', deadPorts.map((p) => `server 127.0.0.1:${p} max_fails=1 fail_timeout=60s;`).join('\n  ')),
    ].join('\n');
    const location = (route: string, target: string, extra = '') => `location ${route} {\n  proxy_pass http://${target};\n${extra}}`;
    const server = [
      'proxy_connect_timeout 1s;',
      'proxy_send_timeout 1s;',
      'proxy_read_timeout 1s;',
      'client_max_body_size 64m;',
      ...modes.map((m) => location(`/${m}/`, `u_${m.replace(/-/g, '_')}`)),
      location('/refused/', 'u_refused'),
      location('/missing/', 'u_missing'),
      location('/private/', 'u_private'),
      location('/full-unix/', 'u_full_unix'),
      location('/hang/', 'u_hang'),
      location('/pool/', 'pool'),
      location('/small-upload/', `127.0.0.1:${ports['never-respond']}`, '  client_max_body_size 1k;\n'),
      location('/unbuffered/', 'u_reset_mid_body', '  proxy_buffering off;\n'),
    ].join('\n');
    const { port: nginxPort } = await lab.startNginx({ http: http_, server });

    const requests: Request[] = [
      { route: '/refused/api/orders', method: 'POST', bodyBytes: 10, expect: 'refused' },
      { route: '/refused/api/orders', method: 'GET', expect: 'refused' },
      { route: '/missing/index.php', method: 'GET', expect: 'socket-missing' },
      { route: '/private/x', method: 'GET', expect: 'permission-denied' },
      { route: '/full-unix/x', method: 'GET', expect: 'unix-backlog-full' },
      { route: '/hang/slow', method: 'GET', expect: 'timeout-connect' },
      { route: '/never-read/upload', method: 'PUT', bodyBytes: 48 * 1024 * 1024, expect: 'timeout-send' },
      { route: '/never-respond/report/7', method: 'GET', expect: 'timeout-read' },
      { route: '/stall-body/file', method: 'GET', expect: 'timeout-body' },
      { route: '/reset-after-request/checkout', method: 'POST', bodyBytes: 100, expect: 'reset-reading-header' },
      { route: '/reset-after-request/checkout', method: 'POST', bodyBytes: 100, expect: 'reset-reading-header' },
      { route: '/close-after-request/cart', method: 'GET', expect: 'premature-close-header' },
      // nginx sees the reset on its read event first, so even a request cut off mid-upload logs as a header-stage reset;
      // the writev() form of reset-sending-request is covered by signatures.documented.error.log.
      { route: '/reset-while-receiving/upload', method: 'POST', bodyBytes: 32 * 1024 * 1024, expect: 'reset-reading-header' },
      { route: '/reset-mid-body/download', method: 'GET', expect: 'reset-reading-body' },
      { route: '/unbuffered/download', method: 'GET', expect: 'reset-reading-body' },
      { route: '/close-mid-body/download', method: 'GET', expect: 'premature-close-body' },
      { route: '/big-header/profile', method: 'GET', expect: 'too-big-header' },
      { route: '/invalid-header/x', method: 'GET', expect: 'invalid-header' },
      { route: '/not-http/x', method: 'GET', expect: 'invalid-header' },
      { route: '/extra-body/x', method: 'GET', expect: 'other-upstream' },
      { route: '/small-upload/avatar', method: 'POST', bodyBytes: 4096, expect: 'body-too-large' },
      { route: '/pool/a', method: 'GET', expect: 'refused+server-disabled' },
      { route: '/pool/b', method: 'GET', expect: 'no-live-upstreams' },
    ];
    const outcomes: Array<Request & { status: number | string }> = [];
    // In order: the pool's second request depends on the first having disabled both peers.
    for (const request of requests) outcomes.push({ ...request, status: await send(nginxPort, request) });
    await delay(500);
    await mkdir(OUT, { recursive: true });
    await copyFile(join(lab.dir, 'error.log'), join(OUT, 'signatures.error.log'));
    await writeFile(join(OUT, 'signatures.requests.json'), JSON.stringify({ recordedOn: 'Debian 12, nginx 1.22.1 (nginx-light), Node backends on loopback', requests: outcomes }, null, 1) + '\n');
    for (const o of outcomes) process.stdout.write(`${o.method} ${o.route} → ${o.status} (${o.expect})\n`);
  } finally {
    for (const socket of fillers) socket.destroy();
    for (const child of children) child.kill('SIGKILL');
    await lab.cleanup();
  }
}

await main();
