// What producer.flush() waits for: every record sent before the call, until each is acknowledged or
// failed - not records sent afterwards (a busy producer would never finish flushing otherwise). Records
// are numbered in send order; a waiter counts down the unsettled records below its number.

interface Waiter {
  /** Records with an index below this must settle. */
  readonly marker: number;
  /** Of those, how many have not settled. Invariant: > 0 while waiting. */
  remaining: number;
  readonly resolve: () => void;
}

export class FlushTracker {
  private nextIndex = 0;
  /** Records numbered and not yet settled. */
  private unsettled = 0;
  private waiters: Waiter[] = [];

  get pending(): number {
    return this.unsettled;
  }

  /** Numbers a newly accepted record. */
  accepted(): number {
    this.unsettled++;
    return this.nextIndex++;
  }

  /** The record `index` was acknowledged or failed. */
  settled(index: number): void {
    this.unsettled--;
    if (this.waiters.length === 0) return;
    const still: Waiter[] = [];
    for (const w of this.waiters) {
      if (index < w.marker) w.remaining--;
      if (w.remaining === 0) w.resolve();
      else still.push(w);
    }
    this.waiters = still;
  }

  /** Resolves once every record accepted so far has settled. */
  wait(): Promise<void> {
    if (this.unsettled === 0) return Promise.resolve();
    return new Promise((resolve) => {
      this.waiters.push({ marker: this.nextIndex, remaining: this.unsettled, resolve });
    });
  }

  /** A flush is waiting for the record `index` (so it should not linger). */
  awaited(index: number): boolean {
    return this.waiters.some((w) => index < w.marker);
  }
}
