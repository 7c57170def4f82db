import { execFileSync } from 'node:child_process';
import { statSync } from 'node:fs';
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { ConfigModel } from '../../src/nginx/model.js';
import { analyzeErrorLogs, PARALLEL_MIN_BYTES, type ErrorLogReport } from '../../src/errorlog/reader.js';
import { RealHost } from '../../src/host/realHost.js';
import { OTHER_ROUTES, ROUTE_LIMIT } from '../../src/errorlog/route.js';
import { runCli } from '../support/cli.js';
import { fixturePath } from '../support/fixtures.js';
import { findNginx } from '../support/lab.js';
import { generateLog } from '../support/logGen.js';
import { describeWithTools } from '../support/tools.js';

const nginx = findNginx();
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'rd-inspect-'));
  execFileSync('cp', ['-a', fixturePath('nginx', 'debian'), join(dir, 'debian')]);
  for (const sub of ['logs', 'tmp']) await mkdir(join(dir, 'debian', sub), { recursive: true });
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describeWithTools('inspect config with a real nginx', nginx ? [] : ['nginx'], () => {
  it('lists every upstream and location of a Debian-style tree with effective settings, file and line', async () => {
    const root = join(dir, 'debian');
    const run = await runCli(['inspect', 'config', '--json', '--nginx-bin', nginx!, '--nginx-conf', `${root}/nginx.conf`, '--nginx-prefix', root]);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const model = JSON.parse(run.stdout) as ConfigModel & { commands: string[]; advice: Array<{ id: string }> };
    expect(model.commands).toContain(`${nginx} -T -c ${root}/nginx.conf -p ${root}/`);
    expect(model.nginxVersion).toMatch(/^\d+\.\d+\.\d+$/);
    expect(model.upstreams.map((u) => [u.name, u.file.replace(root, ''), u.line, u.keepalive])).toEqual([
      ['api', '/conf.d/upstreams.conf', 1, 32],
      ['php', '/conf.d/upstreams.conf', 9, null],
      ['realtime', '/conf.d/ws.conf', 1, 8],
    ]);
    expect(model.locations.map((l) => [l.match, l.file.replace(root, ''), l.line, l.upstream ?? l.proxyPass, l.effective.proxyReadTimeoutSec])).toEqual([
      ['/', '/sites-enabled/app', 6, 'api', 30],
      ['= /healthz', '/sites-enabled/app', 12, null, 30],
      ['~ ^/api/v[0-9]+/(orders|cart)', '/sites-enabled/app', 16, 'api', 5],
      ['/ws/', '/sites-enabled/app', 25, 'realtime', 3600],
      ['~ \\.php$', '/sites-enabled/app', 33, 'php', 30],
      ['/img/', '/sites-enabled/static', 5, 'http://127.0.0.1:7001/images/', 30],
    ]);
    expect(model.errorLogs).toMatchObject([{ path: `${root}/logs/error.log`, level: 'warn' }]);
    expect(model.advice.map((a) => a.id)).toEqual(expect.arrayContaining(['keepalive-inert', 'next-upstream-non-idempotent', 'no-upstream-logging']));
  });

  it('exits 2 with file:line for a config nginx rejects', async () => {
    const broken = join(dir, 'broken.conf');
    await writeFile(broken, 'events {}\nhttp {\n  server {\n    listen 127.0.0.1:1\n  }\n}\n');
    const run = await runCli(['inspect', 'config', '--nginx-bin', nginx!, '--nginx-conf', broken]);
    expect(run.code).toBe(2);
    expect(run.stderr).toBe(`reset-doctor: nginx rejects the config: unexpected "}" in ${broken}:5\n`);
  });
});

it('exits 2 with file:line:col for a config it cannot parse, without nginx', async () => {
  const broken = join(dir, 'unparsable.conf');
  await writeFile(broken, 'events {}\nhttp {\n  server_name "oops;\n}\n');
  const run = await runCli(['inspect', 'config', '--nginx-bin', '/nonexistent/nginx', '--nginx-conf', broken]);
  expect(run.code).toBe(2);
  expect(run.stderr).toBe(`reset-doctor: ${broken}:3:15: unterminated double-quoted string\n`);
});

it('inspect errors counts every signature per peer, method and route', async () => {
  const run = await runCli(['inspect', 'errors', '--json', '--error-log', fixturePath('errorlog', 'signatures.error.log')]);
  expect(run.code).toBe(0);
  const report = JSON.parse(run.stdout) as ErrorLogReport;
  expect(report.linesRead).toBe(28);
  const counts = Object.fromEntries(report.signatures.map((s) => [s.id, s.count]));
  expect(counts).toEqual({
    refused: 4,
    'reset-reading-header': 3,
    'reset-reading-body': 2,
    'invalid-header': 2,
    'server-disabled': 2,
    'socket-missing': 1,
    'permission-denied': 1,
    'unix-backlog-full': 1,
    'timeout-connect': 1,
    'timeout-send': 1,
    'timeout-read': 1,
    'timeout-body': 1,
    'premature-close-header': 1,
    'premature-close-body': 1,
    'too-big-header': 1,
    'no-live-upstreams': 1,
    'body-too-large': 1,
    'other-upstream': 1,
  });
  const missing = report.signatures.find((s) => s.id === 'socket-missing')!;
  expect(Object.keys(missing.upstreams)[0]).toMatch(/^unix:\/tmp\/.*\/missing\.sock$/);
  expect(report.signatures.find((s) => s.id === 'no-live-upstreams')!.upstreams).toEqual({ pool: 1 });
  expect(report.signatures.find((s) => s.id === 'reset-reading-header')!.methods).toEqual({ POST: 3 });
});

