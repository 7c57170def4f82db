import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { SourceResults } from '../../src/probe/contract.js';
import type { FileReadResult, Host, StatResult } from '../../src/host/types.js';
import { ErrorLogAggregator } from '../../src/errorlog/aggregate.js';
import { errorLogProbe } from '../../probes/read/error-log.js';
import { nginxConfigProbe } from '../../probes/read/nginx-config.js';
import { nginxVersionProbe } from '../../probes/read/nginx-version.js';
import { phpFpmPoolsProbe } from '../../probes/read/php-fpm-pools.js';
import { commandFixture, commandResults, context, fixturePath } from '../support/fixtures.js';

/**
 * The probe end to end on what was recorded here (test/fixtures/php-fpm): the
 * configs php-fpm 8.2 ran with, its log and slowlog, and the error lines nginx
 * 1.22.1 wrote in front of it, served through a host that has only those files.
 */
const fixture = (name: string) => readFileSync(fixturePath('php-fpm', name), 'utf8');

const NGINX = `events {}
http {
  server {
    listen 127.0.0.1:18099;
    location ~ \\.php$ {
      fastcgi_param SCRIPT_FILENAME /tmp/fpmx$fastcgi_script_name;
      fastcgi_read_timeout 60s;
      fastcgi_pass unix:/tmp/fpmx/www.sock;
    }
  }
}`;

function configFacts(text: string) {
  const version = nginxVersionProbe.parse(commandResults(['version'], [commandFixture('nginx-V')]), context());
  return nginxConfigProbe.parse(commandResults(['dump'], [{ stdout: `# configuration file /tmp/fpmx/nginx.conf:\n${text}\n`, stderr: '', exitCode: 0 }]), context({ deps: { 'nginx-version': version } }));
}

function errorFacts(config: ReturnType<typeof configFacts>, log = 'nginx-error.log', window = { from: '2026/12/01 13:55:00', to: '2026/12/01 14:00:00' }) {
  const aggregator = new ErrorLogAggregator();
  for (const line of fixture(log).split('\n').filter(Boolean)) aggregator.addRaw(line);
  const report = { ...aggregator.summary(window), files: [{ path: '/tmp/fpmx/error.log', mode: 'backward' as const, bytesRead: 0, size: 0, reachedStart: true }], problems: [] };
  return errorLogProbe.parse(new SourceResults([], 0, report), context({ deps: { 'nginx-config': config } }));
}

const SOCKET: StatResult = { ok: true, type: 'socket', size: 0, mode: 0o140666, uid: 0, gid: 0, mtimeMs: 0, fileId: '2049:72955' };

/** Only these files exist; anything else is ENOENT. */
function filesHost(files: Record<string, string>, dirs: Record<string, string[]> = {}, sockets: string[] = []): Host {
  const missing = (path: string) => ({ ok: false as const, error: { code: 'ENOENT' as const, message: `${path}: no such file or directory` } });
  return {
    readFile: async (path: string): Promise<FileReadResult> => (path in files ? { ok: true, content: files[path]!, size: files[path]!.length, truncated: false } : missing(path)),
    listDir: async (path: string) => (path in dirs ? { ok: true as const, entries: dirs[path]! } : missing(path)),
    stat: async (path: string): Promise<StatResult> => (sockets.includes(path) ? SOCKET : missing(path)),
    readLink: async (path: string) => missing(path),
  } as unknown as Host;
}

const row = (pid: number, ppid: number, args: string) => ({ pid, ppid, uid: 0, elapsedSec: 60, startedAtMs: 0, comm: 'php-fpm8.2', args });
const WINDOW_END = new Date(2026, 11, 1, 14, 0, 0).getTime();

async function run(host: Host, processes: ReturnType<typeof row>[], down: string[] = []) {
  const config = configFacts(NGINX);
  const deps = {
    'nginx-config': config,
    processes: { processes, count: processes.length },
    'error-log': errorFacts(config),
    somaxconn: { somaxconn: 4096 },
    'backend-listeners': { down: down.map((address) => ({ address })) },
  };
  const ctx = context({ deps, windowEndMs: WINDOW_END, options: { nginxBin: 'nginx', errorLogs: [], sinceMs: 600_000 } });
  const gathered = await phpFpmPoolsProbe.gather!(host, ctx);
  const facts = phpFpmPoolsProbe.parse(new SourceResults([], 0, gathered), ctx);
  return { facts, summary: phpFpmPoolsProbe.summarize(facts) };
}

