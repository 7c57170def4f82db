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

/** Interpreters that run a server written in their language: the server is the script or module they run. */
const INTERPRETER = /^(?:python[\d.]*|pypy[\d.]*|node|nodejs|ruby[\d.]*|php[\d.]*|perl)$/;
/** Interpreter options that take the next word as their value (python -W/-X, node -r/--require/--import/--loader). */
const OPTION_WITH_VALUE = new Set(['-W', '-X', '-Q', '-r', '--require', '--import', '--loader', '--experimental-loader', '-I', '-C']);
/** Interpreter options whose value is code: no script names the program. */
const INLINE_CODE = new Set(['-c', '-e', '--eval', '-p', '--print']);

export interface Program {
  /** Basename of the executable (argv[0]), lower case, without a setproctitle colon: "python3", "gunicorn", "php-fpm". */
  executable: string;
  /** The script or module an interpreter runs: "gunicorn" for python3 /usr/bin/gunicorn, "uvicorn" for -m uvicorn.main, "server.js"; null otherwise. */
  script: string | null;
  /** The script as written (full path), or the inline code after -c/-e: what tells two `node -e` apart. */
  scriptPath: string | null;
}

/**
 * What a command line runs: its executable, and for an interpreter the script or module. The rest of the
 * arguments are the program's own: "node server.js --name gunicorn-migration" runs node, not gunicorn.
 */
export function programOf(args: string): Program {
  const argv = words(args);
  const executable = (argv[0] ?? '').split('/').pop()!.replace(/:$/, '').toLowerCase();
  let rest = argv.slice(1);
  // bundle exec puma …, env FOO=1 gunicorn …: the program comes after.
  if (executable === 'bundle' && rest[0] === 'exec') return programOf(rest.slice(1).join(' '));
  if (executable === 'env') return programOf(rest.filter((w) => !/^\w+=/.test(w) && !w.startsWith('-')).join(' '));
  if (!INTERPRETER.test(executable)) return { executable, script: null, scriptPath: null };
  for (let i = 0; i < rest.length; i++) {
    const word = rest[i]!;
    // python -m gunicorn.app.wsgiapp runs the gunicorn package.
    if (word === '-m' && rest[i + 1]) return { executable, script: rest[i + 1]!.split('.')[0]!.toLowerCase(), scriptPath: rest[i + 1]! };
    // Inline code names no program; the code itself tells one `node -e` from another.
    if (INLINE_CODE.has(word)) return { executable, script: null, scriptPath: rest[i + 1] === undefined ? null : `${word} ${rest.slice(i + 1).join(' ')}` };
    if (OPTION_WITH_VALUE.has(word)) {
      i++;
      continue;
    }
    if (word.startsWith('-')) continue;
    rest = rest.slice(i);
    return { executable, script: rest[0]!.split('/').pop()!.toLowerCase(), scriptPath: rest[0]! };
  }
  return { executable, script: null, scriptPath: null };
}

/**
 * Whether a child process is a worker of its parent: a pre-fork server's workers (gunicorn, uwsgi, php-fpm's pools,
 * puma's cluster workers, apache, node cluster forks) run the parent's own program — the same executable and, for
 * an interpreter, the same script. A helper a request starts (sleep, convert, a `node -e` one-off) is not a worker,
 * and its coming and going says nothing about the server's health.
 */
export function sameProgram(parentArgs: string, childArgs: string): boolean {
  const parent = programOf(parentArgs);
  const child = programOf(childArgs);
  return parent.executable !== '' && parent.executable === child.executable && parent.script === child.script && (parent.script !== null || parent.scriptPath === child.scriptPath);
}

/** The server a program name stands for: gunicorn, gunicorn.py, php-fpm8.2, uWSGI, waitress-serve, apache2. */
function kindOfName(name: string | null): ServerKind | null {
  if (!name) return null;
  const base = name.replace(/\.(?:py|rb|js|mjs|cjs)$/, '');
  const found = (
    [
      ['gunicorn', /^gunicorn$/],
      ['uvicorn', /^uvicorn$/],
      ['hypercorn', /^hypercorn$/],
      ['puma', /^puma$/],
      ['php-fpm', /^php-fpm[\d.]*$/],
      ['uwsgi', /^uwsgi(?:_\w+)?$/],
      ['waitress', /^waitress(?:-serve)?$/],
      ['apache', /^(?:httpd|apache2)$/],
      ['java', /^java$/],
      ['node', /^(?:node|nodejs)$/],
    ] as Array<[ServerKind, RegExp]>
  ).find(([, pattern]) => pattern.test(base));
  return found ? found[0] : null;
}

