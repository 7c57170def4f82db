/**
 * What every fix plan needs: the facts of this run, the config files as they
 * are on disk now (with byte offsets, for edits), and a builder that keeps
 * one operator line beside each edit. Facts locate things by file:line as
 * nginx -T showed them; a plan finds the same directive in the files read
 * now, and says the file changed when it is not there any more.
 */
import type { z } from 'zod';
import type { Directive } from '../../nginx/ast.js';
import { quoteWord, refOf, type PlannedEdit } from '../../nginx/edit.js';
import type { ConfigSet } from '../../nginx/load.js';
import { childrenOf, walkResolved, type Placed } from '../../nginx/resolved.js';
import { atLeast, parseVersion, type NginxVersion } from '../../nginx/version.js';
import type { FixPlan, PlanInput, SystemCommand } from '../../apply/types.js';
import type { nginxConfigProbe } from '../../../probes/read/nginx-config.js';

export type ConfigFacts = z.infer<typeof nginxConfigProbe.facts>;
export type LocationFacts = ConfigFacts['locations'][number];
export type Origin = { file: string; line: number } | 'default';

/** The config files changed since nginx loaded them: the plan cannot trust the facts' file:line. */
export class StaleConfigError extends Error {}

/** A plan step that cannot be made, with why: the whole plan is not applicable unless other steps are. */
export class NotApplicableError extends Error {}

export function notApplicable(fix: string, reason: string): FixPlan {
  return { fix, applicable: false, reason };
}

/** Collects edits, each with its line for the operator, and what the change leaves to be done by hand. */
export class PlanBuilder {
  readonly describe: string[] = [];
  readonly edits: PlannedEdit[] = [];
  readonly commands: SystemCommand[] = [];
  readonly notes: string[] = [];
  readonly refusals: string[] = [];
  /** Locations (file:line) whose inherited proxy_set_header lines were already repeated in this plan. */
  readonly repeatedHeaders = new Set<string>();

  constructor(readonly fix: string) {}

  edit(edit: PlannedEdit, line: string): void {
    this.edits.push(edit);
    this.describe.push(line);
  }

  /** A part of the fix this plan cannot make, and why: a note beside the other parts, the reason when there are none. */
  refuse(why: string): void {
    this.refusals.push(why);
    this.notes.push(why);
  }

  /** Applicable when anything is changed; else not, with why (the parts refused, or the reason given). */
  result(nothing: string): FixPlan {
    if (this.edits.length === 0 && this.commands.length === 0) return notApplicable(this.fix, this.refusals.length ? this.refusals.join('; ') : nothing);
    return { fix: this.fix, applicable: true, describe: this.describe, edits: this.edits, commands: this.commands, notes: this.notes };
  }
}

/** Facts of a probe that ended ok in this run, typed by the caller. */
export function factsOf<T>(input: PlanInput, probe: string): T | undefined {
  return input.facts(probe) as T | undefined;
}

export function configFacts(input: PlanInput): ConfigFacts {
  const facts = factsOf<ConfigFacts>(input, 'nginx-config');
  if (!facts) throw new NotApplicableError('the nginx config was not read in this run (the nginx-config probe did not end ok), so nothing can be located in it: run `sudo reset-doctor` so nginx -T can read every file');
  return facts;
}

export function versionOf(input: PlanInput): NginxVersion | null {
  return input.version ? parseVersion(input.version) : null;
}

/** nginx 1.29.7 made proxy_http_version 1.1 and an empty Connection header the defaults (src/nginx/model.ts). */
export function isModern(input: PlanInput): boolean {
  const version = versionOf(input);
  return version !== null && atLeast(version, 1, 29, 7);
}

export const where = (label: string, file: string, line: number) => `${label} (${file}:${line})`;
export const locationLabel = (l: { match: string }) => `location ${l.match}`;
export const originText = (origin: Origin | undefined) => (!origin || origin === 'default' ? 'default' : `from ${origin.file}:${origin.line}`);

/** A directive as an edit writes it: its words quoted where nginx needs them. */
export function line(name: string, ...args: string[]): string {
  return [name, ...args].map(quoteWord).join(' ');
}

/** The directive nginx loads now at file:line with that name (includes expanded), with the blocks around it. */
export function placedAt(config: ConfigSet, file: string, lineNo: number, name: string): Placed | undefined {
  for (const placed of walkResolved(config)) {
    if (placed.directive.file === file && placed.directive.line === lineNo && placed.directive.name === name) return placed;
  }
  return undefined;
}

function stale(file: string, lineNo: number, what: string): StaleConfigError {
  return new StaleConfigError(`${file} changed since nginx loaded it: line ${lineNo} no longer holds ${what}. Re-run reset-doctor (and reload nginx if the change is meant), so the plan is made from the file as it is now`);
}

/** The location block of a location fact, in the files read now. */
export function locationBlock(config: ConfigSet, location: LocationFacts): Placed {
  const placed = placedAt(config, location.file, location.line, 'location');
  if (!placed || !placed.directive.block || placed.directive.args.map((a) => a.value).join(' ') !== location.match) throw stale(location.file, location.line, `"location ${location.match}"`);
  return placed;
}

