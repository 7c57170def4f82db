import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { RealHost } from '../../src/host/realHost.js';
import type { CommandResult, CommandSpec, Host } from '../../src/host/types.js';
import type { ProbeDefinition } from '../../src/probe/contract.js';
import { runProbes } from '../../src/probe/runner.js';
import { PROBES } from '../../probes/index.js';
import { fixturePath } from '../support/fixtures.js';

const STATUSES = ['ok', 'unavailable', 'denied', 'timeout', 'error'];

/** The real machine, except that commands behave as told. */
function hostWhere(run: (spec: CommandSpec) => Promise<CommandResult>): Host {
  const real = new RealHost();
  return Object.assign(Object.create(real) as RealHost, { run });
}

const options = { nginxBin: 'nginx', nginxConf: fixturePath('nginx', 'debian', 'nginx.conf'), errorLogs: [], sinceMs: 60_000, passive: true };

describe('probes degrade instead of failing', () => {
  it('with every binary missing from PATH: each probe says unavailable (or falls back), never crashes', async () => {
    const missing = hostWhere(async (spec) => ({ stdout: '', stderr: '', exitCode: null, durationMs: 0, failure: { kind: 'not-found', message: `${spec.file}: command not found` } }));
    const outcomes = await runProbes({ ids: [...PROBES.keys()], registry: PROBES, host: missing, options });
    const byId = Object.fromEntries(outcomes.map((o) => [o.id, o]));
    for (const outcome of outcomes) {
      expect(STATUSES, outcome.id).toContain(outcome.status);
      if (outcome.status !== 'ok') expect(outcome.reason, outcome.id).toBeTruthy();
    }
    expect(byId['nginx-version']).toMatchObject({ status: 'unavailable', reason: 'nginx is not installed or not on PATH (Debian/Ubuntu package: nginx)' });
    expect(byId['processes']).toMatchObject({ status: 'unavailable', reason: expect.stringContaining('procps') });
    // No ss: listeners come from /proc/net instead.
    expect(byId['listening-sockets']).toMatchObject({ status: 'ok', partial: expect.stringContaining('ss not installed') });
    expect(byId['somaxconn']!.status).toBe('ok');
    // A kernel without SELinux is an answer (nothing can deny), not a gap.
    if (!existsSync('/sys/fs/selinux')) expect(byId['selinux']).toMatchObject({ status: 'ok', facts: { mode: 'disabled' } });
    // Without the tools the rules cannot be listed, whatever /proc/net/ip_tables_names says (nftables keeps none there):
    // "could not tell", while conntrack is still read.
    expect(byId['firewall']).toMatchObject({ status: 'ok', facts: { listed: [], rules: [], rulesUnlisted: expect.stringContaining('could not list the rules: neither iptables-save nor nft is installed here') } });
    expect(byId['oom-kills']).toMatchObject({ status: 'unavailable', reason: expect.stringContaining('dmesg is not installed') });
  }, 30_000);

  it('with commands that hang: each probe ends at its own timeout', async () => {
    const hanging = hostWhere((spec) => new Promise((resolve) => setTimeout(() => resolve({ stdout: '', stderr: '', exitCode: 0, durationMs: 5000 }), Math.min(spec.timeoutMs, 2000)).unref()));
    const quick = new Map<string, ProbeDefinition>([...PROBES].map(([id, probe]) => [id, { ...probe, timeoutMs: 300 }]));
    const outcomes = await runProbes({ ids: ['nginx-version', 'processes', 'listening-sockets', 'somaxconn'], registry: quick, host: hanging, options });
    const byId = Object.fromEntries(outcomes.map((o) => [o.id, o]));
    expect(byId['nginx-version']).toMatchObject({ status: 'timeout', reason: 'no answer within 0.3 s' });
    expect(byId['processes']!.status).toBe('timeout');
    expect(byId['listening-sockets']!.status).toBe('timeout');
    expect(byId['somaxconn']!.status).toBe('ok');
  });
});
