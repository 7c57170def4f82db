import type { ProbeOutcome } from '../probe/contract.js';

/** Everything that can happen to a session. Each carries the host clock so the reducer stays pure. */
export type EngineEvent =
  | { type: 'start'; at: number }
  | { type: 'probeStarted'; runId: number; probe: string; commands: string[]; expectedMs?: number; at: number }
  | { type: 'probeResult'; runId: number; outcome: ProbeOutcome; at: number }
  | { type: 'choose'; choice: string; source: 'operator' | 'answer' | 'headless-default'; at: number }
  | { type: 'continue'; at: number }
  | { type: 'back'; at: number }
  | { type: 'skip'; at: number }
  | { type: 'rerun'; at: number }
  | { type: 'note'; text: string; at: number }
  | { type: 'override'; node: string; to: string; reason: string; at: number };

/** An event before the clock is read: what the UI and the headless runner send. */
export type EngineInput = EngineEvent extends infer E ? (E extends unknown ? Omit<E, 'at'> : never) : never;
