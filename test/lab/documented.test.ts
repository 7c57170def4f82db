/**
 * The lab scenarios this machine cannot produce (SELinux, AppArmor, a full
 * conntrack table), replayed from recordings whose kernel-side answers were
 * written from the documented formats (test/support/recordDocumented.ts).
 * A replay is exact but for the probes' durations, so only those are
 * normalized in the golden text reports.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { JsonReport } from '../../src/report/jsonReport.js';
import { PACKAGE_ROOT } from '../../src/packageRoot.js';
import { runCli } from '../support/cli.js';
import { DOCUMENTED, DOCUMENTED_DIR } from '../support/recordDocumented.js';

const GOLDEN = join(PACKAGE_ROOT, 'test', 'lab', 'golden');

describe('documented scenarios (recorded with documented kernel-side answers)', () => {
  for (const scenario of DOCUMENTED) {
    it(scenario.name, async () => {
      const recording = join(DOCUMENTED_DIR, `${scenario.name}.documented.json`);
      expect(existsSync(recording), `${recording} is missing: run npm run record-documented`).toBe(true);
      expect(JSON.parse(readFileSync(recording, 'utf8')).description).toContain('(documented recording)');

      const json = await runCli(['diagnose', '--replay', recording, '--json']);
      const report = JSON.parse(json.stdout) as JsonReport;
      // Probe durations are the replay's own, not the recording's.
      const text = (await runCli(['diagnose', '--replay', recording])).stdout.replace(/\(\d+ ms\)/g, '(<ms>)');
      const confirmed = report.findings.filter((f) => f.status === 'confirmed').map((f) => f.id);
      expect(confirmed.sort(), text).toEqual([...scenario.confirmed].sort());
      expect(report.findings.filter((f) => f.status === 'suspected'), text).toEqual([]);
      expect(json.code).toBe(1);

      const file = join(GOLDEN, `${scenario.name}.documented.txt`);
      if (process.env['UPDATE_GOLDEN'] === '1' || !existsSync(file)) {
        if (process.env['CI'] === 'true') throw new Error(`golden report ${file} is missing: run with UPDATE_GOLDEN=1 and commit it`);
        mkdirSync(GOLDEN, { recursive: true });
        writeFileSync(file, text);
      }
      expect(text, `golden report ${file} (re-run with UPDATE_GOLDEN=1 to accept a change)`).toBe(readFileSync(file, 'utf8'));
    });
  }
});
