import type { z } from 'zod';
import type { CommandResult, CommandSpec, FileReadResult, Host, HostInfo, StatResult } from '../host/types.js';

/** What every probe may read from the command line. */
export interface ProbeOptions {
  nginxBin: string;
  /** When set, nginx is asked about this config (`-c PATH`) instead of its compiled-in default. */
  nginxConf?: string;
  /** When set, nginx runs with `-p DIR`: relative paths in the config (logs, pid, temp) resolve against it. */
  nginxPrefix?: string;
  errorLogs: string[];
  sinceMs: number;
  /** --passive: probes that would open connections to backends do not run. */
  passive?: boolean;
}

export type ProbeStatus = 'ok' | 'unavailable' | 'denied' | 'timeout' | 'error' | 'skipped';

/** One thing a probe asks of the host. */
export type Source =
  | { id: string; kind: 'command'; command: CommandSpec }
  | { id: string; kind: 'file'; path: string; tailBytes?: number; maxBytes?: number }
  | { id: string; kind: 'stat'; path: string; follow?: boolean };

export type SourceResult =
  | { id: string; kind: 'command'; command: CommandSpec; result: CommandResult }
  | { id: string; kind: 'file'; path: string; result: FileReadResult }
  | { id: string; kind: 'stat'; path: string; follow?: boolean; result: StatResult };

export interface ProbeContext {
  options: ProbeOptions;
  host: HostInfo;
  /** Where the time window ends (epoch ms): the start of this probe run, the same for every probe in it and in its replay. The window starts options.sinceMs before. */
  windowEndMs: number;
  /** Facts of the probes named in dependsOn, all of which ended ok. */
  deps: Record<string, unknown>;
}

/**
 * Thrown by a parser when the output says the probe could not look, e.g.
 * "Permission denied": the runner turns it into that status, with the reason
 * and (for denied) the exact command to run with sudo.
 */
export class ProbeStatusError extends Error {
  constructor(
    readonly status: Exclude<ProbeStatus, 'ok' | 'skipped'>,
    message: string,
    readonly sudoHint?: string,
  ) {
    super(message);
  }
}

export interface ProbeDefinition<Facts extends z.ZodObject = z.ZodObject> {
  id: string;
  title: string;
  /** What the probe tells the operator, one sentence. */
  description: string;
  /** true: without root it cannot answer at all; 'partial': it answers, with less (see rootNote). */
  requiresRoot: boolean | 'partial';
  /** What is lost without root. */
  rootNote?: string;
  timeoutMs: number;
  /** Probes whose facts this one needs; they run first, and if one fails this one cannot run. */
  dependsOn?: string[];
  /** Probes whose facts help when they are there (deps has them only when they ended ok). */
  uses?: string[];
  /**
   * Of `uses`, those only parse reads: the probe's own reads (a log, a sample
   * over seconds) run without waiting for them, and parse waits (runner.ts).
   */
  usesAtParse?: string[];
  /** Debian package that provides the binary, named when it is missing. */
  packageHint?: Record<string, string>;
  facts: Facts;
  /** The exact commands and files, computed before anything runs, so they can be shown first. */
  sources(context: ProbeContext): Source[];
  /**
   * For reads that depend on what was read (a log read back to the window's
   * start, counters sampled twice, a connection watched until it closes):
   * done through the host, so a recording replays it; parse gets the result
   * as results.gathered. It sees what the sources returned, for a read
   * that only the sources' answer calls for.
   */
  gather?(host: Host, context: ProbeContext, sources?: readonly SourceResult[]): Promise<unknown>;
  /** How gather is shown to the operator before it runs. */
  gatherPlan?(context: ProbeContext): string[];
  /** How long a slow probe expects to take at most (for a countdown while it runs in the background). */
  expectedMs?(context: ProbeContext): number;
  /** Pure: recorded output in, typed facts out. Throws ProbeStatusError when the output says it could not look. */
  parse(results: SourceResults, context: ProbeContext): z.infer<Facts>;
  /** The one-line result shown beside ✔. */
  summarize(facts: z.infer<Facts>): string;
  /** Set when a successful reading is still incomplete (e.g. no root: other users' processes hidden). */
  partialReason?(facts: z.infer<Facts>, context: ProbeContext): string | undefined;
  /**
   * Set when part of what the probe had to read was not read (a rotated log
   * in the window it could not open): what it did not find may be in that
   * part, so a finding ruled out on its facts is "could not tell".
   */
  gapReason?(facts: z.infer<Facts>, context: ProbeContext): string | undefined;
  /** A section of its own in reports, for a reading that is context rather than a finding (the timeline). */
  details?(facts: z.infer<Facts>): ProbeDetails | undefined;
}

export interface ProbeDetails {
  title: string;
  lines: string[];
}

/** Results by source id, with typed accessors that fail loudly on a wrong id. */
export class SourceResults {
  constructor(
    readonly all: SourceResult[],
    /** Host clock (epoch ms) when the last source answered. */
    readonly collectedAt: number,
    /** What gather returned, for probes that gather. */
    readonly gathered: unknown = undefined,
  ) {}

  command(id: string): { command: CommandSpec; result: CommandResult } {
    const found = this.all.find((r) => r.id === id);
    if (!found || found.kind !== 'command') throw new Error(`probe asked for command result "${id}", which it did not declare`);
    return found;
  }

  file(id: string): { path: string; result: FileReadResult } {
    const found = this.all.find((r) => r.id === id);
    if (!found || found.kind !== 'file') throw new Error(`probe asked for file result "${id}", which it did not declare`);
    return found;
  }

  stat(id: string): { path: string; result: StatResult } {
    const found = this.all.find((r) => r.id === id);
    if (!found || found.kind !== 'stat') throw new Error(`probe asked for stat result "${id}", which it did not declare`);
    return found;
  }
}

/** Keeps the fact type tied to the schema without repeating it. */
export function defineProbe<Facts extends z.ZodObject>(definition: ProbeDefinition<Facts>): ProbeDefinition<Facts> {
  return definition;
}

/** The outcome of one probe run: what the engine stores and every view shows. */
export interface ProbeOutcome {
  id: string;
  status: ProbeStatus;
  /** Why it is not ok (or what is missing from an ok but partial reading). */
  reason?: string;
  sudoHint?: string;
  partial?: string;
  /** What it had to read and did not (see ProbeDefinition.gapReason): nothing is ruled out on its facts. */
  gap?: string;
  facts?: Record<string, unknown>;
  summary: string;
  /** A report section of its own (see ProbeDefinition.details). */
  details?: ProbeDetails;
  /** Exactly what ran, as shown to the operator. */
  commands: string[];
  startedAt: number;
  durationMs: number;
}
