import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FleetSummary } from '../../src/fleet/summary.js';
import { runCli } from '../support/cli.js';

/**
 * `fleet report` over a reports folder laid out as the playbook leaves it,
 * with reports of the recorded demos (real nginx sessions replayed) and the
 * broken inputs a folder can hold.
 */
let dir: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'reset-doctor-fleet-report-'));
  // Two inventory names for one report's machine: hosts are keyed by file name, not by the report's hostname.
  const down = (await runCli(['diagnose', '--demo', 'backend-down', '--json'])).stdout;
  const healthy = (await runCli(['diagnose', '--demo', 'healthy', '--json'])).stdout;
  writeFileSync(join(dir, 'lb-a.json'), down);
  writeFileSync(join(dir, 'lb-a.status.json'), JSON.stringify({ host: 'lb-a', exit: 1 }));
  writeFileSync(join(dir, 'lb-b.json'), down);
  // A report of a build before the facts section: its findings count, its peers and settings were not read.
  const { facts: _facts, ...older } = JSON.parse(down) as Record<string, unknown>;
  writeFileSync(join(dir, 'lb-old.json'), JSON.stringify(older));
  writeFileSync(join(dir, 'lb-c.json'), healthy);
  writeFileSync(join(dir, 'lb-c.status.json'), JSON.stringify({ host: 'lb-c', exit: 0 }));
  writeFileSync(join(dir, 'lb-9.json'), '{"tool": "reset-doctor", "findings": [');
  writeFileSync(join(dir, 'lb-e.status.json'), JSON.stringify({ host: 'lb-e', exit: null, error: 'no report: unreachable, or the run stopped before this host (see ansible-playbook output)' }));
  writeFileSync(join(dir, 'lb-10.json'), JSON.stringify({ hello: 'world' }));
}, 60_000);

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('fleet report', () => {
  it('keys hosts by file name in natural order, and says why each failed host has no result', async () => {
    const run = await runCli(['fleet', 'report', dir, '--json']);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(1);
    const summary = JSON.parse(run.stdout) as FleetSummary;
    expect(summary.hosts.map((h) => h.host)).toEqual(['lb-9', 'lb-10', 'lb-a', 'lb-b', 'lb-c', 'lb-e', 'lb-old']);
    const hosts = Object.fromEntries(summary.hosts.map((h) => [h.host, h]));
    expect(hosts['lb-a']).toEqual({ host: 'lb-a', ok: true, exit: 1 });
    // No status file: the exit code the report implies.
    expect(hosts['lb-b']).toEqual({ host: 'lb-b', ok: true, exit: 1 });
    expect(hosts['lb-c']).toEqual({ host: 'lb-c', ok: true, exit: 0 });
    expect(hosts['lb-9']).toMatchObject({ ok: false, exit: null });
    expect(hosts['lb-9']!.error).toMatch(/^lb-9\.json does not parse: /);
    expect(hosts['lb-e']).toMatchObject({ ok: false, exit: null, error: expect.stringContaining('unreachable') });
    expect(hosts['lb-10']!.error).toMatch(/^lb-10\.json does not parse: not a reset-doctor report/);
    const down = summary.findings.find((f) => f.id === 'backend-down');
    expect(down).toEqual({ id: 'backend-down', confirmed: ['lb-a', 'lb-b', 'lb-old'], suspected: [], unknown: [] });
    expect(summary.peersNotRead).toEqual(['lb-old']);
    for (const d of summary.drift) expect(Object.keys(d.values)).not.toContain('lb-old');
    // Both demos ran on one nginx build and the same kernel log: nothing drifts there.
    expect(summary.drift.map((d) => d.what)).not.toContain('nginx version');
  });

  it('the text form fits 80 columns', async () => {
    const run = await runCli(['fleet', 'report', dir]);
    for (const line of run.stdout.split('\n')) expect(line.length, line).toBeLessThanOrEqual(80);
    expect(run.stdout).toMatch(/^  backend-down: Nothing accepts connections/m);
    expect(run.stdout).toMatch(/^    confirmed +lb-a, lb-b, lb-old$/m);
    expect(run.stdout).toMatch(/^  not read \(reset-attribution did not run\) on: lb-old$/m);
  });

  it('refuses a folder that is not there or holds no reports, with exit 2 and no stack trace', async () => {
    const missing = await runCli(['fleet', 'report', join(dir, 'nope')]);
    expect(missing).toMatchObject({ code: 2, stdout: '' });
    expect(missing.stderr).toMatch(/^reset-doctor: .*nope: no such folder/);
    const empty = mkdtempSync(join(tmpdir(), 'reset-doctor-fleet-empty-'));
    const none = await runCli(['fleet', 'report', empty]);
    rmSync(empty, { recursive: true });
    expect(none.code).toBe(2);
    expect(none.stderr).toContain('no reports');
    const bare = await runCli(['fleet']);
    expect(bare.code).toBe(2);
    expect(bare.stderr).toBe('reset-doctor: fleet takes "playbook" or "report DIR" (see reset-doctor --help)\n');
  });

  it('fleet playbook prints the playbook Ansible accepts', async () => {
    const run = await runCli(['fleet', 'playbook']);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('- name: reset-doctor on each host');
    expect(run.stdout).toContain('serial: "{{ 1 if reset_doctor_fixes else 0 }}"');
  });
});
