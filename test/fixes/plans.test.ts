import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, afterEach, expect, it } from 'vitest';
import { RealHost } from '../../src/host/realHost.js';
import { runProbes } from '../../src/probe/runner.js';
import type { ProbeOptions, ProbeOutcome } from '../../src/probe/contract.js';
import { SourceResults } from '../../src/probe/contract.js';
import { PROBES } from '../../probes/index.js';
import { nginxConfigProbe } from '../../probes/read/nginx-config.js';
import { keepaliveAnalysisProbe } from '../../probes/combine/keepalive-analysis.js';
import { FIXES } from '../../src/fixes/catalog.js';
import { planFix, plansFor } from '../../src/fixes/plan.js';
import { bufferFor, rejects } from '../../src/fixes/plans/buffers.js';
import { applyEdits, type PlannedEdit } from '../../src/nginx/edit.js';
import { loadConfigDump, loadConfigFiles, type ConfigSet } from '../../src/nginx/load.js';
import type { FixPlan } from '../../src/apply/types.js';
import type { FixSuggestion } from '../../src/engine/state.js';
import { initialState } from '../../src/engine/state.js';
import { createLab, findNginx, freePort, waitForListen, type Lab } from '../support/lab.js';
import { describeWithTools } from '../support/tools.js';
import { context } from '../support/fixtures.js';

/**
 * Every plan is built from a real config and the facts real probes report on
 * it, its edits applied with applyEdits, and the edited config checked by the
 * real `nginx -t`: each plan must pass it, and touch only the lines it names.
 */
const nginx = findNginx();

const suggestion = (id: string): FixSuggestion => {
  const def = FIXES.get(id)!;
  return { id, finding: 'x', title: def.title, kind: def.kind, applied: false, params: {}, steps: [], persistence: def.persistence, node: 'test' };
};

type Facts = Record<string, ProbeOutcome>;

function plan(id: string, probes: Facts, config: ConfigSet, version = '1.22.1', dumped?: ConfigSet): FixPlan {
  const facts = (probe: string) => (probes[probe]?.status === 'ok' ? probes[probe]!.facts : undefined);
  return planFix({ fix: suggestion(id), finding: undefined, facts, config, version, ...(dumped ? { dumped } : {}) });
}

/** The texts after a plan's edits, file by file. */
function edited(config: ConfigSet, edits: readonly PlannedEdit[]): Map<string, { before: string; after: string; diff: string }> {
  const out = new Map<string, { before: string; after: string; diff: string }>();
  for (const path of new Set(edits.map((e) => e.file))) {
    const file = config.files.find((f) => f.path === path)!;
    const result = applyEdits(file, edits.filter((e) => e.file === path));
    out.set(path, result);
  }
  return out;
}

/** Lines only in before / only in after, counting repeats. */
function changedLines(before: string, after: string): { removed: string[]; added: string[] } {
  const count = (lines: string[]) => lines.reduce((m, l) => m.set(l, (m.get(l) ?? 0) + 1), new Map<string, number>());
  const a = count(before.split('\n'));
  const b = count(after.split('\n'));
  const only = (x: Map<string, number>, y: Map<string, number>) => [...x].flatMap(([l, n]) => Array<string>(Math.max(0, n - (y.get(l) ?? 0))).fill(l));
  return { removed: only(a, b).map((l) => l.trim()), added: only(b, a).map((l) => l.trim()) };
}

function nginxTest(conf: string): { ok: boolean; output: string } {
  const run = spawnSync(nginx!, ['-t', '-c', conf], { encoding: 'utf8' });
  return { ok: run.status === 0, output: `${run.stdout}${run.stderr}` };
}

const applicable = (p: FixPlan) => {
  if (!p.applicable) throw new Error(`${p.fix} not applicable: ${p.reason}`);
  return p;
};

async function probe(ids: string[], options: ProbeOptions): Promise<Facts> {
  const outcomes = await runProbes({ ids, registry: PROBES, host: new RealHost(), options });
  return Object.fromEntries(outcomes.map((o) => [o.id, o]));
}