/**
 * The server kind from what the process runs — its executable, or the script or module its interpreter runs —
 * and, when argv names nothing known (a shebang script shows only its name in comm), its comm. Never from a word
 * elsewhere on the command line: "python3 app.py --config /etc/gunicorn.conf.py" is not gunicorn.
 */
export function kindOf(comm: string, args: string): ServerKind {
  const program = programOf(args);
  const interpreter = INTERPRETER.test(program.executable);
  // An interpreter's own kind (node) only when its script names nothing more specific.
  return (
    kindOfName(program.script) ??
    (interpreter && !/^node|^nodejs/.test(program.executable) ? null : kindOfName(program.executable)) ??
    (interpreter ? null : kindOfName(comm.toLowerCase())) ??
    'unknown'
  );
}

export function detectKind(comm: string, args: string): KindReading {
  const argv = words(args);
  const text = args.toLowerCase();
  const read = (kind: ServerKind, partial: Partial<KindReading>): KindReading => ({ kind, workerClass: null, idleTimeoutSec: null, source: 'unknown', configFile: null, note: '', ...partial });
  const kind = kindOf(comm, args);

  if (kind === 'gunicorn') {
    const workerClass = flag(argv, '--worker-class', '-k') ?? 'sync';
    const keepAlive = flag(argv, '--keep-alive');
    const configFile = flag(argv, '--config', '-c');
    if (/^sync$/.test(workerClass)) {
      return read('gunicorn', { workerClass, idleTimeoutSec: 0, source: keepAlive ? 'flag' : 'default', configFile, note: 'gunicorn sync workers do not keep connections alive: each response closes the connection' });
    }
    if (keepAlive !== null) return read('gunicorn', { workerClass, idleTimeoutSec: Number(keepAlive), source: 'flag', configFile, note: `gunicorn --keep-alive ${keepAlive}` });
    return read('gunicorn', { workerClass, idleTimeoutSec: 2, source: 'default', configFile, note: 'gunicorn default keep-alive 2 s (gthread/async workers)' });
  }
  if (kind === 'uvicorn') {
    const value = flag(argv, '--timeout-keep-alive');
    return read('uvicorn', value !== null ? { idleTimeoutSec: Number(value), source: 'flag', note: `uvicorn --timeout-keep-alive ${value}` } : { idleTimeoutSec: 5, source: 'default', note: 'uvicorn default --timeout-keep-alive 5' });
  }
  if (kind === 'hypercorn') {
    const value = flag(argv, '--keep-alive');
    return read('hypercorn', value !== null ? { idleTimeoutSec: Number(value), source: 'flag', note: `hypercorn --keep-alive ${value}` } : { idleTimeoutSec: 5, source: 'default', note: 'hypercorn default keep-alive 5 s' });
  }
  if (kind === 'puma') {
    return read('puma', { idleTimeoutSec: 20, source: 'default', configFile: flag(argv, '--config', '-C'), note: 'puma persistent_timeout default 20 s (65 s from puma 7)' });
  }
  if (kind === 'php-fpm') return read('php-fpm', { source: 'not-applicable', note: 'FastCGI: nginx opens a connection per request unless fastcgi_keep_conn is on' });
  if (kind === 'waitress') return read('waitress', { idleTimeoutSec: 120, source: 'default', note: 'waitress channel_timeout 120 s, checked every 30 s' });
  if (kind === 'uwsgi') {
    const value = flag(argv, '--http-keepalive');
    // uwsgi --ini FILE, or the file as its only argument (uwsgi app.ini).
    const configFile = flag(argv, '--ini') ?? argv.slice(1).find((w) => /\.ini$/.test(w) && !w.startsWith('-')) ?? null;
    return read('uwsgi', value !== null ? { idleTimeoutSec: Number(value) || null, source: 'flag', configFile, note: `uwsgi --http-keepalive ${value}` } : { idleTimeoutSec: 0, source: 'default', configFile, note: 'uWSGI does no HTTP keep-alive unless --http-keepalive' });
  }
  if (kind === 'apache') return read('apache', { idleTimeoutSec: 5, source: 'default', note: 'Apache KeepAliveTimeout default 5 s' });
  if (kind === 'java') {
    // Tomcat's main class is an argument of java: org.apache.catalina.startup.Bootstrap.
    const tomcat = /catalina|tomcat/.test(text);
    return read('java', { idleTimeoutSec: tomcat ? 20 : null, source: tomcat ? 'default' : 'unknown', note: tomcat ? 'Tomcat connectionTimeout 20 s in the stock server.xml' : 'a Java server: its idle timeout depends on the framework (Jetty 30 s, Tomcat 20 s)' });
  }
  if (kind === 'node') {
    return read('node', { idleTimeoutSec: 5, source: 'default', note: 'Node http.Server keepAliveTimeout 5 s by default (Node 20 closes about 1 s later than the setting)' });
  }
  return read('unknown', { note: 'not a server reset-doctor recognizes: measure its idle timeout' });
}

