import { describe, expect, it } from 'vitest';
import { crashAnalysisProbe } from '../../probes/combine/crash-analysis.js';
import { decideNode, okOutcome } from '../support/flowDecide.js';
import { formatLocal } from '../../src/logs/readLogs.js';

const base = { kind: null, comm: null, args: null, startedAtMs: null, elapsedSec: null, workers: [], acceptQueue: null, via: null, idleTimeoutSource: 'unknown', note: null };
const now = Date.now();

function analyze(backends: Array<Record<string, unknown>>, uid: number) {
  const context = { deps: { 'backend-process': { backends: backends.map((b) => ({ ...base, ...b })) } }, options: { sinceMs: 600_000 }, windowEndMs: now, host: { uid } };
  return crashAnalysisProbe.parse({} as never, context as never);
}

describe('crash analysis: only a backend whose process is seen is examined', () => {
  it('a listener whose owner a user cannot see is unexamined, never "did not crash"', () => {
    const facts = analyze([{ address: '127.0.0.1:8000', listening: true, pid: null }], 1000);
    expect(facts.examinedCount).toBe(0);
    expect(facts.unexamined).toEqual([{ address: '127.0.0.1:8000', why: 'its process is not shown to a user (run as root to see it)' }]);
    expect(facts.stableWithResetsCount).toBe(0);
  });

  it('a backend on another machine is unexamined; a local one with its process is examined beside it', () => {
    const facts = analyze(
      [
        { address: '10.0.1.5:8080', listening: null, pid: null },
        { address: '127.0.0.1:3000', listening: true, pid: 4242, kind: 'node', startedAtMs: now - 3_600_000 },
      ],
      0,
    );
    expect(facts.examinedCount).toBe(1);
    expect(facts.unexaminedText).toBe('10.0.1.5:8080: on another machine: its processes cannot be seen from here');
  });

  it('a port held by docker-proxy is unexamined: the app that restarts is inside the container', () => {
    const facts = analyze([{ address: '127.0.0.1:8080', listening: true, pid: 1875, comm: 'docker-proxy', startedAtMs: now - 86_400_000 }], 0);
    expect(facts.examinedCount).toBe(0);
    expect(facts.stableWithResetsCount).toBe(0);
    expect(facts.unexamined[0]!.why).toMatch(/^docker-proxy \(pid 1875\) only forwards the port/);
  });
});

describe('crash analysis: errors logged under the address a config name resolved to', () => {
  it("counts 127.0.0.1:8000's resets for the config's localhost:8000", () => {
    const groups = [{ signature: 'premature-close-header', peer: '127.0.0.1:8000', firstSeen: '2026/12/01 14:00:00', lastSeen: '2026/12/01 14:00:05', count: 4 }];
    const listeners = { backends: [{ address: 'localhost:8000', peers: [{ ip: '127.0.0.1', port: 8000, local: true, listening: true }] }] };
    const context = {
      deps: { 'backend-process': { backends: [{ ...base, address: 'localhost:8000', listening: true, pid: 4242, kind: 'node', startedAtMs: now - 86_400_000 }] }, 'error-log': { groups }, 'backend-listeners': listeners },
      options: { sinceMs: 600_000 },
      windowEndMs: now,
      host: { uid: 0 },
    };
    const facts = crashAnalysisProbe.parse({} as never, context as never);
    expect(facts.backends[0]!.midRequestErrors).toBe(4);
    expect(facts.stableWithResetsCount).toBe(1);
  });
});

