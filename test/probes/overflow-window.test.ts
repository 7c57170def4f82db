import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { listenQueueProbe } from '../../probes/read/listen-queue.js';
import type { ProbeOutcome } from '../../src/probe/contract.js';
import { fixturePath } from '../support/fixtures.js';
import { decideNode, errorLogFacts, okOutcome } from '../support/flowDecide.js';

const netstat = readFileSync(fixturePath('proc', 'net-netstat.txt'), 'utf8');
const backend = (address: string, ip: string, port: number, state = 'listening') => ({ address, label: address, state, peers: [{ ip, port, local: true, listening: state === 'listening' }], recvQ: 0, sendQ: 511 });
const listeners = { backends: [backend('localhost:8000', '127.0.0.1', 8000), backend('127.0.0.1:9000', '127.0.0.1', 9000, 'not-listening')], fullQueueCount: 0, fullQueues: [] };

/** listen-queue with quiet counters (no overflow in the sample) beside this error log, then the overflow decision. */
function decide(errorLog: ProbeOutcome) {
  const gathered = { first: netstat, second: netstat, gapMs: 3000, sysctls: { somaxconn: '4096' }, kernel: { source: 'dmesg', command: 'dmesg', lines: [], note: null } };
  const deps = { 'backend-listeners': listeners, ...(errorLog.status === 'ok' ? { 'error-log': errorLog.facts } : {}) };
  const facts = listenQueueProbe.parse({ gathered } as never, { deps } as never);
  return { facts, next: decideNode('overflow', { 'listen-queue': okOutcome('listen-queue', facts), 'backend-listeners': okOutcome('backend-listeners', listeners), 'error-log': errorLog }) };
}
const errors = (signatures: Array<{ id: string; upstreams: Record<string, number> }>) => okOutcome('error-log', errorLogFacts(signatures));

describe('a 3 s sample rules overflow out for the window only when the error log has none of its traces', () => {
  it('no connect timeouts, refusals or EAGAIN for a backend: ruled out', () => {
    const { facts, next } = decide(errors([{ id: 'timeout-read', upstreams: { '127.0.0.1:8000': 4 } }]));
    expect(facts.windowTraces).toEqual([]);
    expect(next).toBe('overflow-ruled-out');
  });

  it('connect timeouts for a listening backend, logged under its resolved address: the rest of the window is unknown', () => {
    const { facts, next } = decide(errors([{ id: 'timeout-connect', upstreams: { '127.0.0.1:8000': 3 } }, { id: 'connect-failed', upstreams: { '127.0.0.1:8000': 1 } }]));
    expect(facts.windowTraces).toEqual(['localhost:8000: 3 timeout-connect, 1 connect-failed']);
    expect(next).toBe('overflow-earlier-unknown');
  });

  it("refusals for a backend with nothing listening are backend-down's, not an overflow's", () => {
    expect(decide(errors([{ id: 'refused', upstreams: { '127.0.0.1:9000': 7 } }])).next).toBe('overflow-ruled-out');
  });

  it('without the error log, the rest of the window is unknown', () => {
    const denied: ProbeOutcome = { id: 'error-log', status: 'denied', reason: 'permission denied', summary: '', commands: [], startedAt: 0, durationMs: 0 };
    expect(decide(denied).next).toBe('overflow-earlier-unknown');
  });
});
