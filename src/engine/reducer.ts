import type { Flow, FlowNode, NodeOf } from '../flow/schema.js';
import { parseFactPath } from '../flow/factPath.js';
import { FIXES } from '../fixes/catalog.js';
import type { ProbeOutcome } from '../probe/contract.js';
import { evaluate, type EvidenceItem } from './conditions.js';
import type { EngineEvent } from './events.js';
import { lookupFact } from './facts.js';
import type { EngineState, Evidence, FixSuggestion, Step, StepOutcome } from './state.js';
import { fillParams, fixParamValue, stepParams, fillTemplate } from './template.js';

/** More steps than any sane flow takes: past this the flow is looping. */
const MAX_STEPS = 500;
const STOPS: ReadonlySet<FlowNode['kind']> = new Set(['probe', 'decide', 'ask']);

/**
 * The whole session logic: (state, event) → state. No I/O, no clock, no
 * React: the UI, the headless runner and the tests all drive this.
 */
export function reduce(flow: Flow, state: EngineState, event: EngineEvent): EngineState {
  switch (event.type) {
    case 'start':
      if (state.status !== 'not-started') return state;
      return advance(flow, { ...state, startedAt: event.at, path: [{ node: flow.start, enteredAt: event.at }] }, event.at);

    case 'probeStarted': {
      const bg = state.background[event.probe];
      if (bg && bg.runId === event.runId) {
        return { ...state, background: { ...state.background, [event.probe]: { ...bg, startedAt: event.at, expectedMs: event.expectedMs ?? null, commands: event.commands } } };
      }
      const run = state.probeRun;
      if (!run || run.runId !== event.runId) return state;
      return { ...state, probeRun: { ...run, started: { ...run.started, [event.probe]: event.commands } } };
    }

    case 'probeResult': {
      let next = state;
      const bg = state.background[event.outcome.id];
      const fromBackground = bg !== undefined && bg.runId === event.runId;
      if (fromBackground) {
        const { [event.outcome.id]: _done, ...rest } = state.background;
        next = { ...next, background: rest, probes: { ...next.probes, [event.outcome.id]: event.outcome } };
      }
      const awaited = fromBackground && next.probeRun?.awaiting.includes(event.outcome.id);
      if (fromBackground && !awaited) next = { ...next, backgroundDone: [...next.backgroundDone.filter((id) => id !== event.outcome.id), event.outcome.id] };
      const run = next.probeRun;
      // A result counts for the current step when it is one of its own, or one it was waiting for from the background.
      const forRun = run && (run.runId === event.runId ? !run.background.includes(event.outcome.id) || run.pending.includes(event.outcome.id) : fromBackground && run.awaiting.includes(event.outcome.id));
      if (!run || !forRun) return next;
      const probes = { ...next.probes, [event.outcome.id]: event.outcome };
      const pending = run.pending.filter((id) => id !== event.outcome.id);
      const results = [...run.results.filter((r) => r.id !== event.outcome.id), event.outcome];
      if (pending.length > 0) return { ...next, probes, probeRun: { ...run, pending, results } };
      const node = nodeOf(flow, run.node, 'probe');
      const done = { ...next, probes, probeRun: null };
      return advance(flow, completeCurrent(done, { kind: 'probe', probes: orderLike(results, node.probes) }, node.next), event.at);
    }

    case 'choose': {
      if (state.status !== 'asking') return state;
      const node = nodeOf(flow, current(state).node, 'ask');
      const choice = node.choices.find((c) => c.id === event.choice);
      if (!choice) return state;
      return advance(flow, completeCurrent(state, { kind: 'ask', choice: choice.id, label: choice.label, source: event.source }, choice.next), event.at);
    }

    case 'continue':
      if (state.status !== 'paused') return state;
      return advance(flow, state, event.at);

    case 'skip':
      return skip(flow, state, event.at);

    case 'back':
      return back(flow, state);

    case 'rerun':
      return rerun(flow, state, event.at);

    case 'note': {
      const text = event.text.trim();
      if (!text || state.path.length === 0) return state;
      return { ...state, notes: [...state.notes, { node: current(state).node, text, at: event.at }] };
    }

    case 'override':
      return override(flow, state, event);
  }
}

function current(state: EngineState): Step {
  const step = state.path[state.path.length - 1];
  if (!step) throw new Error('no current step: the session has not started');
  return step;
}

function nodeOf<K extends FlowNode['kind']>(flow: Flow, id: string, kind: K): NodeOf<K> {
  const node = flow.nodes[id];
  if (!node || node.kind !== kind) throw new Error(`flow ${flow.id}: node "${id}" is not a ${kind} node`);
  return node as NodeOf<K>;
}

function completeCurrent(state: EngineState, outcome: StepOutcome, next: string | undefined, skipped = false): EngineState {
  const path = state.path.slice();
  const step: Step = { ...current(state), outcome };
  if (next !== undefined) step.next = next;
  else delete step.next;
  if (skipped) step.skipped = true;
  path[path.length - 1] = step;
  return { ...state, path };
}

