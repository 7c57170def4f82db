import { factsOf } from './facts.js';
import { driftOf, type Drift } from './drift.js';
import type { HostRun } from './load.js';

/**
 * One view across the hosts. The JSON form of `fleet report --json`: these
 * names are a contract with scripts (add fields, never rename one).
 */
export interface FleetSummary {
  hosts: Array<{ host: string; ok: boolean; exit: number | null; error?: string }>;
  /** Each finding not ruled out somewhere, with the hosts per status (hosts whose flow never reached it are in none). */
  findings: Array<{ id: string; confirmed: string[]; suspected: string[]; unknown: string[] }>;
  /** Each upstream peer nginx logged resets for, with the hosts, their counts and the cause each host found. */
  peers: Array<{ peer: string; hosts: Array<{ host: string; resets: number; cause: string }> }>;
  /** Hosts that reported but whose resets per peer were not read (reset-attribution did not run or failed): not "no resets". */
  peersNotRead: string[];
  drift: Drift[];
  /** Fixes applied by `--apply` runs: what happened on each host. */
  changes: Array<{ host: string; fix: string; status: string; verdict: string | null }>;
}

const STATUSES = ['confirmed', 'suspected', 'unknown'] as const;

export function summarize(runs: HostRun[]): FleetSummary {
  const findings = new Map<string, Record<(typeof STATUSES)[number], string[]>>();
  const peers = new Map<string, FleetSummary['peers'][number]['hosts']>();
  const changes: FleetSummary['changes'] = [];
  const peersNotRead: string[] = [];
  for (const run of runs) {
    for (const finding of run.report?.findings ?? []) {
      const status = STATUSES.find((s) => s === finding.status);
      if (!status) continue;
      if (!findings.has(finding.id)) findings.set(finding.id, { confirmed: [], suspected: [], unknown: [] });
      const hosts = findings.get(finding.id)![status];
      if (!hosts.includes(run.host)) hosts.push(run.host);
    }
    const attribution = factsOf(run.report, 'reset-attribution');
    if (run.report && !attribution) peersNotRead.push(run.host);
    for (const peer of attribution?.peers ?? []) {
      if (!peers.has(peer.peer)) peers.set(peer.peer, []);
      peers.get(peer.peer)!.push({ host: run.host, resets: peer.resets, cause: peer.cause });
    }
    for (const fix of run.report?.fixes ?? []) {
      if (fix.change) changes.push({ host: run.host, fix: fix.id, status: fix.change.status, verdict: fix.change.verify?.verdict ?? null });
    }
  }
  // Most widespread first: what the fleet has in common leads, one host's oddity follows.
  const weight = (f: Record<(typeof STATUSES)[number], string[]>) => f.confirmed.length * 1e6 + f.suspected.length * 1e3 + f.unknown.length;
  const total = (hosts: Array<{ resets: number }>) => hosts.reduce((sum, h) => sum + h.resets, 0);
  return {
    hosts: runs.map((r) => ({ host: r.host, ok: r.error === null, exit: r.exit, ...(r.error === null ? {} : { error: r.error }) })),
    findings: [...findings]
      .sort(([a, fa], [b, fb]) => weight(fb) - weight(fa) || a.localeCompare(b))
      .map(([id, f]) => ({ id, ...f })),
    peers: [...peers]
      .sort(([a, ha], [b, hb]) => total(hb) - total(ha) || a.localeCompare(b))
      .map(([peer, hosts]) => ({ peer, hosts: hosts.sort((x, y) => y.resets - x.resets) })),
    peersNotRead,
    drift: driftOf(runs),
    changes,
  };
}
