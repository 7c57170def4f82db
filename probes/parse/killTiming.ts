/**
 * When a process's death shows in nginx's error log: the connections in flight are cut the moment it dies, so the
 * errors come at the kill — from KILL_SLACK_MS before it (nginx floors its times to the second) to KILL_REACH_MS
 * after (responses that were being read, nginx's line written late).
 */
export const KILL_SLACK_MS = 1000;
export const KILL_REACH_MS = 10_000;

/** An error logged at timeMs is at one of these kills. */
export function atKill(timeMs: number, kills: readonly number[]): boolean {
  return Number.isFinite(timeMs) && kills.some((k) => timeMs >= k - KILL_SLACK_MS && timeMs <= k + KILL_REACH_MS);
}

/**
 * A process start read from ps (whole seconds) next to nginx's times (floored to the second): only a start more
 * than this far from an error is before or after it.
 */
export const START_SLACK_MS = 3000;

/** Errors logged from firstMs to lastMs reach the moment atMs, give or take START_SLACK_MS. */
export function spanReaches(firstMs: number, lastMs: number, atMs: number): boolean {
  return Number.isFinite(firstMs) && Number.isFinite(lastMs) && firstMs <= atMs + START_SLACK_MS && lastMs >= atMs - START_SLACK_MS;
}