describe('php-fpm-pools on the recorded pool behind nginx', () => {
  const master = row(16557, 1, 'php-fpm: master process (/tmp/fpmx/fpm.conf)');
  const child = row(16747, 16557, 'php-fpm: pool www');
  const host = filesHost(
    {
      '/tmp/fpmx/fpm.conf': fixture('terminate-timeout.conf'),
      '/tmp/fpmx/fpm.log': fixture('terminate-timeout.fpm.log'),
      '/tmp/fpmx/slow.log': fixture('slow.log'),
      '/proc/16747/status': 'Name:\tphp-fpm8.2\nVmRSS:\t   10240 kB\n',
      '/proc/meminfo': 'MemTotal:       32000000 kB\nMemAvailable:    1048576 kB\n',
    },
    {},
    ['/tmp/fpmx/www.sock'],
  );

  it('finds the pool from the master title and matches its $pool socket to fastcgi_pass', async () => {
    const { facts, summary } = await run(host, [master, child]);
    expect(summary).toBe('1 FastCGI backend(s): unix:/tmp/fpmx/www.sock → pool www; 1 with a full accept queue; 1 killing requests');
    expect(facts.pools[0]).toMatchObject({ name: 'www', master: 16557, address: 'unix:/tmp/fpmx/www.sock', pm: 'static', maxChildren: 1, backlog: -1, backlogAt: 'default', effectiveBacklog: 4096, terminateTimeoutSec: 1, terminateAt: '/tmp/fpmx/fpm.conf:9', backend: 'unix:/tmp/fpmx/www.sock' });
    expect(facts.notes).toEqual([]);
  });

  it('names request_terminate_timeout against fastcgi_read_timeout, both with file:line', async () => {
    const { facts } = await run(host, [master, child]);
    expect(facts.terminatedCount).toBe(1);
    expect(facts.terminatedText).toContain('request_terminate_timeout 1 s (/tmp/fpmx/fpm.conf:9) while nginx waits fastcgi_read_timeout 60 s in location ~ \\.php$ (/tmp/fpmx/nginx.conf:7)');
    expect(facts.terminatedText).toContain('1 child(ren) exited on SIGTERM');
    expect(facts.terminateAdvice).toContain('request_terminate_timeout = 60s in [www] (/tmp/fpmx/fpm.conf:9)');
  });

  it('reads EAGAIN as a full queue of that pool, with pm, max_children, backlog and somaxconn, and sizes children from memory', async () => {
    const { facts } = await run(host, [master, child]);
    expect(facts.queueFull).toEqual([{ address: 'unix:/tmp/fpmx/www.sock', pool: 'www', text: expect.stringContaining('6 connect() (11: Resource temporarily unavailable)') }]);
    expect(facts.queueFullText).toContain('pm = static (/tmp/fpmx/fpm.conf:7), pm.max_children = 1 (/tmp/fpmx/fpm.conf:8), listen.backlog default -1 (default), accept queue 4096 with net.core.somaxconn 4096; a static pool logs nothing when every child is busy');
    expect(facts.sizing).toContain('its 1 child(ren) use up to 10 MB each and 1024 MB is available: room for 81 more (1024 MB × 0.8 / 10 MB), so pm.max_children = 82 at most');
    expect(facts.slowAdvice).toContain('sleep() /tmp/fpmx/slow.php:1 in /tmp/fpmx/slow.php ×1');
    expect(facts.backlogAdvice).toBe('listen.backlog = 511 in [www] (/tmp/fpmx/fpm.conf:5) (net.core.somaxconn 4096 allows it)');
  });

  it('sizes a pool by its own children, not by every child of its master', async () => {
    const twoPools = filesHost(
      {
        '/tmp/fpmx/fpm.conf': `${fixture('terminate-timeout.conf')}[other]\nlisten = /tmp/fpmx/other.sock\npm = static\npm.max_children = 2\n`,
        '/proc/16747/status': 'VmRSS:\t   10240 kB\n',
        '/proc/16801/status': 'VmRSS:\t  204800 kB\n',
        '/proc/16802/status': 'VmRSS:\t  204800 kB\n',
        '/proc/meminfo': 'MemAvailable:    1048576 kB\n',
      },
      {},
      ['/tmp/fpmx/www.sock'],
    );
    const { facts } = await run(twoPools, [master, child, row(16801, 16557, 'php-fpm: pool other'), row(16802, 16557, 'php-fpm: pool other')]);
    expect(facts.sizing).toContain('[www] pm.max_children = 1 (/tmp/fpmx/fpm.conf:8); its 1 child(ren) use up to 10 MB each');
    expect(facts.sizing).toContain('pm.max_children = 82 at most');
  });

  it('without child memory, says how to measure it instead of a number', async () => {
    const { facts } = await run(filesHost({ '/tmp/fpmx/fpm.conf': fixture('terminate-timeout.conf') }, {}, ['/tmp/fpmx/www.sock']), [master]);
    expect(facts.sizing).toContain("ps -o rss=,args= --ppid 16557 | grep 'pool www$'");
    expect(facts.sizing).not.toMatch(/unknown|undefined|null/);
    // php-fpm's own log could not be read: said, not taken for a quiet log.
    expect(facts.queueFullText).toContain("php-fpm's log could not be read");
    expect(facts.notes).toEqual(['/tmp/fpmx/fpm.log: no such file or directory', '/tmp/fpmx/slow.log: no such file or directory']);
    expect(facts.terminatedCount).toBe(0);
    // The settings and nginx's resets still point at the kill: suspected, with how to confirm it.
    expect(facts.terminateSuspectedCount).toBe(1);
    expect(facts.terminateSuspectedText).toContain('request_terminate_timeout 1 s (/tmp/fpmx/fpm.conf:9) is shorter than fastcgi_read_timeout 60 s');
    expect(facts.terminateSuspectedText).toContain("grep -E 'execution timed out|exited on signal' /tmp/fpmx/fpm.log");
    expect(facts.terminateAdvice).toContain('request_terminate_timeout = 60s in [www] (/tmp/fpmx/fpm.conf:9)');
  });

  it('suspects nothing when the log was read and shows no kill', async () => {
    const quiet = filesHost({ '/tmp/fpmx/fpm.conf': fixture('terminate-timeout.conf'), '/tmp/fpmx/fpm.log': fixture('child-sigkill.fpm.log') }, {}, ['/tmp/fpmx/www.sock']);
    const { facts } = await run(quiet, [master]);
    expect(facts.terminatedCount + facts.terminateSuspectedCount).toBe(0);
  });
});

