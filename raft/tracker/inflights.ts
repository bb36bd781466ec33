// The bounded window of in-flight MsgApps to one follower (etcd's tracker/inflights.go).
// Each slot records the last index a message carried and its size, so an acknowledgement of
// index i frees every message ending at or below i. Bounded both by count and by bytes.
import { assert } from '../assert.ts';
import type { Index } from '../types.ts';

export class Inflights {
  /** Ring buffer of the last index of each in-flight message; slot (start + k) % capacity is the k-th oldest. */
  private readonly indexes: number[];
  private readonly sizes: number[];
  private start = 0;
  /** Number of messages in flight. Invariant: 0 <= count <= messagesMax. */
  count = 0;
  /** Sum of the sizes of messages in flight. */
  bytes = 0;

  constructor(
    readonly messagesMax: number,
    /** 0 means unbounded. */
    readonly bytesMax: number,
  ) {
    assert(messagesMax > 0, 'inflight messagesMax must be positive');
    this.indexes = new Array<number>(messagesMax).fill(0);
    this.sizes = new Array<number>(messagesMax).fill(0);
  }

  clone(): Inflights {
    const c = new Inflights(this.messagesMax, this.bytesMax);
    for (let k = 0; k < this.count; k++) {
      const slot = (this.start + k) % this.messagesMax;
      c.add(this.indexes[slot] as Index, this.sizes[slot] as number);
    }
    return c;
  }

  /** Records a message ending at `last` of `size` bytes. Callers check full() first. */
  add(last: Index, size: number): void {
    assert(!this.full(), 'inflights: add while full');
    if (this.count > 0) {
      const newest = this.indexes[(this.start + this.count - 1) % this.messagesMax] as number;
      assert(last > newest, `inflights: index ${last} not above newest ${newest}`);
    }
    const slot = (this.start + this.count) % this.messagesMax;
    this.indexes[slot] = last;
    this.sizes[slot] = size;
    this.count++;
    this.bytes += size;
  }

  /** Frees every in-flight message whose last index is <= `to`. */
  freeLE(to: Index): void {
    while (this.count > 0) {
      const slot = this.start;
      if ((this.indexes[slot] as number) > to) break;
      this.bytes -= this.sizes[slot] as number;
      this.start = (this.start + 1) % this.messagesMax;
      this.count--;
    }
    if (this.count === 0) this.start = 0;
  }

  full(): boolean {
    return this.count === this.messagesMax || (this.bytesMax > 0 && this.bytes >= this.bytesMax);
  }

  reset(): void {
    this.count = 0;
    this.bytes = 0;
    this.start = 0;
  }
}
