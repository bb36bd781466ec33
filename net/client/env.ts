// What the client library takes from the process: the clock, timers, randomness (backoff jitter) and
// request ids. One object, passed down, so tests replace it with a hand-driven fake and nothing in
// net/client/ reads Date, setTimeout or Math.random directly except the real adapter below.
import { randomUUID } from 'node:crypto';

export type TimerHandle = number;

export interface ClientEnv {
  /** Milliseconds; only differences matter, except that gRPC deadlines are `Date.now()`-based. */
  now(): number;
  setTimer(fn: () => void, delayMs: number): TimerHandle;
  clearTimer(handle: TimerHandle): void;
  /** Uniform in [0, 1). */
  random(): number;
  /** A fresh id for a request that must be applied at most once (CreateTopic, InitProducerId). */
  requestId(): string;
}

/** Resolves after `ms`, or as soon as `signal` aborts (its timer then cleared). */
export function sleep(env: ClientEnv, ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal === undefined) return void env.setTimer(resolve, ms);
    if (signal.aborted) return resolve();
    const done = (): void => {
      env.clearTimer(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = env.setTimer(done, ms);
    signal.addEventListener('abort', done, { once: true });
  });
}

/**
 * The process's clock and timers. Timers stay referenced: a producer's linger timer or a retry's backoff
 * is work the caller is waiting for, so the process must not exit under it.
 */
export function realEnv(): ClientEnv {
  const timers = new Map<TimerHandle, NodeJS.Timeout>();
  let nextHandle = 1;
  return {
    now: () => Date.now(),
    setTimer: (fn, delayMs) => {
      const handle = nextHandle++;
      timers.set(handle, setTimeout(() => {
        timers.delete(handle);
        fn();
      }, Math.max(0, delayMs)));
      return handle;
    },
    clearTimer: (handle) => {
      const t = timers.get(handle);
      if (t === undefined) return;
      clearTimeout(t);
      timers.delete(handle);
    },
    random: () => Math.random(),
    requestId: () => randomUUID(),
  };
}
