import type { RecordingEntry } from '../host/recording.js';
import type { HostInfo } from '../host/types.js';
import type { Finding, FixSuggestion } from '../engine/state.js';
import type { EngineInput } from '../engine/events.js';
import type { EvidenceItem } from '../engine/conditions.js';
import type { ProbeDetails, ProbeStatus } from '../probe/contract.js';
import type { JsonReport } from '../report/jsonReport.js';
import type { ChangeStatus, VerifyResult } from '../apply/types.js';

/**
 * A transcript is JSON Lines: one event per line, appended and fsynced as the
 * session goes, so a killed run leaves every event before the kill. The first
 * line is `start`; a finished session's last is `end`, a dropped one's
 * `interrupted` (or nothing, after SIGKILL). Fields are only ever added.
 */
export const TRANSCRIPT_FORMAT = 'reset-doctor-transcript';
export const TRANSCRIPT_VERSION = 1;

/** Every event carries the wall clock (epoch ms) of when it happened. */
interface At {
  at: number;
}

export interface StartEvent extends At {
  type: 'start';
  format: typeof TRANSCRIPT_FORMAT;
  version: typeof TRANSCRIPT_VERSION;
  /** The tool's version line (`reset-doctor 0.1.0 (commit …)`). */
  tool: string;
  mode: 'wizard' | 'diagnose' | 'demo' | 'resume';
  host: HostInfo;
  /** Who ran it (login name) and as whom (uid). */
  user: string;
  uid: number;
  /** The command line, as given (masked like everything else). */
  args: string[];
  cwd: string;
  flow: string;
  /** The probe options the session ran with: a replay asks for the same commands. */
  options: Record<string, unknown>;
  nginx: { bin: string; conf: string | null; version: string | null };
  /** --demo / demo NAME, or --replay FILE: the host is a recording, not this machine. */
  replaying: { demo: string } | { file: string } | null;
  /** Secrets are masked before they are written, unless --no-mask said otherwise. */
  masking: 'on' | 'off (--no-mask)';
  /** `resume FILE`: the transcript this session walks on from. */
  resumes?: string;
  /** When the session really ran (epoch ms); `at` is the host's clock, which a replay takes from its recording. */
  ranAt: number;
  /** This machine's offset from UTC in minutes (Date#getTimezoneOffset): log times are local, and the chart places them. */
  tzOffsetMin: number;
  /** The host clock when the recording of host calls started: host entries' atMs count from here. */
  recordingStartedAtMs: number;
}

/** One call the session made to its host, exactly the recording entry --record writes (so a transcript replays). */
export interface HostEvent extends At {
  type: 'host';
  entry: RecordingEntry;
}

export interface StepEvent extends At {
  type: 'step';
  node: string;
  kind: string;
  title: string;
  /** 1-based position on the path. */
  index: number;
}

export interface ProbeStartEvent extends At {
  type: 'probe-start';
  probe: string;
  commands: string[];
}

export interface ProbeEvent extends At {
  type: 'probe';
  id: string;
  status: ProbeStatus;
  summary: string;
  durationMs: number;
  commands: string[];
  reason?: string;
  sudoHint?: string;
  partial?: string;
  gap?: string;
  details?: ProbeDetails;
  /** What the incident chart draws from this probe (error-log minutes, timeline events), when it has any. */
  chart?: ChartFacts;
}

/** The few facts the HTML chart needs, kept small: not the probe's whole facts. */
export interface ChartFacts {
  perMinute?: Array<{ minute: string; count: number }>;
  window?: { from: string | null; to: string | null };
  events?: Array<{ atMs: number; kind: string; detail: string }>;
}

export interface DecisionEvent extends At {
  type: 'decision';
  node: string;
  label: string;
  branch: number | 'otherwise' | 'unknown';
  evidence: EvidenceItem[];
  override?: { evaluated: string; reason: string };
}

export interface AnswerEvent extends At {
  type: 'answer';
  node: string;
  choice: string;
  label: string;
  source: 'operator' | 'answer' | 'headless-default' | 'skipped';
}

/** What the operator did besides answering: back, skip, re-run, continue, a note, an override. */
export interface OperatorEvent extends At {
  type: 'operator';
  action: 'back' | 'skip' | 'rerun' | 'continue' | 'note' | 'override' | 'choose';
  /** The node the session was at. */
  node: string | null;
  /** The status then (a skip while probing skips the probe step). */
  during: string;
  /** Exactly what was sent to the engine: `resume` sends it again. */
  input: EngineInput;
}

export interface FindingEvent extends At {
  type: 'finding';
  finding: Finding;
}

/** The findings as the engine holds them now (after back, a later step's, an override): the summary takes the last. */
export interface FindingsEvent extends At {
  type: 'findings';
  findings: Finding[];
}

export interface FixesEvent extends At {
  type: 'fixes';
  node: string;
  fixes: Array<Pick<FixSuggestion, 'id' | 'finding' | 'title' | 'kind' | 'steps' | 'persistence'>>;
}

/** A change the apply engine (src/apply/) made, or tried to: see Transcript.change(). */
export interface ChangeEvent extends At {
  type: 'change';
  id: string;
  fix?: string;
  finding?: string;
  status: ChangeStatus;
  /** Why it ended as it did (refused, failed, rolled back), in words. */
  reason?: string;
  files: Array<{ path: string; diff: string }>;
  commands?: string[];
  steps: Array<{ step: string; ok: boolean; at: number; detail?: string }>;
  test?: { command?: string; ok?: boolean; output: string };
  reload?: { method: string; oldWorkers: number[]; newWorkers: number[]; detail?: string };
  verify?: VerifyResult;
}

export interface RollbackEvent extends At {
  type: 'rollback';
  /** The change rolled back. */
  id: string;
  reason: string;
  ok: boolean;
  files: Array<{ path: string; diff?: string }>;
  steps: Array<{ step: string; ok: boolean; at: number; detail?: string }>;
  reload?: { method: string; oldWorkers: number[]; newWorkers: number[]; detail?: string };
}

/** The report as `diagnose --json` prints it, written when the walk is over. */
export interface ReportEvent extends At {
  type: 'report';
  report: TranscriptReport;
}

/** The report schema, with where the transcript is (diagnose --json prints the same). */
export type TranscriptReport = JsonReport & { transcript?: string };

export interface EndEvent extends At {
  type: 'end';
  status: string;
  exitCode: number;
  /** Secret values masked in this transcript. */
  masked: number;
}

export interface InterruptedEvent extends At {
  type: 'interrupted';
  /** SIGHUP (the terminal or SSH link went away), SIGTERM, EIO/EOF on the terminal, or the operator quitting early. */
  reason: string;
  status: string;
  masked: number;
}

export type TranscriptEvent =
  | StartEvent
  | HostEvent
  | StepEvent
  | ProbeStartEvent
  | ProbeEvent
  | DecisionEvent
  | AnswerEvent
  | OperatorEvent
  | FindingEvent
  | FindingsEvent
  | FixesEvent
  | ChangeEvent
  | RollbackEvent
  | ReportEvent
  | EndEvent
  | InterruptedEvent;

/** An event before it is stamped; `at` may be given (the apply engine's own clock). */
export type TranscriptInput = TranscriptEvent extends infer E ? (E extends unknown ? Omit<E, 'at'> & { at?: number } : never) : never;