describe('php-fpm-pools with no master running', () => {
  it("names the distro pool whose listen is nginx's down socket", async () => {
    const nginx = NGINX.replace('unix:/tmp/fpmx/www.sock', 'unix:/run/php/php8.2-fpm.sock');
    const host = filesHost(
      { '/etc/php/8.2/fpm/php-fpm.conf': fixture('debian/php-fpm.conf'), '/etc/php/8.2/fpm/pool.d/www.conf': fixture('debian/pool.d/www.conf') },
      { '/etc/php': ['8.2'], '/etc/php/8.2/fpm/pool.d': ['www.conf', 'README'] },
    );
    const config = configFacts(nginx);
    const deps = { 'nginx-config': config, processes: { processes: [], count: 0 }, 'backend-listeners': { down: [{ address: 'unix:/run/php/php8.2-fpm.sock' }] } };
    const ctx = context({ deps });
    const facts = phpFpmPoolsProbe.parse(new SourceResults([], 0, await phpFpmPoolsProbe.gather!(host, ctx)), ctx);
    expect(facts.downText).toBe('php-fpm pool www (/etc/php/8.2/fpm/pool.d/www.conf:4) is configured to listen there (listen at /etc/php/8.2/fpm/pool.d/www.conf:41); no php-fpm master running uses /etc/php/8.2/fpm/php-fpm.conf');
    expect(facts.configFiles).toEqual(['/etc/php/8.2/fpm/php-fpm.conf', '/etc/php/8.2/fpm/pool.d/www.conf']);
    expect(facts.downUnit).toBe('php8.2-fpm');
    expect(facts.downTest).toBe('php-fpm8.2 -t -y /etc/php/8.2/fpm/php-fpm.conf');
  });

  it('reads nothing when nginx has no FastCGI backend', async () => {
    const host = filesHost({});
    const config = configFacts(NGINX.replace(/fastcgi_pass unix:[^;]+;/, 'proxy_pass http://127.0.0.1:9;').replace(/\s+fastcgi_(param|read_timeout)[^;]*;/g, ''));
    const ctx = context({ deps: { 'nginx-config': config, processes: { processes: [], count: 0 } } });
    expect(await phpFpmPoolsProbe.gather!(host, ctx)).toBeNull();
    expect(phpFpmPoolsProbe.summarize(phpFpmPoolsProbe.parse(new SourceResults([], 0, null), ctx))).toBe('no FastCGI backend in the nginx config');
  });
});

