import { isIP } from 'node:net';
import { z } from 'zod';
import type { CommandSpec } from '../src/host/types.js';
import { ProbeStatusError, defineProbe, type ProbeContext } from '../src/probe/contract.js';
import type { backendListenersProbe } from './backend-listeners.js';

type ListenerFacts = z.infer<typeof backendListenersProbe.facts>;

/**
 * `ping -M do -s SIZE`: don't fragment, so a too-small path MTU shows.
 *   ping: local error: message too long, mtu=1400            (stderr, the local link is smaller)
 *   2 packets transmitted, 0 received, +2 errors, 100% packet loss, time 201ms
 *   3 packets transmitted, 3 received, 0% packet loss, time 408ms
 */
export function parsePing(stdout: string, stderr: string): { transmitted: number; received: number; lossPercent: number; localMtu: number | null } | null {
  const stats = /(\d+) packets transmitted, (\d+) received,.*?(\d+(?:\.\d+)?)% packet loss/.exec(stdout);
  const mtu = /message too long, mtu=(\d+)/.exec(stderr) ?? /Frag needed and DF set \(mtu = (\d+)\)/.exec(stdout);
  if (!stats) return null;
  return { transmitted: Number(stats[1]), received: Number(stats[2]), lossPercent: Number(stats[3]), localMtu: mtu ? Number(mtu[1]) : null };
}

const SIZES = [1472, 1372, 1172] as const; // 1500, 1400, 1200 bytes on the wire with headers

/** Remote backends only: addresses that resolved to another machine (never loopback, never a unix socket). */
function remoteTargets(context: ProbeContext): { targets: Array<{ address: string; ip: string }>; skipped: string[] } {
  const listeners = context.deps['backend-listeners'] as ListenerFacts;
  const targets: Array<{ address: string; ip: string }> = [];
  const skipped: string[] = [];
  for (const backend of listeners.backends) {
    const remote = backend.peers.find((p) => !p.local);
    if (backend.state !== 'remote' || !remote) {
      skipped.push(`${backend.address}: ${backend.address.startsWith('unix:') ? 'unix socket' : 'on this machine'}, no network path to check`);
      continue;
    }
    if (isIP(remote.ip) !== 4) {
      skipped.push(`${backend.address}: IPv6 path checks are not supported yet`);
      continue;
    }
    targets.push({ address: backend.address, ip: remote.ip });
  }
  return { targets, skipped };
}

const ping = (ip: string, size: number): CommandSpec => ({ file: 'ping', args: ['-M', 'do', '-s', String(size), '-c', '3', '-W', '1', '-i', '0.2', ip], timeoutMs: 6000 });

export const networkPathProbe = defineProbe({
  id: 'network-path',
  title: 'Network path to remote backends',
  description: 'For backends on other machines: whether full-size packets get through unfragmented (MTU) and how many are lost.',
  requiresRoot: false,
  timeoutMs: 30_000,
  dependsOn: ['backend-listeners'],
  packageHint: { ping: 'iputils-ping' },
  facts: z.object({
    paths: z
      .array(
        z.object({
          address: z.string().describe('Backend address'),
          ip: z.string().describe('IP pinged'),
          largestUnfragmented: z.number().int().nullable().describe('Largest packet (bytes on the wire) that got through with DF set; null when none did'),
          localMtu: z.number().int().nullable().describe('MTU the local interface reported when a packet was too big'),
          lossPercent: z.number().describe('Loss of the smallest size tried'),
          mtuProblem: z.boolean().describe('1500-byte packets do not get through unfragmented while smaller ones do'),
        }),
      )
      .describe('One per remote backend'),
    skipped: z.array(z.string()).describe('Backends not checked, and why'),
  }),
  sources: (context) => remoteTargets(context).targets.flatMap((t) => SIZES.map((size) => ({ id: `${t.ip}:${size}`, kind: 'command' as const, command: ping(t.ip, size) }))),
  parse: (results, context) => {
    const { targets, skipped } = remoteTargets(context);
    const paths = targets.map((t) => {
      const readings = SIZES.map((size) => {
        const { result } = results.command(`${t.ip}:${size}`);
        const parsed = parsePing(result.stdout, result.stderr);
        if (!parsed) {
          if (/operation not permitted/i.test(result.stderr)) throw new ProbeStatusError('denied', `ping needs a capability here: ${result.stderr.trim()}`, `sudo ping -M do -s ${size} ${t.ip}`);
          throw new ProbeStatusError('error', `ping ${t.ip}: ${result.stderr.trim() || `exit ${result.exitCode}`}`);
        }
        return { size, ...parsed };
      });
      const through = readings.filter((r) => r.received > 0).map((r) => r.size + 28);
      const largest = through.length ? Math.max(...through) : null;
      const smallest = readings.at(-1)!;
      return {
        address: t.address,
        ip: t.ip,
        largestUnfragmented: largest,
        localMtu: readings.find((r) => r.localMtu !== null)?.localMtu ?? null,
        lossPercent: smallest.lossPercent,
        mtuProblem: largest !== null && largest < 1500,
      };
    });
    return { paths, skipped };
  },
  summarize: (facts) =>
    facts.paths.length === 0
      ? 'no remote backends (loopback and unix sockets have no network path)'
      : facts.paths.map((p) => `${p.address}: ${p.largestUnfragmented === null ? 'no reply' : `${p.largestUnfragmented}-byte packets get through`}${p.lossPercent ? `, ${p.lossPercent}% loss` : ''}`).join('; '),
});