it('inspect errors --since reads only the window; a binary-garbage log is read without error and called no nginx error log', async () => {
  const log = join(dir, 'recent.log');
  const now = Date.now();
  await writeFile(log, generateLog(now - 3_600_000, now - 60_000, 2), 'latin1');
  const windowed = JSON.parse((await runCli(['inspect', 'errors', '--json', '--since', '10m', '--error-log', log])).stdout) as ErrorLogReport;
  const inWindow = windowed.signatures.reduce((n, s) => n + s.count, 0) + windowed.otherLines;
  expect(inWindow).toBeGreaterThanOrEqual((9 * 60 - 2) * 2); // whole-second stamps against a millisecond window edge
  expect(inWindow).toBeLessThanOrEqual(10 * 60 * 2);

  const garbage = join(dir, 'garbage.log');
  await writeFile(garbage, Buffer.from(Array.from({ length: 100_000 }, (_, i) => (i * 131 + 7) % 256)));
  const run = await runCli(['inspect', 'errors', '--error-log', garbage]);
  expect(run.code).toBe(0);
  expect(run.stdout).toMatch(/\d+ unparsed/);
  // Its silence is no all-clear: it is not an nginx error log at all.
  expect(run.stdout).toContain('does not look like an nginx error log');
  expect(run.stdout).not.toContain('No upstream errors in this window.');
});

it('a full scan of a large log in worker threads counts exactly what a sequential read counts', async () => {
  const log = join(dir, 'large.log');
  const now = Date.now();
  // Over PARALLEL_MIN_BYTES, so the built CLI splits it across worker threads; every request its own line.
  const minutes: string[] = [];
  for (let m = 15; m > 0; m--) minutes.push(generateLog(now - m * 60_000, now - (m - 1) * 60_000, 200, undefined, { vary: true, first: (15 - m) * 12_000 }));
  // A path per user, users in the order they first came: far more routes than one count keeps (ROUTE_LIMIT).
  let line = 0;
  const perUser = (text: string) => text.replace(/request: "(\S+) \/[^ "]*/g, (_all, method: string) => `request: "${method} /u/user${Math.floor(line++ / 10)}/cart`);
  minutes.splice(0, minutes.length, ...minutes.map(perUser));
  minutes.push('a last line without a line break');
  await writeFile(log, minutes.join(''), 'latin1');
  expect(statSync(log).size).toBeGreaterThan(PARALLEL_MIN_BYTES);
  const scanned = JSON.parse((await runCli(['inspect', 'errors', '--json', '--error-log', log])).stdout) as ErrorLogReport;
  const sequential = await analyzeErrorLogs(new RealHost(), [log], { fromMs: null, toMs: now, parallel: false });
  // Threads and the WebAssembly counter really ran (a missing scanner.wasm would fall back to JS).
  expect(scanned.files[0]).toMatchObject({ mode: 'full', threads: { counter: 'wasm' } });
  expect(scanned.files[0]!.threads!.workers).toBeGreaterThanOrEqual(Math.min(2, availableParallelism()));
  expect(sequential.files[0]!.threads).toBeUndefined();
  expect({ lines: scanned.linesRead, unparsed: scanned.unparsed, other: scanned.otherLines }).toEqual({ lines: sequential.linesRead, unparsed: sequential.unparsed, other: sequential.otherLines });
  expect(scanned.signatures).toEqual(sequential.signatures);
  expect(scanned.groups).toEqual(sequential.groups);
  expect(scanned.perMinute).toEqual(sequential.perMinute);
  expect(scanned.groups.filter((g) => g.route === OTHER_ROUTES).length).toBeGreaterThan(0);
  expect(new Set(scanned.groups.map((g) => g.route)).size).toBeLessThanOrEqual(ROUTE_LIMIT + 1);
  // A window holding every line is found by bisection and counted by the same threads: the same counts.
  const windowed = JSON.parse((await runCli(['inspect', 'errors', '--json', '--since', '48h', '--error-log', log])).stdout) as ErrorLogReport;
  expect(windowed.files[0]).toMatchObject({ mode: 'backward', reachedStart: true, windowStart: 0, threads: { counter: 'wasm' } });
  expect({ lines: windowed.linesRead, unparsed: windowed.unparsed, other: windowed.otherLines }).toEqual({ lines: sequential.linesRead, unparsed: sequential.unparsed, other: sequential.otherLines });
  expect(windowed.signatures).toEqual(sequential.signatures);
  expect(windowed.groups).toEqual(sequential.groups);
  expect(windowed.perMinute).toEqual(sequential.perMinute);
}, 90_000);
