import { spawn, type ChildProcess } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import http from 'node:http';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { runCli } from '../support/cli.js';
import { createLab, findNginx, freePort, hasCommand, waitForListen, type Lab } from '../support/lab.js';
import { describeWithTools } from '../support/tools.js';
import { PACKAGE_ROOT } from '../../src/packageRoot.js';

const nginx = findNginx();
const missing = [...(nginx ? [] : ['nginx']), ...(hasCommand('gunicorn') ? [] : ['gunicorn'])];
const MISBEHAVE = join(PACKAGE_ROOT, 'dist', 'test', 'support', 'misbehave.js');

const get = (port: number, path: string) =>
  new Promise<number>((resolve) => {
    const req = http.get({ host: '127.0.0.1', port, path, agent: false }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', () => resolve(0));
  });

describeWithTools('a gunicorn worker killed mid-request, and a header too big for nginx', missing, () => {
  let lab: Lab;
  let conf: string;
  let nginxPort: number;
  let gunicornPort: number;
  let bigPort: number;
  const children: ChildProcess[] = [];

  beforeAll(async () => {
    lab = await createLab('crashes');
    [gunicornPort, bigPort] = [await freePort(), await freePort()];
    await writeFile(join(lab.dir, 'slow.py'), 'import time\n\ndef app(environ, start_response):\n    time.sleep(3)\n    start_response("200 OK", [("Content-Type", "text/plain")])\n    return [b"late"]\n');
    const gunicorn = spawn('gunicorn', ['-w', '1', '--timeout', '1', '--graceful-timeout', '1', '-b', `127.0.0.1:${gunicornPort}`, '--chdir', lab.dir, '--error-logfile', join(lab.dir, 'gunicorn.log'), 'slow:app'], { stdio: 'ignore' });
    const big = spawn(process.execPath, [MISBEHAVE, 'big-header', String(bigPort)], { stdio: 'ignore' });
    children.push(gunicorn, big);
    await waitForListen({ port: gunicornPort }, 15_000);
    await waitForListen({ port: bigPort });
    ({ conf, port: nginxPort } = await lab.startNginx({
      http: `upstream py {\n  server 127.0.0.1:${gunicornPort};\n}\nupstream profile {\n  server 127.0.0.1:${bigPort};\n}`,
      server: `location / {\n  proxy_pass http://py;\n}\nlocation /profile/ {\n  proxy_pass http://profile;\n}`,
    }));
    await delay(2500); // so the replacement worker is clearly younger than the ones forked at start
    expect(await get(nginxPort, '/orders/42')).toBe(502);
    expect(await get(nginxPort, '/profile/me')).toBe(502);
    await delay(1500); // gunicorn replaces the killed worker
  }, 40_000);

  afterAll(async () => {
    for (const child of children) child.kill('SIGTERM');
    await lab?.cleanup();
  });

  it('backend-restarts finds the WORKER TIMEOUT and the replaced worker; header-size measures the header', async () => {
    const run = await runCli(['probe', '--json', '--since', '10m', '--nginx-bin', nginx!, '--nginx-conf', conf, 'error-log', 'backend-restarts', 'header-size'], { timeoutMs: 30_000 });
    const { probes } = JSON.parse(run.stdout) as { probes: Array<{ id: string; status: string; facts: Record<string, unknown> }> };
    const byId = Object.fromEntries(probes.map((p) => [p.id, p]));
    expect(byId['error-log']).toMatchObject({ status: 'ok', facts: { counts: { 'premature-close-header': 1, 'too-big-header': 1 } } });
    const restarts = (byId['backend-restarts']!.facts['backends'] as Array<{ address: string; workersRestarted: number; crashLines: Array<{ kind: string; source: string }>; logFile: string }>).find((b) => b.address === `127.0.0.1:${gunicornPort}`)!;
    expect(restarts.logFile).toBe(join(lab.dir, 'gunicorn.log'));
    expect(restarts.crashLines.map((c) => c.kind)).toContain('worker-timeout');
    expect(restarts.workersRestarted).toBe(1);
    const checks = byId['header-size']!.facts['checks'] as Array<{ peer: string; path: string; headerBytes: number; proxyBufferSizeBytes: number; fits: boolean; suggestedBufferSize: string }>;
    expect(checks).toHaveLength(1);
    expect(checks[0]).toMatchObject({ peer: `127.0.0.1:${bigPort}`, path: '/profile/me', proxyBufferSizeBytes: 4096, fits: false, suggestedBufferSize: '16k' });
    expect(checks[0]!.headerBytes).toBeGreaterThan(10_000);
  }, 40_000);
});
