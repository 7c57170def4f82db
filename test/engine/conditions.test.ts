import { describe, expect, it } from 'vitest';
import { evaluate } from '../../src/engine/conditions.js';
import type { Condition } from '../../src/flow/schema.js';
import type { ProbeOutcome } from '../../src/probe/contract.js';
import { fillTemplate } from '../../src/engine/template.js';

const probes: Record<string, ProbeOutcome> = {
  a: { id: 'a', status: 'ok', facts: { n: 3, s: 'nginx/1.22.1', list: [{ x: 1 }, { x: 2 }], none: null }, summary: '', commands: [], startedAt: 0, durationMs: 0 },
  gone: { id: 'gone', status: 'denied', reason: 'needs root', summary: '', commands: [], startedAt: 0, durationMs: 0 },
};
const T = { fact: 'a.n', eq: 3 } as Condition;
const F = { fact: 'a.n', eq: 4 } as Condition;
const U = { fact: 'gone.n', eq: 3 } as Condition;

describe('conditions', () => {
  it.each([
    [{ fact: 'a.n', gt: 2 }, true],
    [{ fact: 'a.n', gte: 3 }, true],
    [{ fact: 'a.n', lt: 3 }, false],
    [{ fact: 'a.n', lte: 3 }, true],
    [{ fact: 'a.n', ne: 3 }, false],
    [{ fact: 'a.n', in: [1, 3] }, true],
    [{ fact: 'a.s', matches: '^nginx/1\\.2[0-9]\\.' }, true],
    [{ fact: 'a.list.length', eq: 2 }, true],
    [{ fact: 'a.list[1].x', eq: 2 }, true],
    [{ fact: 'a.none', eq: null }, true],
    [{ fact: 'a.missing', exists: false }, true],
    [{ fact: 'gone.n', exists: true }, false],
    [{ fact: 'gone.$status', eq: 'denied' }, true],
    [{ fact: 'never.$status', eq: 'not-run' }, true],
    [{ fact: 'gone.n', gt: 0 }, 'unknown'],
  ] as Array<[Condition, unknown]>)('%j → %s', (condition, expected) => {
    expect(evaluate(condition, probes)).toBe(expected);
  });

  it('uses three-valued logic so "not" cannot turn a missing fact into true', () => {
    expect(evaluate({ not: U }, probes)).toBe('unknown');
    expect(evaluate({ all: [T, U] }, probes)).toBe('unknown');
    expect(evaluate({ all: [F, U] }, probes)).toBe(false);
    expect(evaluate({ any: [T, U] }, probes)).toBe(true);
    expect(evaluate({ any: [F, U] }, probes)).toBe('unknown');
  });

  it('records what each comparison looked at', () => {
    const evidence: Parameters<typeof evaluate>[2] = [];
    evaluate({ all: [T, U] }, probes, evidence);
    expect(evidence).toEqual([
      { fact: 'a.n', operator: 'eq', expected: 3, actual: 3, present: true, result: true },
      { fact: 'gone.n', operator: 'eq', expected: 3, actual: undefined, present: false, result: 'unknown', why: 'gone denied: needs root' },
    ]);
  });

  it('fills templates, saying "unknown" for what is missing', () => {
    expect(fillTemplate('{{a.n}} of {{a.list[*].x | join}} ({{a.list | count}}); {{gone.n}}; {{gone.$reason}}', probes)).toBe('3 of 1, 2 (2); unknown; needs root');
  });
});
