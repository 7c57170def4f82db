import type { ProbeOutcome } from '../probe/contract.js';
import { redactStrings } from '../masking/redact.js';
import type { HostInfo } from '../host/types.js';
import type { EngineState } from '../engine/state.js';
import { selectProbes } from '../engine/selectors.js';
import { VERSION } from '../packageRoot.js';
import type { FindingKind } from '../findings/catalog.js';
import type { Impact } from './impact.js';
import { rankFindings } from './ranking.js';
import { selectExactFixes } from './exactFix.js';
import type { ReportOptions } from './textReport.js';

/**
 * The headless report. These names are a contract with scripts and
 * automation: add fields freely, never rename or repurpose one.
 */
export interface JsonReport {
  tool: 'reset-doctor';
  version: string;
  flow: string;
  host: string;
  startedAt: string | null;
  finishedAt: string | null;
  status: string;
  path: string[];
  /** What users got in the window (502/504 per route and upstream, since when, still happening), before any finding. */
  impact: Impact;
  /** Findings ranked: causes, then risks, then hygiene (each by the errors it explains), then unknown, then ruled out. */
  findings: Array<{ id: string; status: string; kind: FindingKind; explains: { errors: number; share: number | null }; summary: string; evidence: Array<{ probe: string; fact: string; value: unknown }>; override?: { node: string; reason: string } }>;
  fixes: Array<{ id: string; finding: string; kind: string; applied: boolean; title: string; steps: string[]; persistence: string; diff?: string; commands?: string[]; change?: Record<string, unknown> }>;
  probes: Array<{ id: string; status: string; command: string; commands: string[]; durationMs: number; summary: string; reason?: string; sudoHint?: string; partial?: string; gap?: string; details?: { title: string; lines: string[] } }>;
  answers: Array<{ node: string; choice: string; source: string }>;
  overrides: Array<{ node: string; from: string; to: string; reason: string }>;
  notes: Array<{ node: string; text: string }>;
  failure?: string;
  /** Whole facts of a few probes (CARRIED_FACTS) that ran: settings a fleet report compares between hosts. */
  facts?: Record<string, Record<string, unknown>>;
}

/** Small probes whose facts are settings and causes, not log contents: `fleet report` reads them for drift and peers. */
const CARRIED_FACTS = ['nginx-version', 'keepalive-analysis', 'backend-process', 'oom-kills', 'reset-attribution'];

/** A probe as the report lists it: the live outcome, or the one a transcript recorded (the same fields). */
export function probeEntry(p: Pick<ProbeOutcome, 'id' | 'status' | 'commands' | 'durationMs' | 'summary' | 'reason' | 'sudoHint' | 'partial' | 'gap' | 'details'>): JsonReport['probes'][number] {
  return {
    id: p.id,
    status: p.status,
    command: p.commands.join(' ; '),
    commands: p.commands,
    durationMs: p.durationMs,
    summary: p.summary,
    ...(p.reason ? { reason: p.reason } : {}),
    ...(p.sudoHint ? { sudoHint: p.sudoHint } : {}),
    ...(p.partial ? { partial: p.partial } : {}),
    // What it had to read and did not: findings ruled out on it are unknown.
    ...(p.gap ? { gap: p.gap } : {}),
    ...(p.details ? { details: p.details } : {}),
  };
}

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

export function buildJsonReport(state: EngineState, host: HostInfo, options: ReportOptions = {}): JsonReport {
  const ranked = rankFindings(state, options.sinceMs);
  const report: JsonReport = {
    tool: 'reset-doctor',
    version: VERSION,
    flow: state.flowId,
    host: host.hostname,
    startedAt: iso(state.startedAt),
    finishedAt: iso(state.finishedAt),
    status: state.status,
    path: state.path.map((s) => s.node),
    impact: ranked.impact,
    findings: ranked.all.map(({ finding: { id, status, summary, evidence, override }, kind, explains }) => ({ id, status, kind, explains, summary, evidence, ...(override ? { override } : {}) })),
    // Commands written for this host: its nginx binary with -c and -p, the config's log paths.
    fixes: selectExactFixes(state, options.nginx).map((f) => ({ id: f.id, finding: f.finding, kind: f.kind, applied: f.applied, title: f.title, steps: f.steps, persistence: f.persistence })),
    probes: selectProbes(state).map(probeEntry),
    answers: state.path.flatMap((s) => (s.outcome?.kind === 'ask' ? [{ node: s.node, choice: s.outcome.choice, source: s.outcome.source }] : [])),
    overrides: state.overrides.map(({ node, from, to, reason }) => ({ node, from, to, reason })),
    notes: state.notes.map(({ node, text }) => ({ node, text })),
  };
  if (state.failure) report.failure = state.failure;
  const facts = selectProbes(state).filter((p) => p.facts && CARRIED_FACTS.includes(p.id));
  if (facts.length > 0) report.facts = Object.fromEntries(facts.map((p) => [p.id, p.facts!]));
  // Scripts file these reports too: the same masking as the text report.
  return redactStrings(report);
}
