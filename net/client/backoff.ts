// How long to wait before retry number `attempt` (0-based): exponential from backoffMsMin, capped at
// backoffMsMax, with "equal jitter" (half fixed, half random) so that clients that failed together do
// not all come back together, yet never retry sooner than half the nominal delay.

export interface BackoffPolicy {
  readonly backoffMsMin: number;
  readonly backoffMsMax: number;
}

/** Doublings past which the nominal delay is certainly capped (avoids 2 ** large). */
const DOUBLINGS_MAX = 30;

/** The nominal (jitter-free) delay before retry `attempt`. */
export function backoffCeilingMs(attempt: number, policy: BackoffPolicy): number {
  const doublings = Math.min(Math.max(0, attempt), DOUBLINGS_MAX);
  return Math.min(policy.backoffMsMax, policy.backoffMsMin * 2 ** doublings);
}

/** The delay before retry `attempt`, in [ceiling / 2, ceiling); `random` is uniform in [0, 1). */
export function backoffDelayMs(attempt: number, policy: BackoffPolicy, random: () => number): number {
  const ceiling = backoffCeilingMs(attempt, policy);
  return Math.floor(ceiling / 2 + (ceiling / 2) * random());
}

export function validateBackoff(policy: BackoffPolicy): string | null {
  if (!Number.isFinite(policy.backoffMsMin) || policy.backoffMsMin < 1) return `backoffMsMin must be at least 1, got ${policy.backoffMsMin}`;
  if (!Number.isFinite(policy.backoffMsMax) || policy.backoffMsMax < policy.backoffMsMin) return `backoffMsMax must be at least backoffMsMin (${policy.backoffMsMin}), got ${policy.backoffMsMax}`;
  return null;
}
