import { describe, expect, it } from 'vitest';
import { applicableSteps, reduce } from '../../src/engine/reducer.js';
import { initialState, type EngineState } from '../../src/engine/state.js';
import type { EngineEvent, EngineInput } from '../../src/engine/events.js';
import { selectFindings, selectFixes } from '../../src/engine/selectors.js';
import { exitCodeFor } from '../../src/report/exitCode.js';
import { parseFlowText } from '../../src/flow/load.js';
import type { Flow } from '../../src/flow/schema.js';
import type { ProbeOutcome } from '../../src/probe/contract.js';
import { readFileSync } from 'node:fs';
import { fixturePath } from '../support/fixtures.js';

const flow = parseFlowText(readFileSync(fixturePath('flows', 'mini.yaml'), 'utf8'), 'mini.yaml').flow as Flow;

const ok = (id: string, facts: Record<string, unknown>): ProbeOutcome => ({ id, status: 'ok', facts, summary: 'ok', commands: [`cmd ${id}`], startedAt: 0, durationMs: 1 });
const failed = (id: string, status: ProbeOutcome['status'], reason: string): ProbeOutcome => ({ id, status, reason, summary: reason, commands: [], startedAt: 0, durationMs: 1 });
const listeners = (down: string[]) => ok('backend-listeners', { down: down.map((address) => ({ address })), downCount: down.length });

function run(events: EngineInput[], start: EngineState = initialState('mini')): EngineState {
  return events.reduce((state, event, i) => reduce(flow, state, { ...event, at: 1000 + i } as EngineEvent), start);
}

function probed(outcomes: ProbeOutcome[]): EngineState {
  const started = run([{ type: 'start' }]);
  const runId = started.probeRun!.runId;
  return run(outcomes.map((outcome) => ({ type: 'probeResult', runId, outcome })), started);
}

