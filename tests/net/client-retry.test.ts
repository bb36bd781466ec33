// The retry schedule of the client (net/client/backoff.ts, retry.ts): exponential backoff with equal
// jitter and a cap, immediate retries after a redirect (bounded, so two nodes pointing at each other do
// not spin), and a loop that stops at retriesMax or at the deadline - on fake timers.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { backoffCeilingMs, backoffDelayMs, validateBackoff } from '../../net/client/backoff.ts';
import { realEnv, type ClientEnv } from '../../net/client/env.ts';
import { KeelError } from '../../net/client/errors.ts';
import { IMMEDIATE_RETRIES_MAX, nextStep, withRetries, type RetryLimits } from '../../net/client/retry.ts';

const policy = { backoffMsMin: 50, backoffMsMax: 2_000 };
const limits = (over: Partial<RetryLimits> = {}): RetryLimits => ({ ...policy, retriesMax: 10, deadlineAtMs: Number.POSITIVE_INFINITY, ...over });
const retriable = (code = 'NOT_CONTROLLER'): KeelError => new KeelError({ code, message: code, retriable: true });

describe('backoff schedule', () => {
  it('doubles from the minimum and stops at the maximum', () => {
    expect([0, 1, 2, 3, 4, 5, 6, 7, 100].map((a) => backoffCeilingMs(a, policy))).toEqual([50, 100, 200, 400, 800, 1_600, 2_000, 2_000, 2_000]);
  });

  it('jitters within [ceiling / 2, ceiling)', () => {
    for (let attempt = 0; attempt < 10; attempt++) {
      const ceiling = backoffCeilingMs(attempt, policy);
      expect(backoffDelayMs(attempt, policy, () => 0)).toBe(ceiling / 2);
      expect(backoffDelayMs(attempt, policy, () => 0.999_999)).toBeLessThan(ceiling);
      expect(backoffDelayMs(attempt, policy, () => 0.999_999)).toBeGreaterThanOrEqual(ceiling - 1);
    }
  });

  it('rejects nonsense bounds', () => {
    expect(validateBackoff(policy)).toBeNull();
    expect(validateBackoff({ backoffMsMin: 0, backoffMsMax: 10 })).toMatch(/backoffMsMin/);
    expect(validateBackoff({ backoffMsMin: 100, backoffMsMax: 10 })).toMatch(/backoffMsMax/);
  });
});

describe('the next step after a failure', () => {
  it('stops on a final error or after retriesMax retries', () => {
    expect(nextStep('fail', 0, 0, 0, limits(), () => 0)).toEqual({ kind: 'stop' });
    expect(nextStep('retry', 9, 0, 0, limits(), () => 0)).toEqual({ kind: 'wait', delayMs: 1_000 });
    expect(nextStep('retry', 10, 0, 0, limits(), () => 0)).toEqual({ kind: 'stop' });
  });

  it('retries a redirect at once, but only a few times in a row', () => {
    expect(nextStep('retryNow', 3, 0, 0, limits(), () => 0)).toEqual({ kind: 'wait', delayMs: 0 });
    expect(nextStep('retryNow', 3, IMMEDIATE_RETRIES_MAX - 1, 0, limits(), () => 0)).toEqual({ kind: 'wait', delayMs: 0 });
    expect(nextStep('retryNow', 3, IMMEDIATE_RETRIES_MAX, 0, limits(), () => 0)).toEqual({ kind: 'wait', delayMs: 200 });
  });

  it('does not start an attempt at or past the deadline', () => {
    expect(nextStep('retry', 0, 0, 1_000, limits({ deadlineAtMs: 1_030 }), () => 0)).toEqual({ kind: 'wait', delayMs: 25 });
    expect(nextStep('retry', 0, 0, 1_000, limits({ deadlineAtMs: 1_025 }), () => 0)).toEqual({ kind: 'stop' });
  });
});

describe('the retry loop', () => {
  let env: ClientEnv;
  beforeEach(() => {
    vi.useFakeTimers();
    env = { ...realEnv(), random: () => 0 };
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('waits the schedule between attempts and returns the first success', async () => {
    const times: number[] = [];
    const start = Date.now();
    const p = withRetries(env, limits(), async (n) => {
      times.push(Date.now() - start);
      if (n < 3) throw retriable();
      return 'ok';
    });
    await vi.runAllTimersAsync();
    await expect(p).resolves.toBe('ok');
    expect(times).toEqual([0, 25, 75, 175]);
  });

  it('gives up after retriesMax retries with the last error', async () => {
    let attempts = 0;
    const p = withRetries(env, limits({ retriesMax: 2 }), async () => {
      attempts++;
      throw retriable(`E${attempts}`);
    });
    const settled = p.catch((e: unknown) => e);
    await vi.runAllTimersAsync();
    expect(await settled).toMatchObject({ code: 'E3' });
    expect(attempts).toBe(3);
  });

  it('fails at once on an error the judge calls final, and passes programming errors through', async () => {
    let attempts = 0;
    await expect(withRetries(env, limits(), async () => {
      attempts++;
      throw new KeelError({ code: 'INVALID_TOPIC', message: 'bad name' });
    })).rejects.toMatchObject({ code: 'INVALID_TOPIC' });
    expect(attempts).toBe(1);
    await expect(withRetries(env, limits(), async () => {
      throw new TypeError('bug');
    })).rejects.toBeInstanceOf(TypeError);
  });

  it('stops at the deadline', async () => {
    const start = Date.now();
    let attempts = 0;
    const p = withRetries(env, limits({ deadlineAtMs: start + 100 }), async () => {
      attempts++;
      throw retriable();
    }).catch((e: unknown) => e);
    await vi.runAllTimersAsync();
    expect(await p).toBeInstanceOf(KeelError);
    // attempts at 0, 25, 75; the next would start at 175 > 100.
    expect(attempts).toBe(3);
  });
});
