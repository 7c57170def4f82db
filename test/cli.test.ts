import { describe, expect, it } from 'vitest';
import type { JsonReport } from '../src/report/jsonReport.js';
import { VERSION } from '../src/packageRoot.js';
import { runCli } from './support/cli.js';
import { fixturePath } from './support/fixtures.js';

describe('reset-doctor CLI', () => {
  it('prints its version and help', async () => {
    // From a clone, the commit and its date come from git (the builds stamp theirs: test/dist).
    const version = await runCli(['--version']);
    expect(version.code).toBe(0);
    expect(version.stdout).toMatch(new RegExp(`^reset-doctor ${VERSION.replaceAll('.', '\\.')} \\(commit [0-9a-f]{7,} of \\d{4}-\\d\\d-\\d\\dT[\\d:+-]+, run from the source tree\\)\n$`));
    const help = await runCli(['--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('reset-doctor diagnose');
    expect(help.stdout).toContain('Ctrl-C');
  });

  it.each([
    [['frobnicate'], 'unknown command "frobnicate"'],
    [['--bogus'], "Unknown option '--bogus'"],
    [['diagnose', '--since', 'yesterday'], '--since "yesterday": expected a duration'],
    [['diagnose', '--demo', 'backend-down', '--answer', 'nope=x'], 'flow reset-by-peer has no question "nope"'],
    [['diagnose', '--demo', 'backend-down', '--answer', 'planned=maybe'], 'choices are unplanned, planned, unsure'],
    [['demo', 'no-such-demo'], 'no demo "no-such-demo"'],
    [['diagnose', '--flow', fixturePath('flows', 'broken.yaml')], 'broken.yaml:18:15: node "decide-it" goes to "nowhere"'],
    [['diagnose', '--replay', fixturePath('flows', 'broken.yaml')], 'broken.yaml:1: not valid JSON'],
  ])('exits 2 with one clear line for %j', async (args, message) => {
    const run = await runCli(args);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(message);
    expect(run.stderr).not.toMatch(/\n\s+at /);
  });

  it('lints the shipped flows, and fails a broken one with file:line', async () => {
    expect(await runCli(['lint'])).toMatchObject({ code: 0 });
    const broken = await runCli(['lint', fixturePath('flows', 'broken.yaml')]);
    expect(broken.code).toBe(1);
    expect(broken.stderr.split('\n').filter((l) => /broken\.yaml:\d+:\d+:/.test(l))).toHaveLength(4);
  });

  it('lists the demos', async () => {
    const run = await runCli(['demo']);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/backend-down\s+upstream "api" has nothing listening/);
  });

  it('diagnoses a recorded scenario headless: findings exit 1, healthy exits 0', async () => {
    const down = await runCli(['diagnose', '--demo', 'backend-down', '--json']);
    expect(down.code).toBe(1);
    const report = JSON.parse(down.stdout) as JsonReport;
    expect(report).toMatchObject({ tool: 'reset-doctor', version: VERSION, flow: 'reset-by-peer', status: 'finished' });
    expect(Object.keys(report)).toEqual(expect.arrayContaining(['tool', 'version', 'flow', 'host', 'startedAt', 'finishedAt', 'path', 'findings', 'fixes', 'probes']));
    expect(report.findings.filter((f) => f.status !== 'ruled-out')).toMatchObject([
      { id: 'backend-down', status: 'confirmed', evidence: [{ probe: 'backend-listeners', fact: 'down[*].address' }, {}, {}, { probe: 'error-log', fact: 'families.connectFailures' }] },
      // Its keep-alive timeout cannot be measured while it is down: said, not ruled out.
      { id: 'keepalive-mismatch', status: 'unknown', summary: expect.stringContaining('it is down; measure again once it is back up') },
    ]);
    expect(report.findings.map((f) => f.id)).toEqual(expect.arrayContaining(['backend-oom', 'backend-crash', 'keepalive-mismatch', 'listen-queue-overflow', 'no-upstream-logging']));
    expect(report.answers).toEqual([{ node: 'planned', choice: 'unplanned', source: 'headless-default' }]);

    const planned = JSON.parse((await runCli(['diagnose', '--demo', 'backend-down', '--json', '--answer', 'planned=planned'])).stdout) as JsonReport;
    expect(planned.fixes.map((f) => f.id)).toEqual(['mark-server-down']);
    expect(planned.answers).toEqual([{ node: 'planned', choice: 'planned', source: 'answer' }]);

    const healthy = await runCli(['diagnose', '--demo', 'healthy']);
    expect(healthy.code).toBe(0);
    expect(healthy.stdout).toContain('Ruled out: backend-down, ');
    expect(healthy.stdout).toContain('Exit 0: nothing found');
    // --verbose: each ruled-out finding with why, and each probe's commands.
    const verbose = await runCli(['diagnose', '--demo', 'healthy', '--verbose']);
    expect(verbose.stdout).toContain('  ✔ backend-down: every backend nginx proxies to has a listener');
    expect(verbose.stdout).toMatch(/\n {6}\$ \S*nginx -T -c /);
  });

  it('--since takes when the window starts: 13:00 (today, or yesterday when still ahead) and ISO 8601', async () => {
    const log = fixturePath('errorlog', 'signatures.error.log');
    const local = (ms: number) => {
      const d = new Date(ms);
      const p = (n: number) => String(n).padStart(2, '0');
      return `${d.getFullYear()}/${p(d.getMonth() + 1)}/${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
    };
    const clock = JSON.parse((await runCli(['inspect', 'errors', '--error-log', log, '--since', '13:00', '--json'])).stdout) as { window: { from: string; to: string } };
    expect(clock.window.from).toMatch(/^\d{4}\/\d\d\/\d\d 13:00:00$/);
    // Today's 13:00, or yesterday's when today's is still ahead: never in the future, never more than a day back.
    const from = new Date(clock.window.from.replaceAll('/', '-').replace(' ', 'T')).getTime();
    expect(from).toBeLessThanOrEqual(Date.now());
    expect(Date.now() - from).toBeLessThan(24 * 3_600_000);
    const iso = '2026-11-30T13:00:00Z';
    const isoRun = JSON.parse((await runCli(['inspect', 'errors', '--error-log', log, '--since', iso, '--json'])).stdout) as { window: { from: string } };
    expect(isoRun.window.from).toBe(local(Date.parse(iso)));
    const spaced = JSON.parse((await runCli(['inspect', 'errors', '--error-log', log, '--since', '2026-11-30 13:00', '--json'])).stdout) as { window: { from: string } };
    expect(spaced.window.from).toBe('2026/11/30 13:00:00');
  });

  it('runs headless instead of crashing without a terminal (</dev/null, | cat)', async () => {
    for (const input of ['null', 'pipe'] as const) {
      const run = await runCli(['demo', 'stale-unix-socket'], { input });
      expect(run.code).toBe(1);
      expect(run.stderr).toContain('no terminal on stdin/stdout, so no wizard; running headless');
      expect(run.stdout).toContain('Causes — what explains the errors, most first\n  1. ✖ backend-down (confirmed; ');
      expect(run.stderr).not.toMatch(/Raw mode|internal error/);
    }
  });
});
