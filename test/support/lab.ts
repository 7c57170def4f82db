/**
 * A real nginx and real backends on loopback, in a temp directory: the lab
 * the end-to-end tests and the demo recordings run against. Never touches
 * /etc/nginx: nginx starts with -c on a config written here.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';

export function findNginx(): string | null {
  if (process.env['NGINX_BIN']) return process.env['NGINX_BIN'];
  for (const dir of [...(process.env['PATH'] ?? '').split(':'), '/usr/sbin', '/usr/local/sbin', '/usr/local/nginx/sbin']) {
    if (dir && existsSync(join(dir, 'nginx'))) return join(dir, 'nginx');
  }
  return null;
}

export function hasCommand(name: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${name}`], { stdio: 'ignore' }).status === 0;
}

/** A port nothing listens on right now (the kernel picks it). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

export async function waitForListen(target: { port: number } | { path: string }, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const socket = 'port' in target ? net.connect(target.port, '127.0.0.1') : net.connect(target.path);
      socket.once('connect', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`nothing listens on ${JSON.stringify(target)} after ${timeoutMs} ms`);
    await delay(50);
  }
}

export interface Lab {
  dir: string;
  /** Writes nginx.conf (upstream blocks at http level, locations in the one server) and starts nginx in the foreground. */
  startNginx(config: NginxLabConfig): Promise<{ conf: string; port: number; pid: number }>;
  /** A Node HTTP backend answering 200 on a loopback port or a unix socket. */
  /** A plain HTTP backend on a port, or on a socket path (relative to `cwd` when given: ss then lists it relative). */
  startBackend(where: { port: number } | { path: string; cwd?: string }): Promise<ChildProcess>;
  stop(child: ChildProcess): Promise<void>;
  /** Undo something the test made outside the lab directory (a cgroup), after its processes are gone. */
  atCleanup(undo: () => Promise<void>): void;
  cleanup(): Promise<void>;
}

export interface NginxLabConfig {
  http?: string;
  server: string;
  /** The main error_log's level (warn when left out). */
  errorLogLevel?: string;
}

export async function createLab(name: string, baseDir?: string): Promise<Lab> {
  const nginx = findNginx();
  if (!nginx) throw new Error('nginx is not installed');
  let dir: string;
  if (baseDir) {
    dir = join(baseDir, name);
    await rm(dir, { recursive: true, force: true });
    await mkdir(dir, { recursive: true });
  } else {
    dir = await mkdtemp(join(tmpdir(), `reset-doctor-${name}-`));
  }
  // nginx workers run as nobody when the master is root: they must reach files and sockets here.
  await chmod(dir, 0o755);
  const children = new Set<ChildProcess>();
  const undos: Array<() => Promise<void>> = [];

  const stop = async (child: ChildProcess) => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    await Promise.race([exited, delay(3000)]);
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    children.delete(child);
  };

  return {
    dir,
    async startNginx(config) {
      const port = await freePort();
      const conf = join(dir, 'nginx.conf');
      await writeFile(conf, nginxConfig(dir, port, config));
      const child = spawn(nginx, ['-c', conf, '-e', join(dir, 'error.log')], { stdio: ['ignore', 'ignore', 'pipe'] });
      let stderr = '';
      child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
      children.add(child);
      try {
        await waitForListen({ port });
      } catch (error) {
        throw new Error(`nginx did not start: ${stderr || (error as Error).message}`);
      }
      return { conf, port, pid: child.pid! };
    },
    async startBackend(where) {
      const listen = 'port' in where ? `${where.port}, '127.0.0.1'` : JSON.stringify(where.path);
      const script = `require('http').createServer((q, r) => r.end('ok\\n')).listen(${listen}, () => { if (${JSON.stringify('path' in where ? where.path : '')}) require('fs').chmodSync(${JSON.stringify('path' in where ? where.path : '/dev/null')}, 0o777); });`;
      const cwd = 'cwd' in where ? where.cwd : undefined;
      const child = spawn(process.execPath, ['-e', script], { stdio: 'ignore', ...(cwd ? { cwd } : {}) });
      children.add(child);
      await waitForListen('path' in where && cwd ? { path: join(cwd, where.path) } : where);
      return child;
    },
    stop,
    atCleanup: (undo) => void undos.push(undo),
    async cleanup() {
      await Promise.all([...children].map(stop));
      for (const undo of undos.reverse()) await undo().catch(() => undefined);
      if (!baseDir) await rm(dir, { recursive: true, force: true });
    },
  };
}

function indent(text: string, by: string): string {
  return text
    .trim()
    .split('\n')
    .map((line) => by + line)
    .join('\n');
}

/**
 * A clean baseline, so a scenario shows only the fault it adds: the access
 * log records $upstream_status (no no-upstream-logging finding).
 */
function nginxConfig(dir: string, port: number, config: NginxLabConfig): string {
  return `# reset-doctor lab config: everything under ${dir}
daemon off;
master_process on;
worker_processes 1;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log ${config.errorLogLevel ?? 'warn'};
events { worker_connections 128; }
http {
  log_format upstreamlog '$remote_addr [$time_local] "$request" $status upstream=$upstream_addr us="$upstream_status" urt=$upstream_response_time';
  access_log ${dir}/access.log upstreamlog;
  client_body_temp_path ${dir}/client_body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;
${config.http ? indent(config.http, '  ') + '\n' : ''}  server {
    listen 127.0.0.1:${port};
${indent(config.server, '    ')}
  }
}
`;
}
