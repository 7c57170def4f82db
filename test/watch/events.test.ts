/**
 * The events beside the counts, from real processes: a lab nginx reloaded
 * (SIGHUP: new workers under the same master), a backend stopped and a new
 * one started on its port (restart), a change record written to the state
 * dir, and the history of the first poll.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { RealHost } from '../../src/host/realHost.js';
import { EventWatcher, type WatchEvent } from '../../src/watch/events.js';
import { createLab, findNginx, freePort, hasCommand, waitForListen, type Lab } from '../support/lab.js';
import { describeWithTools } from '../support/tools.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const missing = [...(findNginx() ? [] : ['nginx']), ...(hasCommand('ss') ? [] : ['ss'])];

describeWithTools('watch events from real processes', missing, () => {
  let lab: Lab;
  let state: string;
  let conf: string;
  let nginxPid: number;
  let appPort: number;
  const children: ChildProcess[] = [];
  const startApp = async () => {
    const child = spawn(process.execPath, ['-e', `require('http').createServer((q, r) => r.end('ok')).listen(${appPort}, '127.0.0.1')`], { stdio: 'ignore' });
    children.push(child);
    await waitForListen({ port: appPort });
    return child;
  };

  beforeAll(async () => {
    lab = await createLab('watch-events');
    state = await mkdtemp(join(tmpdir(), 'reset-doctor-state-'));
    appPort = await freePort();
    ({ conf, pid: nginxPid } = await lab.startNginx({ server: `location / { proxy_pass http://127.0.0.1:${appPort}; }` }));
  }, 30_000);

  afterAll(async () => {
    for (const c of children) c.kill('SIGKILL');
    await lab?.cleanup();
    await rm(state, { recursive: true, force: true });
  });

  it('reports nginx reloads, backend restarts and stops, and change records', async () => {
    const first = await startApp();
    const watcher = new EventWatcher(new RealHost(), { nginxConf: conf, backends: [{ address: `127.0.0.1:${appPort}`, kind: 'tcp', host: '127.0.0.1', port: appPort, path: null }], stateDir: state, sinceMs: Date.now() - 60_000 });
    const history = await watcher.poll();
    // Both started in the window: the first poll tells.
    expect(history.map((e) => e.kind)).toEqual(expect.arrayContaining(['nginx-start', 'backend-start']));
    expect(history.find((e) => e.kind === 'backend-start')!.text).toBe(`backend 127.0.0.1:${appPort} started (pid ${first.pid} node)`);

    process.kill(nginxPid, 'SIGHUP');
    await sleep(1500);
    let events = await watcher.poll();
    expect(events.map((e) => e.kind)).toEqual(['nginx-reload']);
    expect(events[0]!.text).toMatch(/^nginx reloaded: new workers \d+ \(were \d+\)$/);

    // Stopped and started again between two polls: a restart, with both pids.
    first.kill('SIGTERM');
    await sleep(300);
    const second = await startApp();
    await sleep(1100);
    events = await watcher.poll();
    expect(events).toEqual([expect.objectContaining({ kind: 'backend-restart', text: `backend 127.0.0.1:${appPort} restarted: pid ${first.pid} → ${second.pid} node` })]);

    second.kill('SIGTERM');
    await sleep(300);
    events = await watcher.poll();
    expect(events).toEqual([expect.objectContaining({ kind: 'backend-stop', text: `backend 127.0.0.1:${appPort} stopped listening (pid ${second.pid} is gone)` })]);

    await mkdir(join(state, 'changes', 'c1'), { recursive: true });
    const appliedAt = new Date().toISOString();
    await writeFile(join(state, 'changes', 'c1', 'record.json'), JSON.stringify({ id: 'c1', status: 'applied', appliedAt, files: [{ path: '/etc/nginx/conf.d/app.conf' }] }));
    events = await watcher.poll();
    expect(events).toEqual([{ atMs: Date.parse(appliedAt), kind: 'change', text: 'change c1 applied: /etc/nginx/conf.d/app.conf' } satisfies WatchEvent]);
    await writeFile(join(state, 'changes', 'c1', 'record.json'), JSON.stringify({ id: 'c1', status: 'rolled-back', appliedAt, files: [] }));
    events = await watcher.poll();
    expect(events.map((e) => e.text)).toEqual(['change c1 is now rolled-back (was applied)']);
    expect([...watcher.problems].filter((p) => !p.startsWith('kernel log'))).toEqual([]);
  }, 30_000);
});
