import { execFileSync } from 'node:child_process';
import { mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { formatLocal } from '../../src/errorlog/reader.js';
import http from 'node:http';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { JsonReport } from '../../src/report/jsonReport.js';
import { runCli } from '../support/cli.js';
import { createLab, findNginx, freePort, hasCommand, type Lab } from '../support/lab.js';
import { describeWithTools } from '../support/tools.js';

const nginx = findNginx();
const missing = [...(nginx ? [] : ['nginx']), ...(hasCommand('ss') ? [] : ['ss (iproute2)']), ...(hasCommand('ps') ? [] : ['ps (procps)'])];

describeWithTools('diagnose against a real nginx on loopback', missing, () => {
  let lab: Lab;
  let conf: string;
  let apiPort: number;
  let staticPort: number;
  let socket: string;
  let nginxPort: number;
  let nginxPid: number;

  beforeAll(async () => {
    lab = await createLab('e2e');
    [apiPort, staticPort] = [await freePort(), await freePort()];
    socket = join(lab.dir, 'php.sock');
    await lab.startBackend({ port: staticPort });
    ({ conf, port: nginxPort, pid: nginxPid } = await lab.startNginx({
      // Clean apart from the fault under test: keep-alive in effect, nginx gives idle connections up before Node (5 s) does.
      http: `upstream api {\n  server 127.0.0.1:${apiPort};\n  keepalive 8;\n  keepalive_timeout 4s;\n}\nupstream php {\n  server unix:${socket};\n}`,
      // Secrets a config really holds, which a recording must not carry to a ticket.
      server: `location / {\n  proxy_pass http://api;\n  proxy_http_version 1.1;\n  proxy_set_header Connection "";\n  proxy_set_header Authorization "Bearer s3cr3t-t0ken-value";\n  proxy_set_header X-Api-Key k3y-VALUE-123;\n}\nlocation /static/ {\n  proxy_pass http://127.0.0.1:${staticPort};\n}\nlocation /php/ {\n  proxy_pass http://php;\n}`,
    }));
  }, 30_000);

  afterAll(async () => {
    await lab?.cleanup();
  });

  const diagnose = async (...extra: string[]) => {
    const run = await runCli(['diagnose', '--json', '--nginx-bin', nginx!, '--nginx-conf', conf, ...extra]);
    expect(run.stderr).not.toMatch(/internal error/);
    return { code: run.code, report: JSON.parse(run.stdout) as JsonReport };
  };

  it('confirms backend-down for a TCP upstream and a missing unix socket, naming both addresses', async () => {
    const { code, report } = await diagnose();
    expect(code).toBe(1);
    const confirmed = report.findings.filter((f) => f.status === 'confirmed');
    expect(confirmed.map((f) => f.id)).toEqual(['backend-down']);
    expect(confirmed[0]!.summary).toContain(`upstream api (127.0.0.1:${apiPort})`);
    expect(confirmed[0]!.summary).toContain(`upstream php (unix:${socket})`);
    expect(confirmed[0]!.summary).toContain(`${socket} does not exist`);
    expect(confirmed[0]!.summary).not.toContain(String(staticPort));
    expect(report.fixes.map((f) => f.id)).toEqual(['start-backend', 'align-backend-address']);
    expect(report.fixes.every((f) => f.applied === false)).toBe(true);
    // The first command is the one that ran; the plan line after it says what happens should nginx -T reject the config.
    expect(report.probes.find((p) => p.id === 'nginx-config')).toMatchObject({ status: 'ok', commands: [`${nginx} -T -c ${conf}`, `if nginx -T rejects the config: read ${conf} and its includes`] });
  }, 30_000);

  it('records the session (0600, secrets masked) and replays it to the same report', async () => {
    const file = join(lab.dir, 'session.json');
    const live = await diagnose('--record', file);
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    const saved = await readFile(file, 'utf8');
    expect(saved).not.toContain('s3cr3t-t0ken-value');
    expect(saved).not.toContain('k3y-VALUE-123');
    expect(saved).toContain('proxy_set_header X-Api-Key *************;');
    expect((JSON.parse(saved) as { masked: number }).masked).toBeGreaterThanOrEqual(2);
    const replay = await runCli(['diagnose', '--json', '--replay', file]);
    const replayed = JSON.parse(replay.stdout) as JsonReport;
    expect(replay.code).toBe(live.code);
    expect(replayed.path).toEqual(live.report.path);
    expect(replayed.findings).toEqual(live.report.findings);
  }, 30_000);

  it('exits 0 with backend-down ruled out once every backend listens', async () => {
    const api = await lab.startBackend({ port: apiPort });
    const php = await lab.startBackend({ path: socket });
    try {
      const { code, report } = await diagnose();
      expect(report.findings.filter((f) => f.status !== 'ruled-out')).toEqual([]);
      const down = report.findings.find((f) => f.id === 'backend-down')!;
      expect(down.status).toBe('ruled-out');
      expect(down.summary).toContain(`127.0.0.1:${apiPort}`);
      expect(code).toBe(0);
    } finally {
      await lab.stop(api);
      await lab.stop(php);
    }
  }, 30_000);

  it('probe --json reports the config model and the error lines the down backends caused', async () => {
    await new Promise<void>((resolve) => {
      const req = http.get({ host: '127.0.0.1', port: nginxPort, path: '/api/orders', agent: false }, (res) => {
        res.resume();
        res.on('end', () => resolve());
      });
      req.on('error', () => resolve());
    });
    const run = await runCli(['probe', '--json', '--nginx-bin', nginx!, '--nginx-conf', conf, 'nginx-config', 'error-log', 'access-log']);
    const { probes } = JSON.parse(run.stdout) as { probes: Array<{ id: string; status: string; facts: Record<string, unknown> }> };
    const byId = Object.fromEntries(probes.map((p) => [p.id, p]));
    expect(byId['nginx-config']).toMatchObject({ status: 'ok', facts: { upstreams: [{ name: 'api', keepalive: 8 }, { name: 'php' }] } });
    expect(byId['error-log']).toMatchObject({ status: 'ok', facts: { counts: { refused: 1 } } });
    expect((byId['error-log']!.facts['signatures'] as Array<{ upstreams: Record<string, number> }>)[0]!.upstreams).toEqual({ [`127.0.0.1:${apiPort}`]: 1 });
    expect(byId['access-log']).toMatchObject({ status: 'ok', facts: { status502: 1 } });
    expect(run.code).toBe(0);
  });

  it('run in another time zone than nginx: its error log is "could not tell", never "no resets"', async () => {
    // nginx wrote the refused line above in its own local time (this machine's); the tool reads it 9 h off.
    const utcOffset = -new Date().getTimezoneOffset();
    const tz = utcOffset === 540 ? 'America/New_York' : 'Asia/Tokyo';
    const run = await runCli(['diagnose', '--json', '--since', '10m', '--nginx-bin', nginx!, '--nginx-conf', conf], { env: { TZ: tz } });
    expect(run.stderr).not.toMatch(/internal error/);
    const report = JSON.parse(run.stdout) as JsonReport;
    const errorLog = report.probes.find((p) => p.id === 'error-log')!;
    expect(errorLog).toMatchObject({ status: 'unavailable', reason: expect.stringMatching(/its newest line, .* is \d+(\.\d+)? h (ahead of|behind) .*nginx writes its log in the local time of its own time zone.*run reset-doctor with TZ set as nginx runs/) });
    expect(errorLog.reason).toContain(utcOffset === 0 ? 'TZ=UTC' : 'TZ=');
    expect(report.findings.find((f) => f.id === 'backend-reset')).toMatchObject({ status: 'unknown' });
    // In nginx's own zone the same log is read.
    const same = await runCli(['probe', '--json', '--since', '10m', '--nginx-bin', nginx!, '--nginx-conf', conf, 'error-log']);
    expect((JSON.parse(same.stdout) as { probes: Array<{ status: string }> }).probes[0]).toMatchObject({ status: 'ok' });
  }, 30_000);

  it('a binary file given as the error log is "could not tell", not "no upstream errors"', async () => {
    // Bytes 0..255 over and over: 257 "lines" (256 newlines), none an nginx error line (no timestamp, so all of it is read).
    const binary = join(lab.dir, 'binary.log');
    await writeFile(binary, Buffer.from(Array.from({ length: 64 * 1024 }, (_, i) => i % 256)));
    const { report } = await diagnose('--error-log', binary);
    const errorLog = report.probes.find((p) => p.id === 'error-log')!;
    expect(errorLog).toMatchObject({ status: 'unavailable', reason: expect.stringContaining(`${binary}: 257 of 257 line(s) read are not nginx error-log lines`) });
    expect(report.findings.filter((f) => f.status === 'ruled-out').map((f) => f.id)).not.toEqual(expect.arrayContaining(['backend-reset']));
    expect(report.findings.find((f) => f.id === 'backend-reset')).toMatchObject({ status: 'unknown' });
    // inspect errors says the same instead of "No upstream errors".
    const inspect = await runCli(['inspect', 'errors', '--error-log', binary]);
    expect(inspect.stdout).toContain('does not look like an nginx error log');
    expect(inspect.stdout).not.toContain('No upstream errors');
  }, 30_000);

  it('an error log whose rotation in the window could not be read (.xz) rules nothing out on it', async () => {
    const logs = join(lab.dir, 'rotated');
    await mkdir(logs);
    const line = (ms: number) => `${formatLocal(ms)} [error] 7#7: *1 connect() failed (111: Connection refused) while connecting to upstream, client: 127.0.0.1, server: , request: "GET /api/orders HTTP/1.1", upstream: "http://127.0.0.1:${apiPort}/api/orders", host: "127.0.0.1"\n`;
    const now = Date.now();
    await writeFile(join(logs, 'error.log'), line(now - 60_000));
    await writeFile(join(logs, 'error.log.1'), line(now - 5 * 60_000));
    await writeFile(join(logs, 'error.log.2.xz'), execFileSync('xz', ['-z', '-c'], { input: line(now - 8 * 60_000) }));
    const { report } = await diagnose('--since', '10m', '--error-log', join(logs, 'error.log'));
    const gap = `${logs}/error.log.2.xz in the window was not read`;
    expect(report.findings.find((f) => f.id === 'upstream-timeout')).toMatchObject({ status: 'unknown', summary: expect.stringContaining(`could not tell: ${gap}`) });
    expect(report.findings.find((f) => f.id === 'backend-reset')).toMatchObject({ status: 'unknown', summary: expect.stringContaining(gap) });
    // What was read still confirms: both backends are down.
    expect(report.findings.find((f) => f.id === 'backend-down')).toMatchObject({ status: 'confirmed' });
  }, 30_000);

  it('nginx-runtime finds this nginx: master, worker, clean config test, capacity', async () => {
    const run = await runCli(['probe', '--json', '--nginx-bin', nginx!, '--nginx-conf', conf, 'nginx-runtime']);
    const { probes } = JSON.parse(run.stdout) as { probes: Array<{ id: string; status: string; facts: Record<string, unknown> }> };
    const runtime = probes.find((p) => p.id === 'nginx-runtime')!;
    expect(runtime).toMatchObject({ status: 'ok', facts: { running: true, masterPid: nginxPid, configTest: 'ok', workerConnections: 128, connectionsExceedFiles: false } });
    expect(runtime.facts['workers']).toHaveLength(1);
    expect(runtime.facts['workerOpenFilesLimit']).toBeGreaterThan(128);
  });

  it.skipIf(process.getuid?.() !== 0)('as a non-root user, says which probes need root and the sudo command, instead of failing', async () => {
    const run = await runCli(['probe', '--json', '--passive', '--nginx-bin', nginx!, '--nginx-conf', conf], { uid: 65534, gid: 65534, env: { HOME: '/tmp' } });
    const { probes } = JSON.parse(run.stdout) as { probes: Array<{ id: string; status: string; reason?: string; sudoHint?: string; partial?: string; facts?: unknown }> };
    const byId = Object.fromEntries(probes.map((p) => [p.id, p]));
    expect(byId['nginx-test']).toMatchObject({ status: 'denied', sudoHint: `sudo ${nginx} -t -c ${conf}` });
    expect(byId['nginx-config']).toMatchObject({ status: 'denied', sudoHint: `sudo ${nginx} -T -c ${conf}` });
    expect(byId['listening-sockets']).toMatchObject({ status: 'ok', partial: expect.stringContaining('not root') });
    // No /sys/fs/selinux here: a fact (nothing can deny nginx), not a check that could not run.
    expect(byId['selinux']).toMatchObject({ status: 'ok', facts: { mode: 'disabled' } });
    for (const probe of probes) expect(['ok', 'unavailable', 'denied', 'timeout'], `${probe.id}: ${probe.reason}`).toContain(probe.status);
    expect(run.code).toBe(1);
  });

  it('a --nginx-conf that does not exist is bad input: exit 2 naming it, before any probe runs', async () => {
    const missing = join(lab.dir, 'missing.conf');
    for (const command of [['diagnose', '--json'], ['probe'], ['inspect', 'errors']]) {
      const run = await runCli([...command, '--nginx-bin', nginx!, '--nginx-conf', missing]);
      expect(run.code).toBe(2);
      expect(run.stderr).toBe(`reset-doctor: --nginx-conf ${missing}: no such file\n`);
      expect(run.stdout).toBe('');
    }
  }, 30_000);

  it('says "unknown", not "down", when neither nginx -T nor its own parser can read the config', async () => {
    const broken = join(lab.dir, 'broken.conf');
    await writeFile(broken, 'events {}\nhttp {\n  server {\n    listen 127.0.0.1:1\n  }\n}\n');
    const { code, report } = await diagnose('--nginx-conf', broken);
    expect(code).toBe(1);
    expect(report.findings).toMatchObject([
      { id: 'nginx-config-invalid', status: 'confirmed', summary: expect.stringMatching(/^the running nginx still serves its last good config: do not reload until this is fixed/) },
      { id: 'backend-down', status: 'unknown', summary: expect.stringContaining('broken.conf') },
    ]);
    expect(report.path.at(-1)).toBe('end-unknown');
  }, 30_000);

  it('inspect errors reads the logs a config names even when nginx rejects that config', async () => {
    const rejected = join(lab.dir, 'rejected.conf');
    await writeFile(rejected, (await readFile(conf, 'utf8')) + 'bogus_directive on;\n');
    const run = await runCli(['inspect', 'errors', '--nginx-bin', nginx!, '--nginx-conf', rejected]);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.stdout).toContain(`${lab.dir}/error.log`);
    expect(run.stdout).toContain('note: nginx rejects the config (unknown directive "bogus_directive"');
  }, 30_000);
});
