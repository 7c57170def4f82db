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

/**
 * A group of errors (first and last time, count) proves errors only at its two ends: the moment atMs is near one of
 * them, give or take START_SLACK_MS. Lines between could be anywhere from firstMs to lastMs, or nowhere near atMs.
 */
export function endsReach(firstMs: number, lastMs: number, atMs: number): boolean {
  const near = (t: number) => Number.isFinite(t) && Math.abs(t - atMs) <= START_SLACK_MS;
  return near(firstMs) || near(lastMs);
}