/** Settings from a gunicorn config file (Python): keepalive = N, worker_class = "gthread", max_requests = N, errorlog = "PATH". */
export function readGunicornConfig(text: string): { keepalive: number | null; workerClass: string | null; maxRequests: number | null; errorLog: string | null } {
  const keepalive = /^\s*keepalive\s*=\s*(\d+(?:\.\d+)?)/m.exec(text);
  const workerClass = /^\s*worker_class\s*=\s*["']([\w.]+)["']/m.exec(text);
  const maxRequests = /^\s*max_requests\s*=\s*(\d+)/m.exec(text);
  // A literal string only: a path computed in Python cannot be read here.
  const errorLog = /^\s*errorlog\s*=\s*["']([^"']+)["']\s*(?:#.*)?$/m.exec(text);
  return { keepalive: keepalive ? Number(keepalive[1]) : null, workerClass: workerClass ? workerClass[1]! : null, maxRequests: maxRequests ? Number(maxRequests[1]) : null, errorLog: errorLog ? errorLog[1]! : null };
}

/**
 * uWSGI options that replace workers as a matter of course (uWSGI docs, Options): after N requests, above a memory
 * size, or after a lifetime. In an ini file as `max-requests = 1000` (uWSGI also takes `_` for `-`). harakiri is
 * not among them: it kills a worker mid-request, which nginx sees cut.
 */
const UWSGI_RECYCLING = ['max-requests', 'reload-on-rss', 'reload-on-as', 'max-worker-lifetime', 'max-requests-delta'];

/** The recycling settings a uWSGI ini file sets to a non-zero value: ["max-requests = 1000"]. */
export function readUwsgiRecycling(text: string): string[] {
  const out: string[] = [];
  for (const line of text.split('\n')) {
    const match = /^\s*([\w-]+)\s*=\s*(\S+)/.exec(line);
    if (match && UWSGI_RECYCLING.includes(match[1]!.replace(/_/g, '-')) && !/^0+$/.test(match[2]!)) out.push(`${match[1]} = ${match[2]}`);
  }
  return out;
}

/**
 * Why a server replaces its workers as a matter of course, or null: php-fpm's pools start and end children on
 * their own (dynamic, ondemand, pm.max_requests); gunicorn's --max-requests / max_requests and uWSGI's
 * max-requests, reload-on-rss, max-worker-lifetime, on the command line or in the config file it names. A young
 * worker there is no sign of a death.
 */
export function workerRecycling(kind: ServerKind, args: string, configFile: string | null, configText: string | null): string | null {
  if (kind === 'php-fpm') return 'php-fpm pools start and end children as a matter of course';
  const flagged = /(?:^|\s)(--max-requests|--max-worker-lifetime|--reload-on-(?:rss|as))(?:=|\s+)(\S+)/.exec(args);
  if (flagged && !/^0+$/.test(flagged[2]!)) return `${flagged[1]} ${flagged[2]} on its command line`;
  if (configText === null) return null;
  if (kind === 'gunicorn') {
    const { maxRequests } = readGunicornConfig(configText);
    return maxRequests ? `max_requests = ${maxRequests} in ${configFile}` : null;
  }
  if (kind === 'uwsgi') {
    const found = readUwsgiRecycling(configText);
    return found.length ? `${found.join(', ')} in ${configFile}` : null;
  }
  return null;
}

/** persistent_timeout N in a puma config (Ruby). */
export function readPumaConfig(text: string): number | null {
  const match = /^\s*persistent_timeout\s*\(?\s*(\d+)/m.exec(text);
  return match ? Number(match[1]) : null;
}
