import { spawn, type ChildProcess } from 'node:child_process';
import { execFileSync } from 'node:child_process';
import { mkdir, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { runCli } from '../support/cli.js';
import { PROBES } from '../../probes/index.js';
import { createLab, findNginx, freePort, hasCommand, waitForListen, type Lab } from '../support/lab.js';
import { describeWithTools } from '../support/tools.js';

const nginx = findNginx();
const missing = [...(nginx ? [] : ['nginx']), ...(hasCommand('gunicorn') ? [] : ['gunicorn'])];

describeWithTools('backend-process and keepalive-measure against a real Node and a real gunicorn', missing, () => {
  let lab: Lab;
  let conf: string;
  let nodePort: number;
  let gunicornPort: number;
  const children: ChildProcess[] = [];

  beforeAll(async () => {
    lab = await createLab('backends');
    [nodePort, gunicornPort] = [await freePort(), await freePort()];
    const node = spawn(process.execPath, ['-e', `const s = require('http').createServer((q, r) => r.end('ok')); s.keepAliveTimeout = 1000; s.listen(${nodePort}, '127.0.0.1');`], { stdio: 'ignore' });
    await writeFile(join(lab.dir, 'wsgi.py'), 'def app(environ, start_response):\n    start_response("200 OK", [("Content-Type", "text/plain")])\n    return [b"ok"]\n');
    const gunicorn = spawn('gunicorn', ['-k', 'gthread', '--threads', '2', '--keep-alive', '2', '-w', '2', '-b', `127.0.0.1:${gunicornPort}`, '--chdir', lab.dir, 'wsgi:app'], { stdio: 'ignore' });
    children.push(node, gunicorn);
    await waitForListen({ port: nodePort });
    await waitForListen({ port: gunicornPort }, 15_000);
    ({ conf } = await lab.startNginx({
      http: `upstream node_app {\n  server 127.0.0.1:${nodePort};\n  keepalive 4;\n  keepalive_timeout 5s;\n}\nupstream py_app {\n  server 127.0.0.1:${gunicornPort};\n  keepalive 4;\n  keepalive_timeout 5s;\n}`,
      server: `location / {\n  proxy_pass http://node_app;\n}\nlocation /py/ {\n  proxy_pass http://py_app;\n}`,
    }));
  }, 30_000);

  afterAll(async () => {
    for (const child of children) child.kill('SIGTERM');
    await lab?.cleanup();
  });

  it('finds each backend by port, with its kind, workers and implied idle timeout; measures the real one', async () => {
    const run = await runCli(['probe', '--json', '--nginx-bin', nginx!, '--nginx-conf', conf, 'backend-process', 'keepalive-measure'], { timeoutMs: 30_000 });
    const { probes } = JSON.parse(run.stdout) as { probes: Array<{ id: string; status: string; facts: Record<string, unknown> }> };
    const byId = Object.fromEntries(probes.map((p) => [p.id, p]));
    const processes = byId['backend-process']!.facts['backends'] as Array<Record<string, unknown>>;
    const node = processes.find((b) => b['address'] === `127.0.0.1:${nodePort}`)!;
    const py = processes.find((b) => b['address'] === `127.0.0.1:${gunicornPort}`)!;
    expect(node).toMatchObject({ listening: true, kind: 'node', idleTimeoutSec: 5, inferred: true, pid: children[0]!.pid });
    expect(py).toMatchObject({ listening: true, kind: 'gunicorn', workerClass: 'gthread', idleTimeoutSec: 2, idleTimeoutSource: 'flag', inferred: false, pid: children[1]!.pid });
    expect((py['workers'] as unknown[]).length).toBe(2);

    const measured = byId['keepalive-measure']!.facts['measurements'] as Array<{ address: string; idleTimeoutSec: number; closedBy: string; statusLine: string; capSec: number }>;
    const nodeIdle = measured.find((m) => m.address === `127.0.0.1:${nodePort}`)!;
    const pyIdle = measured.find((m) => m.address === `127.0.0.1:${gunicornPort}`)!;
    // Node 20 closes about 1 s after keepAliveTimeout (1000 ms here).
    expect(nodeIdle).toMatchObject({ closedBy: 'fin', statusLine: 'HTTP/1.1 200 OK', capSec: 6 });
    expect(nodeIdle.idleTimeoutSec).toBeGreaterThanOrEqual(1.7);
    expect(nodeIdle.idleTimeoutSec).toBeLessThanOrEqual(2.3);
    // gunicorn's gthread worker reaps idle connections from a loop that wakes about once a second.
    expect(pyIdle.closedBy).toBe('fin');
    expect(pyIdle.idleTimeoutSec).toBeGreaterThanOrEqual(1.7);
    expect(pyIdle.idleTimeoutSec).toBeLessThanOrEqual(3.3);
  }, 30_000);

  it('without ss on PATH, finds the listeners through /proc', async () => {
    const bin = join(lab.dir, 'bin-without-ss');
    await mkdir(bin);
    for (const tool of ['ps', 'ip', 'getent']) {
      const found = execFileSync('sh', ['-c', `command -v ${tool}`], { encoding: 'utf8' }).trim();
      await symlink(found, join(bin, tool));
    }
    const run = await runCli(['probe', '--json', '--nginx-bin', nginx!, '--nginx-conf', conf, 'backend-process', 'backend-listeners'], { env: { PATH: bin } });
    const { probes } = JSON.parse(run.stdout) as { probes: Array<{ id: string; status: string; partial?: string; facts: Record<string, unknown> }> };
    const byId = Object.fromEntries(probes.map((p) => [p.id, p]));
    expect(byId['listening-sockets']).toMatchObject({ status: 'ok', partial: expect.stringContaining('ss not installed') });
    expect(byId['backend-process']).toMatchObject({ status: 'ok', facts: { via: 'proc' } });
    const node = (byId['backend-process']!.facts['backends'] as Array<Record<string, unknown>>).find((b) => b['address'] === `127.0.0.1:${nodePort}`);
    expect(node).toMatchObject({ listening: true, kind: 'node', pid: children[0]!.pid });
    expect(byId['backend-listeners']).toMatchObject({ status: 'ok', facts: { downCount: 0, listeningCount: 2 } });
  });

  it('probe --json runs the whole catalog: every probe ends with a status, none in error', async () => {
    const run = await runCli(['probe', '--json', '--nginx-bin', nginx!, '--nginx-conf', conf], { timeoutMs: 40_000 });
    const { probes } = JSON.parse(run.stdout) as { probes: Array<{ id: string; status: string; reason?: string; command: string }> };
    expect(probes.map((p) => p.id).sort()).toEqual([...PROBES.keys()].sort());
    for (const probe of probes) expect(['ok', 'unavailable', 'denied'], `${probe.id}: ${probe.reason}`).toContain(probe.status);
    expect(probes.find((p) => p.id === 'nginx-runtime')!.status).toBe('ok');
    expect(probes.find((p) => p.id === 'listen-queue')!.status).toBe('ok');
  }, 45_000);

  it('--passive opens no connection', async () => {
    const run = await runCli(['probe', '--json', '--passive', '--nginx-bin', nginx!, '--nginx-conf', conf, 'keepalive-measure']);
    const { probes } = JSON.parse(run.stdout) as { probes: Array<{ id: string; status: string; reason?: string }> };
    expect(probes.find((p) => p.id === 'keepalive-measure')).toMatchObject({ status: 'unavailable', reason: '--passive: no connections are opened to backends' });
  });
});
