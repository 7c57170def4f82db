import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { SourceResults, type ProbeOutcome } from '../../src/probe/contract.js';
import type { Host } from '../../src/host/types.js';
import { ErrorLogAggregator } from '../../src/errorlog/aggregate.js';
import { errorLogProbe } from '../../probes/read/error-log.js';
import { headerSizeProbe } from '../../probes/read/header-size.js';
import { timeoutAnalysisProbe } from '../../probes/combine/timeout-analysis.js';
import { keepaliveAnalysisProbe } from '../../probes/combine/keepalive-analysis.js';
import { keepaliveMeasureProbe } from '../../probes/read/keepalive-measure.js';
import { nginxConfigProbe } from '../../probes/read/nginx-config.js';
import { nginxVersionProbe } from '../../probes/read/nginx-version.js';
import { FIXES } from '../../src/fixes/catalog.js';
import { applicableSteps } from '../../src/engine/reducer.js';
import { fixParamValue } from '../../src/engine/template.js';
import { PLACEHOLDER } from '../support/placeholders.js';
import { commandFixture, commandResults, context, fixturePath } from '../support/fixtures.js';

/**
 * A PHP location (fastcgi_pass) whose app sends a 6 KB Set-Cookie: the real
 * config and the real error lines of nginx 1.22.1 in front of php-fpm 8.2,
 * recorded here (test/fixtures/errorlog/fastcgi.*). Findings and fixes must
 * name fastcgi_buffer_size, never proxy_buffer_size or "unknown".
 */
const conf = readFileSync(fixturePath('errorlog', 'fastcgi.nginx.conf'), 'utf8');
const lines = readFileSync(fixturePath('errorlog', 'fastcgi.error.log'), 'utf8')
  .split('\n')
  .filter((l) => l && !l.startsWith('#'));

function configFacts(text: string) {
  const version = nginxVersionProbe.parse(commandResults(['version'], [commandFixture('nginx-V')]), context());
  const dump = `# configuration file /tmp/fcgi-rec/nginx.conf:\n${text}\n`;
  return nginxConfigProbe.parse(commandResults(['dump'], [{ stdout: dump, stderr: '', exitCode: 0 }]), context({ deps: { 'nginx-version': version } }));
}

function errorFacts(config: ReturnType<typeof configFacts>) {
  const aggregator = new ErrorLogAggregator();
  for (const line of lines) aggregator.addRaw(line);
  const report = { ...aggregator.summary({ from: '2026/12/01 14:00:00', to: '2026/12/01 14:10:00' }), files: [{ path: '/tmp/fcgi-rec/error.log', mode: 'backward' as const, bytesRead: 0, size: 0, reachedStart: true }], problems: [] };
  return errorLogProbe.parse(new SourceResults([], 0, report), context({ deps: { 'nginx-config': config } }));
}

/** A host that fails the test if the probe opens any connection: a FastCGI backend must get nothing. */
const noConnect = { connect: () => Promise.reject(new Error('header-size sent something to a FastCGI backend')) } as unknown as Host;

async function headerSize(text: string, passive = false) {
  const config = configFacts(text);
  const errors = errorFacts(config);
  const ctx = context({ deps: { 'error-log': errors, 'nginx-config': config }, options: { nginxBin: 'nginx', errorLogs: [], sinceMs: 600_000, passive } });
  const gathered = await headerSizeProbe.gather!(noConnect, ctx);
  return { facts: headerSizeProbe.parse(new SourceResults([], 0, gathered), ctx), plan: headerSizeProbe.gatherPlan!(ctx) };
}

const BAD = new RegExp(`${PLACEHOLDER.source}|proxy_buffer`);

function renderFix(id: string, params: Record<string, string>, facts: Record<string, unknown>, probe = 'header-size'): string[] | null {
  const probes: Record<string, ProbeOutcome> = { [probe]: { id: probe, status: 'ok', facts, summary: '', commands: [], startedAt: 0, durationMs: 0 } as ProbeOutcome };
  const values = Object.fromEntries(Object.entries(params).map(([name, path]) => [name, fixParamValue(path, probes)]));
  return applicableSteps(FIXES.get(id)!.steps, values);
}

