/**
 * The lab: a real nginx from a temp dir and a real misbehaving backend per
 * scenario, traffic that triggers the fault, then `diagnose --json`. Each
 * scenario names exactly the findings it must confirm; nothing else may be
 * confirmed.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { appendFile, mkdir, symlink, unlink, writeFile } from 'node:fs/promises';
import http from 'node:http';
import net from 'node:net';
import { dirname, join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { PACKAGE_ROOT } from '../../src/packageRoot.js';
import { findingKind } from '../../src/findings/catalog.js';
import { createMemoryCgroup, memoryCgroupUnavailable } from '../support/cgroup.js';
import { findNginx, freePort, hasCommand, waitForListen, type Lab } from '../support/lab.js';
import { synFloodElsewhere, synFloodUnavailable } from '../support/synFlood.js';
import { findPhpFpm, phpLocation, startPhpFpm } from '../support/phpFpm.js';

const MISBEHAVE = join(PACKAGE_ROOT, 'dist', 'test', 'support', 'misbehave.js');
const MEMORY_HOG = join(PACKAGE_ROOT, 'dist', 'test', 'support', 'memoryHog.js');

export interface Running {
  conf: string;
  port: number;
  /** Values the expected summaries mention (ports, paths). */
  mentions: string[];
}

export interface Scenario {
  name: string;
  /** Runs alone: its fault shows in machine-wide counters (listen overflows). */
  alone?: boolean;
  needs?: string[];
  /** Why this machine cannot run it (beyond missing commands), or null. */
  unavailable?: () => string | null;
  setup(lab: Lab, children: ChildProcess[]): Promise<Running>;
  /** Requests that trigger the fault, before the diagnosis. */
  traffic?(port: number, running: Running): Promise<void>;
  /** More arguments for `diagnose` (e.g. a wrong --error-log). */
  args?(running: Running): string[];
  /** Load kept up while the diagnosis runs; returns a stop function. */
  during?(running: Running): () => Promise<void>;
  confirmed: string[];
  /** Findings it must report as suspected (none when left out). */
  suspected?: string[];
  /** Findings it must report as unknown ("could not tell"), among any others the machine causes. */
  unknown?: string[];
  /** Per confirmed finding, text its summary must contain. */
  summaryMentions?: Record<string, (running: Running) => string[]>;
  /** Per finding, text its fixes' steps must contain. */
  fixMentions?: Record<string, string[]>;
  /** Text the whole report must not contain (e.g. proxy_ advice for a FastCGI location). */
  absent?: string[];
}

/** What this machine lacks to run a lab case (nginx, its tools, root or a memory cgroup); empty when it can. */
export function missingFor(scenario: Scenario): string[] {
  return [
    ...(findNginx() ? [] : ['nginx']),
    // php-fpm is versioned (php-fpm8.2 in /usr/sbin): looked for by its own rule.
    ...(scenario.needs ?? []).filter((tool) => !(tool === 'php-fpm' ? findPhpFpm() : hasCommand(tool))),
    ...[scenario.unavailable?.()].filter((why): why is string => !!why),
  ];
}

export function request(port: number, path: string, method = 'GET', body = ''): Promise<number> {
  return new Promise((resolve) => {
    const req = http.request({ host: '127.0.0.1', port, path, method, agent: false, headers: body ? { 'content-length': Buffer.byteLength(body) } : {} }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
      res.on('error', () => resolve(0));
    });
    req.on('error', () => resolve(0));
    req.setTimeout(10_000, () => req.destroy());
    req.end(body || undefined);
  });
}

/** Starts a misbehaving backend; returns its process (children is shared by concurrent scenarios: never look it up there). */
async function backend(children: ChildProcess[], mode: string, where: number | string): Promise<ChildProcess> {
  const child = spawn(process.execPath, [MISBEHAVE, mode, String(where)], { stdio: 'ignore' });
  children.push(child);
  await waitForListen(typeof where === 'number' ? { port: where } : { path: where });
  return child;
}

async function nodeServer(children: ChildProcess[], port: number, keepAliveTimeoutMs?: number): Promise<ChildProcess> {
  const setting = keepAliveTimeoutMs === undefined ? '' : `s.keepAliveTimeout = ${keepAliveTimeoutMs};`;
  const child = spawn(process.execPath, ['-e', `const s = require('http').createServer((q, r) => { q.resume(); q.on('end', () => r.end('ok')); }); ${setting} s.listen(${port}, '127.0.0.1');`], { stdio: 'ignore' });
  children.push(child);
  await waitForListen({ port });
  return child;
}

/** Keep-alive in effect, nginx's idle timeout (4 s) below Node's (5 s): the clean baseline for an upstream. */
const cleanUpstream = (name: string, port: number, extra = '') => `upstream ${name} {\n  server 127.0.0.1:${port};\n  keepalive 8;\n  keepalive_timeout 4s;\n${extra}}`;
const keepaliveLocation = (path: string, upstream: string, extra = '') => `location ${path} {\n  proxy_pass http://${upstream};\n  proxy_http_version 1.1;\n  proxy_set_header Connection "";\n${extra}}`;

