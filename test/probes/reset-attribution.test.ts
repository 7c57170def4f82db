import { describe, expect, it } from 'vitest';
import { resetAttributionProbe } from '../../probes/reset-attribution.js';

const backend = (address: string, flags: Record<string, unknown> = {}) => ({ address, oomKills: 0, crashed: false, restartSuspected: false, recovered: false, summary: `${address} (node pid 1): up`, ...flags });
const resets = (upstreams: Record<string, number>) => ({ signatures: [{ id: 'reset-reading-header', upstreams }, { id: 'timeout-read', upstreams: { '127.0.0.1:9': 5 } }] });

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
