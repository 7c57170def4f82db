import { spawn, spawnSync } from 'node:child_process';
import { readdirSync, rmSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { VERSION } from '../../src/packageRoot.js';
import { runCli } from '../support/cli.js';
import { buildDist, DIST_BUILDS, distSandbox } from '../support/dist.js';
import { hasCommand } from '../support/lab.js';
import { writeLogOfSize } from '../support/logGen.js';
import { TmuxSession } from '../support/tmux.js';

/**
 * The two builds of `npm run dist` as a server without Node runs them: copied
 * to a temp folder outside the repo, run from there, with a PATH that has
 * every command of this machine except node (and npm, npx). The bundle is run
 * by this Node's absolute path; the executable alone.
 */
let sandbox: ReturnType<typeof distSandbox>;
const LOG_BYTES = 64 * 1024 * 1024;

beforeAll(() => {
  buildDist();
  sandbox = distSandbox();
  writeLogOfSize(join(sandbox.dir, 'error.log'), LOG_BYTES, Date.now());
}, 180_000);

afterAll(() => {
  if (sandbox) rmSync(sandbox.dir, { recursive: true, force: true });
});

function run(argv: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(argv[0]!, argv.slice(1), { cwd: sandbox.dir, env: sandbox.env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** A measurement, not a result: probes' durations differ from run to run, as between two dev runs. */
function withoutTimings(report: { version?: string; probes?: Array<{ durationMs?: number }> }): unknown {
  const { version: _version, ...rest } = report;
  return { ...rest, probes: rest.probes?.map((p) => ({ ...p, durationMs: 0 })) };
}

it('the test PATH has no node on it', () => {
  expect(spawnSync('sh', ['-c', 'command -v node || command -v nodejs'], { env: sandbox.env }).status).not.toBe(0);
  expect(spawnSync('sh', ['-c', 'command -v tmux && command -v ls'], { env: sandbox.env }).status).toBe(0);
});

describe.each(DIST_BUILDS)('the $name, from a folder outside the repo, without node on PATH', (build) => {
  const argv = (...args: string[]) => [...build.argv(sandbox.dir), ...args];

  it('--version prints the version, the commit and the build date', async () => {
    const result = await run(argv('--version'));
    expect(result).toMatchObject({ code: 0, stderr: '' });
    expect(result.stdout).toMatch(new RegExp(`^reset-doctor ${VERSION.replaceAll('.', '\\.')} \\(commit ([0-9a-f]{7,}(\\+changes)?|unknown), built \\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\dZ\\)\n$`));
  });

  it('diagnose --demo backend-down --json gives the dev build report, version apart, and leaves no temp files', async () => {
    // No transcript: its path differs between the two runs and is named on stderr.
    const [built, dev] = await Promise.all([run(argv('diagnose', '--demo', 'backend-down', '--json', '--no-transcript')), runCli(['diagnose', '--demo', 'backend-down', '--json', '--no-transcript'])]);
    expect(built.stderr).toBe('');
    expect(built.code).toBe(dev.code);
    expect(withoutTimings(JSON.parse(built.stdout))).toEqual(withoutTimings(JSON.parse(dev.stdout)));
    // The flows and recordings went to a private temp folder, removed at exit.
    expect(readdirSync(sandbox.tmp)).toEqual([]);
  });

  it('inspect errors scans a 64 MB log in worker threads with the wasm counter, as the dev build does', async () => {
    const log = join(sandbox.dir, 'error.log');
    const [built, dev] = await Promise.all([run(argv('inspect', 'errors', '--json', '--error-log', log)), runCli(['inspect', 'errors', '--json', '--error-log', log])]);
    expect(built.stderr).toBe('');
    const report = JSON.parse(built.stdout) as { files: Array<{ mode: string; threads?: { workers: number; counter: string } }>; problems: string[] };
    expect(report.problems).toEqual([]);
    expect(report.files).toHaveLength(1);
    expect(report.files[0]).toMatchObject({ mode: 'full', threads: { workers: Math.min(availableParallelism(), 4), counter: 'wasm' } });
    // The window ends at each run's own clock: the two runs may fall either side of a second.
    const devReport = JSON.parse(dev.stdout) as typeof report & { window: { to: string } };
    const ends = [(report as typeof devReport).window.to, devReport.window.to].map((t) => Date.parse(t.replace(/\//g, '-').replace(' ', 'T')));
    expect(Math.abs(ends[0]! - ends[1]!)).toBeLessThanOrEqual(2000);
    expect({ ...report, window: { ...(report as typeof devReport).window, to: devReport.window.to } }).toEqual(devReport);
  }, 60_000);

  it('walks the wizard to the end in tmux at 80×24', async (context) => {
    // As describeWithTools does: skipped on a developer's machine without tmux, failed in CI, which installs it.
    if (!hasCommand('tmux')) {
      if (process.env['CI'] === 'true') throw new Error('needs tmux (CI installs it in .ci/run)');
      context.skip();
    }
    // The same environment as the other runs, with tmux's TERM.
    const env = Object.entries({ ...sandbox.env, TERM: '"$TERM"' }).map(([k, v]) => `${k}=${v}`);
    const tty = new TmuxSession(`sh -c 'cd ${sandbox.dir} && exec env -i ${env.join(' ')} ${argv('demo', 'backend-down').join(' ')}'`);
    try {
      const question = await tty.waitFor('Is this backend stopped on purpose', 20_000);
      expect(question).toContain('❯ No, it should be running');
      tty.keys('Down', 'Enter');
      const done = await tty.waitFor('Finished: 1 cause, 1 could not tell.');
      for (const line of done.split('\n')) expect(line.length).toBeLessThanOrEqual(80);
      // The walk is one line per stage (the flows come from the build's own copy).
      expect(tty.history()).toContain('✖ Backend up: backend-down confirmed');
      // Enter opens the top finding with its fixes; Esc, then Up to the last item, quits.
      tty.keys('Enter');
      await tty.waitFor('Take the stopped server out of its upstream');
      tty.keys('Escape');
      await tty.waitFor('❯ ✖ backend-down confirmed');
      await new Promise((resolve) => setTimeout(resolve, 300));
      tty.keys('Up');
      await tty.waitFor('❯ Quit and print the report');
      tty.keys('Enter');
      expect(await tty.waitFor('[exit 1]', 10_000, 'history')).toContain('Exit 1: findings');
    } finally {
      tty.kill();
    }
  }, 40_000);
});
