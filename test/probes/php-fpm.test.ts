import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { FpmConfigError, parseFpmIni, parseFpmSeconds } from '../../src/phpfpm/ini.js';
import { analyzeFpmLog, analyzeSlowlog } from '../../src/phpfpm/log.js';
import { effectiveBacklog, listenAddress, resolveFpmConfig, tcpMatches } from '../../src/phpfpm/pools.js';
import { parseErrorLine } from '../../src/errorlog/line.js';
import { classify } from '../../src/errorlog/signatures.js';
import { fixturePath } from '../support/fixtures.js';

const read = (...parts: string[]) => readFileSync(fixturePath('php-fpm', ...parts), 'utf8');
const ALL_TIME: [number, number] = [0, Date.now() + 365 * 86_400_000];

/** The Debian package's own files, under the paths they have on a server. */
const DEBIAN: Record<string, string> = {
  '/etc/php/8.2/fpm/php-fpm.conf': read('debian', 'php-fpm.conf'),
  '/etc/php/8.2/fpm/pool.d/www.conf': read('debian', 'pool.d', 'www.conf'),
};
const fromMap = (files: Record<string, string>) => (path: string) => (path in files ? parseFpmIni(files[path]!, path) : { error: `${path}: no such file or directory` });

describe('php-fpm config (the Debian package files)', () => {
  it('reads the master config, follows include= and resolves the www pool with file:line', () => {
    const config = resolveFpmConfig('/etc/php/8.2/fpm/php-fpm.conf', fromMap(DEBIAN), (pattern) =>
      pattern === '/etc/php/8.2/fpm/pool.d/*.conf' ? ['/etc/php/8.2/fpm/pool.d/www.conf'] : { error: 'unexpected pattern' },
    );
    expect(config.files).toEqual(['/etc/php/8.2/fpm/php-fpm.conf', '/etc/php/8.2/fpm/pool.d/www.conf']);
    expect(config.errorLog).toEqual({ value: '/var/log/php8.2-fpm.log', file: '/etc/php/8.2/fpm/php-fpm.conf', line: 26 });
    expect(config.notes).toEqual([]);
    const [www] = config.pools;
    expect(config.pools).toHaveLength(1);
    expect(www).toMatchObject({
      name: 'www',
      file: '/etc/php/8.2/fpm/pool.d/www.conf',
      line: 4,
      address: 'unix:/run/php/php8.2-fpm.sock',
      listen: { value: '/run/php/php8.2-fpm.sock', line: 41 },
      pm: { value: 'dynamic', line: 116 },
      maxChildren: { value: 5, line: 127 },
      // Commented out in the package: php-src's Linux defaults.
      backlog: { value: -1, file: null, line: null },
      terminateTimeoutSec: { value: 0, file: null },
      slowlogTimeoutSec: { value: 0, file: null },
      slowlog: null,
    });
  });

  it('expands $pool in listen and slowlog, merges a pool reopened in another file, and notes an unreadable include', () => {
    const files = {
      '/srv/fpm.conf': '[global]\nerror_log = log/fpm.log\ninclude = /srv/pools/*.conf\ninclude = /srv/missing/*.conf\n',
      '/srv/pools/a.conf': '[shop]\nlisten = /run/$pool.sock\npm = ondemand\nslowlog = /var/log/$pool.slow\nrequest_slowlog_timeout = 5s\n',
      '/srv/pools/b.conf': "[shop]\npm.max_children = 12 ; sized for 2 GB\nlisten.backlog = \"64\"\nrequest_terminate_timeout = 2m\n[api]\nlisten = 127.0.0.1:9001\n",
    };
    const config = resolveFpmConfig('/srv/fpm.conf', fromMap(files), (pattern) => (pattern === '/srv/pools/*.conf' ? ['/srv/pools/a.conf', '/srv/pools/b.conf'] : { error: 'cannot list /srv/missing: permission denied' }));
    const shop = config.pools.find((p) => p.name === 'shop')!;
    expect(shop.address).toBe('unix:/run/shop.sock');
    expect(shop.slowlog?.value).toBe('/var/log/shop.slow');
    expect(shop.maxChildren).toEqual({ value: 12, file: '/srv/pools/b.conf', line: 2 });
    expect(shop.backlog.value).toBe(64);
    expect(shop.terminateTimeoutSec.value).toBe(120);
    expect(shop.slowlogTimeoutSec.value).toBe(5);
    expect(config.pools.find((p) => p.name === 'api')!.address).toBe('127.0.0.1:9001');
    // A relative error_log is under the prefix: without -p, php-fpm's /var.
    expect(config.errorLog.value).toBe('/var/log/fpm.log');
    expect(config.notes).toContain('include=/srv/missing/*.conf at /srv/fpm.conf:4: cannot list /srv/missing: permission denied');
  });

  it('leaves a listen naming an environment variable unresolved, and says so', () => {
    const config = resolveFpmConfig('/c.conf', fromMap({ '/c.conf': '[www]\nlisten = ${FPM_SOCKET}\n' }), () => []);
    expect(config.pools[0]!.address).toBeNull();
    expect(config.notes.join()).toMatch(/listen = \$\{FPM_SOCKET\} names an environment variable/);
  });

  // Checked with php-fpm8.2 -t -p DIR: "SysLog" opens no file; "syslog:local0" creates DIR/syslog:local0.
  it('takes error_log = syslog (any case) as syslog, with its ident, never as a file under the prefix', () => {
    const config = resolveFpmConfig('/c.conf', fromMap({ '/c.conf': '[global]\nerror_log = SysLog\nsyslog.ident = myfpm\n[www]\nlisten = 9000\n' }), () => []);
    expect(config.errorLog).toEqual({ value: 'syslog', file: '/c.conf', line: 2 });
    expect(config.syslogIdent).toEqual({ value: 'myfpm', file: '/c.conf', line: 3 });
    expect(config.notes.join()).not.toMatch(/resolved against/);
    expect(resolveFpmConfig('/c.conf', fromMap({ '/c.conf': '[global]\nerror_log = syslog\n' }), () => []).syslogIdent.value).toBe('php-fpm');
  });

  it('takes error_log = syslog:local0 as the file php-fpm makes of it, under the prefix, and says the prefix is assumed', () => {
    const config = resolveFpmConfig('/c.conf', fromMap({ '/c.conf': '[global]\nerror_log = syslog:local0\n' }), () => []);
    expect(config.errorLog.value).toBe('/var/syslog:local0');
    expect(config.notes.join()).toMatch(/error_log resolved against \/var/);
  });
});

