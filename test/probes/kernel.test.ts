import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseDmesgIso, parseJournalKernel, readKernelLog } from '../../probes/read/kernelLog.js';
import type { CommandResult, CommandSpec, Host } from '../../src/host/types.js';
import { ProbeStatusError } from '../../src/probe/contract.js';
import { findOomVictims } from '../../probes/read/oom-kills.js';
import { findSynFloods, parseNetstat } from '../../probes/read/listen-queue.js';
import { fixturePath } from '../support/fixtures.js';

const read = (...parts: string[]) => readFileSync(fixturePath(...parts), 'utf8');

describe('kernel log readers', () => {
  it("does not take a user's hidden journal for a quiet kernel: it falls back to dmesg, and says when that is denied too", async () => {
    // As a user outside adm/systemd-journal: exit 0, "-- No entries --", and a hint on stderr (documented; this machine keeps no journal).
    const answers: Record<string, Partial<CommandResult>> = {
      journalctl: { stdout: '-- No entries --\n', stderr: read('kernel', 'journalctl-user-hint.documented.txt'), exitCode: 0 },
      // Recorded here as nobody: kernel.dmesg_restrict=1, as on Debian.
      dmesg: { stdout: '', stderr: 'dmesg: read kernel buffer failed: Operation not permitted\n', exitCode: 1 },
    };
    const host = { run: async (spec: CommandSpec) => ({ stdout: '', stderr: '', exitCode: 0, durationMs: 1, ...answers[spec.file] }) } as unknown as Host;
    const error = await readKernelLog(host, Date.now() - 600_000).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ProbeStatusError);
    expect(error).toMatchObject({ status: 'denied' });
    expect((error as Error).message).toContain('journalctl shows this user none of the kernel messages');
  });

  it('reads dmesg --time-format=iso recorded here during a real cgroup OOM kill', () => {
    const lines = parseDmesgIso(read('kernel', 'dmesg-oom-memcg.txt'));
    expect(lines.length).toBeGreaterThan(50);
    expect(lines[0]!.text).toBe('python3 invoked oom-killer: gfp_mask=0xcc0(GFP_KERNEL), order=0, oom_score_adj=0');
    expect(new Date(lines[0]!.timeMs).toISOString()).toBe('2026-11-21T09:52:10.491Z');
    expect(findOomVictims(lines)).toEqual([{ timeMs: Date.parse('2026-11-21T09:52:10.494Z'), pid: 3491, comm: 'python3', anonRssKb: 65024, constraint: 'memcg', memcg: '/rdtest' }]);
  });

  it('reads journalctl -k short-iso of an old kernel (documented): Kill process … or sacrifice child', () => {
    const lines = parseJournalKernel(read('kernel', 'journalctl-oom-old-kernel.documented.txt'));
    expect(lines).toHaveLength(4);
    expect(lines[0]!.timeMs).toBe(Date.parse('2019-06-03T10:12:01+02:00'));
    expect(findOomVictims(lines)).toEqual([{ timeMs: Date.parse('2019-06-03T10:12:01+02:00'), pid: 23187, comm: 'node', anonRssKb: 1873404, constraint: 'unknown', memcg: null }]);
    expect(findSynFloods(lines)).toEqual([{ timeMs: Date.parse('2019-06-03T10:12:05+02:00'), port: 3000, address: null, action: 'Sending cookies' }]);
  });

  it('reads journalctl -k short-iso-precise (documented): global OOM with its cgroup, newer SYN flood format', () => {
    const lines = parseJournalKernel(read('kernel', 'journalctl-oom-global.documented.txt'));
    expect(findOomVictims(lines)).toEqual([{ timeMs: Date.parse('2024-02-11T03:14:07.118Z'), pid: 4242, comm: 'gunicorn', anonRssKb: 1211304, constraint: 'global', memcg: '/system.slice/gunicorn.service' }]);
    expect(findSynFloods(lines)).toEqual([{ timeMs: Date.parse('2024-02-11T03:14:09.000Z'), port: 8000, address: '127.0.0.1', action: 'Sending cookies' }]);
  });

  it('ignores lines that are not kernel log lines', () => {
    expect(parseDmesgIso('[    0.000000] Linux version 6.1\nnonsense\n')).toEqual([]);
    expect(parseJournalKernel('-- No entries --\n')).toEqual([]);
    expect(findOomVictims([{ timeMs: 0, text: 'Killed process without details' }])).toEqual([]);
  });
});

describe('TcpExt counters', () => {
  it('reads the recorded /proc/net/netstat', () => {
    const counters = parseNetstat(read('proc', 'net-netstat.txt'));
    for (const name of ['ListenOverflows', 'ListenDrops', 'TCPReqQFullDrop', 'TCPReqQFullDoCookies', 'SyncookiesSent']) expect(counters[name]).toBeTypeOf('number');
    expect(Object.keys(counters).length).toBeGreaterThan(50);
  });
  it('finds nothing in text without TcpExt', () => {
    expect(parseNetstat('IpExt: InNoRoutes\nIpExt: 0\n')).toEqual({});
  });
});

describe('nginx runtime helpers', () => {
  it('reads Max open files from a recorded /proc/PID/limits', async () => {
    const { parseLimits } = await import('../../probes/read/nginx-runtime.js');
    const limits = parseLimits(read('proc', 'nginx-worker-limits.txt'));
    expect(limits.openFilesSoft).toBeGreaterThan(0);
    expect(limits.openFilesHard).toBeGreaterThanOrEqual(limits.openFilesSoft!);
    expect(parseLimits('nothing here')).toEqual({ openFilesSoft: null, openFilesHard: null });
  });
  it('picks the master started with the diagnosed config', async () => {
    const { findMaster } = await import('../../probes/read/nginx-runtime.js');
    const proc = (pid: number, args: string) => ({ pid, ppid: 1, uid: 0, elapsedSec: 1, startedAtMs: 0, comm: 'nginx', args });
    const processes = [proc(10, 'nginx: master process /usr/sbin/nginx -g daemon on; master_process on;'), proc(20, 'nginx: master process nginx -c /tmp/lab/nginx.conf'), proc(30, 'nginx: worker process')];
    expect(findMaster(processes, '/tmp/lab/nginx.conf')).toMatchObject({ master: { pid: 20 }, masters: 2 });
    expect(findMaster(processes, undefined)).toMatchObject({ master: { pid: 10 } });
    expect(findMaster(processes, '/elsewhere.conf').master).toBeNull();
  });
});