describe('a FastCGI location that logged "upstream sent too big header"', () => {
  it('the real error line names the php-fpm socket as the peer', () => {
    const errors = errorFacts(configFacts(conf));
    expect(errors.groups.find((g) => g.signature === 'too-big-header')).toMatchObject({ peer: 'unix:/tmp/fcgi-rec/fpm.sock', examplePath: '/index.php?x=1' });
  });

  it('sends nothing to php-fpm, names fastcgi_buffer_size, and says how to measure the header', async () => {
    const { facts, plan } = await headerSize(conf);
    expect(plan).toEqual(['unix:/tmp/fcgi-rec/fpm.sock: nothing sent (fastcgi_pass)']);
    const [check] = facts.checks;
    expect(check).toMatchObject({ family: 'fastcgi', bufferDirective: 'fastcgi_buffer_size', proxyBufferSizeBytes: 4096, headerBytes: null, fits: null });
    // The command that measured 6060 bytes against this php-fpm when the fixture was recorded.
    expect(check!.measure).toContain(
      "`SCRIPT_FILENAME='/tmp/fcgi-rec/www/index.php' SCRIPT_NAME='/index.php' REQUEST_URI='/index.php?x=1' QUERY_STRING='x=1' REQUEST_METHOD=GET cgi-fcgi -bind -connect /tmp/fcgi-rec/fpm.sock | sed -n '1,/^\\r$/p' | wc -c`",
    );
    expect(check!.measure).toContain("set `fastcgi_buffer_size 64k;` in location ~ \\.php$ (/tmp/fcgi-rec/nginx.conf:11)");
    expect(check!.measure).toContain("curl -sS -o /dev/null -D - 'http://127.0.0.1:18089/index.php?x=1' | wc -c");
    expect(facts.summary).toBe('unix:/tmp/fcgi-rec/fpm.sock /index.php?x=1 against fastcgi_buffer_size 4096: header not measured (it speaks FastCGI (fastcgi_pass), not HTTP, so no GET was sent)');
    expect(facts.summary).not.toMatch(BAD);
    expect(headerSizeProbe.summarize(facts)).toBe('unix:/tmp/fcgi-rec/fpm.sock/index.php?x=1: header not measured vs fastcgi_buffer_size 4096');
  });

  it('the fix names no placeholder, no proxy_ directive, and carries the measurement', async () => {
    const { facts } = await headerSize(conf);
    const steps = renderFix('raise-proxy-buffer-size', { size: 'header-size.largestSuggested', where: 'header-size.tooSmallIn', setting: 'header-size.fixSetting', measure: 'header-size.measure' }, facts);
    expect(steps).not.toBeNull();
    expect(steps!.join('\n')).not.toMatch(BAD);
    expect(steps![0]).toMatch(/^Not measured, so no size is suggested for it: unix:\/tmp\/fcgi-rec\/fpm.sock \/index.php\?x=1: it speaks FastCGI/);
    expect(steps![0]).toContain('cgi-fcgi -bind -connect /tmp/fcgi-rec/fpm.sock');
  });

  it('uses the location family settings it inherits: fastcgi_buffer_size from the server level', async () => {
    const { facts } = await headerSize(conf.replace('fastcgi_read_timeout 1s;', 'fastcgi_read_timeout 1s;\n    fastcgi_buffer_size 8k;'));
    expect(facts.checks[0]).toMatchObject({ proxyBufferSizeBytes: 8192, bufferDirective: 'fastcgi_buffer_size' });
  });
});

describe('an HTTP backend under --passive', () => {
  it('sends nothing and gives the curl that measures the header from the backend directly', async () => {
    const proxied = conf.replace('fastcgi_pass unix:/tmp/fcgi-rec/fpm.sock;', 'proxy_pass http://unix:/tmp/fcgi-rec/fpm.sock;');
    const { facts } = await headerSize(proxied, true);
    expect(facts.checks[0]).toMatchObject({ family: 'proxy', bufferDirective: 'proxy_buffer_size', headerBytes: null });
    expect(facts.measure).toContain("not fetched (--passive sends nothing to backends); measure it from the backend directly: `curl -sS -o /dev/null -D - --unix-socket /tmp/fcgi-rec/fpm.sock 'http://localhost/index.php?x=1' | wc -c`");
  });
});

