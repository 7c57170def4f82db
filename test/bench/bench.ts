/**
 * `npm run bench`: the error-log analyzer against the tools an SRE would use
 * instead, on the same generated files, in the same run. Prints medians and
 * ratios and writes them into README.md between the bench markers.
 *
 *   full scan of 1 GB   vs  LC_ALL=C grep -c upstream      (target ≤ 4×)
 *                       vs  LC_ALL=C awk -f baseline.awk   (target: faster)
 *   --since 48h on the same 1 GB, every line inside  vs  the full scan (≤ 1.3×), grep (≤ 4×); RSS < 150 MB
 *   --since 15m on 1 GB and on 2 GB with the same last 15 minutes (target: within 1.3× of each other, < 0.5 s)
 *   peak RSS of the full scan                             (target < 150 MB)
 *   an access log of 1 GB in the lab's format, inside the window, through
 *     inspect errors --json --nginx-conf CONF --since 48h
 *                       vs  LC_ALL=C grep -c ' 502 '       (target ≤ 4×)
 *                       vs  LC_ALL=C awk -f access.awk     (status × route; target: faster); RSS < 150 MB
 *   diagnose --passive with a 1 GB error log and a 2 GB access log inside the window
 *                       vs  reading those logs alone (inspect errors on the same config; target ≤ 1.5×)
 *
 * and the builds of `npm run dist` (run first), written between the dist-bench markers:
 *
 *   the executable's --version      vs  node -e 0                      (target ≤ 1.5×)
 *   its first wizard frame          vs  the ESM bundle's               (target ≤ 1.2×)
 *   its full scan of 1 GB           vs  the dev build's                (target ≤ 1.2×)
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus } from 'node:os';
import { join } from 'node:path';
import { PACKAGE_ROOT } from '../../src/packageRoot.js';
import { writeLogOfSize } from '../support/logGen.js';
import { UPSTREAMLOG_FORMAT, writeAccessLogOfSize } from '../support/accessLogGen.js';

const DIR = '/tmp/reset-doctor-bench';
const CLI = join(PACKAGE_ROOT, 'dist', 'src', 'cli.js');
const AWK = join(PACKAGE_ROOT, 'test', 'bench', 'baseline.awk');
const ACCESS_AWK = join(PACKAGE_ROOT, 'test', 'bench', 'access.awk');
const BUNDLE = join(PACKAGE_ROOT, 'dist', 'reset-doctor.mjs');
const EXECUTABLE = join(PACKAGE_ROOT, 'dist', 'reset-doctor-linux-x64');
const GB = 1024 ** 3;

interface Run {
  seconds: number;
  peakRssMb: number;
  stdout: string;
}

/** Runs a command, timing it and sampling its peak RSS (VmHWM covers every thread, so worker threads count). `okCodes`: exit codes that are not failures (diagnose exits 1 with findings). */
function run(file: string, args: string[], env: NodeJS.ProcessEnv = {}, okCodes: number[] = [0]): Promise<Run> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(file, args, { env: { ...process.env, LC_ALL: 'C', ...env }, stdio: ['ignore', 'pipe', 'inherit'] });
    let stdout = '';
    let peak = 0;
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    const sample = () => {
      try {
        const hwm = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'));
        if (hwm) peak = Math.max(peak, Number(hwm[1]) / 1024);
      } catch {
        // exited between samples
      }
    };
    const timer = setInterval(sample, 20);
    child.once('error', reject);
    child.once('exit', (code) => {
      clearInterval(timer);
      if (!okCodes.includes(code ?? -1)) reject(new Error(`${file} ${args.join(' ')} exited ${code}`));
      else resolve({ seconds: (performance.now() - started) / 1000, peakRssMb: peak, stdout });
    });
  });
}

async function median(times: number, file: string, args: string[]): Promise<Run> {
  const runs: Run[] = [];
  for (let i = 0; i < times; i++) runs.push(await run(file, args));
  runs.sort((a, b) => a.seconds - b.seconds);
  return runs[Math.floor(runs.length / 2)]!;
}

const fmt = (n: number, digits = 2) => n.toFixed(digits);

/**
 * Seconds from spawn to the wizard's first frame (its header line) on a
 * pseudo-terminal of 80×24, made by util-linux `script`; the same shell
 * start-up is in every run, so it thins ratios a little, never favours one build.
 */