/** Runs automatic nodes until the flow needs the outside world: probes to run, a question, or the end. */
function advance(flow: Flow, start: EngineState, at: number): EngineState {
  let state = start;
  for (;;) {
    if (state.path.length > MAX_STEPS) {
      return { ...state, status: 'failed', finishedAt: at, failure: `flow ${flow.id} took more than ${MAX_STEPS} steps: it loops` };
    }
    const step = current(state);
    if (step.outcome) {
      if (step.next === undefined) return { ...state, status: 'finished', finishedAt: at };
      state = { ...state, path: [...state.path, { node: step.next, enteredAt: at }] };
      continue;
    }
    const node = flow.nodes[step.node];
    if (!node) return { ...state, status: 'failed', finishedAt: at, failure: `flow ${flow.id} has no node "${step.node}"` };
    switch (node.kind) {
      case 'probe': {
        state = startRun(state, step.node, node, false);
        const run = state.probeRun!;
        if (run.pending.length > 0) return state;
        // Everything it lists already came back from the background.
        state = completeCurrent({ ...state, probeRun: null }, { kind: 'probe', probes: orderLike(run.results, node.probes) }, node.next);
        break;
      }
      case 'ask':
        return { ...state, status: 'asking' };
      case 'decide':
        state = completeCurrent(state, ...decide(node, state.probes));
        break;
      case 'diagnose':
        state = completeCurrent(state, { kind: 'diagnose', finding: diagnose(node, step.node, state.probes) }, node.next);
        break;
      case 'fix':
        state = completeCurrent(state, { kind: 'fix', fixes: suggestFixes(node, step.node, state.probes) }, node.next);
        break;
      case 'end':
        state = completeCurrent(state, { kind: 'end' }, undefined);
        break;
    }
  }
}

function decide(node: NodeOf<'decide'>, probes: Record<string, ProbeOutcome>): [StepOutcome, string] {
  const evidence: EvidenceItem[] = [];
  for (const [index, branch] of node.branches.entries()) {
    const result = evaluate(branch.when, probes, evidence);
    if (result === true) return [{ kind: 'decide', branch: index, label: branch.label, evidence }, branch.next];
    if (result === 'unknown') {
      // An earlier branch we cannot evaluate might have matched: taking a later one would be a guess.
      const missing = evidence.filter((e) => !e.present).map((e) => e.why ?? e.fact);
      const label = `cannot decide "${branch.label}": ${[...new Set(missing)].join('; ')}`;
      return [{ kind: 'decide', branch: 'unknown', label, evidence }, node.unknown ?? node.otherwise];
    }
  }
  return [{ kind: 'decide', branch: 'otherwise', label: node.otherwiseLabel ?? 'none of the above', evidence }, node.otherwise];
}

function diagnose(node: NodeOf<'diagnose'>, nodeId: string, probes: Record<string, ProbeOutcome>) {
  const evidence: Evidence[] = node.evidence.map((path) => {
    const parsed = parseFactPath(path);
    const fact = lookupFact(probes, path);
    return { probe: parsed.probe, fact: path.slice(parsed.probe.length + 1), value: fact.present ? fact.value : null };
  });
  const summary = fillTemplate(node.summary, probes);
  // Ruled out on a reading with a hole in it: what was not found may be in the part not read.
  const gaps = [...new Set(evidence.map((e) => probes[e.probe]?.gap).filter((g): g is string => !!g))];
  if (node.status === 'ruled-out' && gaps.length > 0) {
    return { id: node.finding, status: 'unknown' as const, summary: `could not tell: ${gaps.join('; ')} (in what was read: ${summary})`, evidence, node: nodeId };
  }
  return { id: node.finding, status: node.status, summary, evidence, node: nodeId };
}

/**
 * A fix's steps with its values filled in. A step built around a value the
 * facts do not have (no denied port, say) is left out rather than shown with
 * a hole; when every value is empty the fix is about something that did not
 * happen here (no connect timeouts), and there is none: null.
 */
export function applicableSteps(steps: readonly string[], params: Readonly<Record<string, string>>): string[] | null {
  const values = Object.values(params);
  if (values.length > 0 && values.every((v) => v === '')) return null;
  return steps.filter((s) => !stepParams(s).some((name) => params[name] === '')).map((s) => fillParams(s, params));
}

function suggestFixes(node: NodeOf<'fix'>, nodeId: string, probes: Record<string, ProbeOutcome>): FixSuggestion[] {
  return node.fixes.flatMap((use) => {
    const definition = FIXES.get(use.id);
    if (!definition) return [];
    const params = Object.fromEntries(Object.entries(use.params).map(([name, path]) => [name, fixParamValue(path, probes)]));
    const steps = applicableSteps(definition.steps, params);
    if (!steps) return [];
    return [
      {
        id: definition.id,
        finding: node.finding,
        title: definition.title,
        kind: definition.kind,
        applied: false as const,
        params,
        steps,
        persistence: definition.persistence,
        node: nodeId,
      },
    ];
  });
}