/** A resetting backend's 502s, diagnosed with --error-log pointed at a file of the lab dir that does not hold nginx's error lines. */
function errorLogElsewhere(name: string, file: string): Scenario {
  return {
    name,
    async setup(lab, children) {
      const port = await freePort();
      await backend(children, 'reset-after-request', port);
      if (file !== 'access.log') await writeFile(join(lab.dir, file), '');
      const { conf, port: nginxPort } = await lab.startNginx({ http: `upstream api {\n  server 127.0.0.1:${port};\n}`, server: 'location / {\n  proxy_pass http://api;\n}' });
      return { conf, port: nginxPort, mentions: [] };
    },
    async traffic(port) {
      for (let i = 0; i < 3; i++) if ((await request(port, '/checkout', 'POST', '{}')) !== 502) throw new Error('the resetting backend did not give a 502');
    },
    args: (running) => ['--error-log', join(dirname(running.conf), file)],
    confirmed: [],
    unknown: ['backend-reset', 'upstream-timeout', 'unexamined-errors'],
  };
}

export const SCENARIOS: Scenario[] = [
  {
    name: 'backend-down-tcp',
    async setup(lab) {
      const port = await freePort();
      const { conf, port: nginxPort } = await lab.startNginx({ http: cleanUpstream('api', port), server: keepaliveLocation('/', 'api') });
      return { conf, port: nginxPort, mentions: [`upstream api (127.0.0.1:${port})`] };
    },
    traffic: async (port) => void (await request(port, '/api/orders')),
    confirmed: ['backend-down'],
    summaryMentions: { 'backend-down': (r) => r.mentions },
  },
  {
    name: 'backend-down-unix',
    async setup(lab) {
      const socket = join(lab.dir, 'app.sock');
      const { conf, port } = await lab.startNginx({ http: `upstream app {\n  server unix:${socket};\n}`, server: 'location / {\n  proxy_pass http://app;\n}' });
      return { conf, port, mentions: [`upstream app (unix:${socket})`, `${socket} does not exist`] };
    },
    traffic: async (port) => void (await request(port, '/index.php')),
    confirmed: ['backend-down'],
    summaryMentions: { 'backend-down': (r) => r.mentions },
  },
  {
    // Sockets served under another name than nginx's: ss lists the path each process bound.
    name: 'unix-socket-elsewhere',
    async setup(lab) {
      const release = join(lab.dir, 'releases', '1');
      await mkdir(release, { recursive: true });
      await lab.startBackend({ path: join(release, 'app.sock') });
      await symlink(release, join(lab.dir, 'current')); // a deploy's current/ → releases/N/
      await symlink(join(release, 'app.sock'), join(lab.dir, 'link.sock')); // a link to the socket itself
      // A socket bound by a relative name, in the process's working directory.
      const cwd = join(lab.dir, 'run');
      await mkdir(cwd);
      await lab.startBackend({ path: 'rel.sock', cwd });
      const http = ['current/app.sock', 'link.sock', 'run/rel.sock'].map((p, i) => `upstream u${i} {\n  server unix:${join(lab.dir, p)};\n}`).join('\n');
      const server = [0, 1, 2].map((i) => `location /u${i}/ {\n  proxy_pass http://u${i};\n}`).join('\n');
      const { conf, port } = await lab.startNginx({ http, server });
      return { conf, port, mentions: [] };
    },
    async traffic(port) {
      for (const path of ['/u0/a', '/u1/a', '/u2/a']) if ((await request(port, path)) !== 200) throw new Error(`${path} did not answer 200`);
    },
    confirmed: [],
  },
  {
    name: 'backend-reset',
    async setup(lab, children) {
      const port = await freePort();
      await backend(children, 'reset-after-request', port);
      const { conf, port: nginxPort } = await lab.startNginx({ http: `upstream api {\n  server 127.0.0.1:${port};\n}`, server: 'location / {\n  proxy_pass http://api;\n}' });
      return { conf, port: nginxPort, mentions: [`127.0.0.1:${port}`] };
    },
    async traffic(port) {
      for (let i = 0; i < 3; i++) await request(port, '/checkout', 'POST', '{"cart":1}');
    },
    confirmed: ['backend-reset'],
    summaryMentions: { 'backend-reset': (r) => ['3 reset(s)', ...r.mentions] },
  },
  {
    // Two servers, one resetting, and POSTs retried: the client sees 200s while the order may go through twice.
    name: 'retry-double-submit',
    async setup(lab, children) {
      const [bad, good] = [await freePort(), await freePort()];
      await backend(children, 'reset-after-request', bad);
      await nodeServer(children, good);
      const { conf, port: nginxPort } = await lab.startNginx({
        http: `upstream shop {\n  server 127.0.0.1:${bad};\n  server 127.0.0.1:${good};\n}`,
        server: 'location / {\n  proxy_pass http://shop;\n  proxy_next_upstream error timeout non_idempotent;\n}',
      });
      return { conf, port: nginxPort, mentions: [`127.0.0.1:${bad}`] };
    },
    async traffic(port) {
      for (let i = 0; i < 4; i++) await request(port, '/orders', 'POST', '{"sku":7}');
    },
    confirmed: ['backend-reset', 'peers-marked-down', 'retry-double-submit'],
    summaryMentions: {
      'backend-reset': (r) => r.mentions,
      'peers-marked-down': (r) => [`${r.mentions[0]} ×`, 'server-disabled'],
      'retry-double-submit': () => ['proxy_next_upstream non_idempotent'],
    },
  },
  {
    // Healthy gunicorn recycling its workers every 2 requests (max_requests in the -c file, relative to its
    // directory): its young workers are no crash.
    name: 'gunicorn-max-requests',
    needs: ['gunicorn'],
    async setup(lab, children) {
      const port = await freePort();
      await writeFile(join(lab.dir, 'app.py'), 'def app(environ, start_response):\n    start_response("200 OK", [("Content-Type", "text/plain")])\n    return [b"ok"]\n');
      await writeFile(join(lab.dir, 'gunicorn.conf.py'), `bind = "127.0.0.1:${port}"\nworkers = 2\nmax_requests = 2\n`);
      children.push(spawn('gunicorn', ['-c', 'gunicorn.conf.py', 'app:app'], { cwd: lab.dir, stdio: 'ignore' }));
      await waitForListen({ port }, 15_000);
      const { conf, port: nginxPort } = await lab.startNginx({ http: `upstream py {\n  server 127.0.0.1:${port};\n}`, server: 'location / {\n  proxy_pass http://py;\n}' });
      await delay(2500); // recycled workers must be clearly younger than their master
      return { conf, port: nginxPort, mentions: [] };
    },
    async traffic(port) {
      for (let i = 0; i < 20; i++) if ((await request(port, `/items/${i}`)) !== 200) throw new Error(`/items/${i} did not answer 200`);
    },
    confirmed: [],
  },
  {
    name: 'worker-killed',
    needs: ['gunicorn'],
    async setup(lab, children) {
      const port = await freePort();
      await writeFile(join(lab.dir, 'slow.py'), 'import time\n\ndef app(environ, start_response):\n    time.sleep(3)\n    start_response("200 OK", [("Content-Type", "text/plain")])\n    return [b"late"]\n');
      children.push(spawn('gunicorn', ['-w', '1', '--timeout', '1', '--graceful-timeout', '1', '-b', `127.0.0.1:${port}`, '--chdir', lab.dir, '--error-logfile', join(lab.dir, 'gunicorn.log'), 'slow:app'], { stdio: 'ignore' }));
      await waitForListen({ port }, 15_000);
      const { conf, port: nginxPort } = await lab.startNginx({ http: `upstream py {\n  server 127.0.0.1:${port};\n}`, server: 'location / {\n  proxy_pass http://py;\n}' });
      await delay(2500); // the replacement worker must be clearly younger than the first
      return { conf, port: nginxPort, mentions: [`127.0.0.1:${port}`, 'killed by gunicorn for running past --timeout 1 s'] };
    },
    async traffic(port) {
      await request(port, '/report/42');
      await delay(1500);
    },
    confirmed: ['backend-crash'],
    summaryMentions: { 'backend-crash': (r) => [...r.mentions, 'gunicorn'] },
  },
  {
    // Down at first (nginx is refused), then started: it was down, it is up now, and nothing recorded why.
    name: 'backend-was-down',
    async setup(lab, children) {
      const port = await freePort();
      const { conf, port: nginxPort } = await lab.startNginx({ http: cleanUpstream('api', port), server: keepaliveLocation('/', 'api') });
      await request(nginxPort, '/api/orders');
      await delay(4500); // both clocks are coarse: the start must be clearly later than the error
      await nodeServer(children, port);
      return { conf, port: nginxPort, mentions: [`127.0.0.1:${port}`, 'down until its current process started', '1 refused or missing socket', 'has logged no error for it since'] };
    },
    async traffic(port) {
      for (let i = 0; i < 3; i++) await request(port, `/api/orders/${i}`);
    },
    confirmed: ['backend-down'],
    summaryMentions: { 'backend-down': (r) => r.mentions },
  },
  {
    // Cut requests off, then replaced by a new process with nothing recording the old one's end: a suspected crash.
    name: 'backend-replaced',
    async setup(lab, children) {
      const port = await freePort();
      const first = await backend(children, 'reset-after-request', port);
      const { conf, port: nginxPort } = await lab.startNginx({ http: `upstream api {\n  server 127.0.0.1:${port};\n}`, server: 'location / {\n  proxy_pass http://api;\n}' });
      await request(nginxPort, '/checkout', 'POST', '{"cart":1}');
      first.kill('SIGKILL');
      await new Promise((resolve) => first.once('exit', resolve));
      await delay(4500); // both clocks are coarse: the new start must be clearly later than the reset
      await nodeServer(children, port);
      return { conf, port: nginxPort, mentions: [`127.0.0.1:${port}`, 'after nginx had already been cut off mid-request by it', 'the process before it went away without a recorded restart'] };
    },
    async traffic(port) {
      for (let i = 0; i < 3; i++) await request(port, `/items/${i}`);
    },
    confirmed: [],
    suspected: ['backend-crash'],
    summaryMentions: { 'backend-crash': (r) => r.mentions },
  },
  {
    // The reviewer's case: a backend that resets, killed and started again, and the new process resets too. The
    // restart explains only the resets before it; the ones after are the running process's own (backend-reset).
    name: 'backend-replaced-still-resets',
    async setup(lab, children) {
      const port = await freePort();
      const first = await backend(children, 'reset-after-request', port);
      const { conf, port: nginxPort } = await lab.startNginx({ http: `upstream api {\n  server 127.0.0.1:${port};\n}`, server: 'location / {\n  proxy_pass http://api;\n}' });
      for (let i = 0; i < 3; i++) await request(nginxPort, '/reset', 'POST', '{}');
      first.kill('SIGKILL');
      await new Promise((resolve) => first.once('exit', resolve));
      await delay(4500); // both clocks are coarse: the new start must be clearly later than the first resets
      await backend(children, 'reset-after-request', port);
      await delay(4500); // and the next resets clearly later than the new start
      return { conf, port: nginxPort, mentions: [`127.0.0.1:${port}`, 'after its current process started at', 'the process running now resets too, not only the one before it'] };
    },
    async traffic(port) {
      for (let i = 0; i < 5; i++) await request(port, '/reset', 'POST', '{}');
    },
    confirmed: ['backend-reset'],
    suspected: ['backend-crash'],
    summaryMentions: { 'backend-reset': (r) => r.mentions },
  },
  {
    // A real OOM kill in a memory cgroup of the test's own; the test restarts the backend the way a supervisor would.
    name: 'backend-oom',
    unavailable: memoryCgroupUnavailable,
    async setup(lab, children) {
      const port = await freePort();
      const group = await createMemoryCgroup(`reset-doctor-lab-oom-${process.pid}`, 160 << 20);
      lab.atCleanup(() => group.remove());
      const start = async () => {
        const child = spawn(process.execPath, [MEMORY_HOG, String(port)], { stdio: 'ignore' });
        children.push(child);
        await group.add(child.pid!);
        await waitForListen({ port });
        return child;
      };
      const first = await start();
      const { conf, port: nginxPort } = await lab.startNginx({ http: `upstream reports {\n  server 127.0.0.1:${port};\n}`, server: 'location / {\n  proxy_pass http://reports;\n}' });
      const died = new Promise<string>((resolve) => first.once('exit', (code, signal) => resolve(signal ?? `exit code ${code}`)));
      await request(nginxPort, '/report/42');
      const how = await died;
      // Anything but the kernel's SIGKILL would make this a different scenario: say so rather than let the report mislead.
      if (how !== 'SIGKILL') throw new Error(`backend-oom: the memory hog ended with ${how}, not an OOM kill`);
      await start();
      for (let i = 0; i < 3; i++) await request(nginxPort, `/items/${i}`);
      return { conf, port: nginxPort, mentions: [`127.0.0.1:${port}`, '1 OOM kill(s)', `oom-lab-${port}`, 'in cgroup /reset-doctor-lab-oom-'] };
    },
    confirmed: ['backend-oom'],
    summaryMentions: { 'backend-oom': (r) => r.mentions },
  },
  {
    // The same real OOM kill, but nothing restarts the backend: no process is left to match the kernel's line, and
    // nginx's errors for it begin at the kill. Both findings: it was OOM-killed, and it is down.
    name: 'backend-oom-stays-down',
    // Alone: beside backend-oom, the two kills may fall in the same second, and two programs killed at once are
    // rightly not guessed between (oom-kills), so the match this case proves would not be made.
    alone: true,
    unavailable: memoryCgroupUnavailable,
    async setup(lab, children) {
      const port = await freePort();
      const group = await createMemoryCgroup(`reset-doctor-lab-oom-${process.pid}0`, 160 << 20);
      lab.atCleanup(() => group.remove());
      const hog = spawn(process.execPath, [MEMORY_HOG, String(port)], { stdio: 'ignore' });
      children.push(hog);
      await group.add(hog.pid!);
      await waitForListen({ port });
      const { conf, port: nginxPort } = await lab.startNginx({ http: `upstream reports {\n  server 127.0.0.1:${port};\n}`, server: 'location / {\n  proxy_pass http://reports;\n}' });
      const died = new Promise<string>((resolve) => hog.once('exit', (code, signal) => resolve(signal ?? `exit code ${code}`)));
      await request(nginxPort, '/report/42');
      const how = await died;
      if (how !== 'SIGKILL') throw new Error(`backend-oom-stays-down: the memory hog ended with ${how}, not an OOM kill`);
      for (let i = 0; i < 3; i++) await request(nginxPort, `/items/${i}`);
      return { conf, port: nginxPort, mentions: [`127.0.0.1:${port}`, '1 OOM kill(s)', `oom-lab-${port}`, 'in cgroup /reset-doctor-lab-oom-'] };
    },
    confirmed: ['backend-oom', 'backend-down'],
    summaryMentions: { 'backend-oom': (r) => r.mentions },
  },
  {
    name: 'keepalive-timeout-below-nginx',
    async setup(lab, children) {
      const port = await freePort();
      await nodeServer(children, port);
      // nginx keeps idle connections 60 s (the default); Node closes them after about 6 s.
      const { conf, port: nginxPort } = await lab.startNginx({ http: `upstream api {\n  server 127.0.0.1:${port};\n  keepalive 8;\n}`, server: keepaliveLocation('/', 'api') });
      return { conf, port: nginxPort, mentions: [`api (127.0.0.1:${port})`, 'measured', 'keepalive_timeout 60 s'] };
    },
    traffic: async (port) => void (await request(port, '/')),
    confirmed: ['keepalive-mismatch'],
    summaryMentions: { 'keepalive-mismatch': (r) => r.mentions },
  },
  {
    name: 'keepalive-race',
    async setup(lab, children) {
      const port = await freePort();
      await backend(children, 'keepalive-race', port);
      const { conf, port: nginxPort } = await lab.startNginx({ http: `upstream api {\n  server 127.0.0.1:${port};\n  keepalive 8;\n}`, server: keepaliveLocation('/', 'api') });
      return { conf, port: nginxPort, mentions: [`api (127.0.0.1:${port})`, 'on POST/PATCH'] };
    },
    async traffic(port) {
      // A request sent 1.5 s after the last one lands in the backend's closing window on the cached connection.
      for (const method of ['POST', 'POST', 'GET', 'GET']) {
        await request(port, method === 'POST' ? '/checkout' : '/cart', method, method === 'POST' ? '{}' : '');
        await delay(1500);
      }
    },
    confirmed: ['keepalive-mismatch'],
    summaryMentions: { 'keepalive-mismatch': (r) => r.mentions },
  },
  {
    name: 'keepalive-without-http11',
    async setup(lab, children) {
      const port = await freePort();
      await nodeServer(children, port);
      const { conf, port: nginxPort } = await lab.startNginx({ http: cleanUpstream('api', port), server: 'location / {\n  proxy_pass http://api;\n}' });
      return { conf, port: nginxPort, mentions: ['api: keepalive 8 configured', 'HTTP/1.0, Connection: close'] };
    },
    traffic: async (port) => void (await request(port, '/')),
    confirmed: ['keepalive-inert'],
    summaryMentions: { 'keepalive-inert': (r) => r.mentions },
  },
  {
    name: 'tiny-backlog',
    alone: true,
    needs: ['python3'],
    async setup(lab, children) {
      const port = await freePort();
      // listen(1) and never accept: the accept queue is full at once.
      children.push(spawn('python3', ['-c', `import socket, time\ns = socket.socket()\ns.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)\ns.bind(('127.0.0.1', ${port}))\ns.listen(1)\ntime.sleep(120)\n`], { stdio: 'ignore' }));
      await delay(300);
      const { conf, port: nginxPort } = await lab.startNginx({ http: `upstream slow {\n  server 127.0.0.1:${port};\n}`, server: 'location / {\n  proxy_pass http://slow;\n}' });
      return { conf, port: nginxPort, mentions: [`127.0.0.1:${port}`] };
    },
    during(running) {
      const backendPort = Number(running.mentions[0]!.split(':')[1]);
      const sockets: net.Socket[] = [];
      let on = true;
      // Bounded load on loopback: a connection every 20 ms for at most 20 s.
      const loop = (async () => {
        const until = Date.now() + 20_000;
        while (on && Date.now() < until) {
          const socket = net.connect(backendPort, '127.0.0.1');
          socket.on('error', () => undefined);
          sockets.push(socket);
          await delay(20);
        }
      })();
      return async () => {
        on = false;
        await loop;
        for (const socket of sockets) socket.destroy();
      };
    },
    confirmed: ['listen-queue-overflow'],
    summaryMentions: { 'listen-queue-overflow': (r) => r.mentions },
  },
  {
    name: 'header-too-big',
    async setup(lab, children) {
      const port = await freePort();
      await backend(children, 'big-header', port);
      const { conf, port: nginxPort } = await lab.startNginx({ http: cleanUpstream('profile', port), server: keepaliveLocation('/', 'profile') });
      return { conf, port: nginxPort, mentions: [`127.0.0.1:${port}`, '/profile/me', 'proxy_buffer_size 4096'] };
    },
    traffic: async (port) => void (await request(port, '/profile/me')),
    confirmed: ['buffer-too-small'],
    summaryMentions: { 'buffer-too-small': (r) => r.mentions },
  },
  {
    name: 'slow-backend',
    async setup(lab, children) {
      const port = await freePort();
      await backend(children, 'never-respond', port);
      const { conf, port: nginxPort } = await lab.startNginx({ http: `upstream reports {\n  server 127.0.0.1:${port};\n}`, server: 'location / {\n  proxy_pass http://reports;\n  proxy_read_timeout 1s;\n}' });
      return { conf, port: nginxPort, mentions: ['2 read timeout(s)', 'proxy_read_timeout 1 s in location / (set at nginx.conf:'] };
    },
    async traffic(port) {
      await Promise.all([request(port, '/reports/1'), request(port, '/reports/2')]);
    },
    confirmed: ['upstream-timeout'],
    summaryMentions: { 'upstream-timeout': (r) => r.mentions },
  },
  {
    // A header nginx rejects: a real 502 that no check explains, so the report must say "cannot tell".
    name: 'backend-invalid-header',
    async setup(lab, children) {
      const port = await freePort();
      await backend(children, 'invalid-header', port);
      const { conf, port: nginxPort } = await lab.startNginx({ http: `upstream legacy {\n  server 127.0.0.1:${port};\n}`, server: 'location / {\n  proxy_pass http://legacy;\n}' });
      return { conf, port: nginxPort, mentions: [`127.0.0.1:${port}`] };
    },
    async traffic(port) {
      for (let i = 0; i < 2; i++) if ((await request(port, '/legacy/report')) !== 502) throw new Error('the backend with an invalid header did not give a 502');
    },
    confirmed: [],
    unknown: ['unexamined-errors'],
  },
  {
    // error_log at crit: nginx writes none of its upstream failures, so an empty log proves nothing.
    name: 'errors-not-logged',
    async setup(lab, children) {
      const port = await freePort();
      await backend(children, 'reset-after-request', port);
      const { conf, port: nginxPort } = await lab.startNginx({ http: `upstream api {\n  server 127.0.0.1:${port};\n}`, server: 'location / {\n  proxy_pass http://api;\n}', errorLogLevel: 'crit' });
      return { conf, port: nginxPort, mentions: [] };
    },
    async traffic(port) {
      for (let i = 0; i < 2; i++) if ((await request(port, '/checkout', 'POST', '{}')) !== 502) throw new Error('the resetting backend did not give a 502');
    },
    confirmed: [],
    unknown: ['backend-reset', 'upstream-timeout', 'unexamined-errors'],
  },
  {
    // A healthy Node backend that runs a short-lived helper per request (an image or PDF tool would): the helpers are
    // its children, not replaced workers. Requests keep coming while the diagnosis runs, so ps sees helpers.
    name: 'node-helper-children',
    async setup(lab, children) {
      const port = await freePort();
      const server = `const { execFile } = require('child_process'); let n = 0;
require('http').createServer((q, r) => {
  q.resume();
  const helper = n++ % 2 ? ['sleep', ['1']] : [process.execPath, ['-e', 'setTimeout(() => {}, 1000)']];
  execFile(helper[0], helper[1], () => r.end('ok'));
}).listen(${port}, '127.0.0.1');`;
      await writeFile(join(lab.dir, 'thumbnails.js'), server);
      children.push(spawn(process.execPath, [join(lab.dir, 'thumbnails.js')], { stdio: 'ignore' }));
      await waitForListen({ port });
      const { conf, port: nginxPort } = await lab.startNginx({ http: cleanUpstream('api', port), server: keepaliveLocation('/', 'api') });
      await delay(2500); // helpers must start clearly after the server, as replaced workers would
      return { conf, port: nginxPort, mentions: [`127.0.0.1:${port}`] };
    },
    async traffic(port) {
      for (let i = 0; i < 3; i++) await request(port, `/thumbnail/${i}`);
    },
    during(running) {
      const backendPort = Number(running.mentions[0]!.split(':')[1]);
      let on = true;
      // Bounded: a request every 150 ms for at most 60 s, each holding a helper for 1 s. Straight to the backend,
      // so nginx's logs hold only the traffic above and the report does not vary with the timing.
      const loop = (async () => {
        const until = Date.now() + 60_000;
        const pending: Array<Promise<number>> = [];
        for (let i = 0; on && Date.now() < until; i++) {
          pending.push(request(backendPort, `/thumbnail/${i}`));
          await delay(150);
        }
        await Promise.all(pending);
      })();
      return async () => {
        on = false;
        await loop;
      };
    },
    confirmed: [],
  },
  {
    // A healthy backend, and a SYN flood warning in the kernel log for a listener that is none of the backends
    // (another service's): context, never an overflow at a backend. Alone: its warning is machine-wide.
    name: 'healthy-beside-syn-flood',
    alone: true,
    unavailable: synFloodUnavailable,
    async setup(lab, children) {
      const port = await freePort();
      await nodeServer(children, port);
      const { conf, port: nginxPort } = await lab.startNginx({ http: cleanUpstream('api', port), server: keepaliveLocation('/', 'api') });
      let other = await freePort();
      while (other === port || other === nginxPort) other = await freePort();
      await synFloodElsewhere(other);
      return { conf, port: nginxPort, mentions: [] };
    },
    async traffic(port) {
      for (let i = 0; i < 3; i++) await request(port, `/items/${i}`);
    },
    confirmed: [],
  },
  {
    // The master runs, but its socket file is gone (a tmpfiles clean-up of /run/php, a second master that unlinked it).
    name: 'php-fpm-pool-down',
    needs: ['php-fpm'],
    async setup(lab) {
      const fpm = await startPhpFpm(lab, { pool: ['pm = static', 'pm.max_children = 1'], scripts: { 'index.php': '<?php echo "ok";' } });
      await unlink(fpm.socket);
      const { conf, port } = await lab.startNginx({ server: phpLocation(fpm.socket, lab.dir) });
      return { conf, port, mentions: [`unix:${fpm.socket}`, `${fpm.socket} does not exist`, 'php-fpm pool www', `${fpm.config}:`, 'its master (pid '] };
    },
    async traffic(port) {
      if ((await request(port, '/index.php')) !== 502) throw new Error('the pool without a socket did not give a 502');
    },
    confirmed: ['backend-down'],
    summaryMentions: { 'backend-down': (r) => r.mentions },
  },
  {
    // One static child busy with a slow script and a queue of 2 behind it: nginx's connect() gets EAGAIN.
    name: 'php-fpm-saturated',
    needs: ['php-fpm'],
    async setup(lab) {
      const fpm = await startPhpFpm(lab, { pool: ['pm = static', 'pm.max_children = 1', 'listen.backlog = 2'], scripts: { 'slow.php': '<?php usleep(1500000); echo "done";' } });
      const { conf, port } = await lab.startNginx({ server: phpLocation(fpm.socket, lab.dir) });
      return { conf, port, mentions: ['php-fpm pool www', '6 connect() (11: Resource temporarily unavailable)', 'pm = static', 'pm.max_children = 1', 'listen.backlog 2', `${fpm.config}:`, 'a static pool logs nothing when every child is busy'] };
    },
    async traffic(port) {
      // One request first, so the child is busy with it; then nine at once: three fit the queue (a unix socket holds backlog + 1), six get EAGAIN.
      const first = request(port, '/slow.php');
      await delay(300);
      const codes = await Promise.all([first, ...Array.from({ length: 9 }, () => request(port, '/slow.php'))]);
      const turnedAway = codes.filter((c) => c === 502).length;
      if (turnedAway !== 6) throw new Error(`expected 6 requests turned away, got ${turnedAway}: ${codes.join(' ')}`);
    },
    confirmed: ['listen-queue-overflow'],
    summaryMentions: { 'listen-queue-overflow': (r) => r.mentions },
    fixMentions: { 'listen-queue-overflow': ['pm.max_children =', 'listen.backlog = 511 in [www]', 'request_slowlog_timeout'] },
  },
  {
    // php-fpm kills the request after 1 s while nginx would wait 60 s: a reset before the header.
    name: 'php-fpm-terminate-timeout',
    needs: ['php-fpm'],
    async setup(lab) {
      const fpm = await startPhpFpm(lab, { pool: ['pm = static', 'pm.max_children = 1', 'request_terminate_timeout = 1s'], scripts: { 'report.php': '<?php sleep(3); echo "late";' } });
      const { conf, port } = await lab.startNginx({ server: phpLocation(fpm.socket, lab.dir, '  fastcgi_read_timeout 60s;\n') });
      return { conf, port, mentions: ['php-fpm pool www', 'request_terminate_timeout 1 s', 'fastcgi_read_timeout 60 s', `${fpm.config}:`, '"GET /report.php"'] };
    },
    async traffic(port) {
      if ((await request(port, '/report.php')) !== 502) throw new Error('the killed request did not give a 502');
      await delay(1000);
    },
    confirmed: ['backend-crash'],
    summaryMentions: { 'backend-crash': (r) => r.mentions },
    fixMentions: { 'backend-crash': ['request_terminate_timeout = 60s in [www]'] },
  },
  {
    // nginx gives up on /slow.php at its own 1 s (a 504) and php-fpm kills the orphaned request at 3 s: no reset, so the
    // kill is not the crash, and the 60 s of the other PHP location is not what served it.
    name: 'php-fpm-killed-after-504',
    needs: ['php-fpm'],
    async setup(lab) {
      const fpm = await startPhpFpm(lab, { pool: ['pm = static', 'pm.max_children = 1', 'request_terminate_timeout = 3s'], scripts: { 'slow.php': '<?php sleep(5); echo "late";' } });
      const exact = phpLocation(fpm.socket, lab.dir, '  fastcgi_read_timeout 1s;\n').replace('location ~ \\.php$', 'location = /slow.php');
      const { conf, port } = await lab.startNginx({ server: `${exact}\n${phpLocation(fpm.socket, lab.dir, '  fastcgi_read_timeout 60s;\n')}` });
      return { conf, port, mentions: [] };
    },
    async traffic(port) {
      // The replacement child must start well after its master (timeline's slack), or the report varies run to run.
      await delay(2000);
      if ((await request(port, '/slow.php')) !== 504) throw new Error('nginx did not time out /slow.php itself');
      // php-fpm kills it at 3 s, 2 s after nginx's 504 (whole-second times keep their order): wait for that line.
      await delay(3000);
    },
    confirmed: ['upstream-timeout'],
    absent: ['request_terminate_timeout = 60s'],
  },
  {
    // A PHP app sending a 6 KB Set-Cookie: larger than fastcgi_buffer_size (one page, 4k); the fix must name fastcgi_, not proxy_.
    name: 'php-fpm-header-too-big',
    needs: ['php-fpm'],
    async setup(lab) {
      const fpm = await startPhpFpm(lab, { pool: ['pm = static', 'pm.max_children = 2'], scripts: { 'profile.php': `<?php header('Set-Cookie: session=' . str_repeat('a', 6000)); echo "ok";` } });
      const { conf, port } = await lab.startNginx({ server: phpLocation(fpm.socket, lab.dir) });
      return { conf, port, mentions: ['fastcgi_buffer_size'] };
    },
    async traffic(port) {
      if ((await request(port, '/profile.php')) !== 502) throw new Error('the big header did not give a 502');
    },
    confirmed: ['buffer-too-small'],
    summaryMentions: { 'buffer-too-small': (r) => r.mentions },
    fixMentions: { 'buffer-too-small': ['fastcgi_buffer_size', 'fastcgi_buffers'] },
    absent: ['proxy_buffer'],
  },
  // The access log given as the error log: none of its lines is an nginx error line, so its silence must not rule anything out.
  errorLogElsewhere('wrong-error-log', 'access.log'),
  // An nginx error log that holds nothing about the 502s the access log counts: nginx writes its errors elsewhere.
  errorLogElsewhere('errors-elsewhere', 'other-error.log'),
  {
    // The config on disk broken after nginx started: nginx -T refuses it, the running nginx serves the old one,
    // and the diagnosis goes on from the files — here to the backend that is down.
    name: 'config-broken-on-disk',
    async setup(lab) {
      const port = await freePort();
      const { conf, port: nginxPort } = await lab.startNginx({ http: cleanUpstream('api', port), server: keepaliveLocation('/', 'api') });
      await appendFile(conf, 'bogus_directive on;\n');
      return { conf, port: nginxPort, mentions: [`upstream api (127.0.0.1:${port})`] };
    },
    traffic: async (port) => void (await request(port, '/api/orders')),
    confirmed: ['nginx-config-invalid', 'backend-down'],
    summaryMentions: { 'nginx-config-invalid': () => ['the running nginx still serves its last good config: do not reload until this is fixed', 'unknown directive "bogus_directive"'], 'backend-down': (r) => r.mentions },
  },
  {
    // A missing ';' in one included site after nginx started: nginx -T refuses the whole config, and the parser here
    // cannot read that file either. The rest of the config still says where nginx sends traffic, so the diagnosis
    // goes on (the resetting backend is found) and says what the broken file may hide instead of ruling it out.
    name: 'include-broken-on-disk',
    async setup(lab, children) {
      const [port, billingPort] = [await freePort(), await freePort()];
      await backend(children, 'reset-after-request', port);
      await mkdir(join(lab.dir, 'conf.d'));
      await writeFile(join(lab.dir, 'conf.d', 'api.conf'), `upstream api {\n  server 127.0.0.1:${port};\n}\n`);
      const { conf, port: nginxPort } = await lab.startNginx({ http: `include ${lab.dir}/conf.d/*.conf;`, server: 'location / {\n  proxy_pass http://api;\n}' });
      await writeFile(join(lab.dir, 'conf.d', 'billing.conf'), `upstream billing {\n  server 127.0.0.1:${billingPort}\n}\n`);
      return { conf, port: nginxPort, mentions: [`127.0.0.1:${port}`] };
    },
    async traffic(port) {
      for (let i = 0; i < 3; i++) await request(port, '/checkout', 'POST', '{"cart":1}');
    },
    confirmed: ['nginx-config-invalid', 'backend-reset'],
    unknown: ['backend-down'],
    summaryMentions: { 'backend-reset': (r) => r.mentions },
  },
  {
    // One vhost keeps its own error_log at crit (and no access log): its resets are written nowhere, so the
    // global log's silence rules nothing out for it.
    name: 'vhost-errors-not-logged',
    async setup(lab, children) {
      const [okPort, resetPort, vhostPort] = [await freePort(), await freePort(), await freePort()];
      await nodeServer(children, okPort);
      await backend(children, 'reset-after-request', resetPort);
      const vhost = `server {\n  listen 127.0.0.1:${vhostPort};\n  server_name checkout;\n  error_log ${lab.dir}/checkout.error.log crit;\n  access_log off;\n  location / {\n    proxy_pass http://127.0.0.1:${resetPort};\n  }\n}`;
      const { conf, port } = await lab.startNginx({ http: `${cleanUpstream('api', okPort)}\n${vhost}`, server: keepaliveLocation('/', 'api') });
      return { conf, port, mentions: [String(vhostPort)] };
    },
    async traffic(port, running) {
      if ((await request(port, '/')) !== 200) throw new Error('the healthy vhost did not answer 200');
      for (let i = 0; i < 2; i++) if ((await request(Number(running.mentions[0]), '/checkout', 'POST', '{}')) !== 502) throw new Error('the resetting backend did not give a 502');
    },
    confirmed: [],
    unknown: ['backend-reset', 'upstream-timeout', 'unexamined-errors'],
  },
  {
    name: 'healthy',
    async setup(lab, children) {
      const port = await freePort();
      await nodeServer(children, port);
      const { conf, port: nginxPort } = await lab.startNginx({ http: cleanUpstream('api', port), server: keepaliveLocation('/', 'api') });
      return { conf, port: nginxPort, mentions: [] };
    },
    async traffic(port) {
      for (let i = 0; i < 3; i++) await request(port, `/items/${i}`);
    },
    confirmed: [],
  },
];

/** The exit code a scenario's findings call for: 1 for a cause, a risk or an unknown; hygiene alone is 0. */
export function expectedExit(scenario: Scenario): number {
  return [...scenario.confirmed, ...(scenario.suspected ?? []), ...(scenario.unknown ?? [])].some((id) => findingKind(id) !== 'hygiene') ? 1 : 0;
}
