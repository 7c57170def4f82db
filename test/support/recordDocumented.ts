/**
 * Records the lab scenarios this machine cannot produce: `npm run
 * record-documented`. nginx, its backend, its config, its access log, ps and
 * ss are real; what an SELinux, AppArmor or conntrack-limited host would add
 * is written from the documented formats (../shared/reference
 * nginx-upstream-errors.md §6–7, the audit and kernel message formats) and
 * overlaid: the kernel's files and tools answer from the documentation, and
 * the error lines nginx would have logged are appended to its real error log.
 * The recordings are saved as test/lab/recorded/NAME.documented.json.
 */
import { appendFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { RealHost } from '../../src/host/realHost.js';
import { RecordingHost } from '../../src/host/recordingHost.js';
import { saveRecording } from '../../src/host/recordingFile.js';
import { resolveFlow } from '../../src/flow/resolve.js';
import { Session } from '../../src/session.js';
import { runHeadless } from '../../src/cli/headless.js';
import { PACKAGE_ROOT } from '../../src/packageRoot.js';
import { PROBES } from '../../probes/index.js';
import { createLab, findNginx, freePort, type Lab } from './lab.js';
import { OverlayHost, type Overlays } from './overlayHost.js';
import { trimProcesses } from './trimRecording.js';
import { request } from '../lab/scenarios.js';

export const DOCUMENTED_DIR = join(PACKAGE_ROOT, 'test', 'lab', 'recorded');

interface Setup {
  conf: string;
  nginxPort: number;
  nginxPid: number;
  /** The backend as nginx names it in its error log: 127.0.0.1:PORT or unix:/path. */
  peer: string;
  port: number | null;
  socket: string | null;
}

export interface DocumentedScenario {
  name: string;
  description: string;
  /** What the diagnosis of the recording must confirm, and nothing else. */
  confirmed: string[];
  setup(lab: Lab): Promise<Setup>;
  /** Error-log lines nginx would have written (without time and pid), oldest first. */
  errorLines(setup: Setup): string[];
  /** What the client got for each of those requests, as nginx's access log records it. */
  response: { status: 502 | 504; upstreamResponseTime: string };
  overlays(setup: Setup, now: Date): Overlays;
}

const pad = (n: number, width = 2) => String(n).padStart(width, '0');
/** nginx's error-log time: local, to the second. */
const nginxTime = (d: Date) => `${d.getFullYear()}/${pad(d.getMonth() + 1)}/${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
/** journalctl -o short-iso-precise. */
const journalTime = (d: Date) => d.toISOString().replace('Z', '000+00:00');
const auditStamp = (d: Date, serial: number) => `audit(${Math.floor(d.getTime() / 1000)}.${pad(d.getMilliseconds(), 3)}:${serial})`;
const ago = (now: Date, seconds: number) => new Date(now.getTime() - seconds * 1000);

const tcpUpstream = async (lab: Lab): Promise<Setup> => {
  const port = await freePort();
  await lab.startBackend({ port });
  const { conf, port: nginxPort, pid } = await lab.startNginx({ http: `upstream api {\n  server 127.0.0.1:${port};\n}`, server: 'location / {\n  proxy_pass http://api;\n}' });
  return { conf, nginxPort, nginxPid: pid, peer: `127.0.0.1:${port}`, port, socket: null };
};

/** `journalctl -k` answering with these kernel lines; its other uses (-u UNIT) stay real. */
const kernelJournal = (lines: Array<[Date, string]>) => ({
  file: 'journalctl',
  argsPrefix: ['-k'],
  result: { stdout: lines.map(([at, text]) => `${journalTime(at)} web1 kernel: ${text}`).join('\n') + '\n', stderr: '', exitCode: 0 },
});

export const DOCUMENTED: DocumentedScenario[] = [
  {
    name: 'selinux-denied',
    description:
      'SELinux enforcing, httpd_can_network_connect off: nginx (httpd_t) is denied name_connect to its backend port. Documented: /sys/fs/selinux, ausearch, semanage and the [crit] error lines; real: nginx, the backend, ss, ps and the access log.',
    confirmed: ['selinux-denied'],
    setup: tcpUpstream,
    // A denied connect() fails at once: nginx answers 502 having spent no time on the upstream.
    response: { status: 502, upstreamResponseTime: '0.000' },
    errorLines: (s) =>
      ['POST /checkout', 'GET /cart', 'POST /checkout'].map(
        (r, i) => `[crit] ${s.nginxPid}#${s.nginxPid}: *${i + 3} connect() to ${s.peer} failed (13: Permission denied) while connecting to upstream, client: 127.0.0.1, server: _, request: "${r} HTTP/1.1", upstream: "http://${s.peer}${r.split(' ')[1]}", host: "127.0.0.1:${s.nginxPort}"`,
      ),
    overlays: (s, now) => ({
      files: {
        '/sys/fs/selinux/enforce': '1',
        '/sys/fs/selinux/booleans/httpd_can_network_connect': '0 0',
      },
      commands: [
        {
          file: 'ausearch',
          argsPrefix: ['-m', 'avc'],
          result: {
            // ausearch's default output: records separated by "----", each opened by a time-> line.
            stdout: [3, 2, 1]
              .map((secondsAgo, i) => {
                const at = ago(now, secondsAgo);
                return `----\ntime->${at.toUTCString()}\ntype=AVC msg=${auditStamp(at, 2190 + i)}: avc:  denied  { name_connect } for  pid=${s.nginxPid + 1} comm="nginx" dest=${s.port} scontext=system_u:system_r:httpd_t:s0 tcontext=system_u:object_r:unreserved_port_t:s0 tclass=tcp_socket permissive=0`;
              })
              .join('\n') + '\n',
            stderr: '',
            exitCode: 0,
          },
        },
        {
          file: 'semanage',
          argsPrefix: ['port', '-l'],
          result: {
            stdout: 'SELinux Port Type              Proto    Port Number\n\nhttp_cache_port_t              tcp      8080, 8118, 8123, 10001-10010\nhttp_port_t                    tcp      80, 81, 443, 488, 8008, 8009, 8443, 9000\nunreserved_port_t              tcp      61000-61001, 1024-32767\nssh_port_t                     tcp      22\n',
            stderr: '',
            exitCode: 0,
          },
        },
      ],
    }),
  },
  {
    name: 'apparmor-denied',
    description:
      "AppArmor enforcing a profile on nginx that lacks the backend's unix socket: connect is DENIED. Documented: /sys/module/apparmor, aa-status, the kernel audit lines and the [crit] error lines; real: nginx, the backend on its socket, ss, ps and the access log.",
    confirmed: ['apparmor-denied'],
    response: { status: 502, upstreamResponseTime: '0.000' },
    async setup(lab) {
      const socket = join(lab.dir, 'app.sock');
      await lab.startBackend({ path: socket });
      const { conf, port: nginxPort, pid } = await lab.startNginx({ http: `upstream app {\n  server unix:${socket};\n}`, server: 'location / {\n  proxy_pass http://app;\n}' });
      return { conf, nginxPort, nginxPid: pid, peer: `unix:${socket}`, port: null, socket };
    },
    errorLines: (s) =>
      ['GET /index.php', 'GET /login'].map(
        (r, i) => `[crit] ${s.nginxPid}#${s.nginxPid}: *${i + 3} connect() to ${s.peer} failed (13: Permission denied) while connecting to upstream, client: 127.0.0.1, server: _, request: "${r} HTTP/1.1", upstream: "http://${s.peer}:${r.split(' ')[1]}", host: "127.0.0.1:${s.nginxPort}"`,
      ),
    overlays: (s, now) => ({
      files: { '/sys/module/apparmor/parameters/enabled': 'Y\n' },
      commands: [
        {
          file: 'aa-status',
          argsPrefix: [],
          result: {
            stdout: `apparmor module is loaded.\n12 profiles are loaded.\n12 profiles are in enforce mode.\n   /usr/sbin/nginx\n   /usr/bin/man\n0 profiles are in complain mode.\n0 profiles are in kill mode.\n0 profiles are in unconfined mode.\n2 processes have profiles defined.\n2 processes are in enforce mode.\n   /usr/sbin/nginx (${s.nginxPid}) \n   /usr/sbin/nginx (${s.nginxPid + 1}) \n0 processes are in complain mode.\n0 processes are unconfined but have a profile defined.\n`,
            stderr: '',
            exitCode: 0,
          },
        },
        kernelJournal(
          [2, 1].map((secondsAgo, i) => [
            ago(now, secondsAgo),
            `audit: type=1400 ${auditStamp(ago(now, secondsAgo), 412 + i)}: apparmor="DENIED" operation="connect" class="net" profile="/usr/sbin/nginx" pid=${s.nginxPid + 1} comm="nginx" family="unix" sock_type="stream" protocol=0 requested_mask="send receive connect" denied_mask="send connect" addr=none peer_addr="${s.socket}" peer="unconfined"`,
          ]),
        ),
      ],
    }),
  },
  {
    name: 'conntrack-full',
    description:
      'The conntrack table is full: the kernel drops new connections, nginx times out connecting. Documented: nf_conntrack_count/max, the "table full" kernel lines and the connect-timeout error lines; real: nginx, the backend, ss, ps and the access log.',
    // The timeouts are real too: conntrack-full is why, and the timeout fix says so.
    confirmed: ['conntrack-full', 'upstream-timeout'],
    setup: tcpUpstream,
    // The SYN is dropped, so nginx waits out proxy_connect_timeout (60 s by default) and answers 504.
    response: { status: 504, upstreamResponseTime: '60.001' },
    errorLines: (s) =>
      ['GET /api/orders', 'GET /api/orders/7'].map(
        (r, i) => `[error] ${s.nginxPid}#${s.nginxPid}: *${i + 3} upstream timed out (110: Connection timed out) while connecting to upstream, client: 127.0.0.1, server: _, request: "${r} HTTP/1.1", upstream: "http://${s.peer}${r.split(' ')[1]}", host: "127.0.0.1:${s.nginxPort}"`,
      ),
    overlays: (_s, now) => ({
      files: {
        '/proc/sys/net/netfilter/nf_conntrack_count': '262144\n',
        '/proc/sys/net/netfilter/nf_conntrack_max': '262144\n',
      },
      // The doubled prefix is what most kernels print (the reference, §7).
      commands: [kernelJournal([4, 3, 2, 1].map((secondsAgo) => [ago(now, secondsAgo), 'nf_conntrack: nf_conntrack: table full, dropping packet']))],
    }),
  },
];

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
/** nginx's $time_local: 21/Nov/2026:11:39:00 +0000. */
const timeLocal = (d: Date) => {
  const offset = -d.getTimezoneOffset();
  const sign = offset < 0 ? '-' : '+';
  const zone = `${sign}${pad(Math.floor(Math.abs(offset) / 60))}${pad(Math.abs(offset) % 60)}`;
  return `${pad(d.getDate())}/${MONTHS[d.getMonth()]}/${d.getFullYear()}:${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())} ${zone}`;
};

