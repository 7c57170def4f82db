import { describe, expect, it } from 'vitest';
import { resetAttributionProbe } from '../../probes/combine/reset-attribution.js';
import { formatLocal } from '../../src/logs/readLogs.js';

const backend = (address: string, flags: Record<string, unknown> = {}) => ({ address, oomKills: 0, crashed: false, restartSuspected: false, recovered: false, summary: `${address} (node pid 1): up`, ...flags });
const resets = (upstreams: Record<string, number>) => ({ signatures: [{ id: 'reset-reading-header', upstreams }, { id: 'timeout-read', upstreams: { '127.0.0.1:9': 5 } }], groups: [] });

function attribute(peers: Record<string, number>, backends: Array<ReturnType<typeof backend>>, racing: string[] = []) {
  const deps = {
    'error-log': resets(peers),
    'crash-analysis': { backends },
    'keepalive-analysis': { mismatches: [{ servers: racing.map((address) => ({ address, mismatch: true })) }] },
  };
  return resetAttributionProbe.parse({} as never, { deps } as never);
}

describe('reset attribution: each peer by its own cause', () => {
  it("one backend's OOM kill does not explain another's resets; a keep-alive race explains only its own servers'", () => {
    const facts = attribute(
      { '127.0.0.1:8001': 12, '127.0.0.1:8002': 7, '127.0.0.1:8003': 3, '10.0.0.9:80': 2 },
      [backend('127.0.0.1:8001', { oomKills: 1 }), backend('127.0.0.1:8002'), backend('127.0.0.1:8003')],
      ['127.0.0.1:8003'],
    );
    expect(facts.peers.map((p) => [p.peer, p.cause])).toEqual([
      ['127.0.0.1:8001', 'oom'],
      ['127.0.0.1:8002', 'stable'],
      ['127.0.0.1:8003', 'keepalive-race'],
      ['10.0.0.9:80', 'unexamined'],
    ]);
    expect(facts.stableCount).toBe(1);
    expect(facts.unexplainedCount).toBe(1);
    expect(facts.explainedText).toBe("127.0.0.1:8001 ×12: OOM-killed; 127.0.0.1:8003 ×3: closes idle connections before nginx's keepalive_timeout");
  });

  it('with every peer explained, nothing is left for backend-reset', () => {
    const facts = attribute({ '127.0.0.1:8001': 4 }, [backend('127.0.0.1:8001', { crashed: true })]);
    expect([facts.stableCount, facts.unexplainedCount, facts.explained.length]).toEqual([0, 0, 1]);
  });
});

/** nginx's error-log time, local: "2026/12/01 14:02:06". */

describe('reset attribution: an OOM kill explains resets at its time; logged peers are matched through resolved addresses', () => {
  const kill = Date.parse('2026-12-01T13:30:00Z');
  const run = (firstMs: number, lastMs: number) => {
    const peer = '127.0.0.1:8001';
    const deps = {
      'error-log': { signatures: [{ id: 'reset-reading-header', upstreams: { [peer]: 6 } }], groups: [{ signature: 'reset-reading-header', peer, firstSeen: formatLocal(firstMs), lastSeen: formatLocal(lastMs), count: 6 }] },
      'crash-analysis': { backends: [backend(peer, { oomKills: 1 })] },
      'keepalive-analysis': { mismatches: [] },
      'oom-kills': { victims: [{ timeMs: kill, backend: peer }] },
    };
    return resetAttributionProbe.parse({} as never, { deps } as never).peers[0]!;
  };

  it('resets from the kill to a few seconds after it: the kill', () => {
    expect(run(kill, kill + 3000).cause).toBe('oom');
    // nginx floors its times to the second: a reset logged in the second of the kill is at the kill.
    expect(run(kill - 1000, kill + 1000).cause).toBe('oom');
  });

  it('resets long before the kill, or going on long after it, are not the kill', () => {
    const before = run(kill - 3_600_000, kill - 3_000_000);
    expect(before.cause).toBe('stable');
    expect(before.summary).toContain('its OOM kill at');
    expect(before.summary).toContain('is not at its resets');
    expect(run(kill, kill + 600_000).cause).toBe('stable');
    expect(run(kill - 600_000, kill).cause).toBe('stable');
  });

  it("a config's localhost:8000 is the logged 127.0.0.1:8000 and [::1]:8000", () => {
    const listeners = { backends: [{ address: 'localhost:8000', peers: [{ ip: '127.0.0.1', port: 8000, local: true, listening: true }, { ip: '::1', port: 8000, local: true, listening: true }] }] };
    const deps = {
      'error-log': resets({ '127.0.0.1:8000': 3, '[::1]:8000': 2 }),
      'crash-analysis': { backends: [backend('localhost:8000', { crashed: true })] },
      'keepalive-analysis': { mismatches: [] },
      'backend-listeners': listeners,
    };
    const facts = resetAttributionProbe.parse({} as never, { deps } as never);
    expect(facts.peers.map((p) => [p.peer, p.cause])).toEqual([
      ['127.0.0.1:8000', 'crash'],
      ['[::1]:8000', 'crash'],
    ]);
    expect(facts.unexplainedCount).toBe(0);
  });
});

