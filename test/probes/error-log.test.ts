import { describe, expect, it } from 'vitest';
import { SourceResults, ProbeStatusError } from '../../src/probe/contract.js';
import { ErrorLogAggregator } from '../../src/errorlog/aggregate.js';
import type { ErrorLogReport } from '../../src/errorlog/reader.js';
import { errorLogProbe } from '../../probes/read/error-log.js';
import { nginxConfigProbe } from '../../probes/read/nginx-config.js';
import { nginxVersionProbe } from '../../probes/read/nginx-version.js';
import { commandFixture, commandResults, context } from '../support/fixtures.js';

/** The real probes' facts for an nginx -T of this main-context text. */
function configFacts(main: string, http = '  server { location / { proxy_pass http://127.0.0.1:8080; } }') {
  const dump = `# configuration file /etc/nginx/nginx.conf:\n${main}\nevents {}\nhttp {\n${http}\n}\n\n`;
  const version = nginxVersionProbe.parse(commandResults(['version'], [commandFixture('nginx-V')]), context());
  return nginxConfigProbe.parse(commandResults(['dump'], [{ stdout: dump, stderr: '', exitCode: 0 }]), context({ deps: { 'nginx-version': version } }));
}

/** A report of the given lines, as the reader would make it. */
function report(lines: string[]): ErrorLogReport {
  const aggregator = new ErrorLogAggregator();
  for (const line of lines) aggregator.addRaw(line);
  return { ...aggregator.summary({ from: '2026/11/21 09:00:00', to: '2026/11/21 10:00:00' }), files: [{ path: '/var/log/nginx/error.log', mode: 'backward', bytesRead: 0, size: 0, reachedStart: false }], problems: [], gaps: [] };
}

const parse = (main: string, lines: string[] = []) =>
  errorLogProbe.parse(new SourceResults([], 0, report(lines)), context({ deps: { 'nginx-config': configFacts(main) } }));

const RESET = '2026/11/21 09:30:00 [error] 10#10: *1 recv() failed (104: Connection reset by peer) while reading response header from upstream, client: 127.0.0.1, server: , request: "GET / HTTP/1.1", upstream: "http://127.0.0.1:8080/", host: "x"';

describe('error-log', () => {
  it('an empty window of a log kept at crit proves nothing: unavailable, naming the directive', () => {
    let thrown: unknown;
    try {
      parse('error_log /var/log/nginx/error.log crit;');
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(ProbeStatusError);
    expect(thrown).toMatchObject({ status: 'unavailable' });
    expect((thrown as Error).message).toContain('error_log /var/log/nginx/error.log crit at /etc/nginx/nginx.conf:1');
  });

  it('a syslog destination at error does not make the file read (kept at crit) hold error lines', () => {
    expect(() => parse('error_log syslog:server=127.0.0.1 error;\nerror_log /var/log/nginx/error.log crit;')).toThrow(/error_log \/var\/log\/nginx\/error.log crit/);
  });

  it('counts as usual where some error_log keeps error lines, or lines are there anyway', () => {
    expect(parse('error_log /var/log/nginx/error.log warn;').total).toBe(0);
    expect(parse('error_log /var/log/nginx/crit.log crit;\nerror_log /var/log/nginx/error.log error;').total).toBe(0);
    // Lines from before the level was raised: evidence all the same.
    expect(parse('error_log /var/log/nginx/error.log alert;', [RESET]).families.resets).toBe(1);
  });

  it('mostly not nginx error-log lines: silent, unavailable; with upstream lines, those count but nothing is ruled out', () => {
    const junk = Array.from({ length: 5 }, (_, i) => `127.0.0.1 - - [21/Nov/2026:09:3${i}:00 +0000] "GET / HTTP/1.1" 502 157`);
    expect(() => parse('error_log /var/log/nginx/error.log warn;', junk)).toThrow(/5 of 5 line\(s\) read are not nginx error-log lines/);
    const ctx = context({ deps: { 'nginx-config': configFacts('error_log /var/log/nginx/error.log warn;') } });
    const facts = errorLogProbe.parse(new SourceResults([], 0, report([...junk, RESET])), ctx);
    expect(facts.families.resets).toBe(1);
    expect(errorLogProbe.gapReason!(facts, ctx)).toContain('5 of 6 line(s) read are not nginx error-log lines');
  });

  describe('error_log per vhost: each *_pass is asked whether its own log keeps error lines in the files read', () => {
    const twoServers = (a: string, b: string) =>
      `  server { server_name a; ${a} location / { proxy_pass http://127.0.0.1:8080; } }\n  server { server_name b; ${b} location / { fastcgi_pass unix:/run/php.sock; } }`;
    const gapOf = (main: string, http: string, lines: string[] = []) => {
      const ctx = context({ deps: { 'nginx-config': configFacts(main, http) } });
      const facts = errorLogProbe.parse(new SourceResults([], 0, report(lines)), ctx);
      return errorLogProbe.gapReason!(facts, ctx);
    };

    it('a global crit with one server at error: the other server\'s failures are not in the log, so nothing is ruled out on it', () => {
      const gap = gapOf('error_log /var/log/nginx/error.log crit;', twoServers('error_log /var/log/nginx/error.log error;', ''));
      expect(gap).toBe('fastcgi_pass unix:/run/php.sock at /etc/nginx/nginx.conf:5 (server b at /etc/nginx/nginx.conf:5) logs its failures to /var/log/nginx/error.log crit, not at "error" into the files read');
    });

    it('the opposite: a global error with one server at crit', () => {
      const gap = gapOf('error_log /var/log/nginx/error.log error;', twoServers('error_log /var/log/nginx/error.log crit;', ''));
      expect(gap).toMatch(/^proxy_pass http:\/\/127\.0\.0\.1:8080 at \/etc\/nginx\/nginx\.conf:4 \(server a at \/etc\/nginx\/nginx\.conf:4\) logs its failures to \/var\/log\/nginx\/error\.log crit/);
    });

    it('a server logging to a file of its own that is read, or inheriting a level that keeps errors: no gap', () => {
      expect(gapOf('error_log /var/log/nginx/error.log warn;', twoServers('error_log /var/log/nginx/a.error.log error;', ''))).toBeUndefined();
      // A location's own error_log overrides its server's.
      expect(gapOf('error_log /var/log/nginx/error.log crit;', '  server { location / { error_log /var/log/nginx/error.log warn; proxy_pass http://127.0.0.1:8080; } }', [RESET])).toBeUndefined();
    });
  });
});