/** The access-log line (the lab's upstreamlog format) of the request an error line names. */
function accessLine(errorLine: string, setup: Setup, response: DocumentedScenario['response'], at: Date): string {
  const request = /request: "([^"]+)"/.exec(errorLine)?.[1];
  if (!request) throw new Error(`recordDocumented: no request in ${errorLine}`);
  return `127.0.0.1 [${timeLocal(at)}] "${request}" ${response.status} upstream=${setup.peer} us="${response.status}" urt=${response.upstreamResponseTime}\n`;
}

async function record(scenario: DocumentedScenario, nginxBin: string): Promise<void> {
  const lab = await createLab(`documented-${scenario.name}`, '/tmp/reset-doctor-documented');
  try {
    const setup = await scenario.setup(lab);
    for (let i = 0; i < 2; i++) await request(setup.nginxPort, `/items/${i}`);
    // The documented events happen in the last few seconds, all after the backend started: a line
    // dated before its start would read as a backend replaced mid-incident.
    await delay(5000);
    const now = new Date();
    const lines = scenario.errorLines(setup);
    await appendFile(join(lab.dir, 'error.log'), lines.map((line, i) => `${nginxTime(ago(now, lines.length - i))} ${line}\n`).join(''));
    await appendFile(join(lab.dir, 'access.log'), lines.map((line, i) => accessLine(line, setup, scenario.response, ago(now, lines.length - i))).join(''));
    const host = new RecordingHost(new OverlayHost(new RealHost(), scenario.overlays(setup, now)));
    const flow = await resolveFlow('reset-by-peer');
    const options = { nginxBin, nginxConf: setup.conf, errorLogs: [join(lab.dir, 'error.log')], sinceMs: 5 * 60_000 };
    const session = new Session({ flow, host, options, registry: PROBES });
    const state = await runHeadless(session, flow, new Map());
    await session.settle();
    const recording = trimProcesses(host.toRecording({ ...options, flow: flow.id }, `${scenario.description} (documented recording)`));
    await saveRecording(join(DOCUMENTED_DIR, `${scenario.name}.documented.json`), recording);
    process.stdout.write(`${scenario.name}: ${state.path.map((s) => s.node).join(' → ')}\n`);
  } finally {
    await lab.cleanup();
  }
}

if (process.argv[1]?.endsWith('recordDocumented.js')) {
  const nginx = findNginx();
  if (!nginx) {
    process.stderr.write('recordDocumented: nginx is not installed (apt-get install nginx-light)\n');
    process.exit(2);
  }
  for (const scenario of DOCUMENTED) await record(scenario, nginx);
}
