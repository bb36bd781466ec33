// The one retry loop of the client: run an attempt; on a KeelError ask the caller's judge what to do
// (fail, retry after backoff, retry at once because a redirect hint was followed); stop after
// `retriesMax` retries or when the next attempt could not start before the deadline. The judge is also
// where callers react to the error (follow a leader hint, drop stale metadata, rotate addresses).
import { backoffDelayMs, type BackoffPolicy } from './backoff.ts';
import { sleep, type ClientEnv } from './env.ts';
import { isKeelError, type KeelError } from './errors.ts';

export type Verdict = 'fail' | 'retry' | 'retryNow';

export interface RetryLimits extends BackoffPolicy {
  /** Retries after the first attempt. */
  readonly retriesMax: number;
  /** No attempt starts at or after this time (env.now() scale). */
  readonly deadlineAtMs: number;
}

/** Consecutive immediate retries allowed before a backoff is forced (redirect loops between two nodes). */
export const IMMEDIATE_RETRIES_MAX = 2;

/** What the loop will do after a failure, as data (tested without running anything). */
export type RetryStep = { readonly kind: 'stop' } | { readonly kind: 'wait'; readonly delayMs: number };

export function nextStep(verdict: Verdict, retriesDone: number, immediateInARow: number, nowMs: number, limits: RetryLimits, random: () => number): RetryStep {
  if (verdict === 'fail' || retriesDone >= limits.retriesMax) return { kind: 'stop' };
  const delayMs = verdict === 'retryNow' && immediateInARow < IMMEDIATE_RETRIES_MAX ? 0 : backoffDelayMs(retriesDone, limits, random);
  if (nowMs + delayMs >= limits.deadlineAtMs) return { kind: 'stop' };
  return { kind: 'wait', delayMs };
}

/** The default judgement: retry what the error says is retriable. */
export function retryIfRetriable(e: KeelError): Verdict {
  return e.retriable ? 'retry' : 'fail';
}

export async function withRetries<T>(
  env: ClientEnv,
  limits: RetryLimits,
  attempt: (n: number) => Promise<T>,
  judge: (e: KeelError, n: number) => Verdict = retryIfRetriable,
): Promise<T> {
  let immediateInARow = 0;
  for (let n = 0; ; n++) {
    try {
      return await attempt(n);
    } catch (e) {
      if (!isKeelError(e)) throw e;
      const verdict = judge(e, n);
      const step = nextStep(verdict, n, immediateInARow, env.now(), limits, () => env.random());
      if (step.kind === 'stop') throw e;
      immediateInARow = step.delayMs === 0 ? immediateInARow + 1 : 0;
      if (step.delayMs > 0) await sleep(env, step.delayMs);
    }
  }
}