describe('a FastCGI read timeout', () => {
  it('is set against fastcgi_read_timeout where the location inherits it, and the fix names that directive', () => {
    const config = configFacts(conf);
    const errors = errorFacts(config);
    const facts = timeoutAnalysisProbe.parse(new SourceResults([], 0), context({ deps: { 'error-log': errors, 'nginx-config': config } }));
    expect(facts.peers).toEqual([
      expect.objectContaining({ peer: 'unix:/tmp/fcgi-rec/fpm.sock', counts: { connect: 0, send: 0, read: 1, body: 0 }, settings: ['fastcgi_read_timeout 1 s in location ~ \\.php$ (set at nginx.conf:10)'] }),
    ]);
    expect(facts.readDirective).toBe('fastcgi_read_timeout');
    expect(facts.connectDirective).toBe('');
    const steps = renderFix('slow-backend-timeouts', { detail: 'timeout-analysis.slowDetail', directive: 'timeout-analysis.readDirective' }, facts, 'timeout-analysis')!;
    expect(steps.join('\n')).toContain('Raising fastcgi_read_timeout changes 504s');
    expect(steps.join('\n')).not.toMatch(new RegExp(`${PLACEHOLDER.source}|proxy_`));
  });
});

describe('upstream keep-alive behind fastcgi_pass', () => {
  // The recorded config with its socket moved into an upstream block with keepalive, as a PHP site that wants reuse writes it.
  const pooled = conf
    .replace('access_log off;', 'access_log off;\n  upstream php {\n    server unix:/tmp/fcgi-rec/fpm.sock;\n    keepalive 4;\n  }\n  proxy_set_header Host $host;')
    .replace('fastcgi_pass unix:/tmp/fcgi-rec/fpm.sock;', 'fastcgi_pass php;');
  const analyse = (text: string) => keepaliveAnalysisProbe.parse(new SourceResults([], 0), context({ deps: { 'nginx-config': configFacts(text) } }));
  const fix = (facts: Record<string, unknown>) =>
    renderFix('enable-upstream-keepalive', { where: 'keepalive-analysis.inert[*].proxyInert', headers: 'keepalive-analysis.inert[*].inheritedHeaders', fastcgi: 'keepalive-analysis.inert[*].fastcgiInert', never: 'keepalive-analysis.inert[*].neverInert' }, facts, 'keepalive-analysis')!;

  it('is inert without fastcgi_keep_conn on, and the fix says fastcgi_keep_conn, not proxy_http_version', () => {
    const facts = analyse(pooled);
    expect(facts.inert[0]).toMatchObject({ name: 'php', inEffect: false, inertLocations: ['location ~ \\.php$ (/tmp/fcgi-rec/nginx.conf:16): fastcgi_keep_conn off'], proxyInert: [], fastcgiInert: ['location ~ \\.php$ (/tmp/fcgi-rec/nginx.conf:16)'] });
    const steps = fix(facts).join('\n');
    expect(steps).toContain('FastCGI — location ~ \\.php$ (/tmp/fcgi-rec/nginx.conf:16) — add `fastcgi_keep_conn on;`');
    expect(steps).not.toMatch(new RegExp(`${PLACEHOLDER.source}|proxy_`));
  });

  it('keepalive-measure sends no HTTP HEAD to php-fpm', async () => {
    const ctx = context({ deps: { 'nginx-config': configFacts(pooled.replace('fastcgi_pass php;', 'fastcgi_pass php;\n      fastcgi_keep_conn on;')) } });
    const gathered = (await keepaliveMeasureProbe.gather!(noConnect, ctx)) as { results: unknown[]; skipped: string[] };
    expect(gathered.results).toEqual([]);
    expect(gathered.skipped).toEqual(['unix:/tmp/fcgi-rec/fpm.sock: passed to with fastcgi_pass, not HTTP: no HEAD sent, not measured']);
  });

  it('is in effect with fastcgi_keep_conn on', () => {
    const facts = analyse(pooled.replace('fastcgi_pass php;', 'fastcgi_pass php;\n      fastcgi_keep_conn on;'));
    expect(facts.upstreams[0]).toMatchObject({ name: 'php', inEffect: true, inertLocations: [] });
    expect(facts.inertCount).toBe(0);
  });

  it('for a proxy location, lists the inherited proxy_set_header lines adding Connection "" would drop', () => {
    const facts = analyse(pooled.replace('fastcgi_pass php;', 'proxy_pass http://php;'));
    expect(facts.inert[0]!.inheritedHeaders).toEqual(['location ~ \\.php$ (/tmp/fcgi-rec/nginx.conf:16): `proxy_set_header Host $host;` (inherited from /tmp/fcgi-rec/nginx.conf:11)']);
    const steps = fix(facts).join('\n');
    expect(steps).toContain('so repeat those in the same edit — location ~ \\.php$ (/tmp/fcgi-rec/nginx.conf:16): `proxy_set_header Host $host;` (inherited from /tmp/fcgi-rec/nginx.conf:11)');
    expect(steps).not.toContain('fastcgi_keep_conn');
  });
});

