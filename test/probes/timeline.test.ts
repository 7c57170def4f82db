import { describe, expect, it } from 'vitest';
import { SourceResults } from '../../src/probe/contract.js';
import { timelineProbe } from '../../probes/combine/timeline.js';
import { formatClock } from '../../probes/parse/clock.js';
import { context } from '../support/fixtures.js';

// Whole local seconds, as nginx logs them and ps reports them.
const NOW = new Date(2026, 10, 21, 3, 30, 0).getTime();
const at = (minutesAgo: number) => NOW - minutesAgo * 60_000;

const errorLog = (signatures: Array<{ id: string; first: number; last: number; count: number }>) => ({
  signatures: signatures.map((s) => ({ id: s.id, count: s.count, firstSeen: formatClock(s.first), lastSeen: formatClock(s.last) })),
});

function timeline(deps: Record<string, unknown>) {
  return timelineProbe.parse(new SourceResults([], NOW + 40), context({ deps, options: { nginxBin: 'nginx', errorLogs: [], sinceMs: 60 * 60_000 }, windowEndMs: NOW }));
}

describe('timeline: what changed before the errors', () => {
  it('puts a reload just before the first error at the top of the suspects, and a restart after it after', () => {
    const facts = timeline({
      'error-log': errorLog([
        { id: 'premature-close-header', first: at(20), last: at(1), count: 41 },
        { id: 'refused', first: at(12), last: at(11), count: 3 },
      ]),
      'nginx-runtime': { masterPid: 900, masterStartedAtMs: at(24 * 60), lastReloadAtMs: at(20.5) },
      'backend-process': {
        backends: [{ address: '127.0.0.1:8081', kind: 'gunicorn', pid: 4242, startedAtMs: at(11.5), workers: [{ pid: 4250, startedAtMs: at(11.5) + 1000 }] }],
      },
      'oom-kills': {
        victims: [
          { timeMs: at(12.1), pid: 4100, comm: 'gunicorn', anonRssMb: 1800, backend: '127.0.0.1:8081' },
          { timeMs: at(30), pid: 77, comm: 'chrome', anonRssMb: 900, backend: null },
        ],
      },
    });
    expect(facts.events.map((e) => `${e.kind} ${e.time}`)).toEqual([
      `nginx-reload ${formatClock(at(20.5))}`,
      `first-error ${formatClock(at(20))}`,
      `oom-kill ${formatClock(at(12.1))}`,
      `first-error ${formatClock(at(12))}`,
      `backend-start ${formatClock(at(11.5))}`,
    ]);
    expect(facts.firstError).toBe(formatClock(at(20)));
    expect(facts.changesBefore).toEqual([`nginx reloaded (its workers started; master pid 900) at ${formatClock(at(20.5))}, 30 s before`]);
    expect(facts.changesAfter).toEqual([
      `kernel OOM-killed gunicorn (pid 4100) of backend 127.0.0.1:8081, 1800 MB at ${formatClock(at(12.1))}, 7 min 54 s after`,
      `backend 127.0.0.1:8081 (gunicorn pid 4242) started at ${formatClock(at(11.5))}, 8 min 30 s after`,
    ]);
    // Other processes' kills are counted, not listed; workers started with their master are not "replaced".
    expect(facts.otherOomKills).toBe(1);
    expect(facts.events.some((e) => e.kind === 'workers-replaced')).toBe(false);
    expect(facts.lastReloadBeforeWindow).toBeNull();
  });

  it('says nothing changed when nothing did, and when nginx last reloaded before the window', () => {
    const facts = timeline({
      'error-log': errorLog([{ id: 'reset-reading-header', first: at(5), last: at(1), count: 9 }]),
      'nginx-runtime': { masterPid: 900, masterStartedAtMs: at(3 * 24 * 60), lastReloadAtMs: at(2 * 60) },
    });
    expect(facts.changesBefore).toEqual([]);
    expect(facts.lastReloadBeforeWindow).toBe(`${formatClock(at(120))} (2 h ago)`);
    expect(facts.checked).toEqual(['error-log', 'nginx-runtime']);
    expect(timelineProbe.details!(facts)!.lines).toContain('nothing changed in the 15 min before the first error (checked: error-log, nginx-runtime)');
  });

  it('with no errors in the window, lists the changes without a first error', () => {
    const facts = timeline({ 'error-log': errorLog([]), 'nginx-runtime': { masterPid: 900, masterStartedAtMs: at(2), lastReloadAtMs: null } });
    expect(facts.firstError).toBeNull();
    expect(facts.story).toBe(`no upstream errors in the window; changes: nginx master (pid 900) started at ${formatClock(at(2))}`);
  });
});
