import type { EngineEvent, EngineInput } from '../engine/events.js';
import type { EngineState, Step, StepOutcome } from '../engine/state.js';
import { selectFindings } from '../engine/selectors.js';
import type { Flow } from '../flow/schema.js';
import type { ProbeOutcome } from '../probe/contract.js';
import type { Session } from '../session.js';
import type { ChartFacts, OperatorEvent } from './events.js';
import type { Transcript } from './writer.js';

const OPERATOR_ACTIONS = new Set<EngineEvent['type']>(['choose', 'continue', 'back', 'skip', 'rerun', 'note', 'override']);

/**
 * Writes what the session does into the transcript as it happens: the
 * operator's inputs (exactly as sent, so `resume` can send them again), each
 * probe's start and result, each step entered and what it decided, and the
 * findings whenever the engine's view of them changes. Returns the unsubscribe.
 */
export function observeSession(session: Session, flow: Flow, transcript: Transcript): () => void {
  return session.observe((event, before, after) => {
    if (OPERATOR_ACTIONS.has(event.type)) {
      const { at: _at, ...input } = event;
      transcript.write({
        type: 'operator',
        action: event.type as OperatorEvent['action'],
        node: before.path.at(-1)?.node ?? null,
        during: before.status,
        input: input as EngineInput,
      });
    }
    if (event.type === 'probeStarted') transcript.write({ type: 'probe-start', probe: event.probe, commands: event.commands });
    if (event.type === 'probeResult') transcript.write(probeEvent(event.outcome));
    writeSteps(flow, before.path, after.path, transcript);
    const findings = selectFindings(after);
    if (JSON.stringify(findings) !== JSON.stringify(selectFindings(before))) transcript.write({ type: 'findings', findings });
  });
}

/** New steps and new outcomes, in path order. A step is new when its node or entry time differ from the one before at that place. */
function writeSteps(flow: Flow, before: Step[], after: Step[], transcript: Transcript): void {
  after.forEach((step, i) => {
    const old = before[i];
    const same = old !== undefined && old.node === step.node && old.enteredAt === step.enteredAt;
    if (!same) {
      const node = flow.nodes[step.node];
      transcript.write({ type: 'step', node: step.node, kind: node?.kind ?? 'unknown', title: node?.title ?? step.node, index: i + 1, at: step.enteredAt });
    }
    if (step.outcome && (!same || old.outcome === undefined || !sameOutcome(old.outcome, step.outcome))) writeOutcome(step, step.outcome, transcript);
  });
}

function sameOutcome(a: StepOutcome, b: StepOutcome): boolean {
  return a === b || JSON.stringify(a) === JSON.stringify(b);
}

function writeOutcome(step: Step, outcome: StepOutcome, transcript: Transcript): void {
  switch (outcome.kind) {
    case 'decide':
      transcript.write({ type: 'decision', node: step.node, label: outcome.label, branch: outcome.branch, evidence: outcome.evidence, ...(outcome.override ? { override: outcome.override } : {}) });
      return;
    case 'ask':
      transcript.write({ type: 'answer', node: step.node, choice: outcome.choice, label: outcome.label, source: outcome.source });
      return;
    case 'diagnose':
      transcript.write({ type: 'finding', finding: outcome.finding });
      return;
    case 'fix':
      transcript.write({
        type: 'fixes',
        node: step.node,
        fixes: outcome.fixes.map(({ id, finding, title, kind, steps, persistence }) => ({ id, finding, title, kind, steps, persistence })),
      });
      return;
    case 'probe':
    case 'end':
      // Probe results are written as they come; the end is the session's end event.
      return;
  }
}

function probeEvent(outcome: ProbeOutcome) {
  const { id, status, summary, durationMs, commands, reason, sudoHint, partial, gap, details } = outcome;
  const chart = chartFacts(outcome);
  return {
    type: 'probe' as const,
    id,
    status,
    summary,
    durationMs,
    commands,
    ...(reason ? { reason } : {}),
    ...(sudoHint ? { sudoHint } : {}),
    ...(partial ? { partial } : {}),
    ...(gap ? { gap } : {}),
    ...(details ? { details } : {}),
    ...(chart ? { chart } : {}),
  };
}

/** The error log's minutes and the timeline's events: what the HTML page draws. */
function chartFacts(outcome: ProbeOutcome): ChartFacts | undefined {
  const facts = outcome.facts as Record<string, unknown> | undefined;
  if (outcome.status !== 'ok' || !facts) return undefined;
  if (outcome.id === 'error-log') {
    return {
      perMinute: facts.perMinute as NonNullable<ChartFacts['perMinute']>,
      window: facts.window as NonNullable<ChartFacts['window']>,
    };
  }
  if (outcome.id === 'timeline') {
    const events = facts.events as Array<{ atMs: number; kind: string; detail: string }>;
    return { events: events.map(({ atMs, kind, detail }) => ({ atMs, kind, detail })) };
  }
  return undefined;
}
