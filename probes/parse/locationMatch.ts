/**
 * Which location nginx picks for a URI among one server's locations
 * (ngx_http_core_find_location): an exact "= /x" match wins; else the longest
 * prefix ("/x" or "^~ /x"), which wins at once when it is "^~"; else the first
 * regex ("~" case-sensitive, "~*" not) in config order that matches; else the
 * longest prefix. Named "@x" locations are never picked for a URI.
 *
 * What it cannot tell is said, never guessed: a regex JavaScript cannot compile
 * the way PCRE would (inline flags, possessive quantifiers) makes the pick
 * undecided. Nested locations are taken as siblings of their parent (the config
 * facts list locations flat), which can pick a parent's sibling wrongly only when
 * a nested regex would have matched: callers treat the pick as a hint.
 */
export type LocationPick<L> = { location: L | null } | { undecided: string };

interface Parsed<L> {
  loc: L;
  kind: 'exact' | 'prefix' | 'stop' | 'regex' | 'named';
  path: string;
  regex?: RegExp | null;
}

function parse<L extends { match: string }>(loc: L): Parsed<L> {
  const m = /^(=|\^~|~\*|~)\s+(.*)$/.exec(loc.match.trim());
  if (!m) return { loc, kind: loc.match.startsWith('@') ? 'named' : 'prefix', path: loc.match.trim() };
  const [, modifier, path] = m as unknown as [string, string, string];
  if (modifier === '=') return { loc, kind: 'exact', path };
  if (modifier === '^~') return { loc, kind: 'stop', path };
  let regex: RegExp | null;
  try {
    regex = new RegExp(path, modifier === '~*' ? 'i' : '');
  } catch {
    regex = null;
  }
  return { loc, kind: 'regex', path, regex };
}

/** The path nginx matches: the request line's URI without its query, percent-decoded. */
export function uriPath(request: string): string {
  const target = request.trim().split(/\s+/).find((part) => part.startsWith('/')) ?? request.trim();
  const path = target.split('?')[0]!;
  try {
    return decodeURIComponent(path);
  } catch {
    return path;
  }
}

export function nginxLocationFor<L extends { match: string }>(uri: string, locations: readonly L[]): LocationPick<L> {
  const parsed = locations.map(parse);
  const exact = parsed.find((p) => p.kind === 'exact' && p.path === uri);
  if (exact) return { location: exact.loc };
  const prefix = parsed
    .filter((p) => (p.kind === 'prefix' || p.kind === 'stop') && uri.startsWith(p.path))
    .reduce<Parsed<L> | null>((best, p) => (best === null || p.path.length > best.path.length ? p : best), null);
  if (prefix?.kind === 'stop') return { location: prefix.loc };
  for (const p of parsed.filter((x) => x.kind === 'regex')) {
    if (!p.regex) return { undecided: `location ${p.loc.match} is a regex this tool cannot evaluate as PCRE would` };
    if (p.regex.test(uri)) return { location: p.loc };
  }
  return { location: prefix?.loc ?? null };
}
