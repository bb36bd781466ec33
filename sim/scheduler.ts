// The simulator's single event queue: a binary min-heap ordered by (virtual time, sequence number).
// The run loop pops events one by one, synchronously: no Promises or microtasks ever run between two
// events, so a seed fully determines the order of everything.

export interface SimEvent {
  readonly time: number;
  readonly seq: number;
  readonly fn: () => void;
}

export class Scheduler {
  private heap: SimEvent[] = [];
  private seq = 0;
  /** Virtual milliseconds since the start of the run. */
  now = 0;
  /** Events executed so far. */
  executed = 0;
  /** Work queued by the running event to run right after it, at the same virtual time (see World). */
  private readonly immediates: ((() => void) | undefined)[] = [];
  /** Immediates queued; the array keeps its capacity between drains (no regrowth per event). */
  private immediateCount = 0;

  get size(): number {
    return this.heap.length;
  }

  /** Schedules fn at absolute virtual time `time` (never earlier than now). */
  at(time: number, fn: () => void): void {
    const ev: SimEvent = { time: time < this.now ? this.now : time, seq: this.seq++, fn };
    const h = this.heap;
    h.push(ev);
    let i = h.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      const p = h[parent] as SimEvent;
      if (p.time < ev.time || (p.time === ev.time && p.seq < ev.seq)) break;
      h[i] = p;
      i = parent;
    }
    h[i] = ev;
  }

  /**
   * Runs fn right after the current event, before any later event: a node's "as soon as the current
   * work is done" (a driver turn). Cheaper than a heap event, and just as deterministic.
   */
  immediate(fn: () => void): void {
    this.immediates[this.immediateCount++] = fn;
  }

  private drainImmediates(): void {
    // Immediates queued by an immediate run in the same drain, in order.
    for (let i = 0; i < this.immediateCount; i++) {
      const fn = this.immediates[i] as () => void;
      this.immediates[i] = undefined;
      fn();
    }
    this.immediateCount = 0;
  }

  after(delayMs: number, fn: () => void): void {
    this.at(this.now + delayMs, fn);
  }

  private pop(): SimEvent | undefined {
    const h = this.heap;
    const top = h[0];
    if (top === undefined) return undefined;
    const last = h.pop() as SimEvent;
    if (h.length > 0) {
      let i = 0;
      const n = h.length;
      for (;;) {
        const l = 2 * i + 1;
        if (l >= n) break;
        const r = l + 1;
        let c = l;
        const lc = h[l] as SimEvent;
        if (r < n) {
          const rc = h[r] as SimEvent;
          if (rc.time < lc.time || (rc.time === lc.time && rc.seq < lc.seq)) c = r;
        }
        const ce = h[c] as SimEvent;
        if (last.time < ce.time || (last.time === ce.time && last.seq < ce.seq)) break;
        h[i] = ce;
        i = c;
      }
      h[i] = last;
    }
    return top;
  }

  /** Runs events until virtual time `until` (exclusive) or the queue empties, or `stop()` returns true. */
  runUntil(until: number, stop: () => boolean = () => false): void {
    for (;;) {
      const next = this.heap[0];
      if (next === undefined || next.time >= until) break;
      const ev = this.pop() as SimEvent;
      this.now = ev.time;
      this.executed++;
      ev.fn();
      if (this.immediateCount > 0) this.drainImmediates();
      if (stop()) return;
    }
    if (this.now < until) this.now = until;
  }
}
