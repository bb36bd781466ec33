// The checker's budget. WGL is exponential in the worst case (checking linearizability is
// NP-complete, Gibbons & Korach 1997), so every check is bounded and running out is reported as
// 'inconclusive', never as a pass.

/**
 * Default step budget. A step costs about 1–3 µs, so this is roughly 5–15 s of search (and at most
 * one memo entry per step). Linearizable sim histories need a few steps per operation (2,000
 * operations over 20 keys: ~2,100 steps); the budget is for the exponential cases.
 */
export const CHECK_STEPS_MAX_DEFAULT = 5_000_000;

/** How many steps pass between two reads of the wall clock (performance.now is not free). */
const CLOCK_CHECK_INTERVAL_STEPS = 1024;

export type Exhausted = 'steps' | 'time';

export class StepBudget {
  /** Steps spent so far. Invariant: steps <= stepsMax. */
  steps = 0;
  /** Which limit stopped the search; null while within budget. */
  exhausted: Exhausted | null = null;

  constructor(
    readonly stepsMax: number,
    /** performance.now() value after which the search stops; +Infinity for no wall-clock limit. */
    readonly deadlineMs: number,
  ) {}

  /** Spends one step; false (and `exhausted` set) once a limit is reached. */
  spend(): boolean {
    if (this.exhausted !== null) return false;
    if (this.steps >= this.stepsMax) {
      this.exhausted = 'steps';
      return false;
    }
    this.steps++;
    if (this.steps % CLOCK_CHECK_INTERVAL_STEPS === 0 && this.deadlineMs !== Number.POSITIVE_INFINITY && performance.now() > this.deadlineMs) {
      this.exhausted = 'time';
      return false;
    }
    return true;
  }
}