describeWithTools('fix plans against a real nginx', nginx ? [] : ['nginx'], () => {
  let lab: Lab;
  let conf: string;
  let port: number;
  let facts: Facts;
  let config: ConfigSet;
  let text: string;
  const ports = { up: 0, down: 0, solo: 0, app: 0, big: 0, mid: 0 };
  const servers: ChildProcess[] = [];

  /** A backend whose response header is about `bytes` long: too big for a 4k buffer_size. */
  async function bigHeader(listenPort: number, bytes: number): Promise<void> {
    const script = `require('http').createServer((q, r) => { r.setHeader('X-Big', 'a'.repeat(${bytes})); r.end('ok\\n'); }).listen(${listenPort}, '127.0.0.1');`;
    servers.push(spawn(process.execPath, ['-e', script], { stdio: 'ignore' }));
    await waitForListen({ port: listenPort });
  }

  const get = (path: string, method = 'GET', body = '') =>
    new Promise<number>((resolve) => {
      const req = http.request({ host: '127.0.0.1', port, path, method, agent: false, headers: body ? { 'Content-Length': Buffer.byteLength(body) } : {} }, (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      });
      req.on('error', () => resolve(0));
      req.end(body);
    });

  beforeAll(async () => {
    lab = await createLab('plans');
    for (const key of Object.keys(ports) as Array<keyof typeof ports>) ports[key] = await freePort();
    await lab.startBackend({ port: ports.up });
    await lab.startBackend({ port: ports.app });
    await bigHeader(ports.big, 20_000);
    await bigHeader(ports.mid, 6_000);
    ({ conf, port } = await lab.startNginx({
      http: [
        `upstream pool {\n  server 127.0.0.1:${ports.up};\n  server 127.0.0.1:${ports.down};\n}`,
        `upstream solo {\n  server 127.0.0.1:${ports.solo};\n}`,
        `upstream app {\n  server 127.0.0.1:${ports.app};\n  keepalive 8;\n}`,
        `upstream big {\n  server 127.0.0.1:${ports.big};\n}`,
        `upstream mid {\n  server 127.0.0.1:${ports.mid};\n}`,
      ].join('\n'),
      server: [
        'proxy_set_header Host $host;',
        'proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;',
        'location /pool/ {\n  proxy_pass http://pool;\n}',
        'location /pay/ {\n  proxy_pass http://pool;\n  proxy_next_upstream error timeout non_idempotent;\n}',
        'location /solo/ {\n  proxy_pass http://solo;\n}',
        'location /app/ {\n  proxy_pass http://app;\n  proxy_http_version 1.1;\n  proxy_set_header Connection "";\n}',
        'location /big/ {\n  proxy_pass http://big;\n}',
        'location /mid/ {\n  proxy_pass http://mid;\n}',
        'location /upload/ {\n  proxy_pass http://pool;\n  client_max_body_size 1k;\n}',
      ].join('\n'),
    }));
    for (let i = 0; i < 6; i++) await get('/pool/');
    await get('/solo/');
    expect(await get('/big/x')).toBe(502);
    expect(await get('/mid/x')).toBe(502);
    await get('/app/');
    expect(await get('/upload/file', 'POST', 'x'.repeat(3000))).toBe(413);
    facts = await probe(['nginx-version', 'nginx-config', 'error-log', 'backend-listeners', 'backend-process', 'keepalive-measure', 'keepalive-analysis', 'header-size'], {
      nginxBin: nginx!,
      nginxConf: conf,
      errorLogs: [join(lab.dir, 'error.log')],
      sinceMs: 600_000,
    });
    for (const id of ['nginx-config', 'error-log', 'backend-listeners', 'keepalive-analysis', 'header-size']) expect(facts[id]?.status, `${id}: ${facts[id]?.reason}`).toBe('ok');
    config = await loadConfigFiles(new RealHost(), conf);
    text = await readFile(conf, 'utf8');
  }, 60_000);

  afterAll(async () => {
    for (const s of servers) s.kill();
    await lab?.cleanup();
  });

  /** The plan's edits on the lab config, tested by nginx -t as a copy beside it. */
  async function check(p: FixPlan): Promise<{ removed: string[]; added: string[] }> {
    const { edits } = applicable(p);
    const files = edited(config, edits);
    expect([...files.keys()]).toEqual([conf]);
    const copy = join(lab.dir, `${p.fix}.conf`);
    await writeFile(copy, files.get(conf)!.after);
    const test = nginxTest(copy);
    expect(test.ok, test.output).toBe(true);
    return changedLines(text, files.get(conf)!.after);
  }

  it('lower-upstream-keepalive-timeout: sets the measured value in the racing upstream', async () => {
    const measured = (facts['keepalive-analysis']!.facts as { mismatches: Array<{ lowerTimeout: { timeout: string } | null }> }).mismatches;
    expect(measured.map((m) => m.lowerTimeout?.timeout)).toEqual(['4s']);
    const p = plan('lower-upstream-keepalive-timeout', facts, config);
    expect(await check(p)).toEqual({ removed: [], added: ['keepalive_timeout 4s;'] });
    const upstreamLine = text.split('\n').findIndex((l) => l.includes('upstream app {')) + 1;
    expect(applicable(p).describe).toEqual([`upstream app (${conf}:${upstreamLine}): keepalive_timeout 60s (default) → 4s (added here)`]);
    // nginx before 1.15.3 has no such directive: refused, pointing at the fix that works there.
    const old = plan('lower-upstream-keepalive-timeout', facts, config, '1.14.2');
    expect(old).toMatchObject({ applicable: false, reason: expect.stringContaining('came with 1.15.3') });
  });

  it('raise-proxy-buffer-size: buffer_size from the measured header, and proxy_buffers where nginx -t would reject it alone', async () => {
    const p = plan('raise-proxy-buffer-size', facts, config);
    const lines = await check(p);
    expect(lines).toEqual({ removed: [], added: ['proxy_buffer_size 32k;', 'proxy_buffers 8 32k;', 'proxy_buffer_size 8k;'] });
    // The rule it follows is nginx's: 32k alone beside the default 8 4k buffers fails nginx -t.
    const alone = applicable(p).edits.filter((e) => e.kind === 'insert' && e.directive !== 'proxy_buffers 8 32k');
    const copy = join(lab.dir, 'buffer-alone.conf');
    await writeFile(copy, edited(config, alone).get(conf)!.after);
    expect(nginxTest(copy)).toMatchObject({ ok: false, output: expect.stringContaining('"proxy_busy_buffers_size" must be less than the size of all "proxy_buffers" minus one buffer') });
    expect(applicable(p).describe.find((l) => l.startsWith('location /big/'))).toMatch(/^location \/big\/ \(.*:\d+\): proxy_buffer_size 4k \(default\) → 32k \(added here\) — for the 20\d\d\d-byte response header of \/big\/x/);
  });

  it('raise-proxy-buffer-size: not measured (--passive) → not applicable, with the command that measures it', async () => {
    const passive = await probe(['header-size'], { nginxBin: nginx!, nginxConf: conf, errorLogs: [join(lab.dir, 'error.log')], sinceMs: 600_000, passive: true });
    const p = plan('raise-proxy-buffer-size', { ...facts, 'header-size': passive['header-size']! }, config);
    expect(p.applicable).toBe(false);
    if (p.applicable) return;
    expect(p.reason).toContain(`curl -sS -o /dev/null -D - 'http://127.0.0.1:${ports.big}/big/x' | wc -c`);
    expect(p.reason).toContain(`curl -sS -o /dev/null -D - 'http://127.0.0.1:${ports.mid}/mid/x' | wc -c`);
  }, 30_000);

  it('mark-server-down: marks the stopped server of a group of two, and refuses the only server of its group', async () => {
    const p = plan('mark-server-down', facts, config);
    expect(await check(p)).toEqual({ removed: [`server 127.0.0.1:${ports.down};`], added: [`server 127.0.0.1:${ports.down} down;`] });
    expect(applicable(p).notes.join(' ')).toContain(`127.0.0.1:${ports.solo} is the only server of upstream solo`);
    const listeners = facts['backend-listeners']!;
    const onlySolo = { ...listeners, facts: { ...listeners.facts, down: (listeners.facts!['down'] as Array<{ upstream: string }>).filter((d) => d.upstream === 'solo') } };
    const refused = plan('mark-server-down', { ...facts, 'backend-listeners': onlySolo }, config);
    expect(refused).toMatchObject({ applicable: false, reason: expect.stringContaining('"no live upstreams" 502') });
  });

  it('max-fails: raises max_fails on the server the error log says was taken out', async () => {
    const p = plan('max-fails', facts, config);
    expect(await check(p)).toEqual({ removed: [`server 127.0.0.1:${ports.down};`], added: [`server 127.0.0.1:${ports.down} max_fails=3;`] });
  });

  it('retry-non-idempotent: the same conditions minus non_idempotent', async () => {
    const p = plan('retry-non-idempotent', facts, config);
    expect(await check(p)).toEqual({ removed: ['proxy_next_upstream error timeout non_idempotent;'], added: ['proxy_next_upstream error timeout;'] });
  });

  it('raise-client-max-body-size: the refused sizes are not in the facts → not applicable, naming the location and a command that finds the largest', async () => {
    const p = plan('raise-client-max-body-size', facts, config);
    if (p.applicable) throw new Error('applicable');
    const uploadLine = text.split('\n').findIndex((l) => l.includes('location /upload/')) + 1;
    expect(p.reason).toContain(`POST /upload/file → location /upload/ (${conf}:${uploadLine}, client_max_body_size 1k)`);
    // The command it gives really answers, on the log nginx wrote.
    const command = /`(grep [^`]+)`/.exec(p.reason)![1]!;
    expect(execFileSync('sh', ['-c', command], { encoding: 'utf8' }).trim()).toBe('3000');
  });

  it('chosen together, the plans are one edit of the file that nginx -t accepts', async () => {
    const ids = ['lower-upstream-keepalive-timeout', 'raise-proxy-buffer-size', 'mark-server-down', 'retry-non-idempotent'];
    const edits = ids.flatMap((id) => applicable(plan(id, facts, config)).edits);
    const copy = join(lab.dir, 'together.conf');
    await writeFile(copy, edited(config, edits).get(conf)!.after);
    expect(nginxTest(copy).ok).toBe(true);
  });

  it('plansFor: a plan for each config-edit and command fix of the walk, none for manual ones', () => {
    const state = initialState('reset-by-peer');
    state.probes = facts;
    const fixes = ['start-backend', 'mark-server-down', 'max-fails', 'mark-server-down'].map(suggestion);
    state.path = [{ node: 'fix', enteredAt: 0, outcome: { kind: 'fix', fixes } }];
    const plans = plansFor(state, config, '1.22.1');
    expect(plans.map((p) => [p.fix, p.applicable])).toEqual([
      ['mark-server-down', true],
      ['max-fails', true],
    ]);
  });
});

describeWithTools('fix plans on a config with includes and a symlinked site', nginx ? [] : ['nginx'], () => {
  let dir: string;
  let main: string;
  let site: string;
  let real: string;

  const MAIN = (d: string) => `pid ${d}/nginx.pid;
error_log ${d}/error.log warn;
events {
    worker_connections 64;
}
http {
    client_body_temp_path ${d}/client_body;
    proxy_temp_path ${d}/proxy;
    fastcgi_temp_path ${d}/fastcgi;
    uwsgi_temp_path ${d}/uwsgi;
    scgi_temp_path ${d}/scgi;
    log_format main '$remote_addr - $remote_user [$time_local] "$request" $status';
    access_log ${d}/access.log main buffer=32k;
    include ${d}/sites-enabled/*.conf;
}
`;
  const SITE = (d: string) => `upstream api {
    server 127.0.0.1:9001;
    keepalive 16;
}
upstream php {
    server unix:${d}/php.sock;
    keepalive 4;
}
upstream legacy {
    server 127.0.0.1:9002;
    keepalive 2;
}
server {
    listen 127.0.0.1:9000;
    access_log ${d}/site.log;
    proxy_set_header Host $host;
    proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
    location /api/ {
        proxy_pass http://api;
    }
    location /php/ {
        fastcgi_pass php;
        fastcgi_param SCRIPT_FILENAME $document_root$fastcgi_script_name;
    }
    location /legacy/ {
        uwsgi_pass legacy;
    }
    location /live/ {
        proxy_set_header Upgrade $http_upgrade;
        proxy_set_header Host $host;
        location /live/ws {
            proxy_pass http://api;
        }
    }
}
`;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'reset-doctor-plans-'));
    await mkdir(join(dir, 'sites-available'));
    await mkdir(join(dir, 'sites-enabled'));
    main = join(dir, 'nginx.conf');
    real = join(dir, 'sites-available', 'app.conf');
    site = join(dir, 'sites-enabled', 'app.conf');
    await writeFile(main, MAIN(dir));
    await writeFile(real, SITE(dir));
    await symlink(real, site);
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  /** nginx -T of the real config, parsed by the nginx-config probe (with the version the test names). */
  function configFacts(version: string): { dump: string; outcome: ProbeOutcome } {
    const dump = execFileSync(nginx!, ['-T', '-c', main], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    const [major, minor, patch] = version.split('.').map(Number);
    const versionFacts = { product: 'nginx', version, major, minor, patch, prefix: '/usr/share/nginx', confPath: '/etc/nginx/nginx.conf', errorLogPath: '/var/log/nginx/error.log', accessLogPath: '/var/log/nginx/access.log', modules: [] };
    const results = new SourceResults([{ id: 'dump', kind: 'command', command: { file: nginx!, args: ['-T', '-c', main], timeoutMs: 1 }, result: { stdout: dump, stderr: '', exitCode: 0, durationMs: 1 } }], Date.now());
    const facts = nginxConfigProbe.parse(results, context({ deps: { 'nginx-version': versionFacts } }));
    return { dump, outcome: { id: 'nginx-config', status: 'ok', facts, summary: '', commands: [], startedAt: 0, durationMs: 0 } };
  }

  function withAnalysis(version = '1.22.1', backendIdle?: number): Facts {
    const config = configFacts(version).outcome;
    const process = backendIdle === undefined ? {} : { 'backend-process': { backends: [{ address: '127.0.0.1:9001', upstream: 'api', local: true, listening: true, kind: 'gunicorn', idleTimeoutSec: backendIdle, idleTimeoutSource: 'flag', inferred: false, note: `gunicorn --keep-alive ${backendIdle}` }] } };
    const analysis = keepaliveAnalysisProbe.parse(new SourceResults([], 0), context({ deps: { 'nginx-config': config.facts!, ...process } }));
    return { 'nginx-config': config, 'keepalive-analysis': { id: 'keepalive-analysis', status: 'ok', facts: analysis, summary: '', commands: [], startedAt: 0, durationMs: 0 } };
  }

  /** Applies the plan's edits to the files (through the symlink, as the apply engine edits its target), then nginx -t. */
  async function applyAndTest(config: ConfigSet, p: FixPlan): Promise<Map<string, { removed: string[]; added: string[] }>> {
    const files = edited(config, applicable(p).edits);
    const out = new Map<string, { removed: string[]; added: string[] }>();
    for (const [path, { before, after }] of files) {
      await writeFile(path, after);
      out.set(path, changedLines(before, after));
    }
    const test = nginxTest(main);
    expect(test.ok, test.output).toBe(true);
    return out;
  }

  it('enable-upstream-keepalive: HTTP/1.1, Connection "" and the inherited headers for proxy_pass, fastcgi_keep_conn for FastCGI, keepalive gone where only uwsgi uses it', async () => {
    const facts = withAnalysis();
    const config = await loadConfigFiles(new RealHost(), main);
    const p = plan('enable-upstream-keepalive', facts, config);
    const changes = await applyAndTest(config, p);
    // The plan names the file nginx loaded (the symlink); writing through it edited the target.
    expect([...changes.keys()]).toEqual([site]);
    expect(changes.get(site)).toEqual({
      removed: ['keepalive 2;'],
      added: ['proxy_http_version 1.1;', 'proxy_set_header Connection "";', 'proxy_set_header Host $host;', 'proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;', 'fastcgi_keep_conn on;'],
    });
    expect(applicable(p).describe).toEqual([
      `location /api/ (${site}:18): proxy_http_version 1.0 (default) → 1.1 (added here)`,
      `location /api/ (${site}:18): add proxy_set_header Connection ""`,
      `location /api/ (${site}:18): add proxy_set_header Host $host (inherited from ${site}:16; repeated here, since a proxy_set_header written here drops the inherited ones)`,
      `location /api/ (${site}:18): add proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for (inherited from ${site}:16; repeated here, since a proxy_set_header written here drops the inherited ones)`,
      `location /php/ (${site}:21): fastcgi_keep_conn off (default) → on (added here)`,
      `upstream legacy (${site}:11): remove keepalive 2 (only location /legacy/ (${site}:25, uwsgi_pass) uses it, and uwsgi_pass never reuses a connection)`,
    ]);
    // Planned again on the edited files: keep-alive now takes effect everywhere.
    const again = plan('enable-upstream-keepalive', withAnalysis(), await loadConfigFiles(new RealHost(), main));
    expect(again.applicable).toBe(false);
  });

  it('websocket-headers: HTTP/1.1, Upgrade and Connection from a new map, the inherited headers repeated', async () => {
    const { outcome } = configFacts('1.22.1');
    const config = await loadConfigFiles(new RealHost(), main);
    const p = plan('websocket-headers', { 'nginx-config': outcome }, config);
    const changes = await applyAndTest(config, p);
    expect(changes.get(site)).toEqual({ removed: [], added: ['proxy_http_version 1.1;', 'proxy_set_header Upgrade $http_upgrade;', 'proxy_set_header Connection $connection_upgrade;', 'proxy_set_header Host $host;'] });
    expect(changes.get(main)).toEqual({ removed: [], added: ['map $http_upgrade $connection_upgrade {', 'default upgrade;', '"" close;', '}'] });
  });

  it('log-upstream-status: a log_format first in http, each access_log switched to it at its own path, parameters kept', async () => {
    const { outcome } = configFacts('1.22.1');
    const config = await loadConfigFiles(new RealHost(), main);
    const p = plan('log-upstream-status', { 'nginx-config': outcome }, config);
    const changes = await applyAndTest(config, p);
    expect(changes.get(main)!.removed).toEqual([`access_log ${dir}/access.log main buffer=32k;`]);
    expect(changes.get(main)!.added).toEqual([expect.stringMatching(/^log_format upstreamlog '\$remote_addr .* us="\$upstream_status" .*';$/), `access_log ${dir}/access.log upstreamlog buffer=32k;`]);
    expect(changes.get(site)).toEqual({ removed: [`access_log ${dir}/site.log;`], added: [`access_log ${dir}/site.log upstreamlog;`] });
    const lines = (await readFile(main, 'utf8')).split('\n');
    expect(lines.findIndex((l) => l.includes('log_format upstreamlog'))).toBeLessThan(lines.findIndex((l) => l.includes('log_format main')));
  });

  it('keepalive-old-nginx: removes the keepalive line of the racing upstream', async () => {
    const config = await loadConfigFiles(new RealHost(), main);
    // enable-upstream-keepalive first, so keep-alive is in effect and the race exists
    const enabled = await applyAndTest(config, plan('enable-upstream-keepalive', withAnalysis('1.14.2'), config));
    expect(enabled.size).toBe(1);
    const now = await loadConfigFiles(new RealHost(), main);
    const racing = withAnalysis('1.14.2', 30);
    const p = plan('keepalive-old-nginx', racing, now, '1.14.2');
    const changes = await applyAndTest(now, p);
    expect(changes.get(site)).toEqual({ removed: ['keepalive 16;'], added: [] });
  });

  it('files as nginx -T dumped them: the plan stands', async () => {
    const { dump, outcome } = configFacts('1.22.1');
    const config = await loadConfigFiles(new RealHost(), main);
    expect(plan('websocket-headers', { 'nginx-config': outcome }, config, '1.22.1', loadConfigDump(dump)).applicable).toBe(true);
  });

  it('refuses a file changed since nginx -T dumped it, and a location that moved', async () => {
    const { dump, outcome } = configFacts('1.22.1');
    const dumped = loadConfigDump(dump);
    await writeFile(real, `# a comment added by someone else\n${SITE(dir)}`);
    const config = await loadConfigFiles(new RealHost(), main);
    const p = plan('websocket-headers', { 'nginx-config': outcome }, config, '1.22.1', dumped);
    expect(p).toMatchObject({ applicable: false, reason: expect.stringContaining(`${site} changed since nginx loaded it: line`) });
  });

  it('refuses a file whose text differs from the dump even where the lines still match', async () => {
    const { dump, outcome } = configFacts('1.22.1');
    const dumped = loadConfigDump(dump);
    await writeFile(real, SITE(dir).replace('keepalive 2;', 'keepalive 3;'));
    const config = await loadConfigFiles(new RealHost(), main);
    const p = plan('websocket-headers', { 'nginx-config': outcome }, config, '1.22.1', dumped);
    expect(p).toMatchObject({ applicable: false, reason: `${site} differs from what nginx loaded in this run (nginx -T): someone changed it since. Reload nginx if that change is meant, re-run reset-doctor, then plan again` });
  });
});

it('buffer sizes: a quarter more than the header, a power of two k, at least a page; rejected as nginx -t rejects', () => {
  expect([1000, 3000, 6100, 20_100].map(bufferFor)).toEqual([4096, 4096, 8192, 32768]);
  expect(rejects('proxy_', { bufferSize: 8192, count: 8, size: 4096, busy: null, tempWrite: null, maxTemp: null })).toBeNull();
  expect(rejects('proxy_', { bufferSize: 16384, count: 8, size: 4096, busy: null, tempWrite: null, maxTemp: null })).toContain('minus one buffer');
  expect(rejects('fastcgi_', { bufferSize: 16384, count: 8, size: 16384, busy: 8192, tempWrite: null, maxTemp: null })).toContain('"fastcgi_busy_buffers_size" must be equal to or greater');
  expect(rejects('proxy_', { bufferSize: 16384, count: 8, size: 16384, busy: null, tempWrite: null, maxTemp: 8192 })).toContain('max_temp_file_size');
});

it('backend-side fixes stay suggestions, with the reason', () => {
  const facts = () => undefined;
  const config: ConfigSet = { main: '/etc/nginx/nginx.conf', files: [], includes: new Map(), problems: [], source: 'files' };
  for (const id of ['raise-backend-keepalive', 'php-fpm-pool-capacity', 'start-backend']) {
    expect(planFix({ fix: suggestion(id), finding: undefined, facts, config, version: null })).toEqual({
      fix: id,
      applicable: false,
      reason: expect.stringContaining("backend setting — change it in the backend's config; reset-doctor never restarts an application"),
    });
  }
});

describeWithTools('kernel and SELinux plans from this machine', nginx ? [] : ['nginx'], () => {
  const config: ConfigSet = { main: '/etc/nginx/nginx.conf', files: [], includes: new Map(), problems: [], source: 'files' };
  const options: ProbeOptions = { nginxBin: nginx ?? 'nginx', errorLogs: [], sinceMs: 60_000, passive: true };

  it('conntrack-capacity: nf_conntrack_max doubled, live and persisted in reset-doctor\'s own sysctl.d file', async () => {
    const facts = await probe(['firewall'], options);
    const max = Number(await readFile('/proc/sys/net/netfilter/nf_conntrack_max', 'utf8').catch(() => 'NaN'));
    const p = plan('conntrack-capacity', facts, config);
    if (Number.isNaN(max) || facts['firewall']?.status !== 'ok') {
      expect(p.applicable).toBe(false);
      return;
    }
    expect(applicable(p).commands).toEqual([{ kind: 'sysctl', key: 'net.netfilter.nf_conntrack_max', value: String(2 * max), persistFile: '/etc/sysctl.d/90-reset-doctor.conf' }]);
    expect(applicable(p).edits).toEqual([]);
  });

  it('raise-listen-backlog: no queue capped by somaxconn → not applicable; the backend backlog stays a backend setting', async () => {
    const facts = await probe(['listen-queue'], options);
    const p = plan('raise-listen-backlog', facts, config);
    expect(p).toMatchObject({ applicable: false, reason: expect.stringContaining("backend setting — change it in the backend's config; reset-doctor never restarts an application") });
    // A full queue capped by somaxconn (the facts listen-queue reports then): the sysctl, with the backend part as a note.
    const lq = facts['listen-queue']!;
    if (lq.status !== 'ok') return;
    const somaxconn = lq.facts!['somaxconn'] as number;
    const capped = { ...lq, facts: { ...lq.facts, cappedQueues: ['127.0.0.1:8000'], suggestedSomaxconn: somaxconn * 2 } };
    const raised = applicable(plan('raise-listen-backlog', { 'listen-queue': capped }, config));
    expect(raised.commands).toEqual([{ kind: 'sysctl', key: 'net.core.somaxconn', value: String(somaxconn * 2), persistFile: '/etc/sysctl.d/90-reset-doctor.conf' }]);
    expect(raised.notes[0]).toContain('gunicorn --backlog');
  });

  it('selinux-allow-port: nothing denied (or no SELinux) → not applicable', async () => {
    const facts = await probe(['selinux'], options);
    expect(plan('selinux-allow-port', facts, config).applicable).toBe(false);
  });

  it('selinux-allow-port: a denied TCP port with the boolean off → setsebool, the narrower port label as a note (facts as the selinux probe documents them: SELinux cannot run here)', () => {
    const selinux = {
      mode: 'enforcing', disabledReason: null, httpdCanNetworkConnect: false, denials: [],
      blocking: [{ time: '2026-12-01 10:00:00', permission: 'name_connect', dest: 8081, path: null, tclass: 'tcp_socket' }],
      otherSummary: 'none', denialsSince: 'today', denialSource: 'ausearch', auditLogGap: null, denialSummary: 'name_connect tcp 8081 ×3',
      unixDenials: [], booleanText: 'off', labelCommands: ['semanage port -a -t http_port_t -p tcp 8081'], portLabels: [{ port: 8081, label: null }],
    };
    const outcome: ProbeOutcome = { id: 'selinux', status: 'ok', facts: selinux, summary: '', commands: [], startedAt: 0, durationMs: 0 };
    const p = applicable(plan('selinux-allow-port', { selinux: outcome }, config));
    expect(p.commands).toEqual([{ kind: 'setsebool', name: 'httpd_can_network_connect', value: 'on' }]);
    expect(p.notes).toEqual(['narrower, by hand: label only the denied port(s) for nginx — semanage port -a -t http_port_t -p tcp 8081']);
  });
});