/** The upstream{} block of that name at http level, in the files read now. */
export function upstreamBlock(config: ConfigSet, name: string, file: string, lineNo: number): Placed {
  const placed = placedAt(config, file, lineNo, 'upstream');
  if (!placed || !placed.directive.block || placed.directive.args[0]?.value !== name) throw stale(file, lineNo, `"upstream ${name}"`);
  return placed;
}

/** A simple directive named by a fact's file:line, checked to still be there with the words the fact expects. */
export function directiveAt(config: ConfigSet, file: string, lineNo: number, name: string, check: (d: Directive) => boolean = () => true): Placed {
  const placed = placedAt(config, file, lineNo, name);
  if (!placed || placed.directive.block || !check(placed.directive)) throw stale(file, lineNo, `the "${name}" directive nginx loaded`);
  return placed;
}

/** The http block (in the main file or one it includes). */
export function httpBlock(config: ConfigSet): Directive {
  for (const { directive, parents } of walkResolved(config)) if (directive.name === 'http' && parents.length === 0 && directive.block) return directive;
  throw new NotApplicableError(`no http block in ${config.main}`);
}

/** Directives of one name directly in a block (includes expanded: each keeps its own file). */
export function own(config: ConfigSet, block: Directive, name: string): Directive[] {
  return childrenOf(block, config).filter((d) => d.name === name);
}

/** The nearest directive of that name on the way http → server → location(s) → this block, as nginx inherits it. */
export function nearest(config: ConfigSet, placed: Placed, name: string): Directive | undefined {
  const levels = [...placed.parents, placed.directive].filter((d) => ['http', 'server', 'location'].includes(d.name));
  for (let i = levels.length - 1; i >= 0; i--) {
    const found = own(config, levels[i]!, name).at(-1);
    if (found) return found;
  }
  return undefined;
}

const argsOf = (d: Directive) => d.args.map((a) => a.value);
const wordsOf = (d: Directive) => argsOf(d).map(quoteWord).join(' ');

/**
 * Sets a directive at a block's own level: replaces the one written there (in whatever file holds it: two
 * would make nginx -t fail with "is duplicate"), or inserts it. `was` says what nginx used before, for the
 * operator. Nothing when the block already says exactly that.
 */
export function setDirective(b: PlanBuilder, config: ConfigSet, block: Directive, label: string, name: string, args: string[], was: string, why = ''): void {
  const mine = own(config, block, name).at(-1);
  const wanted = line(name, ...args);
  const value = args.map(quoteWord).join(' ');
  const because = why ? ` — ${why}` : '';
  if (mine) {
    if (wordsOf(mine) === value) return;
    b.edit({ kind: 'replace', file: mine.file, target: refOf(mine), directive: wanted }, `${where(label, mine.file, mine.line)}: ${name} ${wordsOf(mine)} → ${value}${because}`);
    return;
  }
  b.edit({ kind: 'insert', file: block.file, block: refOf(block), directive: wanted }, `${where(label, block.file, block.line)}: ${name} ${was} → ${value} (added here)${because}`);
}

/** Inserts a directive into a block without looking for one to replace (repeatable ones: proxy_set_header). */
export function insertDirective(b: PlanBuilder, block: Directive, label: string, directive: string, why: string): void {
  b.edit({ kind: 'insert', file: block.file, block: refOf(block), directive }, `${where(label, block.file, block.line)}: add ${directive}${why ? ` (${why})` : ''}`);
}

/**
 * Sets proxy_set_header lines in a location. proxy_set_header is all or nothing per level: the first one
 * added where none was written drops every one the location inherited from server/http, so those are
 * repeated in the same edit (all but the names set here).
 */
export function setProxyHeaders(b: PlanBuilder, config: ConfigSet, placed: Placed, location: LocationFacts, wanted: Array<[string, string]>): void {
  const block = placed.directive;
  const label = locationLabel(location);
  const mine = own(config, block, 'proxy_set_header');
  const setting = new Set(wanted.map(([name]) => name.toLowerCase()));
  let inserted = false;
  for (const [name, value] of wanted) {
    const same = mine.filter((d) => d.args[0]?.value.toLowerCase() === name.toLowerCase()).at(-1);
    if (same) {
      if ((same.args[1]?.value ?? '') !== value) {
        b.edit({ kind: 'replace', file: same.file, target: refOf(same), directive: line('proxy_set_header', same.args[0]!.value, value) }, `${where(label, same.file, same.line)}: proxy_set_header ${wordsOf(same)} → ${line(same.args[0]!.value, value)}`);
      }
      continue;
    }
    insertDirective(b, block, label, line('proxy_set_header', name, value), '');
    inserted = true;
  }
  const key = `${location.file}:${location.line}`;
  if (!inserted || mine.length > 0 || !location.effective.headersInherited || b.repeatedHeaders.has(key)) return;
  b.repeatedHeaders.add(key);
  const from = originText(location.effective.origins['headers'] as Origin | undefined);
  for (const [name, value] of Object.entries(location.effective.headers)) {
    if (setting.has(name.toLowerCase())) continue;
    insertDirective(b, block, label, line('proxy_set_header', name, value), `inherited ${from}; repeated here, since a proxy_set_header written here drops the inherited ones`);
  }
}
