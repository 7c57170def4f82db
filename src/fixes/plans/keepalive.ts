/**
 * Upstream keep-alive: lower the racing upstream's keepalive_timeout below the
 * backend's measured idle timeout; on nginx before 1.15.3 (no such directive)
 * turn keep-alive off for it; and make a configured but inert keepalive take
 * effect where each location's family can reuse connections.
 */
import type { z } from 'zod';
import { refOf } from '../../nginx/edit.js';
import { atLeast } from '../../nginx/version.js';
import type { FixPlan, PlanInput } from '../../apply/types.js';
import type { keepaliveAnalysisProbe } from '../../../probes/combine/keepalive-analysis.js';
import {
  NotApplicableError,
  PlanBuilder,
  configFacts,
  factsOf,
  isModern,
  locationBlock,
  locationLabel,
  notApplicable,
  originText,
  own,
  setDirective,
  setProxyHeaders,
  upstreamBlock,
  versionOf,
  where,
  type ConfigFacts,
  type LocationFacts,
  type Origin,
} from './context.js';
import type { ConfigSet } from '../../nginx/load.js';

type KeepaliveFacts = z.infer<typeof keepaliveAnalysisProbe.facts>;

function keepaliveFacts(input: PlanInput): KeepaliveFacts {
  const facts = factsOf<KeepaliveFacts>(input, 'keepalive-analysis');
  if (!facts) throw new NotApplicableError('the keep-alive analysis did not end ok in this run, so no backend idle timeout was measured: run `reset-doctor probe keepalive-analysis` (it measures each upstream server) and plan again');
  return facts;
}

function upstreamFacts(config: ConfigFacts, name: string): ConfigFacts['upstreams'][number] {
  const upstream = config.upstreams.find((u) => u.name === name);
  if (!upstream) throw new NotApplicableError(`upstream ${name} is not in the nginx config read in this run`);
  return upstream;
}

export function planLowerKeepaliveTimeout(input: PlanInput): FixPlan {
  const b = new PlanBuilder(input.fix.id);
  const version = versionOf(input);
  if (version && !atLeast(version, 1, 15, 3)) {
    return notApplicable(b.fix, `nginx ${input.version} has no keepalive_timeout in upstream{} (it came with 1.15.3): nginx -t would reject it. Turn keep-alive off for that upstream instead (keepalive-old-nginx), or upgrade nginx`);
  }
  const keepalive = keepaliveFacts(input);
  const config = configFacts(input);
  const racing = keepalive.mismatches.filter((m) => m.lowerTimeout !== null);
  if (racing.length === 0) {
    return notApplicable(b.fix, keepalive.mismatches.length ? 'no measured or known backend idle timeout gives a keepalive_timeout to set for the upstream(s) in the race' : 'no upstream is in the keep-alive race in this run: nothing to lower');
  }
  if (!version) b.notes.push('the nginx version is not known here: upstream keepalive_timeout needs 1.15.3 or later, which nginx -t checks before any reload');
  for (const m of racing) {
    const upstream = upstreamFacts(config, m.name);
    const block = upstreamBlock(input.config, upstream.name, upstream.file, upstream.line).directive;
    const was = m.keepaliveTimeoutSec === null ? 'none' : `${m.keepaliveTimeoutSec}s (default)`;
    setDirective(b, input.config, block, `upstream ${upstream.name}`, 'keepalive_timeout', [m.lowerTimeout!.timeout], was);
    // A documented default stands in for a measurement: lowering is safe either way, but a backend set lower still races.
    for (const s of m.servers.filter((x) => x.mismatch && x.source === 'default')) {
      b.notes.push(`${s.address}: ${s.backendIdleSec} s is ${s.kind ?? 'the backend'}'s documented default idle timeout, not measured; if something sets it lower the race stays — \`reset-doctor probe keepalive-measure\` measures it`);
    }
  }
  return b.result('keepalive_timeout is already set to the measured value');
}

export function planKeepaliveOldNginx(input: PlanInput): FixPlan {
  const b = new PlanBuilder(input.fix.id);
  const keepalive = keepaliveFacts(input);
  const config = configFacts(input);
  const racing = keepalive.mismatches.filter((m) => m.oldNginx !== null);
  if (racing.length === 0) return notApplicable(b.fix, 'no upstream of an nginx before 1.15.3 is in the keep-alive race in this run');
  for (const m of racing) {
    const upstream = upstreamFacts(config, m.name);
    const block = upstreamBlock(input.config, upstream.name, upstream.file, upstream.line).directive;
    const lines = own(input.config, block, 'keepalive');
    if (lines.length === 0) b.refuse(`upstream ${upstream.name} has no keepalive line to remove`);
    for (const d of lines) {
      b.edit({ kind: 'remove', file: d.file, target: refOf(d) }, `${where(`upstream ${upstream.name}`, d.file, d.line)}: remove keepalive ${d.args[0]?.value ?? ''} (each request opens its own connection: one handshake more, never a connection the backend is closing)`);
    }
  }
  if (b.edits.length) b.notes.push('lasting fix: nginx 1.15.3 or later, then keepalive back with a keepalive_timeout a second below the backend idle timeout');
  return b.result('no keepalive line to remove');
}

