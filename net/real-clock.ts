// The Clock port on the process's own clocks (DESIGN.md §2). now() is performance.now(): monotonic, so a
// wall-clock step (NTP, a suspended laptop) never makes Raft think time went backwards; wallMs() is only
// for record timestamps.
//
// A zero delay is the driver's "run a turn as soon as the current work is done", the hottest timer there
// is: a request, a frame and a disk completion each wake a turn, on every hop of a produce. Two ways to
// run it, chosen per timer:
// - soon (a microtask): right after the callback that armed it, and after everything that callback's
//   socket read delivered. Used while the node is idle, where each hop's wait is pure latency: on this
//   2-core machine setImmediate waited 10-30 us per hop, 60-70 us over produce-seq's critical path.
// - setImmediate: after every I/O callback of this pass of the event loop, so requests, frames and disk
//   completions that arrived together land in one turn. Used while `isBusy()` says so (the node has a
//   disk write in flight: what arrives now goes into the next write anyway, and under load one turn per
//   pass keeps frames and writes few; with microtasks alone produce-c64 took 6x the turns and 3x the
//   frames), and for a zero delay armed by a soon timer (a turn asking for another), so turns that keep
//   finding work never starve I/O.
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
  /** While true, zero-delay timers wait for setImmediate (see the header); default: never busy. */
  readonly isBusy?: () => boolean;
}

type Pending =
  | { readonly kind: 'soon' }
  | { readonly kind: 'immediate'; readonly handle: NodeJS.Immediate }
  | { readonly kind: 'timeout'; readonly handle: NodeJS.Timeout };

const SOON: Pending = { kind: 'soon' };

export class RealClock implements Clock {
  /** Timers armed and not yet fired or cancelled, by handle id. */
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private readonly unref: boolean;
  private readonly isBusy: () => boolean;
  /** A soon timer's callback is running: a zero delay it arms waits for setImmediate. */
  private runningSoon = false;

  constructor(options: RealClockOptions = {}) {
    this.unref = options.unrefTimers ?? false;
    this.isBusy = options.isBusy ?? (() => false);
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
    // A queued microtask cannot be withdrawn: it finds its id gone from `pending` and does nothing.
    if (p.kind === 'immediate') clearImmediate(p.handle);
    else if (p.kind === 'timeout') clearTimeout(p.handle);
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
    if (delayMs === 0 && !this.runningSoon && !this.isBusy()) {
      this.pending.set(id, SOON);
      queueMicrotask(() => this.runSoon(id, fn));
      return;
    }
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

  private runSoon(id: number, fn: () => void): void {
    if (!this.pending.delete(id)) return; // cancelled
    this.runningSoon = true;
    try {
      fn();
    } finally {
      this.runningSoon = false;
    }
  }
}