/** Starts a probe node's run: its own probes (waiting for any already running in the background) and its background ones. */
function startRun(state: EngineState, nodeId: string, node: NodeOf<'probe'>, fresh: boolean): EngineState {
  const runId = state.runCounter + 1;
  const running = new Set(Object.keys(state.background));
  const awaiting = fresh ? [] : node.probes.filter((id) => running.has(id));
  const ready = fresh ? [] : node.probes.filter((id) => state.backgroundDone.includes(id) && state.probes[id]);
  const background = (node.background ?? []).filter((id) => !running.has(id) && !node.probes.includes(id) && (fresh || !state.probes[id]));
  const started = Object.fromEntries(background.map((id) => [id, { runId, node: nodeId, startedAt: null, expectedMs: null, commands: [] }]));
  return {
    ...state,
    status: 'probing',
    runCounter: runId,
    background: { ...state.background, ...started },
    backgroundDone: state.backgroundDone.filter((id) => !ready.includes(id)),
    probeRun: { runId, node: nodeId, pending: node.probes.filter((id) => !ready.includes(id)), started: {}, fresh, results: ready.map((id) => state.probes[id]!), awaiting, background },
  };
}

function orderLike(results: ProbeOutcome[], order: string[]): ProbeOutcome[] {
  const rank = (id: string) => {
    const index = order.indexOf(id);
    return index === -1 ? order.length : index;
  };
  return [...results].sort((a, b) => rank(a.id) - rank(b.id));
}

function skip(flow: Flow, state: EngineState, at: number): EngineState {
  if (state.status === 'probing' && state.probeRun) {
    const run = state.probeRun;
    const skipped: ProbeOutcome[] = run.pending.map((id) => ({
      id,
      status: 'skipped',
      reason: 'skipped by the operator',
      summary: 'skipped by the operator',
      commands: run.started[id] ?? [],
      startedAt: at,
      durationMs: 0,
    }));
    const probes = { ...state.probes, ...Object.fromEntries(skipped.map((o) => [o.id, o])) };
    const node = nodeOf(flow, run.node, 'probe');
    const next = { ...state, probes, probeRun: null };
    return advance(flow, completeCurrent(next, { kind: 'probe', probes: orderLike([...run.results, ...skipped], node.probes) }, node.next, true), at);
  }
  if (state.status === 'asking') {
    const node = nodeOf(flow, current(state).node, 'ask');
    const choice = node.choices.find((c) => c.id === node.headless) ?? node.choices[0]!;
    return advance(flow, completeCurrent(state, { kind: 'ask', choice: choice.id, label: choice.label, source: 'skipped' }, choice.next, true), at);
  }
  if (state.status === 'paused') return advance(flow, state, at);
  return state;
}

/** Back to the previous step that decided something (probe, decide or ask), paused there. */
function back(flow: Flow, state: EngineState): EngineState {
  if (state.path.length < 2) return state;
  for (let index = state.path.length - 2; index >= 0; index--) {
    const step = state.path[index]!;
    const kind = flow.nodes[step.node]?.kind;
    if (!kind || !STOPS.has(kind)) continue;
    const path = state.path.slice(0, index + 1);
    if (kind === 'ask') {
      const { outcome: _o, next: _n, skipped: _s, ...open } = step;
      path[index] = open;
      return { ...state, path, probeRun: null, status: 'asking', finishedAt: null };
    }
    return { ...state, path, probeRun: null, status: 'paused', finishedAt: null };
  }
  return state;
}

/** Runs the latest probe step again (fresh readings) and walks on from there. */
function rerun(flow: Flow, state: EngineState, at: number): EngineState {
  for (let index = state.path.length - 1; index >= 0; index--) {
    const step = state.path[index]!;
    const node = flow.nodes[step.node];
    if (node?.kind !== 'probe') continue;
    const path = [...state.path.slice(0, index), { node: step.node, enteredAt: at }];
    return startRun({ ...state, path, finishedAt: null }, step.node, node, true);
  }
  return state;
}

function override(flow: Flow, state: EngineState, event: Extract<EngineEvent, { type: 'override' }>): EngineState {
  const reason = event.reason.trim();
  if (!reason) return state;
  const node = flow.nodes[event.node];
  if (node?.kind !== 'decide') return state;
  const index = state.path.map((s) => s.node).lastIndexOf(event.node);
  const step = state.path[index];
  if (!step || step.outcome?.kind !== 'decide') return state;
  const branchIndex = node.branches.findIndex((b) => b.next === event.to);
  const isOtherwise = event.to === node.otherwise || event.to === node.unknown;
  if (branchIndex === -1 && !isOtherwise) return state;
  if (step.next === event.to) return state;
  const label = branchIndex === -1 ? (node.otherwiseLabel ?? 'none of the above') : node.branches[branchIndex]!.label;
  const outcome: StepOutcome = {
    kind: 'decide',
    branch: branchIndex === -1 ? 'otherwise' : branchIndex,
    label,
    evidence: step.outcome.evidence,
    override: { evaluated: step.outcome.label, reason },
  };
  const path = state.path.slice(0, index + 1);
  path[index] = { ...step, outcome, next: event.to };
  const record = { node: event.node, from: step.next ?? '', to: event.to, reason, at: event.at };
  return advance(flow, { ...state, path, probeRun: null, overrides: [...state.overrides, record] }, event.at);
}
