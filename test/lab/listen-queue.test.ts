import { spawn, type ChildProcess } from 'node:child_process';
import net from 'node:net';
import { setTimeout as delay } from 'node:timers/promises';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { runCli } from '../support/cli.js';
import { createLab, findNginx, freePort, hasCommand, type Lab } from '../support/lab.js';
import { describeWithTools } from '../support/tools.js';

const nginx = findNginx();
const missing = [...(nginx ? [] : ['nginx']), ...(hasCommand('python3') ? [] : ['python3'])];

describeWithTools('listen-queue sees a backend whose accept queue overflows under load', missing, () => {
  let lab: Lab;
  let conf: string;
  let port: number;
  let backend: ChildProcess;

  beforeAll(async () => {
    lab = await createLab('listen-queue');
    port = await freePort();
    // A backend that listens with a backlog of 1 and never accepts: the queue fills at once.
    backend = spawn('python3', ['-c', `import socket, time\ns = socket.socket()\ns.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)\ns.bind(('127.0.0.1', ${port}))\ns.listen(1)\ntime.sleep(60)\n`], { stdio: 'ignore' });
    await delay(300);
    ({ conf } = await lab.startNginx({ http: `upstream slow {\n  server 127.0.0.1:${port};\n}`, server: 'location / {\n  proxy_pass http://slow;\n}' }));
  }, 30_000);

  afterAll(async () => {
    backend?.kill('SIGKILL');
    await lab?.cleanup();
  });

  it('reports Recv-Q at the backlog and a rising ListenOverflows rate', async () => {
    const sockets: net.Socket[] = [];
    let load = true;
    // Concurrent connection attempts while the probe samples the counters (bounded: 4 s, loopback only).
    const loader = (async () => {
      const until = Date.now() + 4500;
      while (load && Date.now() < until) {
        const socket = net.connect(port, '127.0.0.1');
        socket.on('error', () => undefined);
        sockets.push(socket);
        await delay(20);
      }
    })();
    await delay(300);
    const run = await runCli(['probe', '--json', '--nginx-bin', nginx!, '--nginx-conf', conf, 'listen-queue']);
    load = false;
    await loader;
    for (const socket of sockets) socket.destroy();
    const { probes } = JSON.parse(run.stdout) as { probes: Array<{ id: string; status: string; facts: { overflowsPerSec: number; queues: Array<{ address: string; recvQ: number; sendQ: number; full: boolean }>; counters: Record<string, { perSec: number }> } }> };
    const probe = probes.find((p) => p.id === 'listen-queue')!;
    expect(probe.status).toBe('ok');
    const queue = probe.facts.queues.find((q) => q.address === `127.0.0.1:${port}`)!;
    expect(queue.sendQ).toBe(1);
    expect(queue.recvQ).toBeGreaterThanOrEqual(queue.sendQ);
    expect(queue.full).toBe(true);
    expect(probe.facts.overflowsPerSec).toBeGreaterThan(0);
  }, 30_000);
});
