/**
 * The shapes the apply half shares: a fix turned into a concrete plan
 * (src/fixes/plans/), the change that applies plans (src/apply/), and the
 * verification after a reload (src/apply/verify.ts, src/watch/).
 * Kept in one small file so the parts can be built side by side.
 */

export type { SystemCommand, PlanInput, FixPlan } from '../fixes/planTypes.js';
export type { TrafficCounts } from '../watch/count.js';

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