describe('crash analysis beside php-fpm killing requests', () => {
  const node = { address: '127.0.0.1:3000', listening: true, pid: 4242, kind: 'node', startedAtMs: now - 60_000 };
  const fpm = { address: 'unix:/run/php/php8.2-fpm.sock', listening: true, pid: 900, kind: 'php-fpm', startedAtMs: now - 86_400_000 };
  const crashLine = (address: string) => ({ address, nRestartsInWindow: 0, workersRestarted: 0, crashLines: [{ kind: 'exited', source: 'journal', text: 'Main process exited, code=killed, status=9/KILL' }] });
  const analyzeWith = (restarts: Array<ReturnType<typeof crashLine>>, terminated: string[]) =>
    crashAnalysisProbe.parse({} as never, {
      deps: { 'backend-process': { backends: [node, fpm].map((b) => ({ ...base, ...b })) }, 'backend-restarts': { backends: restarts }, 'php-fpm-pools': { terminated: terminated.map((address) => ({ address })), terminateSuspected: [] } },
      options: { sinceMs: 600_000 },
      windowEndMs: now,
      host: { uid: 0 },
    } as never);

  it('a backend replaced mid-window beside the pool is named too, not hidden behind the php-fpm finding', () => {
    const facts = analyzeWith([], ['unix:/run/php/php8.2-fpm.sock']);
    const replaced = { ...facts, restartSuspectedCount: 1 };
    expect(decideNode('fpm-and-other-crashes', { 'crash-analysis': okOutcome('crash-analysis', replaced) })).toBe('fpm-and-replaced');
    expect(decideNode('fpm-and-recovered', { 'crash-analysis': okOutcome('crash-analysis', { ...facts, recoveredCount: 1 }) })).toBe('backend-was-down-beside-fpm');
  });

  it('names a crash of another backend, which the php-fpm finding does not', () => {
    const facts = analyzeWith([crashLine('127.0.0.1:3000')], ['unix:/run/php/php8.2-fpm.sock']);
    expect(facts.crashedBesideFpm.map((b) => b.address)).toEqual(['127.0.0.1:3000']);
    const next = decideNode('fpm-and-other-crashes', { 'crash-analysis': okOutcome('crash-analysis', facts) });
    expect(next).toBe('backend-crash-beside-fpm');
  });

  it('leaves out the pool whose requests php-fpm kills: that is the php-fpm finding', () => {
    const facts = analyzeWith([crashLine('unix:/run/php/php8.2-fpm.sock')], ['unix:/run/php/php8.2-fpm.sock']);
    expect(facts.crashedCount).toBe(1);
    expect(facts.crashedBesideFpmCount).toBe(0);
    expect(decideNode('fpm-and-other-crashes', { 'crash-analysis': okOutcome('crash-analysis', facts) })).toBe('fpm-and-recovered');
    // With no other backend down either, the php-fpm sub-flow returns to crashes, which returns to the parent flow,
    // whose next stage starts at keepalive-check.
    expect(decideNode('fpm-and-recovered', { 'crash-analysis': okOutcome('crash-analysis', facts) })).toBe('keepalive-check');
  });
});

describe('crash analysis: when the current process came up', () => {
  it('a node restarted mid-window after cutting requests: replacedAtMs is its start, for reset-attribution to split the resets', () => {
    const startedAtMs = Math.floor((now - 120_000) / 1000) * 1000;
    const groups = [{ signature: 'reset-reading-header', peer: '127.0.0.1:3000', firstSeen: formatLocal(startedAtMs - 60_000), lastSeen: formatLocal(startedAtMs + 60_000), count: 8 }];
    const facts = crashAnalysisProbe.parse({} as never, {
      deps: { 'backend-process': { backends: [{ ...base, address: '127.0.0.1:3000', listening: true, pid: 4242, kind: 'node', startedAtMs }] }, 'error-log': { groups } },
      options: { sinceMs: 600_000 },
      windowEndMs: now,
      host: { uid: 0 },
    } as never);
    expect(facts.backends[0]).toMatchObject({ restartSuspected: true, replacedAtMs: startedAtMs });
  });
});

