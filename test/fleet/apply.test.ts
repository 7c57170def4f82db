import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FleetSummary } from '../../src/fleet/summary.js';
import { runCli } from '../support/cli.js';
import { buildDist } from '../support/dist.js';
import { findNginx, hasCommand } from '../support/lab.js';
import { describeWithTools } from '../support/tools.js';
import { runPlaybook, startFleet, type Fleet, type LabHost } from './ansible.js';

/**
 * The playbook's serial apply, for real: three keep-alive race hosts, one at a
 * time. The first is fixed (verify traffic through its nginx); the second gets
 * no verify traffic, so its verdict cannot be `fixed` (no-traffic) and the run
 * must stop there; the third is never touched.
 */
const FIX = 'lower-upstream-keepalive-timeout';
// Per host, not with -e: Ansible's extra vars would override race2's 0.
const HOSTS: LabHost[] = [
  { name: 'race1', scenario: 'keepalive-race', vars: { reset_doctor_active: true, reset_doctor_verify_traffic: 10 } },
  { name: 'race2', scenario: 'keepalive-race', vars: { reset_doctor_active: true, reset_doctor_verify_traffic: 0 } },
  { name: 'race3', scenario: 'keepalive-race', vars: { reset_doctor_active: true, reset_doctor_verify_traffic: 10 } },
];

const missing = [...(findNginx() ? [] : ['nginx']), ...(hasCommand('ansible-playbook') ? [] : ['ansible-playbook (ansible-core)'])];

{
  describeWithTools('fleet apply, one host at a time', missing, () => {
    let fleet: Fleet;
    let run: { code: number | null; output: string };
    let configs: Map<string, string>;
    let summary: FleetSummary;

    beforeAll(async () => {
      buildDist();
      fleet = await startFleet(HOSTS);
      configs = new Map([...fleet.running].map(([host, r]) => [host, readFileSync(r.conf, 'utf8')]));
      run = await runPlaybook(fleet, ['-e', `reset_doctor_apply=${FIX}`, '-e', 'reset_doctor_verify=5']);
      summary = JSON.parse((await runCli(['fleet', 'report', fleet.reports, '--json'])).stdout) as FleetSummary;
    }, 200_000);

    afterAll(async () => {
      await fleet?.cleanup();
      if (fleet && process.env['FLEET_KEEP'] !== '1') rmSync(fleet.dir, { recursive: true, force: true });
    });

    it('fixes the first host, verified fixed', () => {
      const report = JSON.parse(readFileSync(join(fleet.reports, 'race1.json'), 'utf8')) as { fixes: Array<{ id: string; change?: { status: string; verify?: { verdict: string } } }> };
      const fix = report.fixes.find((f) => f.id === FIX);
      expect(fix?.change, run.output).toMatchObject({ status: 'applied', verify: { verdict: 'fixed' } });
      expect(readFileSync(fleet.running.get('race1')!.conf, 'utf8'), run.output).not.toBe(configs.get('race1'));
      expect(summary.hosts.find((h) => h.host === 'race1'), run.output).toMatchObject({ ok: true });
    });

    it('stops at the second host, whose verify verdict is not fixed', () => {
      expect(run.code, run.output).toBe(2);
      const race2 = summary.hosts.find((h) => h.host === 'race2')!;
      expect(race2, run.output).toMatchObject({ ok: false });
      expect(race2.error, run.output).toMatch(new RegExp(`^${FIX}: applied, but the verify verdict is (?!fixed)`));
      expect(summary.changes.find((c) => c.host === 'race2'), run.output).toMatchObject({ fix: FIX, status: 'applied' });
    });

    it('never runs on the third host: its config is untouched and it is reported as not reached', () => {
      expect(run.output).not.toMatch(/\[race3\]/);
      expect(readFileSync(fleet.running.get('race3')!.conf, 'utf8')).toBe(configs.get('race3'));
      expect(existsSync(join(fleet.reports, 'race3.json'))).toBe(false);
      expect(summary.hosts.find((h) => h.host === 'race3')).toMatchObject({ ok: false, exit: null, error: expect.stringContaining('stopped before this host') });
    });
  });
}
