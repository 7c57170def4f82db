import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { readGunicornConfig, readUwsgiRecycling, workerRecycling, detectKind } from '../../probes/parse/serverKind.js';
import { RealHost } from '../../src/host/realHost.js';
import { parsePs } from '../../probes/read/processes.js';
import { backendRestartsProbe } from '../../probes/read/backend-restarts.js';
import { crashAnalysisProbe } from '../../probes/combine/crash-analysis.js';
import { fixturePath } from '../support/fixtures.js';
import { formatLocal } from '../../src/logs/readLogs.js';

/**
 * Recorded here: /usr/bin/gunicorn -c gunicorn.conf.py app:app (bind, workers = 2, max_requests = 2) and
 * gunicorn -w 2 app:app, each after 10 requests; their workers were recycled 5 s after their masters started.
 */
const rows = parsePs(readFileSync(fixturePath('ps', 'gunicorn-max-requests.txt'), 'utf8'), Date.parse('2026-12-01T15:03:24Z'));
const config = readFileSync(fixturePath('gunicorn', 'max-requests.conf.py'), 'utf8');
const log = readFileSync(fixturePath('gunicorn', 'max-requests.log'), 'utf8');
const windowEndMs = Date.parse('2026-12-01T15:03:30Z');

/** backend-process's facts for the master `pid`, as that probe builds them from ps and the config it read. */
function backendOf(pid: number, configText: string | null) {
  const master = rows.find((r) => r.pid === pid)!;
  const reading = detectKind(master.comm, master.args);
  return {
    address: '127.0.0.1:18311',
    pid,
    kind: reading.kind,
    args: master.args,
    comm: master.comm,
    listening: true,
    startedAtMs: master.startedAtMs,
    workers: rows.filter((r) => r.ppid === pid).map((r) => ({ pid: r.pid, elapsedSec: r.elapsedSec, startedAtMs: r.startedAtMs })),
    recycles: workerRecycling(reading.kind, master.args, reading.configFile, configText),
  };
}

/** nginx's error-log time, local: "2026/12/01 15:03:23". */

function analyze(backend: ReturnType<typeof backendOf>, groups: unknown[] = [], logText: string | null = null) {
  const context = { deps: { 'backend-process': { backends: [backend] } }, options: { sinceMs: 600_000 }, windowEndMs, host: { uid: 0 } };
  const gathered = [{ address: backend.address, pid: backend.pid, unit: null, show: null, journal: null, logFile: logText === null ? null : { path: '/srv/app/gunicorn.log', text: logText } }];
  const restarts = backendRestartsProbe.parse({ gathered } as never, context as never);
  const crash = crashAnalysisProbe.parse({} as never, { ...context, deps: { ...context.deps, 'backend-restarts': restarts, 'error-log': { groups } } } as never);
  return { restarts, crash };
}

