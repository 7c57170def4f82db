import { factsOf } from './facts.js';
import type { HostRun } from './load.js';

/** A setting that differs between hosts: its value per host, for the hosts where it was read. */
export interface Drift {
  what: string;
  values: Record<string, string>;
}

/**
 * Settings read on each host, by what they are ("upstream api
 * keepalive_timeout"), so hosts behind one load balancer can be compared.
 * A host whose probe did not run has no value (it is not "none"): drift is
 * only ever claimed between values that were read.
 */
class Settings {
  private readonly byWhat = new Map<string, Map<string, string>>();
  set(what: string, host: string, value: string): void {
    if (!this.byWhat.has(what)) this.byWhat.set(what, new Map());
    this.byWhat.get(what)!.set(host, value);
  }
  /** Those with two or more different values, in the order first set. */
  drifting(): Drift[] {
    return [...this.byWhat]
      .filter(([, values]) => new Set(values.values()).size > 1)
      .map(([what, values]) => ({ what, values: Object.fromEntries(values) }));
  }
}

const seconds = (sec: number | null) => (sec === null ? 'none (nginx before 1.15.3 never closes idle upstream connections)' : `${sec}s`);

/** Whether there were OOM kills and whether one was a backend's: counts differ with the window, the kind of host does not. */
function oomValue(count: number, backendVictims: number): string {
  if (count === 0) return 'none';
  return backendVictims > 0 ? 'yes, of a backend' : 'yes, none of a backend';
}

export function driftOf(runs: HostRun[]): Drift[] {
  const settings = new Settings();
  const reported = runs.filter((r) => r.report !== null);
  for (const { host, report } of reported) {
    const version = factsOf(report, 'nginx-version');
    if (version) settings.set('nginx version', host, `${version.product}/${version.version}`);
  }
  // Upstreams by name: a host that read its keep-alive upstreams and has no such one with keep-alive says so.
  const keepalive = reported.map((r) => ({ host: r.host, facts: factsOf(r.report, 'keepalive-analysis') }));
  const upstreamNames = [...new Set(keepalive.flatMap((k) => k.facts?.upstreams.map((u) => u.name) ?? []))].sort();
  for (const name of upstreamNames) {
    for (const { host, facts } of keepalive) {
      if (!facts) continue;
      const upstream = facts.upstreams.find((u) => u.name === name);
      settings.set(`upstream ${name} keepalive`, host, upstream ? `${upstream.keepalive} connections` : 'no keep-alive');
      if (upstream) settings.set(`upstream ${name} keepalive_timeout`, host, seconds(upstream.keepaliveTimeoutSec));
    }
  }
  // Backend servers by upstream (or literal address): the server kind seen behind it on each host.
  for (const { host, report } of reported) {
    const kinds = new Map<string, Set<string>>();
    for (const b of factsOf(report, 'backend-process')?.backends ?? []) {
      if (b.kind === null) continue;
      const key = b.upstream === null ? `backend ${b.address}` : `backends of upstream ${b.upstream}`;
      if (!kinds.has(key)) kinds.set(key, new Set());
      kinds.get(key)!.add(b.workerClass ? `${b.kind} (${b.workerClass})` : b.kind);
    }
    for (const [key, values] of kinds) settings.set(`${key}: server kind`, host, [...values].sort().join(', '));
  }
  for (const { host, report } of reported) {
    const oom = factsOf(report, 'oom-kills');
    if (oom) settings.set('OOM kills in the window', host, oomValue(oom.count, oom.backendVictims));
  }
  return settings.drifting();
}