describe('crash analysis: a worker recycled as configured', () => {
  const t = Math.floor((now - 120_000) / 1000) * 1000;
  const gunicorn = { ...base, address: '127.0.0.1:8000', listening: true, pid: 700, kind: 'gunicorn', startedAtMs: now - 86_400_000 };
  const recycledAt = (ms: number, errors: Record<string, unknown> | undefined) =>
    crashAnalysisProbe.parse({} as never, {
      deps: {
        'backend-process': { backends: [gunicorn] },
        'backend-restarts': { backends: [{ address: '127.0.0.1:8000', nRestartsInWindow: 0, workersRestarted: 0, crashLines: [], recycles: '--max-requests 50', recycledWorkerStartsMs: [ms], newestWorkerAtMs: ms }] },
        ...(errors ? { 'error-log': errors } : {}),
      },
      options: { sinceMs: 600_000 },
      windowEndMs: now,
      host: { uid: 0 },
    } as never);
  // An app that resets /reset while staying up: one reset at t, one at t+16 s; the worker recycled at t+8 s.
  const groups = [{ signature: 'reset-reading-header', peer: '127.0.0.1:8000', firstSeen: formatLocal(t), lastSeen: formatLocal(t + 16_000), count: 2 }];

  it('a recycle between the two ends of a reset group cut nothing: not a crash', () => {
    const facts = recycledAt(t + 8_000, { groups });
    expect(facts.backends[0]).toMatchObject({ crashed: false, restarts: 0 });
    expect(facts.backends[0]!.summary).toContain('1 worker(s) recycled as configured (--max-requests 50), none at an error nginx logged: not counted');
  });

  it("with nginx's error log unread, a recycle is not held clear of cutting requests: could not tell", () => {
    const facts = recycledAt(t + 8_000, undefined);
    expect(facts.backends[0]!.summary).toContain("1 worker(s) recycled as configured (--max-requests 50); whether one cut requests off is unknown: nginx's error log could not be read");
    expect(facts.backends[0]!.summary).not.toContain('not counted');
    expect(facts.recyclesUntoldCount).toBe(1);
    expect(decideNode('crashed', { 'crash-analysis': okOutcome('crash-analysis', facts) })).toBe('crash-recycles-untold');
    expect(decideNode('crashed', { 'crash-analysis': okOutcome('crash-analysis', recycledAt(t + 8_000, { groups })) })).toBe('crash-ruled-out');
  });

  it('a recycle at the last reset of a group counts as cutting requests', () => {
    const facts = recycledAt(t + 16_000, { groups });
    expect(facts.backends[0]).toMatchObject({ crashed: true, restarts: 1 });
  });
});

describe("crash analysis: php-fpm children that crashed, from php-fpm's log (test/fixtures/php-fpm/script-name)", () => {
  const fpm = { address: '127.0.0.1:19081', listening: true, pid: 26861, kind: 'php-fpm', startedAtMs: now - 86_400_000 };
  const segv = ['[01-Dec-2026 15:46:23] WARNING: [pool app] child 26871 exited on signal 11 (SIGSEGV) after 6.764429 seconds from start', '[01-Dec-2026 15:46:23] WARNING: [pool app] child 26869 exited on signal 11 (SIGSEGV) after 10.771493 seconds from start'];
  const crashes = [{ pool: 'app', address: '127.0.0.1:19081', signal: 'SIGSEGV', at: '01-Dec-2026 15:46:23', atMs: 0, count: 2, pids: [26871, 26869], lines: segv }];
  const analyzeWith = (fpmFacts: Record<string, unknown>, victims: Array<Record<string, unknown>> = []) =>
    crashAnalysisProbe.parse({} as never, {
      deps: { 'backend-process': { backends: [{ ...base, ...fpm }] }, 'php-fpm-pools': { terminated: [], terminateSuspected: [], childCrashes: crashes, ...fpmFacts }, 'oom-kills': { victims } },
      options: { sinceMs: 600_000 },
      windowEndMs: now,
      host: { uid: 0 },
    } as never);

  it("counts the pool's SIGSEGV deaths as crash lines of its backend, with php-fpm's line", () => {
    const facts = analyzeWith({});
    expect(facts.crashedCount).toBe(1);
    expect(facts.crashed[0]).toMatchObject({ address: '127.0.0.1:19081', crashLines: 2, crashKinds: ['php-fpm child SIGSEGV'], firstCrashLine: segv[0] });
    expect(facts.crashed[0]!.summary).toContain("2 php-fpm child(ren) exited on SIGSEGV (php-fpm's log), a signal php-fpm did not send: a crash");
    expect(decideNode('crashed', { 'crash-analysis': okOutcome('crash-analysis', facts) })).toBe('backend-crash');
  });

  it('names the crash beside kills of the same pool that are only suspected', () => {
    const facts = analyzeWith({ terminateSuspected: [{ address: '127.0.0.1:19081' }] });
    expect(facts.crashedBesideFpm.map((b) => b.address)).toEqual(['127.0.0.1:19081']);
  });

  it("does not count a child the OOM killer killed twice: that is its OOM kill", () => {
    const facts = analyzeWith({}, [{ pid: 26871, backend: '127.0.0.1:19081', comm: 'php-fpm8.2', anonRssMb: 100, constraint: 'global', memcg: null, time: 'x' }]);
    expect(facts.backends[0]).toMatchObject({ crashLines: 1, oomKills: 1 });
  });
});
