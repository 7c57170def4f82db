import { z } from 'zod';
import { describe, expect, it } from 'vitest';
import { defineProbe, ProbeStatusError, type ProbeDefinition, type ProbeOutcome } from '../../src/probe/contract.js';
import { runProbes } from '../../src/probe/runner.js';
import { RealHost } from '../../src/host/realHost.js';
import { requireExitZero } from '../../src/probe/commandFailure.js';

const host = new RealHost();
const options = { nginxBin: 'nginx', errorLogs: [], sinceMs: 3_600_000 };

function commandProbe(id: string, file: string, args: string[], extra: Partial<ProbeDefinition> = {}): ProbeDefinition {
  return defineProbe({
    id,
    title: id,
    description: id,
    requiresRoot: false,
    timeoutMs: 5000,
    packageHint: { 'no-such-binary-rd': 'rd-package' },
    facts: z.object({ out: z.string().describe('stdout') }),
    sources: () => [{ id: 'cmd', kind: 'command', command: { file, args, timeoutMs: 5000 } }],
    parse: (results) => {
      const { command, result } = results.command('cmd');
      requireExitZero(command, result);
      return { out: result.stdout.trim() };
    },
    summarize: (facts) => facts.out,
    ...extra,
  } as ProbeDefinition) as unknown as ProbeDefinition;
}

const registry = (...probes: ProbeDefinition[]) => new Map(probes.map((p) => [p.id, p]));
const byId = (outcomes: ProbeOutcome[]) => Object.fromEntries(outcomes.map((o) => [o.id, o]));

describe('probe runner', () => {
  it('turns every way a probe can fail into a status with a reason', async () => {
    const probes = registry(
      commandProbe('fine', 'echo', ['hello']),
      commandProbe('missing', 'no-such-binary-rd', []),
      commandProbe('refused', 'sh', ['-c', 'echo "open() failed (13: Permission denied)" >&2; exit 1']),
      commandProbe('broken', 'sh', ['-c', 'echo boom >&2; exit 2']),
      commandProbe('slow', 'sleep', ['10'], { timeoutMs: 300 }),
      commandProbe('bad-facts', 'echo', ['x'], { parse: () => ({ out: 42 }) } as Partial<ProbeDefinition>),
      commandProbe('thrower', 'echo', ['x'], { parse: () => { throw new TypeError('cannot read line 3'); } }),
      commandProbe('says-denied', 'echo', ['x'], { parse: () => { throw new ProbeStatusError('denied', 'needs root: x', 'sudo x'); } }),
    );
    const outcomes = byId(await runProbes({ ids: [...probes.keys(), 'nope'], registry: probes, host, options }));
    expect(outcomes['fine']).toMatchObject({ status: 'ok', facts: { out: 'hello' }, summary: 'hello', commands: ['echo hello'] });
    expect(outcomes['missing']).toMatchObject({ status: 'unavailable', reason: 'no-such-binary-rd is not installed or not on PATH (Debian/Ubuntu package: rd-package)' });
    expect(outcomes['refused']).toMatchObject({ status: 'denied', sudoHint: `sudo sh -c 'echo "open() failed (13: Permission denied)" >&2; exit 1'` });
    expect(outcomes['broken']).toMatchObject({ status: 'error', reason: expect.stringContaining('exited 2: boom') });
    expect(outcomes['slow']).toMatchObject({ status: 'timeout', reason: 'no answer within 0.3 s' });
    expect(outcomes['bad-facts']).toMatchObject({ status: 'error', reason: expect.stringContaining('outside its schema') });
    expect(outcomes['thrower']).toMatchObject({ status: 'error', reason: 'could not read the output: cannot read line 3' });
    expect(outcomes['says-denied']).toMatchObject({ status: 'denied', reason: 'needs root: x', sudoHint: 'sudo x' });
    expect(outcomes['nope']).toMatchObject({ status: 'error', reason: 'no probe named "nope"' });
  });

  it('runs dependencies first and passes their facts; a failed dependency blocks with its reason', async () => {
    const dependent = (id: string, dep: string) =>
      commandProbe(id, 'echo', ['dep'], {
        dependsOn: [dep],
        sources: (ctx) => [{ id: 'cmd', kind: 'command', command: { file: 'echo', args: [(ctx.deps[dep] as { out: string }).out], timeoutMs: 5000 } }],
      });
    const probes = registry(commandProbe('base', 'echo', ['from-base']), commandProbe('missing', 'no-such-binary-rd', []), dependent('uses-base', 'base'), dependent('uses-missing', 'missing'));
    const seen: string[] = [];
    const outcomes = byId(await runProbes({ ids: ['uses-base', 'uses-missing'], registry: probes, host, options, onResult: (o) => seen.push(o.id) }));
    expect(outcomes['uses-base']).toMatchObject({ status: 'ok', facts: { out: 'from-base' } });
    expect(outcomes['uses-missing']).toMatchObject({ status: 'unavailable', reason: expect.stringMatching(/^needs missing, which did not run: no-such-binary-rd is not installed/) });
    expect(seen.indexOf('base')).toBeLessThan(seen.indexOf('uses-base'));
  });

  it('runs independent probes concurrently, under the cap', async () => {
    let active = 0;
    let peak = 0;
    // Counts commands in flight instead of timing them: a timed test would be flaky on a busy machine.
    const counting = Object.assign(Object.create(host) as RealHost, {
      run: async (spec: Parameters<RealHost['run']>[0]) => {
        peak = Math.max(peak, ++active);
        try {
          return await host.run(spec);
        } finally {
          active--;
        }
      },
    });
    const probes = registry(...['a', 'b', 'c', 'd', 'e'].map((id) => commandProbe(id, 'sleep', ['0.1'])));
    await runProbes({ ids: [...probes.keys()], registry: probes, host: counting, options, concurrency: 3 });
    expect(peak).toBe(3);
    peak = 0;
    await runProbes({ ids: [...probes.keys()], registry: probes, host: counting, options, concurrency: 1 });
    expect(peak).toBe(1);
  });

  it('reads of a probe overlap those it uses only at parse (usesAtParse), even one slot at a time, and parse sees their facts', async () => {
    // Two reads of 600 ms: in turn they take 1.2 s; side by side, about 0.6 s.
    const log = commandProbe('log', 'sleep', ['0.6'], { parse: () => ({ out: 'read' }) } as Partial<ProbeDefinition>);
    const sample = commandProbe('sample', 'sleep', ['0.6'], {
      uses: ['log'],
      usesAtParse: ['log'],
      parse: (_results: unknown, context: { deps: Record<string, unknown> }) => ({ out: `log ${(context.deps['log'] as { out: string } | undefined)?.out}` }),
    } as Partial<ProbeDefinition>);
    for (const concurrency of [4, 1]) {
      const started = performance.now();
      const outcomes = byId(await runProbes({ ids: ['sample', 'log'], registry: registry(log, sample), host, options, concurrency }));
      const seconds = (performance.now() - started) / 1000;
      expect(outcomes['sample']).toMatchObject({ status: 'ok', facts: { out: 'log read' } });
      // One slot: the sample gives its slot back while it waits, so the log can run; no deadlock.
      if (concurrency > 1) expect(seconds).toBeLessThan(1.1);
      else expect(seconds).toBeLessThan(3);
    }
  });
});
