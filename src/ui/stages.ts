import { basename, extname, join } from 'node:path';
import { existsSync } from 'node:fs';
import type { Flow } from '../flow/schema.js';
import type { EngineState, Step } from '../engine/state.js';
import { composeFlow } from '../flow/compose.js';
import { FLOWS_DIR } from '../packageRoot.js';
import type { Tone } from './theme.js';

/**
 * The flowchart's stages as the walk shows them: one checklist line each.
 * Sub-flows of reset-by-peer map onto them (several small checks share a
 * line); a flow without sub-flows, or one not shipped, walks as one stage.
 */
export interface Stage {
  id: string;
  label: string;
}

export const STAGES: readonly Stage[] = [
  { id: 'look', label: 'First look' },
  { id: 'backend-up', label: 'Backend up' },
  { id: 'errors', label: 'Errors in the window' },
  { id: 'crashing', label: 'Crashing / OOM' },
  { id: 'keepalive', label: 'Keep-alive' },
  { id: 'overload', label: 'Overload' },
  { id: 'timeouts', label: 'Timeouts / buffers' },
  { id: 'network', label: 'Network / MAC' },
  { id: 'retries', label: 'Retries / logging' },
  { id: 'changes', label: 'What changed' },
];

const SUBFLOW_STAGE: Readonly<Record<string, string>> = {
  'first-look': 'look',
  'error-window': 'errors',
  'backend-listening': 'backend-up',
  'oom-killed': 'crashing',
  crashes: 'crashing',
  'php-fpm-kills': 'crashing',
  keepalive: 'keepalive',
  overload: 'overload',
  'timeouts-buffers': 'timeouts',
  mac: 'network',
  network: 'network',
  websockets: 'network',
  'retries-logging': 'retries',
  'recent-changes': 'changes',
};

export type StageOf = (node: string) => Stage;

/** Which stage each node belongs to, from the sub-flow file that wrote it. */
export function stagesOf(flow: Flow): StageOf {
  const owner = new Map<string, string>();
  const file = join(FLOWS_DIR, `${flow.id}.yaml`);
  if (existsSync(file)) {
    try {
      const composed = composeFlow(file);
      for (const [node, part] of composed.owner) owner.set(node, basename(part.file, extname(part.file)));
    } catch {
      // A flow that cannot be composed again here walks as one stage: the engine already has it.
    }
  }
  const byId = new Map(STAGES.map((s) => [s.id, s]));
  const whole: Stage = { id: 'flow', label: flow.title };
  // Nodes of the root flow itself (its end) close the last stage walked.
  return (node) => {
    const sub = owner.get(node);
    if (sub === undefined) return owner.size ? { id: 'end', label: 'End' } : whole;
    if (sub === flow.id) return { id: 'end', label: 'End' };
    return byId.get(SUBFLOW_STAGE[sub] ?? '') ?? { id: sub, label: sub };
  };
}

/** A stretch of the path in one stage (a stage re-entered later is a new run). */
export interface StageRun {
  stage: Stage;
  /** Index in state.path of the first step. */
  start: number;
  steps: Step[];
}

export function stageRuns(state: EngineState, stageOf: StageOf): StageRun[] {
  const runs: StageRun[] = [];
  state.path.forEach((step, index) => {
    const stage = stageOf(step.node);
    const last = runs.at(-1);
    // The root's end node belongs to the stage before it: no line of its own.
    if (stage.id === 'end' && last) return last.steps.push(step);
    if (last && last.stage.id === stage.id) last.steps.push(step);
    else runs.push({ stage, start: index, steps: [step] });
  });
  return runs;
}

/** The stages not reached yet, for the "next:" line. */
export function upcoming(runs: StageRun[]): Stage[] {
  const seen = new Set(runs.map((r) => r.stage.id));
  const lastIndex = Math.max(-1, ...runs.map((r) => STAGES.findIndex((s) => s.id === r.stage.id)));
  return STAGES.filter((s, i) => i > lastIndex && !seen.has(s.id));
}

const STATUS_RANK: Record<string, number> = { confirmed: 3, suspected: 2, unknown: 1, 'ruled-out': 0 };

/** A stage's one-line result: its worst finding, or what it read, and any answer given. */
export function stageResult(run: StageRun, flow: Flow): { mark: string; tone: Tone; text: string } {
  const findings = run.steps.flatMap((s) => (s.outcome?.kind === 'diagnose' ? [s.outcome.finding] : []));
  // A later step about the same finding wins, as in the reports.
  const latest = [...new Map(findings.map((f) => [f.id, f])).values()];
  const answers = run.steps.flatMap((s) => (s.outcome?.kind === 'ask' ? [`${flow.nodes[s.node]?.title ?? s.node} → ${s.outcome.label}`] : []));
  const skipped = run.steps.filter((s) => s.skipped).length;
  const worst = Math.max(-1, ...latest.map((f) => STATUS_RANK[f.status] ?? 0));
  const open = latest.filter((f) => f.status !== 'ruled-out').sort((a, b) => (STATUS_RANK[b.status] ?? 0) - (STATUS_RANK[a.status] ?? 0));
  let text: string;
  if (open.length) {
    const ruled = latest.length - open.length;
    text = `${open.map((f) => `${f.id} ${f.status === 'unknown' ? 'could not tell' : f.status}`).join(', ')}${ruled ? `; ${ruled} ruled out` : ''}`;
  } else if (latest.length === 1) text = latest[0]!.summary;
  else if (latest.length > 1) text = `ruled out: ${latest.map((f) => f.id).join(', ')}`;
  else {
    // No finding here (the first look, what changed): what its probes read.
    const probes = run.steps.flatMap((s) => (s.outcome?.kind === 'probe' ? s.outcome.probes : []));
    const named = probes.filter((p) => p.id === 'error-log' || p.id === 'access-log' || p.id === 'timeline');
    const decided = run.steps.flatMap((s) => (s.outcome?.kind === 'decide' ? [s.outcome.label] : []));
    text = (named.length ? named : probes.slice(-1)).map((p) => p.summary).join('; ') || decided.at(-1) || 'done';
  }
  if (answers.length) text += ` · ${answers.join(' · ')}`;
  // An operator override goes first on the line: the facts alone said otherwise.
  const overrides = run.steps.flatMap((s) => (s.outcome?.kind === 'decide' && s.outcome.override ? [s.outcome.override.reason] : []));
  if (overrides.length) text = `operator override (${overrides.join('; ')}): ${text}`;
  if (skipped) text += ` · ${skipped} step(s) skipped`;
  const mark = worst === 3 ? '✖' : worst === 2 ? '!' : worst === 1 ? '?' : '✔';
  const tone: Tone = worst === 3 ? 'bad' : worst >= 1 ? 'warn' : 'ok';
  return { mark, tone, text };
}