describe('a backend the config names localhost:PORT, logged as 127.0.0.1:PORT', () => {
  // Recorded here: nginx 1.22.1, proxy_pass http://localhost:18421 to a node server with a 10000-byte header.
  const localConf = readFileSync(fixturePath('errorlog', 'localhost-proxy.nginx.conf'), 'utf8');
  const localLines = readFileSync(fixturePath('errorlog', 'localhost-proxy.error.log'), 'utf8').split('\n').filter((l) => l && !l.startsWith('#'));
  async function run(text: string, listeners?: unknown) {
    const config = configFacts(text);
    const aggregator = new ErrorLogAggregator();
    for (const line of localLines) aggregator.addRaw(line);
    const report = { ...aggregator.summary({ from: '2026/12/01 15:00:00', to: '2026/12/01 15:10:00' }), files: [{ path: '/tmp/hdr-rec/error.log', mode: 'backward' as const, bytesRead: 0, size: 0, reachedStart: true }], problems: [] };
    const errors = errorLogProbe.parse(new SourceResults([], 0, report), context({ deps: { 'nginx-config': config } }));
    const deps = { 'error-log': errors, 'nginx-config': config, ...(listeners ? { 'backend-listeners': listeners } : {}) };
    const ctx = context({ deps, options: { nginxBin: 'nginx', errorLogs: [], sinceMs: 600_000, passive: true } });
    const gathered = await headerSizeProbe.gather!(noConnect, ctx);
    return headerSizeProbe.parse(new SourceResults([], 0, gathered), ctx);
  }

  it('matches the logged peer to the config backend and says how to measure it', async () => {
    const facts = await run(localConf);
    expect(facts.checks).toHaveLength(1);
    expect(facts.checks[0]).toMatchObject({ peer: '127.0.0.1:18421', family: 'proxy', proxyBufferSizeBytes: 4096 });
    expect(facts.measure).toContain("curl -sS -o /dev/null -D - 'http://localhost:18421/profile?id=7' | wc -c");
    expect(facts.summary).not.toContain('no route logged');
  });

  it('through the addresses backend-listeners resolved', async () => {
    const listeners = { backends: [{ address: 'localhost:18421', upstream: null, peers: [{ ip: '127.0.0.1', port: 18421 }, { ip: '::1', port: 18421 }] }] };
    expect((await run(localConf, listeners)).checks).toHaveLength(1);
  });

  it('a logged peer that is not in the config is said, with the reason and a command, never "no route logged"', async () => {
    const facts = await run(localConf.replace('localhost:18421', 'localhost:18999'), { backends: [] });
    expect(facts.checks).toEqual([]);
    expect(facts.summary).toBe("not checked: 127.0.0.1:18421 /profile?id=7: not a backend address in the nginx config, so nothing was sent to it; if it speaks HTTP, measure it with curl -sS -o /dev/null -D - 'http://127.0.0.1:18421/profile?id=7' | wc -c");
    expect(headerSizeProbe.summarize(facts)).toMatch(/^not checked: 127\.0\.0\.1:18421/);
    expect(facts.measure).toContain('not a backend address in the nginx config');
  });
});