/**
 * Recorded here (orphan-kill/): one master, pool app on 127.0.0.1:19071 (request_terminate_timeout 5s) behind
 * `location = /slow.php` (fastcgi_read_timeout 2s) and `location ~ \.php$` (60s); pool fine on 127.0.0.1:19072
 * (1s) behind `fastcgi_pass localhost:19072` (60s). GET /slow.php (sleeps 8 s) got nginx's 504 at 2 s, php-fpm
 * killed the orphan at 5 s, no reset; GET /slow3.php twice (3 s) on fine: killed at 1 s, two resets.
 */
describe('php-fpm-pools on kills nginx had or had not given up on (orphan-kill/)', () => {
  const master = row(4933, 1, 'php-fpm: master process (/tmp/fpmrec/fpm.conf)');
  const orphan = (name: string) => fixture(`orphan-kill/${name}`);
  const PEERS = [
    { address: '127.0.0.1:19071', peers: [{ ip: '127.0.0.1', port: 19071 }] },
    { address: 'localhost:19072', peers: [{ ip: '127.0.0.1', port: 19072 }] },
  ];
  async function runOrphan(files: Record<string, string>) {
    const config = configFacts(orphan('nginx.conf'));
    const deps = {
      'nginx-config': config,
      processes: { processes: [master], count: 1 },
      'error-log': errorFacts(config, 'orphan-kill/nginx-error.log', { from: '2026/12/01 15:00:00', to: '2026/12/01 15:05:00' }),
      somaxconn: { somaxconn: 4096 },
      'backend-listeners': { down: [], backends: PEERS },
    };
    const ctx = context({ deps, windowEndMs: new Date(2026, 11, 1, 15, 5, 0).getTime(), options: { nginxBin: 'nginx', errorLogs: [], sinceMs: 300_000 } });
    const facts = phpFpmPoolsProbe.parse(new SourceResults([], 0, await phpFpmPoolsProbe.gather!(filesHost({ '/tmp/fpmrec/fpm.conf': orphan('fpm.conf'), ...files }), ctx)), ctx);
    return facts;
  }

  it('does not confirm a kill of a request nginx had already timed out (504 at 2 s): context, against location = /slow.php', async () => {
    const facts = await runOrphan({ '/tmp/fpmrec/fpm.log': orphan('fpm.log') });
    expect(facts.terminated.map((t) => t.pool)).toEqual(['fine']);
    expect(facts.terminatedText).not.toContain('pool app');
    expect(facts.terminateContextText).toContain('php-fpm pool app (127.0.0.1:19071');
    expect(facts.terminateContextText).toContain('"GET /slow.php" killed at 01-Dec-2026 15:04:00 after 5.182332 s, served by location = /slow.php (fastcgi_read_timeout 2 s, /tmp/fpmx/nginx.conf:');
    expect(facts.terminateContextText).toContain('killed after nginx had given up on it');
    expect(facts.terminateContextCount).toBe(1);
    expect(facts.terminateAdvice).not.toContain('[app]');
  });

  it('matches nginx\'s resolved peer 127.0.0.1:19072 to fastcgi_pass localhost:19072', async () => {
    const facts = await runOrphan({ '/tmp/fpmrec/fpm.log': orphan('fpm.log') });
    const fine = facts.terminated.find((t) => t.pool === 'fine')!;
    expect(fine).toMatchObject({ address: 'localhost:19072', terminateTimeoutSec: 1, readTimeoutSec: 60 });
    expect(fine.text).toContain('nginx logged at least 2 reset(s)/premature close(s) for localhost:19072 at those kills (2 in the window)');
    // php-fpm's log unread: the resets for the resolved peer still raise the suspicion.
    const unread = await runOrphan({});
    expect(unread.terminateSuspected.map((t) => t.pool)).toEqual(['fine']);
    expect(unread.terminateSuspectedText).toContain('nginx logged 2 reset(s)/premature close(s) for localhost:19072');
  });

  it('with error_log = syslog, says php-fpm logs to syslog and how to read it, not a file under /var', async () => {
    const conf = orphan('fpm.conf').replace('error_log = /tmp/fpmrec/fpm.log', 'error_log = syslog\nsyslog.ident = myfpm');
    const facts = await runOrphan({ '/tmp/fpmrec/fpm.conf': conf });
    expect(facts.notes.join()).not.toMatch(/resolved against/);
    expect(facts.notes).toContain("/tmp/fpmrec/fpm.conf: php-fpm logs to syslog (error_log = syslog at /tmp/fpmrec/fpm.conf:2), which is not read here: `journalctl -t myfpm --since '-5 min'` shows it (ident from syslog.ident, /tmp/fpmrec/fpm.conf:3)");
    expect(facts.terminateSuspectedText).toContain("`journalctl -t myfpm -g 'execution timed out|exited on signal'`");
  });
});

