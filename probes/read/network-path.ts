import { isIP } from 'node:net';
import { z } from 'zod';
import type { CommandSpec } from '../../src/host/types.js';
import { ProbeStatusError, defineProbe, type ProbeContext } from '../../src/probe/contract.js';
import type { backendListenersProbe } from './backend-listeners.js';

type ListenerFacts = z.infer<typeof backendListenersProbe.facts>;

/**
 * `ping -M do -s SIZE`: don't fragment, so a too-small path MTU shows.
 *   From 198.18.1.2 icmp_seq=1 Frag needed and DF set (mtu = 1400)   (a router says so: path MTU discovery works)
 *   ping: local error: message too long, mtu=1400   (stderr: the local link, or the path MTU the kernel learnt that way)
 *   2 packets transmitted, 0 received, +2 errors, 100% packet loss, time 201ms
 *   3 packets transmitted, 3 received, 0% packet loss, time 408ms
 */
export function parsePing(stdout: string, stderr: string): { transmitted: number; received: number; lossPercent: number; reportedMtu: number | null } | null {
  const stats = /(\d+) packets transmitted, (\d+) received,.*?(\d+(?:\.\d+)?)% packet loss/.exec(stdout);
  const mtu = /message too long, mtu=(\d+)/.exec(stderr) ?? /Frag needed and DF set \(mtu = (\d+)\)/.exec(stdout);
  if (!stats) return null;
  return { transmitted: Number(stats[1]), received: Number(stats[2]), lossPercent: Number(stats[3]), reportedMtu: mtu ? Number(mtu[1]) : null };
}

interface Reading {
  /** Bytes on the wire: the ICMP payload plus 28 bytes of headers. */
  wire: number;
  received: number;
  lossPercent: number;
  reportedMtu: number | null;
}

/**
 * A path MTU discovery black hole: a size the route accepts (no MTU was
 * reported below it) is lost without a word while a smaller one gets
 * through. A reported MTU below 1500 is not a problem: the kernel and TCP
 * adapt to it. No reply at any size measures nothing.
 */
export function judgePath(readings: Reading[]): { largest: number | null; reportedMtu: number | null; blackHole: boolean; measured: boolean } {
  const reported = readings.map((r) => r.reportedMtu).filter((m): m is number => m !== null);
  const reportedMtu = reported.length ? Math.min(...reported) : null;
  const through = readings.filter((r) => r.received > 0).map((r) => r.wire);
  const largest = through.length ? Math.max(...through) : null;
  // Only a clean contrast is a black hole: the smaller size without any loss, the larger with no reply at all.
  const clean = readings.some((r) => r.wire === largest && r.lossPercent === 0);
  const blackHole = largest !== null && clean && readings.some((r) => r.wire > largest && r.received === 0 && r.reportedMtu === null && r.wire <= (reportedMtu ?? 1500));
  return { largest, reportedMtu, blackHole, measured: largest !== null };
}

const SIZES = [1472, 1372, 1172] as const; // 1500, 1400, 1200 bytes on the wire with headers

/** Remote backends only: addresses that resolved to another machine (never loopback, never a unix socket). */
function remoteTargets(context: ProbeContext): { targets: Array<{ address: string; ip: string }>; skipped: string[]; unchecked: string[] } {
  const listeners = context.deps['backend-listeners'] as ListenerFacts;
  const targets: Array<{ address: string; ip: string }> = [];
  const skipped: string[] = [];
  const unchecked: string[] = [];
  for (const backend of listeners.backends) {
    const remote = backend.peers.find((p) => !p.local);
    if (backend.state === 'unresolved' || backend.state === 'unchecked') {
      unchecked.push(`${backend.address}: ${backend.reason}`);
      continue;
    }
    if (backend.state !== 'remote' || !remote) {
      skipped.push(`${backend.address}: ${backend.address.startsWith('unix:') ? 'unix socket' : 'on this machine'}, no network path to check`);
      continue;
    }
    if (isIP(remote.ip) !== 4) {
      unchecked.push(`${backend.address}: IPv6 path checks are not supported yet`);
      continue;
    }
    targets.push({ address: backend.address, ip: remote.ip });
  }
  return { targets, skipped, unchecked };
}

