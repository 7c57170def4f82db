import type { FindingStatus } from './types.js';
import type { ProbeOutcome } from '../probe/contract.js';
import type { EvidenceItem } from './conditions.js';
import type { FixKind } from '../fixes/catalog.js';

export interface Evidence {
  probe: string;
  fact: string;
  value: unknown;
}

export interface Finding {
  id: string;
  status: FindingStatus;
  summary: string;
  evidence: Evidence[];
  node: string;
  /** Set when the decision that led here was overridden by the operator: the facts said otherwise. */
  override?: { node: string; reason: string };
}

export interface FixSuggestion {
  id: string;
  finding: string;
  title: string;
  kind: FixKind;
  applied: false;
  params: Record<string, string>;
  steps: string[];
  persistence: string;
  node: string;
}

export type StepOutcome =
  | { kind: 'probe'; probes: ProbeOutcome[] }
  | {
      kind: 'decide';
      /** Index into branches, or otherwise / unknown. */
      branch: number | 'otherwise' | 'unknown';
      label: string;
      evidence: EvidenceItem[];
      override?: { evaluated: string; reason: string };
    }
  | { kind: 'ask'; choice: string; label: string; source: 'operator' | 'answer' | 'headless-default' | 'skipped' }
  | { kind: 'diagnose'; finding: Finding }
  | { kind: 'fix'; fixes: FixSuggestion[] }
  | { kind: 'end' };

export interface Step {
  node: string;
  enteredAt: number;
  outcome?: StepOutcome;
  /** Where the flow went from here. */
  next?: string;
  skipped?: boolean;
}

export interface ProbeRun {
  runId: number;
  node: string;
  /** Probe ids still to report. */
  pending: string[];
  /** Commands of probes that have started, by probe id. */
  started: Record<string, string[]>;
  /** Re-run: ignore earlier outcomes of these probes and their dependencies. */
  fresh: boolean;
  results: ProbeOutcome[];
  /** Pending probes already running in the background: waited for, not started again. */
  awaiting: string[];
  /** Probes this node starts in the background. */
  background: string[];
}

/** A probe running in the background while the flow goes on. */
export interface BackgroundProbe {
  runId: number;
  node: string;
  startedAt: number | null;
  /** How long it expects to take at most, for the countdown. */
  expectedMs: number | null;
  commands: string[];
}

export interface Note {
  node: string;
  text: string;
  at: number;
}

export interface OverrideRecord {
  node: string;
  from: string;
  to: string;
  reason: string;
  at: number;
}

export type EngineStatus = 'not-started' | 'probing' | 'asking' | 'paused' | 'finished' | 'failed';

export interface EngineState {
  flowId: string;
  status: EngineStatus;
  /** Steps taken; while not finished the last one is the current node. */
  path: Step[];
  /** Latest outcome of every probe run so far. */
  probes: Record<string, ProbeOutcome>;
  probeRun: ProbeRun | null;
  /** Background probes still running, by probe id. */
  background: Record<string, BackgroundProbe>;
  /** Background probes that finished before a step asked for them: the first step that lists one takes its result. */
  backgroundDone: string[];
  notes: Note[];
  overrides: OverrideRecord[];
  runCounter: number;
  startedAt: number | null;
  finishedAt: number | null;
  /** Why the flow could not go on (a loop, a missing node): only when status is failed. */
  failure?: string;
}

export function initialState(flowId: string): EngineState {
  return { flowId, status: 'not-started', path: [], probes: {}, probeRun: null, background: {}, backgroundDone: [], notes: [], overrides: [], runCounter: 0, startedAt: null, finishedAt: null };
}