function firstFrame(argv: string[]): Promise<number> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn('script', ['-qfec', `stty cols 80 rows 24; exec ${argv.join(' ')}`, '/dev/null'], { stdio: ['ignore', 'pipe', 'inherit'], detached: true, env: { ...process.env, TERM: 'xterm-256color' } });
    let out = '';
    let seconds: number | null = null;
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      if (seconds === null && out.includes('reset-doctor')) {
        seconds = (performance.now() - started) / 1000;
        process.kill(-child.pid!, 'SIGKILL');
      }
    });
    child.once('error', reject);
    child.once('close', () => (seconds === null ? reject(new Error(`${argv.join(' ')}: no wizard frame:\n${out}`)) : resolve(seconds)));
  });
}

/**
 * Medians of `a` and `b` measured in turns (a, b, b, a, …), so that a machine
 * busy with something else slows both alike and the ratio stays fair.
 */
async function inTurns<T>(times: number, a: () => Promise<T>, b: () => Promise<T>, seconds: (r: T) => number): Promise<[T, T]> {
  const as: T[] = [];
  const bs: T[] = [];
  for (let i = 0; i < times; i++) {
    if (i % 2 === 0) {
      as.push(await a());
      bs.push(await b());
    } else {
      bs.push(await b());
      as.push(await a());
    }
  }
  const mid = (list: T[]) => list.sort((x, y) => seconds(x) - seconds(y))[Math.floor(list.length / 2)]!;
  return [mid(as), mid(bs)];
}

/** Replaces what README.md holds between `<!-- NAME:start -->` and `<!-- NAME:end -->`. */
function writeIntoReadme(name: string, table: string): void {
  const readmePath = join(PACKAGE_ROOT, 'README.md');
  const readme = readFileSync(readmePath, 'utf8');
  const start = `<!-- ${name}:start -->`;
  const end = `<!-- ${name}:end -->`;
  if (readme.includes(start) && readme.includes(end)) {
    writeFileSync(readmePath, `${readme.slice(0, readme.indexOf(start) + start.length)}\n${table}\n${readme.slice(readme.indexOf(end))}`);
    process.stdout.write(`README.md updated between the ${name} markers.\n`);
  }
}

function markdownTable(header: string, rows: Array<[string, string, string, boolean]>, footer: string): string {
  return [header, '| --- | --- | --- | --- |', ...rows.map(([a, b, c, ok]) => `| ${a} | ${b} | ${c} | ${ok ? 'yes' : '**no**'} |`), '', footer].join('\n');
}

/** The builds of `npm run dist` against node alone, the ESM bundle and the dev build, each pair in turns. */
async function benchDist(one: string, machine: string): Promise<void> {
  const time = (r: Run) => r.seconds;
  const [nodeAlone, exeVersion] = await inTurns(11, () => run(process.execPath, ['-e', '0']), () => run(EXECUTABLE, ['--version']), time);
  const bundleVersion = await median(11, process.execPath, [BUNDLE, '--version']);
  const demo = ['demo', 'backend-down'];
  const [bundleFrame, exeFrame] = await inTurns(7, () => firstFrame([process.execPath, BUNDLE, ...demo]), () => firstFrame([EXECUTABLE, ...demo]), (s) => s);
  const scan = ['inspect', 'errors', '--json', '--error-log', one];
  const [devFull, exeFull] = await inTurns(3, () => run(process.execPath, [CLI, ...scan]), () => run(EXECUTABLE, scan), time);
  const threads = (JSON.parse(exeFull.stdout) as { files: Array<{ threads?: { workers: number; counter: string } }> }).files[0]?.threads;
  const mb = (file: string) => `${fmt(statSync(file).size / 1e6, 1)} MB`;
  const rows: Array<[string, string, string, boolean]> = [
    ['`--version`', `${fmt(exeVersion.seconds, 3)} s`, `${fmt(exeVersion.seconds / nodeAlone.seconds)}× \`node -e 0\` (${fmt(nodeAlone.seconds, 3)} s), target ≤ 1.5×`, exeVersion.seconds <= 1.5 * nodeAlone.seconds],
    ['first wizard frame', `${fmt(exeFrame, 3)} s`, `${fmt(exeFrame / bundleFrame)}× the ESM bundle's (${fmt(bundleFrame, 3)} s), target ≤ 1.2×`, exeFrame <= 1.2 * bundleFrame],
    [
      'full scan, 1 GB',
      `${fmt(exeFull.seconds)} s, ${threads ? `${threads.workers} workers, ${threads.counter}` : '**one thread**'}, peak RSS ${fmt(exeFull.peakRssMb, 0)} MB`,
      `${fmt(exeFull.seconds / devFull.seconds)}× the dev build's (${fmt(devFull.seconds)} s), target ≤ 1.2×`,
      exeFull.seconds <= 1.2 * devFull.seconds,
    ],
  ];
  const footer = `Sizes: executable ${mb(EXECUTABLE)}, ESM bundle ${mb(BUNDLE)} (its \`--version\` ${fmt(bundleVersion.seconds, 3)} s). Measured ${new Date().toISOString().slice(0, 10)} on ${machine}; medians of 11 (--version), 7 (frames, in a pty from util-linux \`script\`) and 3 (full scans), each pair measured in turns.`;
  const table = markdownTable('| the executable | time | against | met |', rows, footer);
  process.stdout.write(`\n${table}\n`);
  writeIntoReadme('dist-bench', table);
}

