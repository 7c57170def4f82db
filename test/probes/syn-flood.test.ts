import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseDmesgIso, parseJournalKernel } from '../../probes/read/kernelLog.js';
import { findSynFloods, listenQueueProbe } from '../../probes/read/listen-queue.js';
import { fixturePath } from '../support/fixtures.js';
import { decideNode, errorLogFacts, okOutcome } from '../support/flowDecide.js';

const read = (...parts: string[]) => readFileSync(fixturePath(...parts), 'utf8');
const netstat = read('proc', 'net-netstat.txt');

/** A backend as backend-listeners reports it: listening at ip:port, nothing queued. */
const backend = (ip: string, port: number) => ({ address: `${ip}:${port}`, label: `${ip}:${port}`, state: 'listening', peers: [{ ip, port, local: true, listening: true }], recvQ: 0, sendQ: 511 });

/** listen-queue on quiet counters (the same reading twice) and these kernel lines, then the flow's overflow decision. */
function diagnose(kernelText: string, backends: Array<ReturnType<typeof backend>>) {
  const gathered = { first: netstat, second: netstat, gapMs: 3000, sysctls: { somaxconn: '4096', tcpSyncookies: '1', tcpAbortOnOverflow: '0' }, kernel: { source: 'dmesg', command: 'dmesg --time-format=iso', lines: parseDmesgIso(kernelText), note: null } };
  const listeners = { backends, fullQueueCount: 0, fullQueues: [] };
  const facts = listenQueueProbe.parse({ gathered } as never, { deps: { 'backend-listeners': listeners } } as never);
  const next = decideNode('overflow', { 'listen-queue': okOutcome('listen-queue', facts), 'backend-listeners': okOutcome('backend-listeners', listeners), 'error-log': okOutcome('error-log', errorLogFacts([])) });
  return { facts, next };
}

describe('SYN flood warnings count only for a backend listener', () => {
  // Recorded here (kernel 6.18): a listener with backlog 0 in a private network namespace, sent SYNs whose
  // SYN-ACKs go nowhere; one on 0.0.0.0:39224, one on 10.9.9.1:8000.
  const recorded = read('kernel', 'dmesg-syn-flood.txt');

  it('reads the recorded lines, with the address newer kernels give', () => {
    expect(findSynFloods(parseDmesgIso(recorded)).map((f) => [f.address, f.port, f.action])).toEqual([
      ['0.0.0.0', 39224, 'Sending cookies'],
      ['10.9.9.1', 8000, 'Sending cookies'],
    ]);
    // IPv6 listeners are printed "[%pI6c]:%u" (net/ipv4/tcp_input.c).
    const v6 = parseJournalKernel('2026-12-01T14:02:06.699860+00:00 host kernel: TCP: request_sock_TCPv6: Possible SYN flooding on port [::1]:3000. Dropping request.\n');
    expect(findSynFloods(v6).map((f) => [f.address, f.port, f.action])).toEqual([['::1', 3000, 'Dropping request']]);
  });

  it('a flood on ports no backend uses is context: no overflow branch, and the text still names them', () => {
    const { facts, next } = diagnose(recorded, [backend('127.0.0.1', 3000)]);
    expect(facts.backendSynFloods).toEqual([]);
    expect(facts.synFloods.map((f) => f.backend)).toEqual([null, null]);
    expect(facts.otherSynFloodsText).toBe("2 SYN flood warning(s) for 0.0.0.0:39224, 10.9.9.1:8000, no backend's listener");
    expect(facts.machineWide).toMatch(/, no SYN flood warnings for a backend \(2 for other listeners: 0\.0\.0\.0:39224, 10\.9\.9\.1:8000\)$/);
    expect(next).toBe('overflow-ruled-out');
  });

  it('the same port at another address is another listener; a wildcard listener on the port serves the backend', () => {
    expect(diagnose(recorded, [backend('127.0.0.1', 8000)]).next).toBe('overflow-ruled-out');
    const { facts, next } = diagnose(recorded, [backend('127.0.0.1', 39224)]);
    expect(facts.backendSynFloods).toEqual(['127.0.0.1:39224 at 2026-12-01T14:02:06.699Z: sending cookies']);
    expect(next).toBe('listen-queue-suspected');
    expect(diagnose(recorded, [backend('10.9.9.1', 8000)]).next).toBe('listen-queue-suspected');
  });

  it('an old kernel names the port only: a backend on that port counts', () => {
    const old = '2019-06-03T10:12:05,000000+02:00 TCP: Possible SYN flooding on port 3000. Sending cookies.  Check SNMP counters.\n';
    expect(diagnose(old, [backend('127.0.0.1', 3000)]).next).toBe('listen-queue-suspected');
    expect(diagnose(old, [backend('127.0.0.1', 8080)]).next).toBe('overflow-ruled-out');
  });
});