const ping = (ip: string, size: number): CommandSpec => ({ file: 'ping', args: ['-M', 'do', '-s', String(size), '-c', '3', '-W', '1', '-i', '0.2', ip], timeoutMs: 6000 });

function describePaths(paths: Array<{ address: string; largestUnfragmented: number | null; reportedMtu: number | null; mtuProblem: boolean; lossPercent: number }>): string {
  return paths
    .map((p) => {
      if (p.largestUnfragmented === null) return `${p.address}: no reply to ping at any size`;
      const mtu = p.reportedMtu !== null ? ` (route MTU ${p.reportedMtu} reported)` : '';
      return `${p.address}: ${p.largestUnfragmented}-byte packets get through${mtu}${p.mtuProblem ? ', larger ones vanish' : ''}${p.lossPercent ? `, ${p.lossPercent}% loss` : ''}`;
    })
    .join('; ');
}

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
          reportedMtu: z.number().int().nullable().describe('MTU reported for the route when a packet was too big: the local link\'s, or a router\'s ("Frag needed"), which path MTU discovery then uses'),
          lossPercent: z.number().describe('Loss of the smallest size tried'),
          mtuProblem: z.boolean().describe('A path MTU discovery black hole: sizes the route accepts are lost without a word while smaller ones get through'),
          measured: z.boolean().describe('Some size got a reply; false when ICMP echo is filtered on the way or by the host'),
        }),
      )
      .describe('One per remote backend'),
    problems: z.array(z.object({ address: z.string().describe('Backend address'), largestUnfragmented: z.number().int().describe('Largest packet that got through'), routeMtu: z.number().int().describe('What the route accepts (1500 unless an MTU was reported)') })).describe('The paths with a black hole'),
    problemCount: z.number().int().describe('How many paths have a black hole'),
    unmeasured: z.array(z.string()).describe('Backends that may be remote whose path was not measured: no ping reply at any size, not resolved here, or IPv6'),
    unmeasuredCount: z.number().int().describe('How many'),
    pathsText: z.string().describe('Every path in words: what got through, the MTU the route reported, loss'),
    skipped: z.array(z.string()).describe('Backends not checked, and why'),
  }),
  sources: (context) => remoteTargets(context).targets.flatMap((t) => SIZES.map((size) => ({ id: `${t.ip}:${size}`, kind: 'command' as const, command: ping(t.ip, size) }))),
  parse: (results, context) => {
    const { targets, skipped, unchecked } = remoteTargets(context);
    const paths = targets.map((t) => {
      const readings = SIZES.map((size) => {
        const { result } = results.command(`${t.ip}:${size}`);
        const parsed = parsePing(result.stdout, result.stderr);
        if (!parsed) {
          if (/operation not permitted/i.test(result.stderr)) throw new ProbeStatusError('denied', `ping needs a capability here: ${result.stderr.trim()}`, `sudo ping -M do -s ${size} ${t.ip}`);
          throw new ProbeStatusError('error', `ping ${t.ip}: ${result.stderr.trim() || `exit ${result.exitCode}`}`);
        }
        return { wire: size + 28, ...parsed };
      });
      const judged = judgePath(readings);
      return {
        address: t.address,
        ip: t.ip,
        largestUnfragmented: judged.largest,
        reportedMtu: judged.reportedMtu,
        lossPercent: readings.at(-1)!.lossPercent,
        mtuProblem: judged.blackHole,
        measured: judged.measured,
      };
    });
    const problems = paths.filter((p) => p.mtuProblem).map((p) => ({ address: p.address, largestUnfragmented: p.largestUnfragmented!, routeMtu: p.reportedMtu ?? 1500 }));
    // A backend not resolved here, or on IPv6, may be remote: its path is unmeasured too.
    const unmeasured = [...paths.filter((p) => !p.measured).map((p) => p.address), ...unchecked];
    return { paths, skipped, problems, problemCount: problems.length, unmeasured, unmeasuredCount: unmeasured.length, pathsText: describePaths(paths) };
  },
  summarize: (facts) => (facts.paths.length === 0 ? 'no remote backends (loopback and unix sockets have no network path)' : facts.pathsText),
});
