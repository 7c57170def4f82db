/**
 * A real php-fpm master for the lab, from a temp dir: its own config (-y),
 * prefix (-p) and socket, in the foreground (-F), never the machine's
 * /etc/php or its service. As root it needs -R, and its children then run as
 * root too (no user= in the pool), which is fine on loopback in a temp dir.
 */
import { spawn } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { waitForListen, type Lab } from './lab.js';

/** The php-fpm binary: PHP_FPM_BIN, else the versioned one distros install (php-fpm8.2) or a plain php-fpm. */
export function findPhpFpm(): string | null {
  if (process.env['PHP_FPM_BIN']) return process.env['PHP_FPM_BIN'];
  for (const dir of ['/usr/sbin', '/usr/local/sbin', ...(process.env['PATH'] ?? '').split(':')]) {
    if (!dir || !existsSync(dir)) continue;
    const found = readdirSync(dir).filter((f) => /^php-fpm[\d.]*$/.test(f)).sort().pop();
    if (found) return join(dir, found);
  }
  return null;
}

export interface PhpFpmPool {
  /** Lines of the [www] pool after listen (pm, pm.max_children, …). */
  pool: string[];
  /** PHP scripts to write into the lab dir, by file name. */
  scripts?: Record<string, string>;
  /** Leave the socket unserved: write the config but do not start the master (a pool that is down). */
  stopped?: boolean;
}

export interface RunningFpm {
  socket: string;
  config: string;
  errorLog: string;
}

export async function startPhpFpm(lab: Lab, options: PhpFpmPool): Promise<RunningFpm> {
  const bin = findPhpFpm();
  if (!bin) throw new Error('php-fpm is not installed');
  // listen names $pool, which php-fpm expands: the probe must too.
  const socket = join(lab.dir, 'www.sock');
  const errorLog = join(lab.dir, 'php-fpm.log');
  const config = join(lab.dir, 'php-fpm.conf');
  for (const [name, text] of Object.entries(options.scripts ?? {})) await writeFile(join(lab.dir, name), text);
  await writeFile(
    config,
    [
      '; reset-doctor lab php-fpm: everything under this directory',
      '[global]',
      `pid = ${join(lab.dir, 'php-fpm.pid')}`,
      `error_log = ${errorLog}`,
      '',
      '[www]',
      `listen = ${lab.dir}/$pool.sock`,
      // nginx's workers run as nobody when its master is root.
      'listen.mode = 0666',
      ...options.pool,
      '',
    ].join('\n'),
  );
  if (options.stopped) return { socket, config, errorLog };
  const args = ['-y', config, '-p', lab.dir, '-F', ...(process.getuid?.() === 0 ? ['-R'] : [])];
  // Its own process group, so the children go with the master at cleanup.
  const child = spawn(bin, args, { stdio: 'ignore', detached: true });
  lab.atCleanup(async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    try {
      process.kill(-child.pid!, 'SIGTERM');
    } catch {
      return;
    }
    await Promise.race([exited, delay(3000)]);
    try {
      process.kill(-child.pid!, 'SIGKILL');
    } catch {
      // gone
    }
  });
  await waitForListen({ path: socket }, 10_000);
  return { socket, config, errorLog };
}

/** The nginx location that passes .php requests to the pool (the Debian snippet's parameters, spelled out). */
export function phpLocation(socket: string, dir: string, extra = ''): string {
  return `location ~ \\.php$ {
  fastcgi_param SCRIPT_FILENAME ${dir}$fastcgi_script_name;
  fastcgi_param REQUEST_METHOD $request_method;
  fastcgi_param QUERY_STRING $query_string;
  fastcgi_param REQUEST_URI $request_uri;
  fastcgi_param SCRIPT_NAME $fastcgi_script_name;
  fastcgi_pass unix:${socket};
${extra}}`;
}
