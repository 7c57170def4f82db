import { describe, expect, it } from 'vitest';
import { FIXES, GENERIC_COMMANDS } from '../../src/fixes/catalog.js';
import { resolveFlow } from '../../src/flow/resolve.js';
import { applicableSteps } from '../../src/engine/reducer.js';
import { fixParamValue } from '../../src/engine/template.js';
import type { ProbeOutcome } from '../../src/probe/contract.js';
import { PLACEHOLDER } from '../support/placeholders.js';

describe('fix catalog', () => {
  it('every fix says what persists and ends with what to watch afterwards', () => {
    for (const fix of FIXES.values()) {
      expect(fix.persistence.trim(), fix.id).not.toBe('');
      expect(fix.steps.at(-1), `${fix.id}: the last step says what to watch`).toMatch(/^Watch\b/);
    }
  });

  it('writes nginx commands and log paths only in the forms the reports make exact for the host', () => {
    for (const fix of FIXES.values()) {
      for (const step of fix.steps) {
        // Without -c and -p a reload may reach another nginx than the one diagnosed: src/report/exactFix.ts adds them to this form only.
        const reloads = step.match(/nginx -s reload/g)?.length ?? 0;
        expect(step.split(GENERIC_COMMANDS.checkReload).length - 1, `${fix.id}: ${step}`).toBe(reloads);
        if (/tail -f/.test(step)) expect(step, fix.id).toContain(GENERIC_COMMANDS.tailErrorLog);
        if (/access_log \//.test(step)) expect(step, fix.id).toContain(GENERIC_COMMANDS.accessLogLine);
      }
    }
  });

  it('every parameter a fix names is filled by the flow that offers it', async () => {
    const flow = await resolveFlow('reset-by-peer');
    for (const node of Object.values(flow.nodes)) {
      if (node.kind !== 'fix') continue;
      for (const use of node.fixes) {
        const fix = FIXES.get(use.id);
        expect(fix, `${use.id} is in the catalog`).toBeDefined();
        for (const param of fix!.params) expect(use.params ?? {}, `${use.id} in ${node.title}`).toHaveProperty(param);
      }
    }
  });
});

describe('fix texts with missing values', () => {
  const sample = (name: string) => `value-of-${name}`;

  it('render with every parameter, and with each one missing, without a placeholder, "unknown" or an empty slot', () => {
    for (const fix of FIXES.values()) {
      const full = Object.fromEntries(fix.params.map((p) => [p, sample(p)]));
      const cases: Array<[string, Record<string, string>]> = [['all given', full], ...fix.params.map((p): [string, Record<string, string>] => [`${p} missing`, { ...full, [p]: '' }])];
      for (const [label, params] of cases) {
        const steps = applicableSteps(fix.steps, params);
        if (steps === null) continue;
        expect(steps.length, `${fix.id}, ${label}: some step is left`).toBeGreaterThan(0);
        for (const step of steps) expect(step, `${fix.id}, ${label}`).not.toMatch(PLACEHOLDER);
      }
      // Nothing known at all: no fix rather than a text of holes.
      expect(applicableSteps(fix.steps, Object.fromEntries(fix.params.map((p) => [p, '']))), `${fix.id} with nothing known`).toBeNull();
    }
  });

  it('takes an absent, failed or null fact as missing, never as "unknown" or "none"', () => {
    const outcome = (facts: Record<string, unknown> | undefined, status: ProbeOutcome['status'] = 'ok') => ({ p: { id: 'p', status, facts, summary: '', commands: [], startedAt: 0, durationMs: 0 } as ProbeOutcome });
    expect(fixParamValue('p.size', outcome({ size: '12k' }))).toBe('12k');
    expect(fixParamValue('p.size', outcome({ size: null }))).toBe('');
    expect(fixParamValue('p.size', outcome(undefined, 'unavailable'))).toBe('');
    expect(fixParamValue('p.size', {})).toBe('');
    expect(fixParamValue('p.list[*].x', outcome({ list: [{ x: 'a' }, { x: null }, { x: 'b' }] }))).toBe('a, b');
    expect(fixParamValue('p.list[*].x', outcome({ list: [{ x: ['a', 'b'] }, { x: [] }, { x: ['c'] }] }))).toBe('a, b, c');
    expect(fixParamValue('p.list[*].x', outcome({ list: [{ x: [] }] }))).toBe('');
  });

  it('a buffer fix whose size is not measured says how to measure it, in the family named by the probe', () => {
    const fix = FIXES.get('raise-proxy-buffer-size')!;
    const steps = applicableSteps(fix.steps, { size: '', where: '', setting: '', measure: 'it speaks FastCGI … `cgi-fcgi -bind -connect /run/php/php8.2-fpm.sock | wc -c`' })!;
    expect(steps[0]).toMatch(/^Not measured, so no size is suggested for it: it speaks FastCGI/);
    expect(steps.join('\n')).not.toContain('proxy_buffer');
  });
});
