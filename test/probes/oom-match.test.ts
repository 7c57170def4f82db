import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseDmesgIso } from '../../probes/read/kernelLog.js';
import { oomKillsProbe } from '../../probes/read/oom-kills.js';
import { fixturePath } from '../support/fixtures.js';
import { formatLocal } from '../../src/logs/readLogs.js';

// Recorded here: a real memcg OOM kill of python3 pid 3491 at 2026-11-21T09:52:10.494Z.
const lines = parseDmesgIso(readFileSync(fixturePath('kernel', 'dmesg-oom-memcg.txt'), 'utf8'));
const kill = Date.parse('2026-11-21T09:52:10.494Z');

/** nginx's error-log time, local: "2026/11/21 09:52:10". */
const down = (address: string) => ({ address, listening: false, pid: null, comm: null, startedAtMs: null, workers: [] });
const group = (peer: string, firstMs: number) => ({ signature: 'premature-close-header', peer, firstSeen: formatLocal(firstMs), lastSeen: formatLocal(firstMs + 5000), count: 3 });

function match(backends: Array<ReturnType<typeof down>>, groups: Array<ReturnType<typeof group>>) {
  const deps = { 'backend-process': { backends }, 'error-log': { groups }, 'backend-listeners': { backends: [] } };
  return oomKillsProbe.parse({ gathered: { source: 'dmesg', command: 'dmesg', lines, note: null } } as never, { deps } as never).victims[0]!;
}

describe('an OOM-killed backend that nothing restarted', () => {
  it('is the down backend whose errors began at the kill', () => {
    expect(match([down('127.0.0.1:8000')], [group('127.0.0.1:8000', kill)])).toMatchObject({ pid: 3491, backend: '127.0.0.1:8000', matchedBy: 'errors-at-kill' });
  });

  it('not a down backend whose errors began long before the kill, and no guess between two at the same time', () => {
    expect(match([down('127.0.0.1:8000')], [group('127.0.0.1:8000', kill - 600_000)])).toMatchObject({ backend: null, matchedBy: null });
    expect(match([down('127.0.0.1:8000'), down('127.0.0.1:8001')], [group('127.0.0.1:8000', kill), group('127.0.0.1:8001', kill)])).toMatchObject({ backend: null });
  });
});

describe('two programs OOM-killed in the same second', () => {
  // Recorded here: two memcg OOM kills 45 ms apart, oom-lab-36217 (pid 21200) and oom-lab-44219 (pid 21219), each in its own cgroup.
  const two = parseDmesgIso(readFileSync(fixturePath('kernel', 'dmesg-oom-two-memcgs.txt'), 'utf8'));
  const at = Date.parse('2026-12-01T14:34:43.530Z');
  const parse = (backends: Array<ReturnType<typeof down>>, groups: Array<ReturnType<typeof group>>) =>
    oomKillsProbe.parse({ gathered: { source: 'dmesg', command: 'dmesg', lines: two, note: null } } as never, { deps: { 'backend-process': { backends }, 'error-log': { groups }, 'backend-listeners': { backends: [] } } } as never).victims;

  it('neither is guessed to be the one down backend whose errors began then', () => {
    const victims = parse([down('127.0.0.1:44219')], [group('127.0.0.1:44219', at)]);
    expect(victims.map((v) => [v.comm, v.pid])).toEqual([['oom-lab-36217', 21200], ['oom-lab-44219', 21219]]);
    expect(victims.map((v) => v.backend)).toEqual([null, null]);
  });
});