describe('php-fpm-pools when php-fpm names SCRIPT_NAME, children crash, and another request resets at a kill (script-name/)', () => {
  const master = row(26861, 1, 'php-fpm: master process (/tmp/fpmrec2/fpm.conf)');
  const rec = (name: string) => fixture(`script-name/${name}`);
  const PEERS = [{ address: '127.0.0.1:19081', peers: [{ ip: '127.0.0.1', port: 19081 }] }];
  async function runRec(nginx = rec('nginx.conf')) {
    const config = configFacts(nginx);
    const deps = {
      'nginx-config': config,
      processes: { processes: [master], count: 1 },
      'error-log': errorFacts(config, 'script-name/nginx-error.log', { from: '2026/12/01 15:45:00', to: '2026/12/01 15:50:00' }),
      somaxconn: { somaxconn: 4096 },
      'backend-listeners': { down: [], backends: PEERS },
    };
    const ctx = context({ deps, windowEndMs: new Date(2026, 11, 1, 15, 50, 0).getTime(), options: { nginxBin: 'nginx', errorLogs: [], sinceMs: 300_000 } });
    const files = { '/tmp/fpmrec2/fpm.conf': rec('fpm.conf'), '/tmp/fpmrec2/fpm.log': rec('fpm.log') };
    return phpFpmPoolsProbe.parse(new SourceResults([], 0, await phpFpmPoolsProbe.gather!(filesHost(files), ctx)), ctx);
  }

  it('a kill with a reset at its second is suspected, not context, when the location pick says nginx had given up (SCRIPT_NAME /app.php for /api/slow)', async () => {
    const facts = await runRec();
    expect(facts.terminatedCount).toBe(0);
    expect(facts.terminateSuspected.map((t) => t.pool)).toEqual(['app']);
    expect(facts.terminateSuspectedText).toContain('"GET /app.php?x=1" killed at 01-Dec-2026 15:46:17');
    expect(facts.terminateSuspectedText).toContain('GET /api/slow, not for GET /app.php');
    expect(facts.terminateSuspectedText).toContain('could not tell whether the kills are what nginx saw');
    expect(facts.terminateContextText).not.toContain('15:46:17');
    expect(facts.terminateContextText).not.toContain('15:46:22');
  });

  it("does not confirm a kill whose second's reset is another request's (/crash.php), even where the picked location waits longer", async () => {
    // Every .php location waiting 60 s: the location pick alone would confirm both kills.
    const facts = await runRec(rec('nginx.conf').replace('fastcgi_read_timeout 2s', 'fastcgi_read_timeout 60s'));
    expect(facts.terminatedCount).toBe(0);
    expect(facts.terminateSuspectedCount).toBe(1);
    expect(facts.terminateSuspectedText).toContain('"GET /app.php" killed at 01-Dec-2026 15:46:22');
    expect(facts.terminateSuspectedText).toContain('for GET /crash.php, not for GET /app.php');
  });

  it('lists children that died on SIGSEGV and SIGKILL, per signal and second, and not the SIGTERMs of request_terminate_timeout', async () => {
    const facts = await runRec();
    expect(facts.childCrashes).toEqual([
      { pool: 'app', address: '127.0.0.1:19081', signal: 'SIGKILL', at: '01-Dec-2026 15:46:22', atMs: new Date(2026, 11, 1, 15, 46, 22).getTime(), count: 1, pids: [26868], lines: ['[01-Dec-2026 15:46:22] WARNING: [pool app] child 26868 exited on signal 9 (SIGKILL) after 9.054886 seconds from start'] },
      { pool: 'app', address: '127.0.0.1:19081', signal: 'SIGSEGV', at: '01-Dec-2026 15:46:23', atMs: new Date(2026, 11, 1, 15, 46, 23).getTime(), count: 2, pids: [26871, 26869], lines: expect.any(Array) },
    ]);
    expect(facts.childCrashCount).toBe(3);
  });
});
