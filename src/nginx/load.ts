import { dirname, isAbsolute, join } from 'node:path';
import type { Host } from '../host/types.js';
import type { ConfigFile, Directive } from './ast.js';
import { splitDump } from './dump.js';
import { parseConfig } from './parse.js';
import { NginxSyntaxError } from './syntaxError.js';

/** Every file nginx loads, parsed, and how each include directive resolved. */
export interface ConfigSet {
  main: string;
  /** In load order. */
  files: ConfigFile[];
  /** For each include directive (keyed by includeKey), the files it pulled in, in order. */
  includes: Map<string, string[]>;
  /** Includes that matched nothing or could not be read: nginx -t would fail on a plain path, not on an empty glob. */
  problems: Array<{ file: string; line: number; message: string }>;
  /**
   * Included files that did not parse (read from disk only: nginx -T never dumps a config it rejects). Their
   * directives are not in the set, so whatever they hold (upstreams, locations, logs) is missing from the model.
   */
  unparsed?: Array<{ file: string; line: number; message: string }>;
  source: 'files' | 'dump';
}

export const includeKey = (directive: Directive) => `${directive.file}\0${directive.start}`;

const GLOB = /[*?[]/;

/** Turns one glob segment into a regex the way glob(3) matches (no leading-dot matches). */
function segmentRegex(segment: string): RegExp {
  let out = '';
  for (let i = 0; i < segment.length; i++) {
    const c = segment[i]!;
    if (c === '*') out += '[^/]*';
    else if (c === '?') out += '[^/]';
    else if (c === '[') {
      const close = segment.indexOf(']', i + 1);
      if (close === -1) out += '\\[';
      else {
        out += `[${segment.slice(i + 1, close).replace(/^!/, '^').replace(/\\/g, '\\\\')}]`;
        i = close;
      }
    } else out += c.replace(/[.+^${}()|\\]/g, '\\$&');
  }
  return new RegExp(`^(?!\\.)${out}$`);
}

/** Relative include paths are relative to the main config's directory (nginx's conf prefix), not the including file. */
export function includePath(pattern: string, mainFile: string): string {
  return isAbsolute(pattern) ? pattern : join(dirname(mainFile), pattern);
}

async function expandGlob(host: Host, pattern: string): Promise<string[]> {
  if (!GLOB.test(pattern)) return [pattern];
  const segments = pattern.split('/').filter((s, i) => s !== '' || i === 0);
  let bases = [''];
  for (const segment of segments.slice(1)) {
    const next: string[] = [];
    for (const base of bases) {
      if (!GLOB.test(segment)) {
        next.push(`${base}/${segment}`);
        continue;
      }
      const listing = await host.listDir(base || '/');
      if (!listing.ok) continue;
      const regex = segmentRegex(segment);
      next.push(...listing.entries.filter((e) => regex.test(e)).map((e) => `${base}/${e}`));
    }
    bases = next.sort();
  }
  return bases;
}

/** Reads the main config and everything it includes, as nginx would. Throws NginxSyntaxError (file:line) on broken input. */
export async function loadConfigFiles(host: Host, main: string): Promise<ConfigSet> {
  const set: ConfigSet = { main, files: [], includes: new Map(), problems: [], source: 'files' };
  const loaded = new Map<string, ConfigFile>();
  const load = async (path: string, from: Directive | null, depth: number): Promise<boolean> => {
    if (depth > 20) throw new NginxSyntaxError(from?.file ?? path, from?.line ?? 1, from?.column ?? 1, 'includes nest more than 20 deep (a loop?)');
    const existing = loaded.get(path);
    if (existing) return true;
    const read = await host.readFile(path);
    if (!read.ok) {
      if (!from) throw new NginxSyntaxError(path, 1, 1, `cannot read: ${read.error.message}`);
      set.problems.push({ file: from.file, line: from.line, message: `include ${path}: ${read.error.message}` });
      return false;
    }
    let file: ConfigFile;
    try {
      file = parseConfig(read.content, path);
    } catch (error) {
      // One broken include (a missing ';' in a site) is what makes nginx -t fail: the rest of the config still
      // says where nginx sends traffic and logs, so it is read and the broken file named as missing from it.
      if (!(error instanceof NginxSyntaxError) || !from) throw error;
      (set.unparsed ??= []).push({ file: error.file, line: error.line, message: error.message });
      return false;
    }
    loaded.set(path, file);
    set.files.push(file);
    for (const directive of includesIn(file.nodes)) {
      const pattern = includePath(directive.args[0]?.value ?? '', main);
      const matches = await expandGlob(host, pattern);
      if (matches.length === 0 && !GLOB.test(pattern)) set.problems.push({ file: directive.file, line: directive.line, message: `include ${pattern}: no such file` });
      const ok: string[] = [];
      for (const match of matches) if (await load(match, directive, depth + 1)) ok.push(match);
      set.includes.set(includeKey(directive), ok);
    }
    return true;
  };
  await load(main, null, 0);
  return set;
}

/** The same from `nginx -T` output: the dump holds every file nginx loaded, so includes resolve against it. */
export function loadConfigDump(dump: string): ConfigSet {
  const dumped = splitDump(dump);
  if (dumped.length === 0) throw new NginxSyntaxError('(nginx -T output)', 1, 1, 'no "# configuration file …:" sections: not an nginx -T dump');
  const main = dumped[0]!.path;
  const files = dumped.map((f) => parseConfig(f.text, f.path));
  const paths = files.map((f) => f.path);
  const set: ConfigSet = { main, files, includes: new Map(), problems: [], source: 'dump' };
  for (const file of files) {
    for (const directive of includesIn(file.nodes)) {
      const pattern = includePath(directive.args[0]?.value ?? '', main);
      const regex = GLOB.test(pattern) ? new RegExp(`^${pattern.split('/').map((s) => (GLOB.test(s) ? segmentRegex(s).source.slice(1, -1) : s.replace(/[.+^${}()|\\]/g, '\\$&'))).join('/')}$`) : null;
      const matches = regex ? paths.filter((p) => regex.test(p)).sort() : paths.filter((p) => p === pattern);
      if (matches.length === 0 && !regex) set.problems.push({ file: directive.file, line: directive.line, message: `include ${pattern}: not in the dump` });
      set.includes.set(includeKey(directive), matches);
    }
  }
  return set;
}

/** Every include pattern of the set, made absolute as nginx does. */
export function includePatterns(set: ConfigSet): string[] {
  return set.files.flatMap((file) => [...includesIn(file.nodes)].map((d) => includePath(d.args[0]?.value ?? '', set.main)));
}

/** Whether an include pattern would load this path: a backup or temp file must never match one. */
export function includeMatches(pattern: string, path: string): boolean {
  if (!GLOB.test(pattern)) return pattern === path;
  const parts = pattern.split('/');
  const names = path.split('/');
  return parts.length === names.length && parts.every((part, i) => (GLOB.test(part) ? segmentRegex(part).test(names[i]!) : part === names[i]));
}

function* includesIn(nodes: ConfigFile['nodes']): Generator<Directive> {
  for (const node of nodes) {
    if (node.kind !== 'directive') continue;
    if (node.name === 'include' && !node.block) yield node;
    if (node.block) yield* includesIn(node.block);
  }
}