/** Families whose locations reuse upstream connections when told to (src/nginx/model.ts familyReuses). */
const REUSING = new Set(['proxy', 'fastcgi', 'grpc', 'memcached']);

export function planEnableKeepalive(input: PlanInput): FixPlan {
  const b = new PlanBuilder(input.fix.id);
  const keepalive = keepaliveFacts(input);
  const config = configFacts(input);
  if (keepalive.inert.length === 0) return notApplicable(b.fix, 'no upstream has a keepalive that no location uses in this run');
  const modern = isModern(input);
  for (const inert of keepalive.inert) {
    const upstream = upstreamFacts(config, inert.name);
    const using = config.locations.filter((l) => l.upstream === upstream.name && l.family !== null);
    // The same choice as keepalive-analysis: a WebSocket location sends Connection: upgrade on purpose, and a
    // default keepalive (1.29.7) is no half-done config for families that cannot use it.
    const inertHere = using.filter((l) => !l.effective.keepaliveInEffect && (l.family === 'proxy' ? l.effective.upgradeHeader === null : upstream.keepaliveOrigin !== 'default'));
    for (const location of inertHere.filter((l) => l.family === 'proxy')) proxyKeepalive(b, input.config, location, modern);
    for (const location of inertHere.filter((l) => l.family === 'fastcgi')) {
      const placed = locationBlock(input.config, location);
      setDirective(b, input.config, placed.directive, locationLabel(location), 'fastcgi_keep_conn', ['on'], `off (${originText(location.effective.handler?.origins['keepConn'] as Origin | undefined)})`);
    }
    const never = inertHere.filter((l) => l.family === 'uwsgi' || l.family === 'scgi');
    if (never.length) dropNeverUsed(b, input.config, upstream, never, using);
  }
  return b.result('keep-alive already takes effect in every location');
}

/** proxy_pass: HTTP/1.1 and an empty Connection header (before 1.29.7 both are needed; from 1.29.7 only what the config turned off). */
function proxyKeepalive(b: PlanBuilder, config: ConfigSet, location: LocationFacts, modern: boolean): void {
  const placed = locationBlock(config, location);
  const e = location.effective;
  if (e.proxyHttpVersion !== '1.1') setDirective(b, config, placed.directive, locationLabel(location), 'proxy_http_version', ['1.1'], `${e.proxyHttpVersion} (${originText(e.origins['proxyHttpVersion'] as Origin | undefined)})`);
  const connection = e.connectionHeader;
  const needsEmpty = modern ? connection !== null && connection !== '' && connection.toLowerCase() === 'close' : connection !== '';
  if (needsEmpty) setProxyHeaders(b, config, placed, location, [['Connection', '']]);
}

/** uwsgi_pass and scgi_pass never reuse a connection: the upstream's keepalive goes, unless a family that can reuse uses it too. */
function dropNeverUsed(b: PlanBuilder, config: ConfigSet, upstream: ConfigFacts['upstreams'][number], never: LocationFacts[], using: LocationFacts[]): void {
  const names = never.map((l) => `${locationLabel(l)} (${l.file}:${l.line}, ${l.family}_pass)`).join(', ');
  const others = using.filter((l) => REUSING.has(l.family!));
  if (others.length) {
    b.refuse(`${names}: ${never[0]!.family}_pass never reuses an upstream connection, but upstream ${upstream.name} also serves ${others.map((l) => `${locationLabel(l)} (${l.file}:${l.line}, ${l.family}_pass)`).join(', ')}, so its keepalive stays`);
    return;
  }
  const block = upstreamBlock(config, upstream.name, upstream.file, upstream.line).directive;
  for (const d of own(config, block, 'keepalive')) {
    b.edit({ kind: 'remove', file: d.file, target: refOf(d) }, `${where(`upstream ${upstream.name}`, d.file, d.line)}: remove keepalive ${d.args[0]?.value ?? ''} (only ${names} ${never.length === 1 ? 'uses' : 'use'} it, and ${never[0]!.family}_pass never reuses a connection)`);
  }
}
