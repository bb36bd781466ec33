// The Clock port on the process's own clocks (DESIGN.md §2). now() is performance.now(): monotonic, so a
// wall-clock step (NTP, a suspended laptop) never makes Raft think time went backwards; wallMs() is only
// for record timestamps. A zero delay is the driver's "run a turn as soon as the current work is done",
// the hottest timer there is: setImmediate runs it right after pending I/O callbacks, which is also what
// lets frames and disk completions that arrived together land in one turn.
import { assert } from '../raft/assert.ts';
import type { Clock, TimerHandle } from '../broker/ports.ts';

/** setTimeout's limit: longer delays would fire at once, so longer timers are re-armed in steps. */
const TIMEOUT_DELAY_MS_MAX = 2 ** 31 - 1;

export interface RealClockOptions {
  /**
   * Timers do not keep the process alive: once the node's servers and sockets are closed the process
   * exits even though a tick timer is still armed. A stopped node then needs no timer bookkeeping.
   */
  readonly unrefTimers?: boolean;
}

type Pending =
  | { readonly kind: 'immediate'; readonly handle: NodeJS.Immediate }
  | { readonly kind: 'timeout'; readonly handle: NodeJS.Timeout };

export class RealClock implements Clock {
  /** Timers armed and not yet fired or cancelled, by handle id. */
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private readonly unref: boolean;

  constructor(options: RealClockOptions = {}) {
    this.unref = options.unrefTimers ?? false;
  }

  now(): number {
    return performance.now();
  }

  wallMs(): number {
    return Date.now();
  }

  setTimer(delayMs: number, fn: () => void): TimerHandle {
    assert(Number.isFinite(delayMs), `timer delay must be finite, got ${delayMs}`);
    assert(delayMs >= 0, `timer delay must not be negative, got ${delayMs}`);
    const id = this.nextId++;
    this.arm(id, delayMs, fn);
    return { id };
  }

  cancelTimer(handle: TimerHandle): void {
    const p = this.pending.get(handle.id);
    if (p === undefined) return; // already fired or cancelled
    this.pending.delete(handle.id);
    if (p.kind === 'immediate') clearImmediate(p.handle);
    else clearTimeout(p.handle);
  }

  /** Cancels every armed timer (a node that stops must not run anything afterwards). */
  cancelAll(): void {
    for (const id of [...this.pending.keys()]) this.cancelTimer({ id });
  }

  /** Timers armed and not yet fired or cancelled. */
  get pendingCount(): number {
    return this.pending.size;
  }

  private arm(id: number, delayMs: number, fn: () => void): void {
    if (delayMs === 0) {
      const handle = setImmediate(() => {
        this.pending.delete(id);
        fn();
      });
      if (this.unref) handle.unref();
      this.pending.set(id, { kind: 'immediate', handle });
      return;
    }
    const stepMs = Math.min(delayMs, TIMEOUT_DELAY_MS_MAX);
    const handle = setTimeout(() => {
      if (delayMs > stepMs) return this.arm(id, delayMs - stepMs, fn);
      this.pending.delete(id);
      fn();
    }, stepMs);
    if (this.unref) handle.unref();
    this.pending.set(id, { kind: 'timeout', handle });
  }
}
