import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseErrorLine, parseUpstream, parseRequestLine } from '../../src/errorlog/line.js';
import { classify, SIGNATURE_IDS } from '../../src/errorlog/signatures.js';
import { routePrefix } from '../../src/errorlog/route.js';
import { ErrorLogAggregator } from '../../src/errorlog/aggregate.js';
import { fixturePath } from '../support/fixtures.js';

const real = readFileSync(fixturePath('errorlog', 'signatures.error.log'), 'latin1').split('\n').filter(Boolean);
const documented = readFileSync(fixturePath('errorlog', 'signatures.documented.error.log'), 'latin1').split('\n').filter(Boolean);
const requests = (JSON.parse(readFileSync(fixturePath('errorlog', 'signatures.requests.json'), 'utf8')) as { requests: Array<{ route: string; method: string; expect: string }> }).requests;

describe('error-log line parser', () => {
  it('reads every line nginx really wrote in the lab', () => {
    for (const raw of real) expect(parseErrorLine(raw), raw).not.toBeNull();
  });

  it('splits a line into its fields', () => {
    const line = parseErrorLine(real.find((l) => l.includes('/refused/api/orders') && l.includes('POST'))!)!;
    expect(line).toMatchObject({
      level: 'error',
      connection: 2,
      message: 'connect() failed',
      errno: 111,
      strerror: 'Connection refused',
      action: 'connecting to upstream',
      client: '127.0.0.1',
      server: '',
      request: { method: 'POST', path: '/refused/api/orders', protocol: 'HTTP/1.1' },
      upstream: { scheme: 'http', uri: '/refused/api/orders' },
    });
    expect(line.pid).toBe(line.tid);
    expect(line.upstream!.peer).toMatch(/^127\.0\.0\.1:\d+$/);
    expect(line.time).toMatch(/^\d{4}\/\d\d\/\d\d \d\d:\d\d:\d\d$/);
    expect(new Date(line.timeMs).getFullYear()).toBe(Number(line.time.slice(0, 4)));
  });

  it('reads unix peers, group names, quoted details and referrers', () => {
    const missing = parseErrorLine(real.find((l) => l.includes('missing.sock'))!)!;
    expect(missing.upstream).toMatchObject({ peer: expect.stringMatching(/^unix:\/.*missing\.sock$/), uri: '/missing/index.php' });
    expect(parseErrorLine(real.find((l) => l.includes('no live upstreams'))!)!.upstream).toEqual({ scheme: 'http', peer: 'pool', uri: '/pool/b' });
    expect(parseErrorLine(real.find((l) => l.includes('invalid header'))!)!.message).toBe('upstream sent invalid header: "Bad\\x01..."');
    expect(parseErrorLine(documented[1]!)).toMatchObject({ tid: 0, referrer: 'https://api.example.com/app', host: 'api.example.com' });
    expect(parseErrorLine(documented[5]!)).toMatchObject({ level: 'notice', connection: null, message: 'signal process started', client: null });
  });

  it.each([
    ['empty', ''],
    ['junk', 'hello world, this is not nginx at all'],
    ['binary', '\u0000\u0001\u00ff\u00fe'.repeat(20)],
    ['bad level', '2026/11/21 09:09:37 [oops] 1#1: *1 connect() failed, client: 1, server: '],
    ['CRLF', `${documented[0]}\r`],
    ['cut at 2048 bytes', documented[0]!.slice(0, 120) + 'x'.repeat(2048 - 120)],
    ['cut inside the fields', documented[0]!.slice(0, documented[0]!.indexOf(', server:') + 5)],
  ])('returns null for %s', (_name, raw) => {
    expect(parseErrorLine(raw)).toBeNull();
  });

  it('takes request lines and upstream fields apart', () => {
    expect(parseRequestLine('GET /a b HTTP/1.1')).toEqual({ method: 'GET', path: '/a b', protocol: 'HTTP/1.1' });
    expect(parseRequestLine('\u0016\u0003\u0001 garbage')).toBeNull();
    expect(parseUpstream('http://unix:/run/app.sock:/x/y')).toEqual({ scheme: 'http', peer: 'unix:/run/app.sock', uri: '/x/y' });
    expect(parseUpstream('fastcgi://127.0.0.1:9000')).toEqual({ scheme: 'fastcgi', peer: '127.0.0.1:9000', uri: '' });
  });

  it('folds routes to a prefix', () => {
    expect(routePrefix('/api/orders/123?x=1')).toBe('/api/orders');
    expect(routePrefix('/users/123/orders')).toBe('/users/:id');
    expect(routePrefix('/')).toBe('/');
  });
});

describe('signatures', () => {
  it('classifies each line the lab produced as the failure that was triggered', () => {
    const byRequest = new Map<string, string[]>();
    for (const raw of real) {
      const line = parseErrorLine(raw)!;
      const signature = classify(line);
      if (!signature || !line.request) continue;
      const key = `${line.request.method} ${line.request.path}`;
      byRequest.set(key, [...(byRequest.get(key) ?? []), signature]);
    }
    for (const request of requests) {
      const seen = byRequest.get(`${request.method} ${request.route}`) ?? [];
      for (const expected of request.expect.split('+')) expect(seen, `${request.method} ${request.route}`).toContain(expected);
    }
  });

  it('covers every signature with a real or documented line', () => {
    const seen = new Set([...real, ...documented].map((raw) => classify(parseErrorLine(raw)!)));
    expect(SIGNATURE_IDS.filter((id) => !seen.has(id))).toEqual([]);
  });

  it('leaves lines that are not about an upstream unclassified', () => {
    expect(classify(parseErrorLine(documented[4]!)!)).toBeNull();
    expect(classify(parseErrorLine(documented[5]!)!)).toBeNull();
    expect(classify(parseErrorLine(real.find((l) => l.includes('buffered to a temporary file'))!)!)).toBeNull();
  });
});

describe('aggregation', () => {
  it('counts per signature, peer, method and route, with a per-minute histogram', () => {
    const aggregator = new ErrorLogAggregator();
    for (const raw of [...real, 'junk line']) aggregator.addRaw(raw);
    const summary = aggregator.summary({ from: null, to: null });
    expect(summary.linesRead).toBe(real.length + 1);
    expect(summary.unparsed).toBe(1);
    expect(summary.otherLines).toBe(2);
    const refused = summary.signatures.find((s) => s.id === 'refused')!;
    expect(refused.count).toBe(4);
    expect(refused.methods).toEqual({ POST: 1, GET: 3 });
    expect(refused.routes).toEqual({ '/refused/api': 2, '/pool/a': 2 });
    expect(Object.values(refused.upstreams).sort()).toEqual([1, 1, 2]);
    const reset = summary.signatures.find((s) => s.id === 'reset-reading-header')!;
    expect(reset).toMatchObject({ count: 3, methods: { POST: 3 } });
    expect(summary.signatures.find((s) => s.id === 'no-live-upstreams')!.upstreams).toEqual({ pool: 1 });
    expect(summary.groups.reduce((n, g) => n + g.count, 0)).toBe(real.length - 2);
    expect(summary.perMinute.reduce((n, m) => n + m.count, 0)).toBe(real.length - 2);
  });
});
