import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { lintFiles, lintFlow } from '../../src/flow/lint.js';
import { parseFlowText } from '../../src/flow/load.js';
import { FLOWS_DIR } from '../../src/packageRoot.js';
import { resolveFlow } from '../../src/flow/resolve.js';
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
    expect(lintText(BASE.replace('kind: end', 'kind: finish'))).toEqual(["22:11: nodes.e.kind: Invalid discriminator value. Expected 'probe' | 'decide' | 'ask' | 'diagnose' | 'fix' | 'end' | 'flow'"]);
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

/** A parent main.yaml calling sub-flows in main/, written to a temporary folder. */
const PARENT = `id: main
title: Main
start: one
nodes:
  one:
    kind: flow
    flow: one
    next: two
  two:
    kind: flow
    flow: two
    next: done
  done:
    kind: end
    title: Done
    why: w
`;

const sub = (id: string, first: string, extra = '') => `id: ${id}
title: ${id}
subflow: true
start: ${first}
nodes:
  ${first}:
    kind: probe
    title: P
    why: w
    probes: [somaxconn]
    next: return
${extra}`;

describe('flow lint with sub-flows', () => {
  let dir = '';
  afterEach(() => rmSync(dir, { recursive: true, force: true }));
  const write = (files: Record<string, string>) => {
    dir = mkdtempSync(join(tmpdir(), 'flow-lint-'));
    for (const [name, text] of Object.entries(files)) {
      mkdirSync(dirname(join(dir, name)), { recursive: true });
      writeFileSync(join(dir, name), text);
    }
    return dir;
  };
  const lintDir = async (files: Record<string, string>) => {
    const problems = await lintFiles([write(files)], PROBES);
    return problems.map((p) => `${p.file.slice(dir.length + 1)}:${p.line}:${p.column}: ${p.message}`);
  };

  it('inlines the sub-flows: calls are gone, return goes to the call\'s next, the folder of sub-flows is not linted as flows', async () => {
    expect(await lintDir({ 'main.yaml': PARENT, 'main/one.yaml': sub('one', 'a'), 'main/two.yaml': sub('two', 'b') })).toEqual([]);
    const flow = await resolveFlow(join(dir, 'main.yaml'));
    expect(flow.start).toBe('a');
    expect(Object.keys(flow.nodes)).toEqual(['a', 'b', 'done']);
    expect([flow.nodes.a, flow.nodes.b].map((n) => n?.kind === 'probe' && n.next)).toEqual(['b', 'done']);
  });

  it('points an unknown target in a sub-flow at the sub-flow\'s own file', async () => {
    expect(await lintDir({ 'main.yaml': PARENT, 'main/one.yaml': sub('one', 'a').replace('next: return', 'next: nowhere'), 'main/two.yaml': sub('two', 'b') })).toEqual([
      'main/one.yaml:7:5: node "a" has no path to an end node',
      'main/one.yaml:11:11: node "a" goes to "nowhere", which does not exist',
    ]);
  });

  it('finds an unreachable node in a sub-flow', async () => {
    const orphan = '  orphan:\n    kind: end\n    title: O\n    why: w\n';
    expect(await lintDir({ 'main.yaml': PARENT, 'main/one.yaml': sub('one', 'a'), 'main/two.yaml': sub('two', 'b', orphan) })).toEqual([
      'main/two.yaml:13:5: node "orphan" is unreachable from start "b"',
    ]);
  });

  it('names a call to a missing sub-flow', async () => {
    expect(await lintDir({ 'main.yaml': PARENT, 'main/one.yaml': sub('one', 'a') })).toEqual([
      `main.yaml:11:11: node "two" calls sub-flow "two", which does not exist (no ${join(dir, 'main', 'two.yaml')})`,
    ]);
  });

  it('refuses a node id defined in two sub-flows', async () => {
    expect(await lintDir({ 'main.yaml': PARENT, 'main/one.yaml': sub('one', 'a'), 'main/two.yaml': sub('two', 'a') })).toEqual([
      `main/two.yaml:7:5: node "a" is also defined in ${join(dir, 'main', 'one.yaml')}: node ids must be unique across a flow and its sub-flows`,
    ]);
  });

  it('lints the whole as one: a sub-flow that never returns leaves the rest unreachable', async () => {
    const ends = sub('one', 'a').replace('next: return', 'next: stop') + '  stop:\n    kind: end\n    title: S\n    why: w\n';
    expect(await lintDir({ 'main.yaml': PARENT, 'main/one.yaml': ends, 'main/two.yaml': sub('two', 'b') })).toEqual([
      'main/two.yaml:7:5: node "b" is unreachable from start "a"',
      'main.yaml:14:5: node "done" is unreachable from start "a"',
    ]);
  });

  it('lets only a sub-flow return, and runs no sub-flow alone', async () => {
    expect(await lintDir({ 'main.yaml': PARENT.replace('next: done', 'next: return'), 'main/one.yaml': sub('one', 'a'), 'main/two.yaml': sub('two', 'b') })).toEqual([
      'main.yaml:12:11: node "two" goes to "return", but only a sub-flow ("subflow: true") can return',
      'main.yaml:14:5: node "done" is unreachable from start "one"',
    ]);
    await expect(resolveFlow(join(dir, 'main', 'one.yaml'))).rejects.toThrow(/is a sub-flow \("subflow: true"\): run the flow that calls it/);
  });
});
