/**
 * What kind of server a backend process is, and the idle keep-alive timeout
 * that implies (reference section 5): taken from its flags or the config
 * file it names when present, else the documented default, marked inferred.
 * Measured values (keepalive-measure) beat everything here.
 */
export const SERVER_KINDS = ['node', 'gunicorn', 'uvicorn', 'hypercorn', 'puma', 'php-fpm', 'java', 'uwsgi', 'apache', 'waitress', 'unknown'] as const;
export type ServerKind = (typeof SERVER_KINDS)[number];

export interface KindReading {
  kind: ServerKind;
  workerClass: string | null;
  /** Idle keep-alive timeout in seconds; 0 = closes after every response; null = unknown or not applicable. */
  idleTimeoutSec: number | null;
  source: 'flag' | 'config' | 'default' | 'not-applicable' | 'unknown';
  /** A config file the process names, whose settings would override the defaults. */
  configFile: string | null;
  note: string;
}

function words(args: string): string[] {
  return args.trim().split(/\s+/);
}

/** The value of --name=V, --name V, or -s V. */
export function flag(argv: string[], long: string, short?: string): string | null {
  for (let i = 0; i < argv.length; i++) {
    const word = argv[i]!;
    if (word.startsWith(`${long}=`)) return word.slice(long.length + 1);
    if (word === long || (short && word === short)) return argv[i + 1] ?? null;
    if (short && word.startsWith(short) && word.length > short.length && !word.startsWith('--')) return word.slice(short.length);
  }
  return null;
}

export function detectKind(comm: string, args: string): KindReading {
  const argv = words(args);
  const text = args.toLowerCase();
  const read = (kind: ServerKind, partial: Partial<KindReading>): KindReading => ({ kind, workerClass: null, idleTimeoutSec: null, source: 'unknown', configFile: null, note: '', ...partial });

  if (/gunicorn/.test(text)) {
    const workerClass = flag(argv, '--worker-class', '-k') ?? 'sync';
    const keepAlive = flag(argv, '--keep-alive');
    const configFile = flag(argv, '--config', '-c');
    if (/^sync$/.test(workerClass)) {
      return read('gunicorn', { workerClass, idleTimeoutSec: 0, source: keepAlive ? 'flag' : 'default', configFile, note: 'gunicorn sync workers do not keep connections alive: each response closes the connection' });
    }
    if (keepAlive !== null) return read('gunicorn', { workerClass, idleTimeoutSec: Number(keepAlive), source: 'flag', configFile, note: `gunicorn --keep-alive ${keepAlive}` });
    return read('gunicorn', { workerClass, idleTimeoutSec: 2, source: 'default', configFile, note: 'gunicorn default keep-alive 2 s (gthread/async workers)' });
  }
  if (/uvicorn/.test(text)) {
    const value = flag(argv, '--timeout-keep-alive');
    return read('uvicorn', value !== null ? { idleTimeoutSec: Number(value), source: 'flag', note: `uvicorn --timeout-keep-alive ${value}` } : { idleTimeoutSec: 5, source: 'default', note: 'uvicorn default --timeout-keep-alive 5' });
  }
  if (/hypercorn/.test(text)) {
    const value = flag(argv, '--keep-alive');
    return read('hypercorn', value !== null ? { idleTimeoutSec: Number(value), source: 'flag', note: `hypercorn --keep-alive ${value}` } : { idleTimeoutSec: 5, source: 'default', note: 'hypercorn default keep-alive 5 s' });
  }
  if (/\bpuma\b/.test(text)) {
    return read('puma', { idleTimeoutSec: 20, source: 'default', configFile: flag(argv, '--config', '-C'), note: 'puma persistent_timeout default 20 s (65 s from puma 7)' });
  }
  if (/php-fpm/.test(text) || /^php-fpm/.test(comm)) return read('php-fpm', { source: 'not-applicable', note: 'FastCGI: nginx opens a connection per request unless fastcgi_keep_conn is on' });
  if (/waitress/.test(text)) return read('waitress', { idleTimeoutSec: 120, source: 'default', note: 'waitress channel_timeout 120 s, checked every 30 s' });
  if (/uwsgi/.test(text) || comm === 'uwsgi') {
    const value = flag(argv, '--http-keepalive');
    return read('uwsgi', value !== null ? { idleTimeoutSec: Number(value) || null, source: 'flag', note: `uwsgi --http-keepalive ${value}` } : { idleTimeoutSec: 0, source: 'default', note: 'uWSGI does no HTTP keep-alive unless --http-keepalive' });
  }
  if (/^(httpd|apache2)$/.test(comm) || /\b(httpd|apache2)\b/.test(text)) return read('apache', { idleTimeoutSec: 5, source: 'default', note: 'Apache KeepAliveTimeout default 5 s' });
  if (comm === 'java' || /\bjava\b/.test(argv[0] ?? '')) {
    return read('java', { idleTimeoutSec: /catalina|tomcat/.test(text) ? 20 : null, source: /catalina|tomcat/.test(text) ? 'default' : 'unknown', note: /catalina|tomcat/.test(text) ? 'Tomcat connectionTimeout 20 s in the stock server.xml' : 'a Java server: its idle timeout depends on the framework (Jetty 30 s, Tomcat 20 s)' });
  }
  if (comm === 'node' || /(^|\/)node(js)?$/.test(argv[0] ?? '')) {
    return read('node', { idleTimeoutSec: 5, source: 'default', note: 'Node http.Server keepAliveTimeout 5 s by default (Node 20 closes about 1 s later than the setting)' });
  }
  return read('unknown', { note: 'not a server reset-doctor recognizes: measure its idle timeout' });
}

/** Settings from a gunicorn config file (Python): keepalive = N, worker_class = "gthread". */
export function readGunicornConfig(text: string): { keepalive: number | null; workerClass: string | null } {
  const keepalive = /^\s*keepalive\s*=\s*(\d+(?:\.\d+)?)/m.exec(text);
  const workerClass = /^\s*worker_class\s*=\s*["']([\w.]+)["']/m.exec(text);
  return { keepalive: keepalive ? Number(keepalive[1]) : null, workerClass: workerClass ? workerClass[1]! : null };
}

/** persistent_timeout N in a puma config (Ruby). */
export function readPumaConfig(text: string): number | null {
  const match = /^\s*persistent_timeout\s*\(?\s*(\d+)/m.exec(text);
  return match ? Number(match[1]) : null;
}
