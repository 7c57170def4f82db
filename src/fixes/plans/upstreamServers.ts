/**
 * Server lines of upstream{} blocks: max_fails on the servers the error log
 * says were taken out, and `down` on a backend stopped on purpose — never on
 * the last server of its group still in service, which would turn every
 * request into a "no live upstreams" 502.
 */
import type { z } from 'zod';
import { quoteWord, refOf } from '../../nginx/edit.js';
import type { Directive } from '../../nginx/ast.js';
import type { FixPlan, PlanInput } from '../../apply/types.js';
import { isPeerOf } from '../../../probes/parse/peers.js';
import type { errorLogProbe } from '../../../probes/read/error-log.js';
import type { backendListenersProbe } from '../../../probes/read/backend-listeners.js';
import { NotApplicableError, PlanBuilder, configFacts, directiveAt, factsOf, notApplicable, where, type ConfigFacts } from './context.js';

type ErrorFacts = z.infer<typeof errorLogProbe.facts>;
type ListenerFacts = z.infer<typeof backendListenersProbe.facts>;
type Upstream = ConfigFacts['upstreams'][number];
type Server = Upstream['servers'][number];

/** The value the max-fails fix names: three failures within fail_timeout before a peer is taken out. */
const MAX_FAILS = 3;

const words = (d: Directive) => d.args.map((a) => quoteWord(a.value)).join(' ');

function serverLine(input: PlanInput, upstream: Upstream, server: Server): Directive {
  return directiveAt(input.config, server.file, server.line, 'server', (d) => d.args[0]?.value === server.address).directive;
}

export function planMaxFails(input: PlanInput): FixPlan {
  const b = new PlanBuilder(input.fix.id);
  const errors = factsOf<ErrorFacts>(input, 'error-log');
  if (!errors) throw new NotApplicableError('which servers nginx took out is in the error log, which was not read in this run: run `sudo reset-doctor` so it can be read');
  const config = configFacts(input);
  const listeners = factsOf<ListenerFacts>(input, 'backend-listeners')?.backends ?? [];
  const disabled = errors.groups.filter((g) => g.signature === 'server-disabled').map((g) => g.peer);
  const emptied = new Set(errors.groups.filter((g) => g.signature === 'no-live-upstreams').map((g) => g.peer));
  for (const upstream of config.upstreams) {
    const named = upstream.servers.filter((s) => emptied.has(upstream.name) || disabled.some((peer) => isPeerOf(peer, s.address, listeners)));
    if (named.length === 0) continue;
    if (upstream.servers.length < 2) {
      b.refuse(`upstream ${upstream.name} has one server, which nginx never takes out: max_fails changes nothing there`);
      continue;
    }
    for (const server of named) {
      if (server.params.includes('down')) continue;
      const accounting = upstream.maxFails.find((m) => m.address === server.address);
      if (accounting && (accounting.maxFails === 0 || accounting.maxFails >= MAX_FAILS)) continue;
      const directive = serverLine(input, upstream, server);
      const args = directive.args.map((a) => a.value);
      const at = args.findIndex((a) => a.startsWith('max_fails='));
      if (at > 0) args[at] = `max_fails=${MAX_FAILS}`;
      else args.push(`max_fails=${MAX_FAILS}`);
      const text = args.map(quoteWord).join(' ');
      b.edit(
        { kind: 'replace', file: directive.file, target: refOf(directive), directive: `server ${text}` },
        `${where(`upstream ${upstream.name}`, directive.file, directive.line)}: server ${words(directive)} → server ${text} (${MAX_FAILS} failures within fail_timeout ${accounting?.failTimeoutSec ?? 10}s before nginx takes it out, not ${accounting?.maxFails ?? 1})`,
      );
    }
  }
  if (b.edits.length) b.notes.push('max_fails only tolerates failures: fix the failures that took the servers out first');
  return b.result('no server taken out in this run is in a group of several with max_fails below 3');
}

export function planMarkServerDown(input: PlanInput): FixPlan {
  const b = new PlanBuilder(input.fix.id);
  const listeners = factsOf<ListenerFacts>(input, 'backend-listeners');
  if (!listeners) throw new NotApplicableError('whether the backend is down was not checked in this run (backend-listeners did not end ok): run `reset-doctor probe backend-listeners`');
  const config = configFacts(input);
  // Servers this plan marks down, per upstream: the last one still in service is checked against all of them.
  const marking = new Map<string, Set<string>>();
  for (const down of listeners.down) {
    if (down.upstream === null) {
      b.refuse(`${down.address} is named directly by its *_pass, not in an upstream{} block: there is no server line to mark down`);
      continue;
    }
    const upstream = config.upstreams.find((u) => u.name === down.upstream);
    if (!upstream) throw new NotApplicableError(`upstream ${down.upstream} is not in the nginx config read in this run`);
    const servers = upstream.servers.filter((s) => s.address === down.address && !s.params.includes('down'));
    if (servers.length === 0) continue;
    const marked = marking.get(upstream.name) ?? new Set<string>();
    const inService = upstream.servers.filter((s) => !s.params.includes('down') && !marked.has(s.address) && s.address !== down.address);
    if (inService.length === 0) {
      b.refuse(`${down.address} is the only server of upstream ${upstream.name} (${upstream.file}:${upstream.line}) not marked down: with it down every request to ${upstream.name} gets a "no live upstreams" 502. Start the backend, or add a backup server or a maintenance page first`);
      continue;
    }
    marked.add(down.address);
    marking.set(upstream.name, marked);
    for (const server of servers) {
      const directive = serverLine(input, upstream, server);
      const text = `${words(directive)} down`;
      b.edit({ kind: 'replace', file: directive.file, target: refOf(directive), directive: `server ${text}` }, `${where(`upstream ${upstream.name}`, directive.file, directive.line)}: server ${words(directive)} → server ${text} (nginx stops sending it requests; ${inService.map((s) => s.address).join(', ')} still serve${inService.length === 1 ? 's' : ''})`);
    }
  }
  if (b.edits.length) b.notes.push('remove `down` again once the backend listens, or it stays out of rotation');
  return b.result('no stopped backend in this run has a server line to mark down');
}
