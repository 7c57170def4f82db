import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { SourceResults, type ProbeOutcome } from '../../src/probe/contract.js';
import type { Host } from '../../src/host/types.js';
import { ErrorLogAggregator } from '../../src/errorlog/aggregate.js';
import { errorLogProbe } from '../../probes/error-log.js';
import { headerSizeProbe } from '../../probes/header-size.js';
import { nginxConfigProbe } from '../../probes/nginx-config.js';
import { nginxVersionProbe } from '../../probes/nginx-version.js';
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

function renderFix(id: string, params: Record<string, string>, facts: Record<string, unknown>): string[] | null {
  const probes: Record<string, ProbeOutcome> = { 'header-size': { id: 'header-size', status: 'ok', facts, summary: '', commands: [], startedAt: 0, durationMs: 0 } as ProbeOutcome };
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
    expect(check!.measure).toContain("set `fastcgi_buffer_size 64k;` in location ~ \\.php$ (/tmp/fcgi-rec/nginx.conf:10)");
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
    const { facts } = await headerSize(conf.replace('root /tmp/fcgi-rec/www;', 'root /tmp/fcgi-rec/www;\n    fastcgi_buffer_size 8k;'));
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
