/**
 * `npm run record-network-path` (root): real `ping -M do` output across a
 * router, in network namespaces this script creates and deletes (A —1500—
 * R —1400— B): a path whose router reports "fragmentation needed" (path MTU
 * discovery works), one whose router stays silent (a PMTUD black hole), and
 * one where the far host ignores ICMP echo (nothing can be measured).
 */
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PACKAGE_ROOT } from '../../src/packageRoot.js';

const DIR = join(PACKAGE_ROOT, 'test', 'fixtures', 'commands');
const SIZES = [1472, 1372, 1172];
const FAR = '198.18.2.2';

const run = (...args: string[]) => execFileSync(args[0]!, args.slice(1), { encoding: 'utf8' });
const inNs = (ns: string, ...args: string[]) => run('ip', 'netns', 'exec', ns, ...args);

function up(extra: (ns: { a: string; r: string; b: string }) => void): { a: string; r: string; b: string } {
  const ns = { a: 'rdpA', r: 'rdpR', b: 'rdpB' };
  for (const n of Object.values(ns)) run('ip', 'netns', 'add', n);
  run('ip', 'link', 'add', 'rdp-a0', 'netns', ns.a, 'type', 'veth', 'peer', 'name', 'rdp-r0', 'netns', ns.r);
  run('ip', 'link', 'add', 'rdp-r1', 'netns', ns.r, 'mtu', '1400', 'type', 'veth', 'peer', 'name', 'rdp-b0', 'netns', ns.b, 'mtu', '1400');
  inNs(ns.a, 'ip', 'addr', 'add', '198.18.1.1/24', 'dev', 'rdp-a0');
  inNs(ns.r, 'ip', 'addr', 'add', '198.18.1.2/24', 'dev', 'rdp-r0');
  inNs(ns.r, 'ip', 'addr', 'add', '198.18.2.1/24', 'dev', 'rdp-r1');
  inNs(ns.b, 'ip', 'addr', 'add', `${FAR}/24`, 'dev', 'rdp-b0');
  for (const [n, dev] of [[ns.a, 'rdp-a0'], [ns.r, 'rdp-r0'], [ns.r, 'rdp-r1'], [ns.b, 'rdp-b0']] as const) inNs(n, 'ip', 'link', 'set', dev, 'up');
  inNs(ns.a, 'ip', 'route', 'add', 'default', 'via', '198.18.1.2');
  inNs(ns.b, 'ip', 'route', 'add', 'default', 'via', '198.18.2.1');
  inNs(ns.r, 'sysctl', '-qw', 'net.ipv4.ip_forward=1');
  extra(ns);
  return ns;
}

function down(ns: { a: string; r: string; b: string }): void {
  for (const n of Object.values(ns)) run('ip', 'netns', 'del', n);
}

function record(name: string, setup: (ns: { a: string; r: string; b: string }) => void, why: string): void {
  const ns = up(setup);
  try {
    for (const size of SIZES) {
      const args = ['ping', '-M', 'do', '-s', String(size), '-c', '3', '-W', '1', '-i', '0.2', FAR];
      let stdout = '';
      let stderr = '';
      let exitCode = 0;
      try {
        stdout = execFileSync('ip', ['netns', 'exec', ns.a, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
      } catch (error) {
        const e = error as { stdout: string; stderr: string; status: number };
        stdout = e.stdout;
        stderr = e.stderr;
        exitCode = e.status;
      }
      const fixture = { command: ['ip', 'netns', 'exec', 'rdpA', ...args], recordedAs: 'root', recordedOn: `Debian 12, iputils ping, network namespaces A —1500— R —1400— B: ${why} (test/support/recordNetworkPath.ts)`, stdout, stderr, exitCode };
      writeFileSync(join(DIR, `ping-${name}-${size}.json`), `${JSON.stringify(fixture, null, 1)}\n`);
      process.stdout.write(`ping-${name}-${size}: exit ${exitCode}\n`);
    }
  } finally {
    down(ns);
  }
}

record('frag-needed', () => undefined, 'the router answers too-big packets with ICMP "fragmentation needed"');
record('blackhole', (ns) => inNs(ns.r, 'iptables', '-A', 'OUTPUT', '-p', 'icmp', '--icmp-type', 'fragmentation-needed', '-j', 'DROP'), 'the router drops its own "fragmentation needed" messages: a path MTU discovery black hole');
record('filtered', (ns) => inNs(ns.b, 'iptables', '-A', 'INPUT', '-p', 'icmp', '--icmp-type', 'echo-request', '-j', 'DROP'), 'the far host drops ICMP echo requests');
