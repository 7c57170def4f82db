import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { FleetSummary } from '../../src/fleet/summary.js';
import { CLI, runCli } from '../support/cli.js';
import { buildDist } from '../support/dist.js';
import { findNginx, hasCommand } from '../support/lab.js';
import { describeWithTools } from '../support/tools.js';
import { SCENARIOS } from '../lab/scenarios.js';
import { runPlaybook, startFleet, type Fleet, type LabHost } from './ansible.js';

/**
 * The shipped playbook, run for real by ansible-playbook against five
 * inventory hosts on this machine, with the standalone executable it copies:
 * three lab hosts (healthy, backend down, keep-alive race), one whose run
 * outlasts its timeout, one whose run fails and one Ansible cannot reach.
 * Then `fleet report` over the reports it fetched.
 */
const HOSTS: LabHost[] = [
  { name: 'web1', scenario: 'healthy' },
  { name: 'web2', scenario: 'backend-down-tcp' },
  // The race is confirmed by measuring the backend's idle timeout: the active probes, as in the lab.
  { name: 'web3', scenario: 'keepalive-race', vars: { reset_doctor_active: true } },
  { name: 'web4', scenario: 'healthy', vars: { reset_doctor_timeout: 1 } },
  { name: 'web5', scenario: null, vars: { reset_doctor_since: 'since lunch' } },
  // Nothing listens on port 1: Ansible cannot reach it, so it never runs anything.
  { name: 'web6', scenario: null, vars: { ansible_connection: 'ssh', ansible_host: '127.0.0.1', ansible_port: 1, ansible_ssh_common_args: '-o ConnectTimeout=5 -o StrictHostKeyChecking=no' } },
];
const LAB_HOSTS = HOSTS.filter((h) => h.scenario && !h.vars?.['reset_doctor_timeout']);

/** Session transcripts (issue 12) are fetched beside the reports: checked where the build writes them. */
const transcripts = existsSync(CLI) && spawnSync(process.execPath, [CLI, '--help'], { encoding: 'utf8' }).stdout.includes('--transcript');

const missing = [...(findNginx() ? [] : ['nginx']), ...(hasCommand('ansible-playbook') ? [] : ['ansible-playbook (ansible-core)'])];

