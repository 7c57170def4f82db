/**
 * The shapes the apply half shares: a fix turned into a concrete plan
 * (src/fixes/plans/), the change that applies plans (src/apply/), and the
 * verification after a reload (src/apply/verify.ts, src/watch/).
 * Kept in one small file so the parts can be built side by side.
 */
import type { PlannedEdit } from '../nginx/edit.js';
import type { ConfigSet } from '../nginx/load.js';
import type { Finding, FixSuggestion } from '../engine/state.js';

/** A live kernel or MAC setting a fix changes, with what persists it. */
export type SystemCommand =
  | { kind: 'sysctl'; key: string; value: string; /** /etc/sysctl.d file that keeps it across reboots. */ persistFile: string }
  | { kind: 'setsebool'; name: string; value: 'on' | 'off' };

/** What a plan needs from this run: the facts of ok probes and the config files as read now. */
export interface PlanInput {
  fix: FixSuggestion;
  finding: Finding | undefined;
  /** Facts of a probe that ended ok in this run, else undefined. */
  facts(probeId: string): unknown;
  /** Every file nginx loads, parsed from the files on disk now (offsets for edits). */
  config: ConfigSet;
  /** nginx version of the running binary ("1.22.1"), when known. */
  version: string | null;
  /** The config as nginx -T dumped it in this run, when at hand: a file to edit whose text differs from it makes the plan not applicable. */
  dumped?: ConfigSet;
}

export type FixPlan =
  | {
      fix: string;
      applicable: true;
      /** One line per change, for the operator: "upstream app (/etc/nginx/conf.d/app.conf:3): keepalive_timeout 60s → 4s". */
      describe: string[];
      edits: PlannedEdit[];
      commands: SystemCommand[];
      /** What the change does not do (a backend setting to change by hand), shown beside it. */
      notes: string[];
    }
  | {
      fix: string;
      applicable: false;
      /** Why it cannot be applied by the tool, and what to measure or do first. Never a placeholder. */
      reason: string;
    };

/** Error-log (and access-log) counts per 10 s bucket, for the before/after view and the verdict. */
export interface TrafficCounts {
  /** Bucket start (epoch ms) → signature id → lines. */
  buckets: Array<{ startMs: number; signatures: Record<string, number>; requests: number; errors5xx: number }>;
}

export type Verdict = 'fixed' | 'no-traffic' | 'not-fixed' | 'worse';

export interface VerifyResult {
  seconds: number;
  /** Lines of the finding's signatures per minute before the change, over the window before. */
  before: { signatures: Record<string, number>; requests: number; errors5xx: number; seconds: number };
  after: { signatures: Record<string, number>; requests: number; errors5xx: number; seconds: number };
  /** Status of the finding when its probes ran again after the reload. */
  redetected: string | null;
  /** GET requests sent through nginx (--verify-traffic): status code → count. */
  traffic: { url: string; host: string; statuses: Record<string, number> } | null;
  verdict: Verdict;
  /** Why that verdict, in words. */
  reason: string;
}

export type ChangeStatus = 'applied' | 'rolled-back' | 'refused' | 'failed' | 'unfinished';
