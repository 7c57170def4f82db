import { describe, expect, it } from 'vitest';
import { lintFiles, lintFlow } from '../../src/flow/lint.js';
import { parseFlowText } from '../../src/flow/load.js';
import { FLOWS_DIR } from '../../src/packageRoot.js';
import { PROBES } from '../../probes/index.js';
import { fixturePath } from '../support/fixtures.js';

const lintText = (text: string) => lintFlow(parseFlowText(text, 'x.yaml'), PROBES).map((p) => `${p.line}:${p.column}: ${p.message}`);

const BASE = `id: t
title: T
start: a
nodes:
  a:
    kind: probe
    title: A
    why: w
    probes: [somaxconn]
    next: d
  d:
    kind: decide
    title: D
    why: w
    branches:
      - when: { fact: somaxconn.somaxconn, lt: 1024 }
        label: small
        next: e
    otherwise: e
    unknown: e
  e:
    kind: end
    title: E
    why: w
`;

describe('flow lint', () => {
  it('passes the shipped flows', async () => {
    expect(await lintFiles([FLOWS_DIR], PROBES)).toEqual([]);
  });

  it('names file:line:col for an unknown target, an undeclared fact path, a dead end and an unreachable node', async () => {
    const problems = await lintFiles([fixturePath('flows', 'broken.yaml')], PROBES);
    expect(problems.map((p) => `${p.file.split('/').pop()}:${p.line}:${p.column}: ${p.message}`)).toEqual([
      'broken.yaml:18:15: node "decide-it" goes to "nowhere", which does not exist',
      'broken.yaml:19:23: fact path "listening-sockets.sockets" is not declared by probe listening-sockets: no field "sockets" after "(facts)" (declared: tcp, unix, ownersVisible, via)',
      'broken.yaml:25:5: node "spin" has no path to an end node',
      'broken.yaml:34:5: node "orphan" is unreachable from start "look"',
    ]);
  });

  it('accepts a minimal valid flow', () => {
    expect(lintText(BASE)).toEqual([]);
  });

  it('requires an unknown: target when a comparison can meet a missing fact', () => {
    expect(lintText(BASE.replace('    unknown: e\n', ''))).toEqual([
      '12:5: decide node "d" compares facts that are missing when a probe fails, but has no "unknown:" target (otherwise would guess)',
    ]);
  });

  it('reports schema errors at the offending line', () => {
    expect(lintText(BASE.replace('lt: 1024', 'lt: 1024, gt: 5'))).toEqual(['16:15: nodes.d.branches.0.when: a comparison needs exactly one of eq, ne, gt, gte, lt, lte, in, exists, matches (found gt, lt)']);
    expect(lintText(BASE.replace('probes: [somaxconn]', 'probes: [no-such-probe]'))).toEqual([`9:14: unknown probe "no-such-probe" (known: ${[...PROBES.keys()].join(', ')})`]);
    expect(lintText(BASE.replace('kind: end', 'kind: finish'))).toEqual(["22:11: nodes.e.kind: Invalid discriminator value. Expected 'probe' | 'decide' | 'ask' | 'diagnose' | 'fix' | 'end'"]);
  });

  it('reports broken YAML with its line', () => {
    expect(lintText('id: t\ntitle: [unclosed\n')).toEqual(['3:1: Flow sequence in block collection must be sufficiently indented and end with a ]']);
  });

  it('checks array paths, lengths and template placeholders', () => {
    const flow = BASE.replace('  e:\n', `  x:\n    kind: diagnose\n    title: X\n    why: w\n    finding: backend-down\n    status: unknown\n    summary: "{{somaxconn.somaxconn.length}} {{backend-listeners.down[*].nope}}"\n    next: e\n  e:\n`).replace('next: e\n    otherwise', 'next: x\n    otherwise');
    expect(lintText(flow)).toEqual([
      '27:14: fact path "somaxconn.somaxconn.length" is not declared by probe somaxconn: "somaxconn" is a number, which has no length',
      '27:14: fact path "backend-listeners.down[*].nope" is not declared by probe backend-listeners: no field "nope" after "down[*]" (declared: address, upstream, label, state, reason, peers, recvQ, sendQ, processes, listenerPath)',
    ]);
  });
});