describeWithTools('fleet diagnosis through Ansible', missing, () => {
  let fleet: Fleet;
  let first: { code: number | null; output: string };
  let summary: FleetSummary;
  let text: string;
  let reportCode: number | null;

  beforeAll(async () => {
    buildDist();
    fleet = await startFleet(HOSTS);
    first = await runPlaybook(fleet, []);
    const json = await runCli(['fleet', 'report', fleet.reports, '--json']);
    summary = JSON.parse(json.stdout) as FleetSummary;
    reportCode = json.code;
    text = (await runCli(['fleet', 'report', fleet.reports])).stdout;
    if (process.env['FLEET_SHOW'] === '1') console.log(`${first.output}\n${text}`);
  }, 170_000);

  afterAll(async () => {
    await fleet?.cleanup();
    if (fleet && process.env['FLEET_KEEP'] !== '1') rmSync(fleet.dir, { recursive: true, force: true });
  });

  it('fetches one report per lab host, named by its inventory name, and the run fails for the three failed hosts only', () => {
    const context = first.output;
    // 2: hosts failed; 4: hosts unreachable (which one ansible-playbook reports depends on the order).
    expect([2, 4], context).toContain(first.code);
    for (const host of LAB_HOSTS) {
      const report = JSON.parse(readFileSync(join(fleet.reports, `${host.name}.json`), 'utf8')) as { tool: string; status: string; probes: Array<{ id: string; commands: string[] }> };
      expect(report, context).toMatchObject({ tool: 'reset-doctor', status: 'finished' });
      // The per-host variables reached the run: its own error log and state dir.
      const errorLog = join(dirname(fleet.running.get(host.name)!.conf), 'error.log');
      expect(report.probes.find((p) => p.id === 'error-log')?.commands.join('\n'), context).toContain(`read ${errorLog} `);
    }
    expect(existsSync(join(fleet.reports, 'web4.json')), context).toBe(false);
    expect(existsSync(join(fleet.reports, 'web5.json')), context).toBe(false);
    expect(existsSync(join(fleet.reports, 'web6.json')), context).toBe(false);
    expect(context).toMatch(/web1 +: .* failed=0 /);
    expect(context).toMatch(/web4 +: .* failed=1 /);
    expect(context).toMatch(/web5 +: .* failed=1 /);
  });

  it('fleet report names the hosts of each finding, as each lab scenario expects', () => {
    const context = text;
    for (const status of ['confirmed', 'suspected'] as const) {
      const expected = new Map<string, string[]>();
      for (const host of LAB_HOSTS) {
        const scenario = SCENARIOS.find((s) => s.name === host.scenario)!;
        for (const id of scenario[status] ?? []) expected.set(id, [...(expected.get(id) ?? []), host.name]);
      }
      const found = new Map(summary.findings.filter((f) => f[status].length > 0).map((f) => [f.id, f[status]]));
      expect(Object.fromEntries(found), `${status}\n${context}`).toEqual(Object.fromEntries(expected));
    }
    expect(summary.findings.find((f) => f.id === 'backend-down')?.confirmed).toEqual(['web2']);
    expect(summary.findings.find((f) => f.id === 'keepalive-mismatch')?.confirmed).toEqual(['web3']);
    expect(reportCode).toBe(1);
  });

  it('names the keep-alive race host for its peer resets', () => {
    const port = /127\.0\.0\.1:\d+/.exec(fleet.running.get('web3')!.mentions[0]!)![0];
    const peer = summary.peers.find((p) => p.peer === port);
    expect(peer, text).toBeDefined();
    expect(peer!.hosts.map((h) => [h.host, h.cause]), text).toEqual([['web3', 'keepalive-race']]);
    expect(summary.peers.flatMap((p) => p.hosts.map((h) => h.host)).filter((h) => h !== 'web3'), text).toEqual([]);
  });

  it('flags the one host whose upstream keepalive_timeout differs as drift, and nothing that is the same everywhere', () => {
    const drift = summary.drift.find((d) => d.what === 'upstream api keepalive_timeout');
    expect(drift, text).toBeDefined();
    // The lab's clean upstream sets 4 s; the keep-alive race scenario leaves nginx's default, 60 s.
    expect(drift!.values['web3'], text).toBe('60s');
    for (const [host, value] of Object.entries(drift!.values)) if (host !== 'web3') expect(value, text).toBe('4s');
    expect(drift!.values['web1'], text).toBe('4s');
    expect(summary.drift.map((d) => d.what), text).not.toContain('nginx version');
  });

  it('reports the host that timed out, the host whose run failed and the one never reached, and why', () => {
    const hosts = Object.fromEntries(summary.hosts.map((h) => [h.host, h]));
    for (const host of LAB_HOSTS) {
      const scenario = SCENARIOS.find((s) => s.name === host.scenario)!;
      // As in the lab: exit 0 only where the scenario expects nothing at all.
      const exit = scenario.confirmed.length + (scenario.suspected ?? []).length + (scenario.unknown ?? []).length === 0 ? 0 : 1;
      expect(hosts[host.name], text).toMatchObject({ ok: true, exit });
    }
    expect(hosts['web4'], text).toMatchObject({ ok: false, exit: 124, error: 'timed out after 1 s (reset_doctor_timeout)' });
    expect(hosts['web5'], text).toMatchObject({ ok: false, exit: 2 });
    expect(hosts['web5']!.error, text).toContain('--since "since lunch"');
    expect(hosts['web6'], text).toMatchObject({ ok: false, exit: null, error: expect.stringContaining('no report: unreachable') });
  });

  it('the text form fits 80 columns and shows each part', () => {
    for (const line of text.split('\n')) expect(line.length, line).toBeLessThanOrEqual(80);
    expect(text).toMatch(/^  web4 +FAILED +exit 124 +timed out after 1 s/m);
    expect(text).toMatch(/^  keepalive-mismatch: /m);
    expect(text).toMatch(/^    confirmed +web3$/m);
    expect(text).toMatch(/^  upstream api keepalive_timeout\n    4s +web1\b.*\n    60s +web3$/m);
  });

  it.skipIf(!transcripts)('fetches the transcript of each run, the timed-out one too (needs a build that writes transcripts)', () => {
    for (const host of LAB_HOSTS.map((h) => h.name)) {
      const file = join(fleet.reports, `${host}.transcript.jsonl`);
      expect(existsSync(file), `${host}\n${first.output}`).toBe(true);
      const lines = readFileSync(file, 'utf8').trim().split('\n');
      expect(lines.length, host).toBeGreaterThan(1);
      for (const line of lines) JSON.parse(line);
    }
    // Killed 1 s in, the run may not have written much: what came back is exactly what it left on the host.
    const sessions = join(fleet.dir, 'hosts', 'web4', 'state', 'sessions');
    const left = readdirSync(sessions);
    expect(left, first.output).toHaveLength(1);
    expect(readFileSync(join(fleet.reports, 'web4.transcript.jsonl'), 'utf8')).toBe(readFileSync(join(sessions, left[0]!), 'utf8'));
  });

  it('a second run finds the same executable on the host and does not copy it again', async () => {
    const again = await runPlaybook(fleet, ['-l', 'web5']);
    expect(again.output).toMatch(/TASK \[copy the executable[^\n]*\n+skipping: \[web5\]/);
    // Only the limited host's files were replaced.
    expect(existsSync(join(fleet.reports, 'web1.json'))).toBe(true);
  }, 60_000);
});