describe('php-fpm INI syntax', () => {
  it.each([
    ['key = value', 'value'],
    ['key=value ; trailing comment', 'value'],
    ['key = "quoted ; not a comment"', 'quoted ; not a comment'],
    ["key = 'single'", 'single'],
    ['key =', ''],
  ])('%s', (line, value) => {
    expect(parseFpmIni(`[p]\n${line}\n`, '/x.conf').sections[0]!.entries[0]).toEqual({ key: 'key', value, line: 2 });
  });

  it('keeps indexed keys and puts directives before any section in [global]', () => {
    const file = parseFpmIni('error_log = /var/log/f.log\n[www]\nenv[TMP] = /tmp\nphp_admin_value[memory_limit] = 128M\n', '/f.conf');
    expect(file.sections.map((s) => s.name)).toEqual(['global', 'www']);
    expect(file.sections[1]!.entries.map((e) => e.key)).toEqual(['env[TMP]', 'php_admin_value[memory_limit]']);
  });

  it.each([
    ['[www\nlisten = /x', 1, 'unterminated section header "[www"'],
    ['[www]\nlisten /run/x.sock', 2, 'expected "key = value", found "listen /run/x.sock"'],
    ['[www]\n\nlisten = "/run/x.sock', 3, 'unterminated double quote'],
    ['[]\n', 1, 'empty section name'],
    ['[www]\nslowlog = "a" b', 2, 'unexpected "b" after the quoted value'],
  ])('rejects %j at its line', (text, line, message) => {
    let error: unknown;
    try {
      parseFpmIni(text, '/etc/php/8.2/fpm/pool.d/bad.conf');
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(FpmConfigError);
    expect((error as FpmConfigError).message).toContain(`/etc/php/8.2/fpm/pool.d/bad.conf:${line}: ${message}`);
  });

  it.each([
    ['30', 30],
    ['30s', 30],
    ['2m', 120],
    ['1h', 3600],
    ['1d', 86400],
    ['0', 0],
    ['1.5s', null],
    ['ten', null],
  ])('time %s → %s s', (text, seconds) => expect(parseFpmSeconds(text)).toBe(seconds));
});

describe('listen addresses', () => {
  it.each([
    ['/run/php/php8.2-fpm.sock', 'unix:/run/php/php8.2-fpm.sock'],
    ['9000', '*:9000'],
    ['127.0.0.1:9000', '127.0.0.1:9000'],
    ['[::1]:9000', '[::1]:9000'],
  ])('%s → %s', (listen, address) => expect(listenAddress(listen)).toBe(address));

  it.each([
    ['*:9000', '127.0.0.1', 9000, true],
    ['127.0.0.1:9000', '127.0.0.1', 9000, true],
    ['127.0.0.1:9000', 'localhost', 9000, true],
    ['[::1]:9000', '::1', 9000, true],
    ['[::]:9000', '127.0.0.1', 9000, true],
    ['127.0.0.1:9000', '127.0.0.1', 9001, false],
    ['10.0.0.5:9000', '127.0.0.1', 9000, false],
  ])('pool %s serves %s:%s: %s', (pool, host, port, matches) => expect(tcpMatches(pool, host, port)).toBe(matches));

  it('caps the backlog at somaxconn; -1 (the Linux default) is somaxconn', () => {
    expect(effectiveBacklog(-1, 4096)).toBe(4096);
    expect(effectiveBacklog(65535, 4096)).toBe(4096);
    expect(effectiveBacklog(2, 4096)).toBe(2);
    expect(effectiveBacklog(-1, null)).toBeNull();
  });
});

describe("php-fpm's own log (recorded from php-fpm 8.2)", () => {
  it('counts a terminate-timeout kill, the slow warning before it and the SIGTERM exit', () => {
    expect(analyzeFpmLog(read('terminate-timeout.fpm.log'), ...ALL_TIME)).toEqual([
      {
        pool: 'www',
        maxChildrenReached: 0,
        maxChildrenSetting: null,
        timedOut: 1,
        slow: 1,
        signals: { SIGTERM: 1 },
        requests: ['"GET /slow.php" (script /tmp/fpmx/slow.php) ×2'],
        kills: [{ atMs: new Date(2026, 11, 1, 13, 59, 28).getTime(), at: '01-Dec-2026 13:59:28', request: 'GET /slow.php', script: '/tmp/fpmx/slow.php', sec: 1.337719 }],
        // The SIGTERM of request_terminate_timeout's kill is not a crash.
        crashes: [],
        first: '01-Dec-2026 13:59:28',
        last: '01-Dec-2026 13:59:28',
      },
    ]);
  });

  it('counts "server reached pm.max_children setting" with its setting', () => {
    const [www] = analyzeFpmLog(read('max-children.fpm.log'), ...ALL_TIME);
    expect(www).toMatchObject({ maxChildrenReached: 1, maxChildrenSetting: 1, timedOut: 0 });
  });

  it('counts a child killed with SIGKILL, a crash: php-fpm did not send it', () => {
    const [www] = analyzeFpmLog(read('child-sigkill.fpm.log'), ...ALL_TIME);
    expect(www!.signals).toEqual({ SIGKILL: 1 });
    expect(www!.crashes).toEqual([{ atMs: new Date(2026, 11, 1, 14, 6, 28).getTime(), at: '01-Dec-2026 14:06:28', pid: 31730, signal: 'SIGKILL', line: '[01-Dec-2026 14:06:28] WARNING: [pool www] child 31730 exited on signal 9 (SIGKILL) after 0.999940 seconds from start' }]);
  });

  it('reads "(SIGSEGV - core dumped)" (fpm_children.c\'s second %s), and takes any signal after a child\'s timeout line as the kill', () => {
    const log = [
      '[01-Dec-2026 15:46:23] WARNING: [pool app] child 26871 exited on signal 11 (SIGSEGV - core dumped) after 6.764429 seconds from start',
      '[01-Dec-2026 15:46:24] WARNING: [pool app] child 26872, script \'/x/app.php\' (request: "GET /app.php") execution timed out (3.0 sec), terminating',
      '[01-Dec-2026 15:46:25] WARNING: [pool app] child 26872 exited on signal 9 (SIGKILL) after 9.0 seconds from start',
    ].join('\n');
    const [app] = analyzeFpmLog(log, ...ALL_TIME);
    expect(app!.signals).toEqual({ SIGSEGV: 1, SIGKILL: 1 });
    expect(app!.crashes.map((c) => `${c.pid} ${c.signal}`)).toEqual(['26871 SIGSEGV']);
  });

  it('keeps only lines inside the window', () => {
    const after = new Date(2026, 11, 1, 13, 59, 29).getTime();
    expect(analyzeFpmLog(read('terminate-timeout.fpm.log'), after, after + 60_000)).toEqual([]);
  });

  it('names the call a slow request was in, from the slowlog', () => {
    expect(analyzeSlowlog(read('slow.log'), ...ALL_TIME)).toEqual({ www: ['sleep() /tmp/fpmx/slow.php:1 in /tmp/fpmx/slow.php ×1'] });
  });
});

describe('nginx in front of php-fpm (recorded)', () => {
  it('classifies EAGAIN on a unix socket as a full accept queue, the terminate kill as a reset', () => {
    const signatures = read('nginx-error.log')
      .split('\n')
      .filter(Boolean)
      .map((line) => classify(parseErrorLine(line)!));
    expect(signatures).toContain('unix-backlog-full');
    expect(signatures).toContain('reset-reading-header');
    expect(signatures).not.toContain('connect-failed');
  });
});
