import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseProcNetTcp, parseProcNetUnix, socketInode } from '../../probes/parse/procNet.js';
import { detectKind, kindOf, programOf, readGunicornConfig, readPumaConfig, sameProgram } from '../../probes/parse/serverKind.js';
import { parsePs } from '../../probes/read/processes.js';
import { fixturePath } from '../support/fixtures.js';

describe('/proc/net readers (recorded here, with a Node listener on 127.0.0.1:18085)', () => {
  it('finds TCP listeners with their inode and accept queue', () => {
    const tcp = parseProcNetTcp(readFileSync(fixturePath('proc', 'net-tcp.txt'), 'utf8'), 4);
    expect(tcp).toContainEqual({ host: '127.0.0.1', port: 18085, inode: 153893, acceptQueue: 0 });
    expect(tcp.every((l) => l.port > 0)).toBe(true);
    const fds = readFileSync(fixturePath('proc', 'node-fds.txt'), 'utf8');
    expect(fds.split('\n').map((l) => socketInode(l.split(' ')[1] ?? ''))).toContain(153893);
  });
  it('decodes IPv6 addresses', () => {
    const line = (hex: string) => `  sl  local_address remote_address st\n   0: ${hex}:1F90 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 77 1\n`;
    expect(parseProcNetTcp(line('00000000000000000000000001000000'), 6)[0]!.host).toBe('::1');
    expect(parseProcNetTcp(line('00000000000000000000000000000000'), 6)[0]!.host).toBe('::');
    expect(parseProcNetTcp(line('0000000000000000FFFF00000100007F'), 6)[0]!.host).toBe('::ffff:127.0.0.1');
    expect(parseProcNetTcp(line('B80D0120000000000000000001000000'), 6)[0]!.host).toBe('2001:db8::1');
  });
  it('finds listening unix sockets', () => {
    expect(parseProcNetUnix(readFileSync(fixturePath('proc', 'net-unix.txt'), 'utf8'))).toContainEqual({ path: '/tmp/lab1/fix.sock', inode: 153366 });
  });
  it('ignores what is not a listener', () => {
    expect(parseProcNetTcp('header\n   3: 0100007F:8E4D 0100007F:E2B6 06 00000000:00000000 03:00000000 00000000 0 0 0 3\n', 4)).toEqual([]);
    expect(() => parseProcNetTcp('header\n   3: nonsense 0100007F:E2B6 0A 00000000:00000000 03:00000000 00000000 0 0 0 3\n', 4)).toThrow(/unreadable/);
  });
});