describe('engine reducer', () => {
  it('starts at the start node and asks for its probes', () => {
    const state = run([{ type: 'start' }]);
    expect(state.status).toBe('probing');
    expect(state.path.map((s) => s.node)).toEqual(['look']);
    expect(state.probeRun).toMatchObject({ runId: 1, node: 'look', pending: ['somaxconn', 'backend-listeners'] });
  });

  it('waits for every probe, then walks automatic nodes up to a question', () => {
    const half = probed([ok('somaxconn', { somaxconn: 4096 })]);
    expect(half.status).toBe('probing');
    const state = probed([ok('somaxconn', { somaxconn: 4096 }), listeners(['127.0.0.1:8081'])]);
    expect(state.status).toBe('asking');
    expect(state.path.map((s) => s.node)).toEqual(['look', 'down', 'found', 'ask']);
    expect(selectFindings(state)).toEqual([
      {
        id: 'backend-down',
        status: 'confirmed',
        summary: 'down: 127.0.0.1:8081 (1), cap 4096',
        evidence: [{ probe: 'backend-listeners', fact: 'down[*].address', value: ['127.0.0.1:8081'] }],
        node: 'found',
      },
    ]);
    const decide = state.path[1]!.outcome;
    expect(decide).toMatchObject({ kind: 'decide', branch: 0, label: 'something is down' });
  });

  it('records the answer and the fix, then finishes', () => {
    const asked = probed([ok('somaxconn', { somaxconn: 4096 }), listeners(['127.0.0.1:8081'])]);
    const done = run([{ type: 'choose', choice: 'no', source: 'operator' }], asked);
    expect(done.status).toBe('finished');
    expect(done.path.map((s) => s.node)).toEqual(['look', 'down', 'found', 'ask', 'fix', 'done']);
    expect(selectFixes(done)).toMatchObject([{ id: 'start-backend', finding: 'backend-down', applied: false, params: { address: '127.0.0.1:8081' } }]);
    expect(selectFixes(done)[0]!.steps[0]).toContain('127.0.0.1:8081');
    expect(exitCodeFor(done)).toBe(1);
  });

  it('leaves out a fix step whose value the facts do not have, and a fix none of whose values exist', () => {
    const steps = ['Narrowest: `semanage port -a -t http_port_t -p tcp {{port}}`.', 'Broader: `setsebool -P httpd_can_network_connect 1`.', 'Unix socket {{socket}}: build a local module.'];
    expect(applicableSteps(steps, { port: '8080', socket: '' })).toEqual(['Narrowest: `semanage port -a -t http_port_t -p tcp 8080`.', 'Broader: `setsebool -P httpd_can_network_connect 1`.']);
    expect(applicableSteps(steps, { port: '', socket: '' })).toBeNull();
    expect(applicableSteps(['Always.'], {})).toEqual(['Always.']);
    // Through the engine: the fix node's only value is empty, so no fix is suggested.
    const emptied = probed([ok('somaxconn', { somaxconn: 4096 }), ok('backend-listeners', { down: [{ address: '' }], downCount: 1 })]);
    expect(selectFixes(run([{ type: 'choose', choice: 'no', source: 'operator' }], emptied))).toEqual([]);
  });

  it('ignores results from an abandoned probe run', () => {
    const started = run([{ type: 'start' }]);
    const stale = reduce(flow, started, { type: 'probeResult', runId: 99, outcome: listeners([]), at: 5 });
    expect(stale).toBe(started);
  });

  it('routes a failed probe to "unknown", never to a guess', () => {
    const state = probed([ok('somaxconn', { somaxconn: 4096 }), failed('backend-listeners', 'denied', 'needs root')]);
    expect(state.status).toBe('finished');
    expect(state.path.map((s) => s.node)).toEqual(['look', 'down', 'unsure', 'done']);
    expect(selectFindings(state)[0]).toMatchObject({ status: 'unknown', summary: 'cannot tell: needs root' });
    expect(state.path[1]!.outcome).toMatchObject({ branch: 'unknown' });
    expect(exitCodeFor(state)).toBe(1);
  });

  it('exits 0 when everything is ruled out', () => {
    const state = probed([ok('somaxconn', { somaxconn: 4096 }), listeners([])]);
    expect(state.path.at(-2)!.node).toBe('fine');
    expect(state.path[1]!.outcome).toMatchObject({ label: 'nothing down' });
    expect(exitCodeFor(state)).toBe(0);
  });

  it('goes back to the previous decision, paused, and continues from there', () => {
    const asked = probed([ok('somaxconn', { somaxconn: 4096 }), listeners(['x:1'])]);
    const back = run([{ type: 'back' }], asked);
    expect(back.status).toBe('paused');
    expect(back.path.map((s) => s.node)).toEqual(['look', 'down']);
    expect(selectFindings(back)).toEqual([]);
    const again = run([{ type: 'continue' }], back);
    expect(again.status).toBe('asking');
    expect(again.path.map((s) => s.node)).toEqual(['look', 'down', 'found', 'ask']);
  });

  it('re-asks a question when going back from after it', () => {
    const asked = probed([ok('somaxconn', { somaxconn: 4096 }), listeners(['x:1'])]);
    const done = run([{ type: 'choose', choice: 'yes', source: 'operator' }], asked);
    const back = run([{ type: 'back' }], done);
    expect(back.status).toBe('asking');
    expect(back.path.at(-1)).toEqual({ node: 'ask', enteredAt: asked.path.at(-1)!.enteredAt });
  });

  it('re-runs the latest probes with a new run id and fresh readings', () => {
    const asked = probed([ok('somaxconn', { somaxconn: 4096 }), listeners(['x:1'])]);
    const rerun = run([{ type: 'rerun' }], asked);
    expect(rerun.status).toBe('probing');
    expect(rerun.probeRun).toMatchObject({ runId: 2, fresh: true });
    expect(rerun.path.map((s) => s.node)).toEqual(['look']);
    const fixed = run([
      { type: 'probeResult', runId: 2, outcome: ok('somaxconn', { somaxconn: 4096 }) },
      { type: 'probeResult', runId: 2, outcome: listeners([]) },
    ], rerun);
    expect(selectFindings(fixed)).toMatchObject([{ status: 'ruled-out' }]);
  });

  it('skips running probes: their facts are absent and the flow says unknown', () => {
    const started = run([{ type: 'start' }]);
    const state = run([{ type: 'probeStarted', runId: 1, probe: 'backend-listeners', commands: ['ss -ltnp'] }, { type: 'skip' }], started);
    expect(state.path[0]).toMatchObject({ skipped: true });
    expect(state.probes['backend-listeners']).toMatchObject({ status: 'skipped', commands: ['ss -ltnp'] });
    expect(state.path.map((s) => s.node)).toEqual(['look', 'down', 'unsure', 'done']);
  });

  it('skips a question by taking its headless default', () => {
    const asked = probed([ok('somaxconn', { somaxconn: 4096 }), listeners(['x:1'])]);
    const state = run([{ type: 'skip' }], asked);
    expect(state.path.find((s) => s.node === 'ask')!.outcome).toMatchObject({ choice: 'no', source: 'skipped' });
  });

  it('records an override with its reason and walks the chosen branch', () => {
    const asked = probed([ok('somaxconn', { somaxconn: 4096 }), listeners(['x:1'])]);
    expect(run([{ type: 'override', node: 'down', to: 'fine', reason: '  ' }], asked)).toBe(asked);
    expect(run([{ type: 'override', node: 'down', to: 'ask', reason: 'not a target' }], asked)).toBe(asked);
    const state = run([{ type: 'override', node: 'down', to: 'fine', reason: 'port 8081 is the old canary, retired' }], asked);
    expect(state.path.map((s) => s.node)).toEqual(['look', 'down', 'fine', 'done']);
    expect(state.path[1]!.outcome).toMatchObject({ kind: 'decide', branch: 'otherwise', override: { evaluated: 'something is down', reason: 'port 8081 is the old canary, retired' } });
    expect(state.overrides).toEqual([{ node: 'down', from: 'found', to: 'fine', reason: 'port 8081 is the old canary, retired', at: 1000 }]);
    expect(selectFindings(state)).toMatchObject([{ status: 'ruled-out' }]);
  });

  it('keeps notes against the node they were written at', () => {
    const asked = probed([ok('somaxconn', { somaxconn: 4096 }), listeners(['x:1'])]);
    const state = run([{ type: 'note', text: 'restarted api at 03:12' }, { type: 'note', text: '   ' }], asked);
    expect(state.notes).toEqual([{ node: 'ask', text: 'restarted api at 03:12', at: 1000 }]);
  });

  it('is deterministic: the same events give the same state', () => {
    const events: EngineInput[] = [{ type: 'start' }, { type: 'probeResult', runId: 1, outcome: listeners(['x:1']) }, { type: 'probeResult', runId: 1, outcome: ok('somaxconn', { somaxconn: 1 }) }, { type: 'choose', choice: 'no', source: 'operator' }];
    expect(run(events)).toEqual(run(events));
  });

  it('stops a looping flow instead of hanging', () => {
    const loop = parseFlowText('id: loop\ntitle: Loop\nstart: a\nnodes:\n  a: { kind: decide, title: A, why: w, branches: [{ when: { fact: x.$status, eq: not-run }, label: again, next: a }], otherwise: e }\n  e: { kind: end, title: E, why: w }\n', 'loop.yaml').flow as Flow;
    const state = reduce(loop, initialState('loop'), { type: 'start', at: 0 });
    expect(state.status).toBe('failed');
    expect(state.failure).toMatch(/loops/);
    expect(exitCodeFor(state)).toBe(2);
  });
});

