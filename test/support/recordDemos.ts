/**
 * Records the demo scenarios from a real nginx and real backends on this
 * machine: `npm run record-demos`. Each lab is set up, the real flow runs
 * headless through a RecordingHost, and the recording is saved to
 * src/demo/recordings/NAME.json. The only edit is to ps output, trimmed to
 * the lab's own processes so no unrelated command line ships in the repo.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { RealHost } from '../../src/host/realHost.js';
import { RecordingHost } from '../../src/host/recordingHost.js';
import { saveRecording } from '../../src/host/recordingFile.js';
import { resolveFlow } from '../../src/flow/resolve.js';
import { Session } from '../../src/session.js';
import { runHeadless } from '../../src/cli/headless.js';
import { DEMO_DIR } from '../../src/packageRoot.js';
import { PROBES } from '../../probes/index.js';
import { createLab, findNginx, freePort, waitForListen, type Lab } from './lab.js';
import { trimProcesses } from './trimRecording.js';

interface Scenario {
  name: string;
  description: string;
  setup(lab: Lab): Promise<{ conf: string; port: number }>;
}

const SCENARIOS: Scenario[] = [
  {
    name: 'backend-down',
    description: 'upstream "api" has nothing listening (its Node backend was stopped); a second backend is up',
    async setup(lab) {
      const [apiPort, staticPort] = [await freePort(), await freePort()];
      await lab.startBackend({ port: staticPort });
      return lab.startNginx({
        http: `upstream api {\n  server 127.0.0.1:${apiPort};\n  keepalive 16;\n  keepalive_timeout 4s;\n}`,
        server: `location / {\n  proxy_pass http://api;\n  proxy_http_version 1.1;\n  proxy_set_header Connection "";\n}\nlocation /static/ {\n  proxy_pass http://127.0.0.1:${staticPort};\n}`,
      });
    },
  },
  {
    name: 'stale-unix-socket',
    description: 'the backend behind a unix socket was killed: the socket file is still there, nothing listens on it',
    async setup(lab) {
      const socket = join(lab.dir, 'app.sock');
      const backend = await lab.startBackend({ path: socket });
      backend.kill('SIGKILL'); // a crash: the socket file stays behind
      await new Promise((resolve) => backend.once('exit', resolve));
      return lab.startNginx({
        http: `upstream app {\n  server unix:${socket};\n}`,
        server: `location / {\n  proxy_pass http://app;\n}`,
      });
    },
  },
  {
    name: 'healthy',
    description: 'nginx and its Node backend are both up, keep-alive timeouts in the right order: nothing to find',
    async setup(lab) {
      const apiPort = await freePort();
      await lab.startBackend({ port: apiPort });
      return lab.startNginx({
        // Node closes idle connections after 5 s; nginx gives them up after 4 s.
        http: `upstream api {\n  server 127.0.0.1:${apiPort};\n  keepalive 16;\n  keepalive_timeout 4s;\n}`,
        server: `location / {\n  proxy_pass http://api;\n  proxy_http_version 1.1;\n  proxy_set_header Connection "";\n}`,
      });
    },
  },
];

async function record(scenario: Scenario, nginxBin: string): Promise<void> {
  const lab = await createLab(scenario.name, '/tmp/reset-doctor-demo');
  try {
    const { conf, port } = await scenario.setup(lab);
    await waitForListen({ port });
    await request(port); // one real request, so nginx's error log holds what the scenario does to traffic
    const host = new RecordingHost(new RealHost());
    const flow = await resolveFlow('reset-by-peer');
    // A short window keeps unrelated kernel messages of the recording machine out of the demo.
    const options = { nginxBin, nginxConf: conf, errorLogs: [join(lab.dir, 'error.log')], sinceMs: 5 * 60_000 };
    const session = new Session({ flow, host, options, registry: PROBES });
    const state = await runHeadless(session, flow, new Map());
    await session.settle();
    const recording = trimProcesses(host.toRecording({ ...options, flow: flow.id }, scenario.description));
    await saveRecording(join(DEMO_DIR, `${scenario.name}.json`), recording);
    process.stdout.write(`${scenario.name}: ${state.path.map((s) => s.node).join(' → ')}\n`);
  } finally {
    await lab.cleanup();
  }
}

function request(port: number): Promise<void> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['-e', `require('http').get('http://127.0.0.1:${port}/', (r) => { r.resume(); r.on('end', () => process.exit(0)); }).on('error', () => process.exit(0))`]);
    child.once('exit', () => resolve());
  });
}

const nginx = findNginx();
if (!nginx) {
  process.stderr.write('recordDemos: nginx is not installed (apt-get install nginx-light)\n');
  process.exit(2);
}
// `npm run record-demos -- NAME…` re-records only those.
const wanted = process.argv.slice(2);
const unknown = wanted.filter((name) => !SCENARIOS.some((s) => s.name === name));
if (unknown.length) {
  process.stderr.write(`recordDemos: no demo scenario ${unknown.join(', ')} (there are ${SCENARIOS.map((s) => s.name).join(', ')})\n`);
  process.exit(2);
}
for (const scenario of SCENARIOS.filter((s) => wanted.length === 0 || wanted.includes(s.name))) await record(scenario, nginx);
await delay(0);