describe('server kinds and their idle timeouts', () => {
  it.each([
    ['node', 'node /srv/app/server.js', { kind: 'node', idleTimeoutSec: 5, source: 'default' }],
    ['gunicorn', '/usr/bin/python3 /usr/bin/gunicorn -b 127.0.0.1:8000 app:app', { kind: 'gunicorn', workerClass: 'sync', idleTimeoutSec: 0 }],
    ['gunicorn', 'gunicorn -k gthread --keep-alive 10 app:app', { kind: 'gunicorn', workerClass: 'gthread', idleTimeoutSec: 10, source: 'flag' }],
    ['gunicorn', 'gunicorn --worker-class=uvicorn.workers.UvicornWorker app:app', { kind: 'gunicorn', workerClass: 'uvicorn.workers.UvicornWorker', idleTimeoutSec: 2, source: 'default' }],
    ['python3', 'python3 -m uvicorn app:app --timeout-keep-alive 30', { kind: 'uvicorn', idleTimeoutSec: 30, source: 'flag' }],
    ['ruby', 'puma 6.4.0 (tcp://0.0.0.0:3000) [app]', { kind: 'puma', idleTimeoutSec: 20 }],
    ['php-fpm8.2', 'php-fpm: master process (/etc/php/8.2/fpm/php-fpm.conf)', { kind: 'php-fpm', idleTimeoutSec: null, source: 'not-applicable' }],
    ['apache2', '/usr/sbin/apache2 -k start', { kind: 'apache', idleTimeoutSec: 5 }],
    ['myserver', '/opt/bin/myserver --port 8080', { kind: 'unknown', idleTimeoutSec: null, source: 'unknown' }],
  ])('%s: %s', (comm, args, expected) => {
    expect(detectKind(comm, args)).toMatchObject(expected);
  });
  it('takes the kind from what runs, in ps output recorded here (ps -eo … as the processes probe runs it)', () => {
    // gunicorn started as `gunicorn` (comm gunicorn) and as `/usr/bin/python3 /usr/bin/gunicorn` (comm python3),
    // python3 -m http.server, php-fpm8.2 master and pool, node with "gunicorn" in its arguments, and a python app
    // that names a gunicorn config file.
    const rows = parsePs(readFileSync(fixturePath('ps', 'server-kinds.txt'), 'utf8'), Date.now());
    const kinds = Object.fromEntries(rows.map((r) => [r.pid, kindOf(r.comm, r.args)]));
    expect(kinds).toEqual({
      16133: 'gunicorn',
      16135: 'gunicorn',
      16137: 'unknown',
      16141: 'node',
      16204: 'gunicorn',
      16205: 'gunicorn',
      16217: 'gunicorn',
      16315: 'node',
      16444: 'php-fpm',
      16446: 'unknown',
      16448: 'unknown',
      16472: 'php-fpm',
      16473: 'php-fpm',
    });
  });
  it.each([
    // Process titles (setproctitle), interpreters running a server's script or module.
    ['gunicorn', 'gunicorn: master [app]', 'gunicorn'],
    ['gunicorn', 'gunicorn: worker [app]', 'gunicorn'],
    ['python3', 'python3 -m uvicorn app:app', 'uvicorn'],
    ['python3', '/usr/bin/python3 -u -m gunicorn.app.wsgiapp app:app', 'gunicorn'],
    ['php-fpm8.2', 'php-fpm: pool www', 'php-fpm'],
    ['uwsgi', 'uwsgi --ini /etc/uwsgi/app.ini', 'uwsgi'],
    ['uwsgi', 'uWSGI worker 1', 'uwsgi'],
    ['ruby', 'puma: cluster worker 0: 4242 [app]', 'puma'],
    ['ruby', 'bundle exec puma -C config/puma.rb', 'puma'],
    ['waitress-serve', '/usr/bin/python3 /usr/local/bin/waitress-serve --port=8080 app:app', 'waitress'],
    ['httpd', 'httpd -DFOREGROUND', 'apache'],
    // A shebang script run directly: ps shows its name as comm, the interpreter first in args.
    ['gunicorn', '/usr/bin/python3 /usr/bin/gunicorn app:app', 'gunicorn'],
    // Negative: the word is an argument, not the program.
    ['node', 'node server.js --name gunicorn-migration', 'node'],
    ['python3', 'python3 app.py --config /etc/gunicorn.conf.py', 'unknown'],
    ['python3', 'python3 /srv/uvicorn-tools/migrate.py', 'unknown'],
    ['node', 'node /srv/puma-dashboard/server.js', 'node'],
    ['java', 'java -Dapp.name=php-fpm-exporter -jar exporter.jar', 'java'],
    ['python3', 'python3 -c import gunicorn', 'unknown'],
    ['myserver', '/opt/bin/myserver --upstream uwsgi://127.0.0.1:3031', 'unknown'],
  ])('%s: %s is %s', (comm, args, kind) => {
    expect(kindOf(comm, args)).toBe(kind);
    expect(detectKind(comm, args).kind).toBe(kind);
  });
  it('names the executable and the script of an interpreter, to tell a pre-fork worker from a helper child', () => {
    expect(programOf('/usr/bin/node /srv/app/server.js --port 3000')).toEqual({ executable: 'node', script: 'server.js', scriptPath: '/srv/app/server.js' });
    expect(programOf('node --require ./trace.js server.js')).toEqual({ executable: 'node', script: 'server.js', scriptPath: 'server.js' });
    expect(programOf('sleep 0.2')).toEqual({ executable: 'sleep', script: null, scriptPath: null });
  });
  it.each([
    // Pre-fork workers run the parent's program (recorded above: gunicorn both ways, php-fpm8.2 master and pool).
    ['/usr/bin/python3 /usr/bin/gunicorn -w 2 app:app', '/usr/bin/python3 /usr/bin/gunicorn -w 2 app:app', true],
    ['gunicorn: master [app]', 'gunicorn: worker [app]', true],
    ['php-fpm: master process (/etc/php/8.2/fpm/php-fpm.conf)', 'php-fpm: pool www', true],
    ['puma 6.4.0 (tcp://0.0.0.0:3000) [app]', 'puma: cluster worker 0: 4242 [app]', true],
    ['/usr/sbin/apache2 -k start', '/usr/sbin/apache2 -k start', true],
    ['node server.js', '/usr/bin/node /srv/app/server.js', true],
    // Helpers a request starts are not.
    ['node /srv/app/server.js', 'sleep 0.2', false],
    ['node /srv/app/server.js', 'node -e setTimeout(() => {}, 1000)', false],
    ['node -e require("./app")', 'node -e setTimeout(() => {}, 1000)', false],
    ['node /srv/app/server.js', 'node /srv/app/pdf-render.js', false],
    ['gunicorn: master [app]', 'convert in.png out.jpg', false],
  ])('%s → %s: worker %s', (parent, child, worker) => {
    expect(sameProgram(parent, child)).toBe(worker);
  });
  it('reads keep-alive from gunicorn and puma config files', () => {
    expect(readGunicornConfig('bind = "127.0.0.1:8000"\nworker_class = "gthread"\nkeepalive = 75\n')).toEqual({ keepalive: 75, workerClass: 'gthread', maxRequests: null, errorLog: null });
    expect(readGunicornConfig('# nothing here\n')).toEqual({ keepalive: null, workerClass: null, maxRequests: null, errorLog: null });
    expect(readPumaConfig('workers 2\npersistent_timeout 65\n')).toBe(65);
  });
});

describe('workers of one pool of a php-fpm master (ps and ss -ltnp recorded here: pools app and fine on one master)', () => {
  it("takes only the children holding the backend's socket, and their siblings of the same title", async () => {
    const { workersOfSocket } = await import('../../probes/read/backend-process.js');
    const { parseTcpListeners } = await import('../../probes/parse/ssOutput.js');
    const rows = parsePs(readFileSync(fixturePath('php-fpm', 'orphan-kill', 'ps-two-pools.txt'), 'utf8'), Date.now());
    const listeners = parseTcpListeners(readFileSync(fixturePath('php-fpm', 'orphan-kill', 'ss-ltnp.txt'), 'utf8'));
    const children = rows.filter((r) => r.ppid === 9037);
    const holders = (port: number) => listeners.find((l) => l.port === port)!.processes.map((p) => p.pid);
    expect(workersOfSocket(children, holders(19072)).map((w) => w.pid)).toEqual([9040]);
    expect(workersOfSocket(children, holders(19071)).map((w) => w.pid)).toEqual([9038, 9039]);
    // A child of the pool forked after ss looked is still that pool's.
    expect(workersOfSocket([...children, { ...children[2]!, pid: 9100 }], holders(19072)).map((w) => w.pid)).toEqual([9040, 9100]);
    // No child seen holding it: every child, as before.
    expect(workersOfSocket(children, [9037])).toHaveLength(3);
  });
});
