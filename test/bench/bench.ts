/**
 * `npm run bench`: the error-log analyzer against the tools an SRE would use
 * instead, on the same generated files, in the same run. Prints medians and
 * ratios and writes them into README.md between the bench markers.
 *
 *   full scan of 1 GB   vs  LC_ALL=C grep -c upstream      (target ≤ 4×)
 *                       vs  LC_ALL=C awk -f baseline.awk   (target: faster)
 *   --since 15m on 1 GB and on 2 GB with the same last 15 minutes (target: within 1.3× of each other, < 0.5 s)
 *   peak RSS of the full scan                             (target < 150 MB)
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus } from 'node:os';
import { join } from 'node:path';
import { PACKAGE_ROOT } from '../../src/packageRoot.js';
import { writeLogOfSize } from '../support/logGen.js';

const DIR = '/tmp/reset-doctor-bench';
const CLI = join(PACKAGE_ROOT, 'dist', 'src', 'cli.js');
const AWK = join(PACKAGE_ROOT, 'test', 'bench', 'baseline.awk');
const GB = 1024 ** 3;

interface Run {
  seconds: number;
  peakRssMb: number;
  stdout: string;
}

/** Runs a command, timing it and sampling its peak RSS (VmHWM covers every thread, so worker threads count). */
function run(file: string, args: string[], env: NodeJS.ProcessEnv = {}): Promise<Run> {
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
      if (code !== 0) reject(new Error(`${file} ${args.join(' ')} exited ${code}`));
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

async function main(): Promise<void> {
  mkdirSync(DIR, { recursive: true });
  const endMs = Date.now();
  const one = join(DIR, 'error-1g.log');
  const two = join(DIR, 'error-2g.log');
  process.stdout.write('generating 1 GB and 2 GB logs from the lines nginx wrote in the lab, each request its own…\n');
  writeLogOfSize(one, GB, endMs);
  writeLogOfSize(two, 2 * GB, endMs);

  const grep = await median(3, 'grep', ['-c', 'upstream', one]);
  const awk = await median(3, 'awk', ['-f', AWK, one]);
  const full = await median(3, process.execPath, [CLI, 'inspect', 'errors', '--json', '--error-log', one]);
  const report = JSON.parse(full.stdout) as { linesRead: number };
  const since1 = await median(5, process.execPath, [CLI, 'inspect', 'errors', '--json', '--since', '15m', '--error-log', one]);
  const since2 = await median(5, process.execPath, [CLI, 'inspect', 'errors', '--json', '--since', '15m', '--error-log', two]);
  const startup = await median(5, process.execPath, [CLI, '--version']);

  const rows: Array<[string, string, string, boolean]> = [
    ['full scan, 1 GB', `${fmt(full.seconds)} s (${fmt(statSync(one).size / GB / full.seconds)} GB/s, ${report.linesRead} lines)`, `${fmt(full.seconds / grep.seconds, 1)}× grep -c (${fmt(grep.seconds)} s), target ≤ 4×`, full.seconds <= 4 * grep.seconds],
    ['', '', `${fmt(full.seconds / awk.seconds)}× awk script (${fmt(awk.seconds)} s), target < 1×`, full.seconds < awk.seconds],
    ['--since 15m, 1 GB', `${fmt(since1.seconds, 3)} s`, 'target < 0.5 s', since1.seconds < 0.5],
    ['--since 15m, 2 GB', `${fmt(since2.seconds, 3)} s`, `${fmt(since2.seconds / since1.seconds)}× the 1 GB run, target ≤ 1.3×`, since2.seconds / since1.seconds <= 1.3],
    ['peak RSS, full scan', `${fmt(full.peakRssMb, 0)} MB`, 'target < 150 MB', full.peakRssMb < 150],
  ];
  const machine = `${availableParallelism()} × ${cpus()[0]?.model.trim() ?? 'cpu'}, Node ${process.version}; medians of 3 (full scans) and 5 (windows); node start-up alone ${fmt(startup.seconds, 3)} s`;
  const table = [
    '| measure | reset-doctor | against | met |',
    '| --- | --- | --- | --- |',
    ...rows.map(([a, b, c, ok]) => `| ${a} | ${b} | ${c} | ${ok ? 'yes' : '**no**'} |`),
    '',
    `Measured ${new Date().toISOString().slice(0, 10)} on ${machine}.`,
  ].join('\n');
  process.stdout.write(`\n${table}\n`);

  const readmePath = join(PACKAGE_ROOT, 'README.md');
  const readme = readFileSync(readmePath, 'utf8');
  const start = '<!-- bench:start -->';
  const end = '<!-- bench:end -->';
  if (readme.includes(start) && readme.includes(end)) {
    writeFileSync(readmePath, `${readme.slice(0, readme.indexOf(start) + start.length)}\n${table}\n${readme.slice(readme.indexOf(end))}`);
    process.stdout.write('README.md updated.\n');
  }
  if (!existsSync(DIR)) return;
}

await main();
