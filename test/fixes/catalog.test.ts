import { describe, expect, it } from 'vitest';
import { FIXES } from '../../src/fixes/catalog.js';
import { resolveFlow } from '../../src/flow/resolve.js';

describe('fix catalog', () => {
  it('every fix says what persists and ends with what to watch afterwards', () => {
    for (const fix of FIXES.values()) {
      expect(fix.persistence.trim(), fix.id).not.toBe('');
      expect(fix.steps.at(-1), `${fix.id}: the last step says what to watch`).toMatch(/^Watch\b/);
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