describe('workers recycled by max_requests are not crashes', () => {
  it('reads max_requests from the config file gunicorn -c names', () => {
    expect(workerRecycling('gunicorn', '/usr/bin/python3 /usr/bin/gunicorn -c gunicorn.conf.py app:app', 'gunicorn.conf.py', config)).toBe('max_requests = 2 in gunicorn.conf.py');
    expect(workerRecycling('gunicorn', 'gunicorn --max-requests=500 app:app', null, null)).toBe('--max-requests 500 on its command line');
    expect(workerRecycling('gunicorn', 'gunicorn --max-requests 0 app:app', null, null)).toBeNull();
    expect(workerRecycling('gunicorn', 'gunicorn -c gunicorn.conf.py app:app', 'gunicorn.conf.py', 'bind = "127.0.0.1:8000"\nmax_requests = 0\n')).toBeNull();
  });

  it('reads uWSGI recycling from the ini --ini names, not harakiri (which cuts requests)', () => {
    const ini = readFileSync(fixturePath('uwsgi', 'recycle.documented.ini'), 'utf8');
    expect(readUwsgiRecycling(ini)).toEqual(['max-requests = 1000', 'reload-on-rss = 512', 'max_worker_lifetime = 3600']);
    expect(detectKind('uwsgi', 'uwsgi --ini /etc/uwsgi/app.ini').configFile).toBe('/etc/uwsgi/app.ini');
    expect(detectKind('uwsgi', 'uwsgi /etc/uwsgi/app.ini').configFile).toBe('/etc/uwsgi/app.ini');
    expect(workerRecycling('uwsgi', 'uwsgi --ini app.ini', 'app.ini', ini)).toBe('max-requests = 1000, reload-on-rss = 512, max_worker_lifetime = 3600 in app.ini');
  });

  it('healthy gunicorn with max_requests in its -c file and no nginx error: no crash', () => {
    const { restarts, crash } = analyze(backendOf(3817, config));
    expect(restarts.backends[0]).toMatchObject({ workersRestarted: 0, recycles: 'max_requests = 2 in gunicorn.conf.py' });
    expect(restarts.backends[0]!.recycledWorkerStartsMs).toHaveLength(2);
    expect(crash.crashedCount).toBe(0);
    expect(crash.backends[0]!.summary).toContain('2 worker(s) recycled as configured (max_requests = 2 in gunicorn.conf.py), none at an error nginx logged: not counted');
  });

  it('the same without the config read: its own log line says it recycles', () => {
    const { restarts, crash } = analyze(backendOf(3817, null), [], log);
    expect(restarts.backends[0]!.recycles).toMatch(/Autorestarting worker/);
    expect(crash.crashedCount).toBe(0);
  });

  it('nothing says it recycles: a young worker is still a replaced one', () => {
    const { crash } = analyze(backendOf(3815, null));
    expect(crash.crashedCount).toBe(1);
    expect(crash.backends[0]!.restarts).toBe(2);
  });

  it('a recycled worker still counts where nginx was cut off mid-request at its start', () => {
    const at = formatLocal(rows.find((r) => r.pid === 3941)!.startedAtMs);
    const groups = [{ signature: 'reset-reading-header', peer: '127.0.0.1:18311', firstSeen: at, lastSeen: at, count: 1 }];
    const { crash } = analyze(backendOf(3817, config), groups);
    expect(crash.crashedCount).toBe(1);
    expect(crash.backends[0]!.restarts).toBe(2);
  });
});

describe("gunicorn's errorlog in its -c config file", () => {
  it('is read: its "Autorestarting worker" line proves a planned recycle, not a crash', async () => {
    // max_requests set elsewhere (GUNICORN_CMD_ARGS): only the log, named by errorlog in the config, says it recycles.
    const configText = `bind = "127.0.0.1:18311"\nworkers = 2\nerrorlog = "${fixturePath('gunicorn', 'max-requests.log')}"  # written by gunicorn here\n`;
    expect(readGunicornConfig(configText).errorLog).toBe(fixturePath('gunicorn', 'max-requests.log'));
    expect(readGunicornConfig('errorlog = "-"\n').errorLog).toBe('-');
    expect(readGunicornConfig('errorlog = os.path.join(d, "e.log")\n').errorLog).toBeNull();
    const backend = { ...backendOf(3817, configText), configLogFile: readGunicornConfig(configText).errorLog, pid: 2 ** 22 + 1 };
    const context = { deps: { 'backend-process': { backends: [backend] } }, options: { sinceMs: 600_000 }, windowEndMs, host: { uid: 0 } };
    const gathered = await backendRestartsProbe.gather!(new RealHost(), context as never);
    const restarts = backendRestartsProbe.parse({ gathered } as never, context as never);
    expect(restarts.backends[0]!.recycles).toMatch(/Autorestarting worker/);
    const crash = crashAnalysisProbe.parse({} as never, { ...context, deps: { ...context.deps, 'backend-restarts': restarts, 'error-log': { groups: [] } } } as never);
    expect(crash.crashedCount).toBe(0);
  });
});

describe('php-fpm children', () => {
  it('are started on demand: never held against a reset at their start, and not told as recycled workers', () => {
    const pool = { ...backendOf(3817, null), kind: 'php-fpm' as const, args: 'php-fpm: master process (/etc/php/8.2/fpm/php-fpm.conf)', recycles: null };
    const at = formatLocal(rows.find((r) => r.pid === 3941)!.startedAtMs);
    const { restarts, crash } = analyze(pool, [{ signature: 'reset-reading-header', peer: '127.0.0.1:18311', firstSeen: at, lastSeen: at, count: 1 }]);
    expect(restarts.backends[0]).toMatchObject({ workersRestarted: 0, recycledWorkerStartsMs: [] });
    expect(crash.crashedCount).toBe(0);
    expect(crash.backends[0]!.summary).not.toContain('recycled');
  });
});
