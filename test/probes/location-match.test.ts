import { describe, expect, it } from 'vitest';
import { nginxLocationFor, uriPath } from '../../probes/parse/locationMatch.js';

/** nginx's pick (ngx_http_core_find_location), on one server's locations in config order. */
const locs = (...matches: string[]) => matches.map((match) => ({ match }));
const pick = (uri: string, l: Array<{ match: string }>) => {
  const p = nginxLocationFor(uri, l);
  return 'location' in p ? p.location?.match ?? null : `undecided: ${p.undecided}`;
};

describe('nginxLocationFor', () => {
  const server = locs('/', '= /slow.php', '~ \\.php$', '^~ /static/', '/app/', '~* \\.JPG$', '@fallback');
  it('takes an exact match before any regex', () => expect(pick('/slow.php', server)).toBe('= /slow.php'));
  it('takes the first matching regex over the longest prefix', () => expect(pick('/app/index.php', server)).toBe('~ \\.php$'));
  it('stops at a ^~ prefix', () => expect(pick('/static/x.php', server)).toBe('^~ /static/'));
  it('falls back to the longest prefix', () => expect(pick('/app/x.html', server)).toBe('/app/'));
  it('matches ~* without case', () => expect(pick('/a.jpg', server)).toBe('~* \\.JPG$'));
  it('never picks a named location, and says when none matches', () => expect(pick('x', locs('@fallback', '= /y'))).toBeNull());
  it('is undecided on a regex JavaScript cannot read as PCRE', () => expect(pick('/a.php', locs('~ (?i)\\.php$'))).toMatch(/^undecided/));
  it('takes the path of a request line, without its query, decoded', () => {
    expect(uriPath('GET /slow.php')).toBe('/slow.php');
    expect(uriPath('POST /a%20b.php?x=1')).toBe('/a b.php');
  });
});