describe('background probes', () => {
  const bgFlow = parseFlowText(readFileSync(fixturePath('flows', 'background.yaml'), 'utf8'), 'background.yaml').flow as Flow;
  const step = (state: EngineState, events: EngineInput[]) => events.reduce((s, e, i) => reduce(bgFlow, s, { ...e, at: 2000 + i } as EngineEvent), state);
  const measured = ok('keepalive-measure', { measurements: [], skipped: [], path: '/' });

  it('starts a slow probe, goes on without it, and waits for it where it is needed', () => {
    const started = step(initialState('background'), [{ type: 'start' }]);
    expect(started.probeRun).toMatchObject({ runId: 1, pending: ['somaxconn'], background: ['keepalive-measure'], awaiting: [] });
    expect(started.background).toEqual({ 'keepalive-measure': { runId: 1, node: 'look', startedAt: null, expectedMs: null, commands: [] } });
    const counting = step(started, [{ type: 'probeStarted', runId: 1, probe: 'keepalive-measure', commands: ['connect …'], expectedMs: 61_000 }]);
    expect(counting.background['keepalive-measure']).toMatchObject({ startedAt: 2000, expectedMs: 61_000 });
    const waiting = step(counting, [{ type: 'probeResult', runId: 1, outcome: ok('somaxconn', { somaxconn: 4096 }) }]);
    expect(waiting.path.map((s) => s.node)).toEqual(['look', 'small', 'measure']);
    expect(waiting.status).toBe('probing');
    expect(waiting.probeRun).toMatchObject({ runId: 2, pending: ['keepalive-measure'], awaiting: ['keepalive-measure'] });
    const done = step(waiting, [{ type: 'probeResult', runId: 1, outcome: measured }]);
    expect(done.status).toBe('finished');
    expect(done.background).toEqual({});
    expect(done.path.find((s) => s.node === 'measure')!.outcome).toMatchObject({ kind: 'probe', probes: [{ id: 'keepalive-measure' }] });
  });

  it('keeps a background result that arrives before the step that needs it', () => {
    const early = step(initialState('background'), [{ type: 'start' }, { type: 'probeResult', runId: 1, outcome: measured }]);
    expect(early.background).toEqual({});
    expect(early.probes['keepalive-measure']).toEqual(measured);
    expect(early.status).toBe('probing');
    expect(early.backgroundDone).toEqual(['keepalive-measure']);
    const next = step(early, [{ type: 'probeResult', runId: 1, outcome: ok('somaxconn', { somaxconn: 4096 }) }]);
    // The step that needs it takes the result instead of measuring again.
    expect(next.status).toBe('finished');
    expect(next.backgroundDone).toEqual([]);
    expect(next.path.find((s) => s.node === 'measure')!.outcome).toMatchObject({ kind: 'probe', probes: [measured] });
  });

  it('re-running the probes measures again', () => {
    const early = step(initialState('background'), [{ type: 'start' }, { type: 'probeResult', runId: 1, outcome: measured }, { type: 'probeResult', runId: 1, outcome: ok('somaxconn', { somaxconn: 4096 }) }]);
    const rerun = step(early, [{ type: 'rerun' }]);
    expect(rerun.probeRun).toMatchObject({ node: 'measure', pending: ['keepalive-measure'], fresh: true });
  });
});