describe('reset attribution: a restart explains only the resets before it; a suspected cause rules nothing out', () => {
  // The reviewer's case: node destroys the socket on /reset; 3 resets, node killed and restarted at T, 5 more.
  const T = Date.parse('2026-12-01T14:10:00Z');
  const peer = '127.0.0.1:3000';
  const run = (firstMs: number, lastMs: number, flags: Record<string, unknown>, fpm?: unknown) => {
    const deps = {
      'error-log': { signatures: [{ id: 'reset-reading-header', upstreams: { [peer]: 8 } }], groups: [{ signature: 'reset-reading-header', peer, firstSeen: formatLocal(firstMs), lastSeen: formatLocal(lastMs), count: 8 }] },
      'crash-analysis': { backends: [backend(peer, { replacedAtMs: T, ...flags })] },
      'keepalive-analysis': { mismatches: [] },
      ...(fpm ? { 'php-fpm-pools': fpm } : {}),
    };
    return resetAttributionProbe.parse({} as never, { deps } as never);
  };

  it('resets going on after the new process started: the process running now resets too (backend-reset, naming both)', () => {
    const facts = run(T - 60_000, T + 60_000, { restartSuspected: true });
    expect(facts.peers[0]!.cause).toBe('stable');
    expect(facts.stableCount).toBe(1);
    expect(facts.explained).toEqual([]);
    expect(facts.stable[0]!.summary).toMatch(/127\.0\.0\.1:3000 ×8, the last at .*, after its current process started at .*: the process running now resets too, not only the one before it \(replaced mid-window, suspected\)$/);
  });

  it('the same after a recorded crash or a recovery', () => {
    expect(run(T - 60_000, T + 60_000, { crashed: true }).stableCount).toBe(1);
    expect(run(T, T + 60_000, { recovered: true }).stable[0]!.summary).toMatch(/the process running now resets too$/);
  });

  it('resets up to the restart (nginx and ps clocks are whole seconds): the restart', () => {
    const crash = run(T - 60_000, T + 2000, { crashed: true });
    expect(crash.explained.map((p) => p.cause)).toEqual(['crash']);
    expect(crash.stableCount).toBe(0);
  });

  it('a replacement nothing recorded is only suspected: its resets are neither explained nor stable', () => {
    const facts = run(T - 60_000, T - 30_000, { restartSuspected: true });
    expect([facts.stableCount, facts.explained.length, facts.unexplainedCount, facts.suspectedCount]).toEqual([0, 0, 0, 1]);
    expect(facts.suspectedText).toBe('127.0.0.1:3000 ×8: replaced mid-window (suspected)');
  });

  it("php-fpm kills only suspected (its log unread) do not explain the pool's resets; recorded kills do", () => {
    const suspected = run(T - 60_000, T - 30_000, {}, { terminated: [], terminateSuspected: [{ address: peer }] });
    expect([suspected.suspectedCount, suspected.explained.length]).toEqual([1, 0]);
    const confirmed = run(T - 60_000, T - 30_000, {}, { terminated: [{ address: peer }], terminateSuspected: [] });
    expect([confirmed.suspectedCount, confirmed.explained.length]).toEqual([0, 1]);
  });
});