/**
 * An nginx config for inspect and diagnose whose error_log and access_log
 * (the lab's format) are the generated files; nginx -t/-T read it, nothing
 * starts from it.
 */
function writeConf(name: string, errorLog: string, accessLog: string): string {
  const conf = join(DIR, name);
  writeFileSync(
    conf,
    `pid ${DIR}/nginx.pid;\nerror_log ${errorLog} warn;\nevents { worker_connections 64; }\nhttp {\n  log_format upstreamlog '${UPSTREAMLOG_FORMAT}';\n  access_log ${accessLog} upstreamlog;\n  upstream app { server 127.0.0.1:9; }\n  server {\n    listen 127.0.0.1:9;\n    location / { proxy_pass http://app; }\n  }\n}\n`,
  );
  return conf;
}

async function main(): Promise<void> {
  mkdirSync(DIR, { recursive: true });
  const endMs = Date.now();
  const one = join(DIR, 'error-1g.log');
  const two = join(DIR, 'error-2g.log');
  const small = join(DIR, 'error-small.log');
  const access1 = join(DIR, 'access-1g.log');
  const access2 = join(DIR, 'access-2g.log');
  process.stdout.write('generating 1 GB and 2 GB error and access logs from the lines nginx wrote in the lab, each request its own…\n');
  writeLogOfSize(one, GB, endMs);
  writeLogOfSize(two, 2 * GB, endMs);
  writeLogOfSize(small, 1024 * 1024, endMs);
  writeAccessLogOfSize(access1, GB, endMs, 100);
  writeAccessLogOfSize(access2, 2 * GB, endMs, 200);
  const accessConf = writeConf('nginx-access.conf', small, access1);
  const bothConf = writeConf('nginx-both.conf', one, access2);

  const time = (r: Run) => r.seconds;
  const errors = (...args: string[]) => () => run(process.execPath, [CLI, 'inspect', 'errors', '--json', ...args]);
  const grep = await median(3, 'grep', ['-c', 'upstream', one]);
  const awk = await median(3, 'awk', ['-f', AWK, one]);
  // The full scan and the window holding every line, in turns: their ratio is what the window costs.
  const [full, since48] = await inTurns(3, errors('--error-log', one), errors('--since', '48h', '--error-log', one), time);
  const report = JSON.parse(full.stdout) as { linesRead: number };
  const windowed = JSON.parse(since48.stdout) as { linesRead: number };
  const since1 = await median(5, process.execPath, [CLI, 'inspect', 'errors', '--json', '--since', '15m', '--error-log', one]);
  const since2 = await median(5, process.execPath, [CLI, 'inspect', 'errors', '--json', '--since', '15m', '--error-log', two]);

  const grep502 = await median(3, 'grep', ['-c', ' 502 ', access1]);
  const accessAwk = await median(3, 'awk', ['-f', ACCESS_AWK, access1]);
  const access = await median(3, process.execPath, [CLI, 'inspect', 'errors', '--json', '--nginx-conf', accessConf, '--since', '48h']);
  const accessReport = (JSON.parse(access.stdout) as { access: Array<{ linesRead: number; status502: number; counter: { engine: string } }> }).access[0]!;

  // diagnose --passive against the same logs read alone, in turns.
  const [alone, diagnose] = await inTurns(5, errors('--nginx-conf', bothConf, '--since', '48h'), () => run(process.execPath, [CLI, 'diagnose', '--json', '--passive', '--nginx-conf', bothConf, '--since', '48h'], {}, [0, 1]), time);
  const startup = await median(5, process.execPath, [CLI, '--version']);

  const gb = (file: string) => statSync(file).size / GB;
  const rows: Array<[string, string, string, boolean]> = [
    ['full scan, 1 GB', `${fmt(full.seconds)} s (${fmt(gb(one) / full.seconds)} GB/s, ${report.linesRead} lines)`, `${fmt(full.seconds / grep.seconds, 1)}× grep -c (${fmt(grep.seconds)} s), target ≤ 4×`, full.seconds <= 4 * grep.seconds],
    ['', '', `${fmt(full.seconds / awk.seconds)}× awk script (${fmt(awk.seconds)} s), target < 1×`, full.seconds < awk.seconds],
    ['peak RSS, full scan', `${fmt(full.peakRssMb, 0)} MB`, 'target < 150 MB', full.peakRssMb < 150],
    ['--since 48h, 1 GB, every line inside', `${fmt(since48.seconds)} s (${windowed.linesRead} lines)`, `${fmt(since48.seconds / full.seconds)}× the full scan, target ≤ 1.3×`, since48.seconds <= 1.3 * full.seconds && windowed.linesRead === report.linesRead],
    ['', '', `${fmt(since48.seconds / grep.seconds, 1)}× grep -c, target ≤ 4×`, since48.seconds <= 4 * grep.seconds],
    ['peak RSS, --since 48h', `${fmt(since48.peakRssMb, 0)} MB`, 'target < 150 MB', since48.peakRssMb < 150],
    ['--since 15m, 1 GB', `${fmt(since1.seconds, 3)} s`, 'target < 0.5 s', since1.seconds < 0.5],
    ['--since 15m, 2 GB', `${fmt(since2.seconds, 3)} s`, `${fmt(since2.seconds / since1.seconds)}× the 1 GB run, target ≤ 1.3×`, since2.seconds / since1.seconds <= 1.3],
    [
      'access log, 1 GB inside --since 48h',
      `${fmt(access.seconds)} s (${accessReport.linesRead} lines, ${accessReport.status502} × 502, ${accessReport.counter.engine})`,
      `${fmt(access.seconds / grep502.seconds, 1)}× grep -c ' 502 ' (${fmt(grep502.seconds)} s), target ≤ 4×`,
      access.seconds <= 4 * grep502.seconds,
    ],
    ['', '', `${fmt(access.seconds / accessAwk.seconds)}× awk status × route (${fmt(accessAwk.seconds)} s), target < 1×`, access.seconds < accessAwk.seconds],
    ['peak RSS, access log', `${fmt(access.peakRssMb, 0)} MB`, 'target < 150 MB', access.peakRssMb < 150],
    [
      `diagnose --passive, ${fmt(gb(one), 1)} GB error + ${fmt(gb(access2), 1)} GB access log`,
      `${fmt(diagnose.seconds)} s`,
      `${fmt(diagnose.seconds / alone.seconds)}× reading those logs alone (${fmt(alone.seconds)} s), target ≤ 1.5×`,
      diagnose.seconds <= 1.5 * alone.seconds,
    ],
  ];
  const cpu = `${availableParallelism()} × ${cpus()[0]?.model.trim() ?? 'cpu'}, Node ${process.version}`;
  const machine = `${cpu}; medians of 3 (1 GB and larger reads; full scan and --since 48h in turns), 5 (diagnose and its logs alone, in turns) and 5 (15m windows); node start-up alone ${fmt(startup.seconds, 3)} s`;
  const table = markdownTable('| measure | reset-doctor | against | met |', rows, `Measured ${new Date().toISOString().slice(0, 10)} on ${machine}.`);
  process.stdout.write(`\n${table}\n`);
  writeIntoReadme('bench', table);
  await benchDist(one, cpu);
  if (!existsSync(DIR)) return;
}

await main();
