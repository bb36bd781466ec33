// Entries and a snapshot that are not yet durable (etcd's log_unstable.go). The host is handed them by
// Ready; once the write is durable it reports back and they move to stable storage.
import { assert } from './assert.ts';
import type { Entry, Index, Snapshot, Term } from './types.ts';

export class UnstableLog {
  /** An incoming snapshot not yet durable, or null. */
  snapshot: Snapshot | null = null;
  /** Entries not yet durable. Invariant: entries[k].index === offset + k. */
  entries: Entry[] = [];
  offset: Index;
  /** The snapshot was handed to the host and is being written. */
  snapshotInProgress = false;
  /**
   * entries[0 .. offsetInProgress - offset) were handed to the host and are being written.
   * Invariant: offset <= offsetInProgress <= offset + entries.length.
   */
  offsetInProgress: Index;

  constructor(offset: Index) {
    this.offset = offset;
    this.offsetInProgress = offset;
  }

  /** First index if a snapshot is pending (the log then starts right after it). */
  maybeFirstIndex(): Index | undefined {
    return this.snapshot === null ? undefined : ((this.snapshot.meta.index + 1) as Index);
  }

  maybeLastIndex(): Index | undefined {
    if (this.entries.length > 0) return (this.offset + this.entries.length - 1) as Index;
    return this.snapshot === null ? undefined : this.snapshot.meta.index;
  }

  maybeTerm(i: Index): Term | undefined {
    if (i < this.offset) {
      if (this.snapshot !== null && this.snapshot.meta.index === i) return this.snapshot.meta.term;
      return undefined;
    }
    const last = this.maybeLastIndex();
    if (last === undefined || i > last) return undefined;
    return (this.entries[i - this.offset] as Entry).term;
  }

  /** Whether nextEntries() would return any (without building the array). */
  hasNextEntries(): boolean {
    return this.offsetInProgress - this.offset < this.entries.length;
  }

  /** Entries not yet handed to the host for writing. */
  nextEntries(): Entry[] {
    const inProgress = this.offsetInProgress - this.offset;
    if (inProgress === this.entries.length) return [];
    return this.entries.slice(inProgress);
  }

  nextSnapshot(): Snapshot | null {
    return this.snapshot === null || this.snapshotInProgress ? null : this.snapshot;
  }

  /** Marks everything currently unstable as handed to the host. */
  acceptInProgress(): void {
    if (this.entries.length > 0) this.offsetInProgress = (this.offset + this.entries.length) as Index;
    if (this.snapshot !== null) this.snapshotInProgress = true;
  }

  /**
   * The host made entries up to (i, t) durable. Ignored unless the unstable entry at i still has term t:
   * a stale acknowledgement must not mark a newer entry at the same index durable (the async-append
   * ABA race, PITFALLS 5).
   */
  stableTo(i: Index, t: Term): void {
    const gt = this.maybeTerm(i);
    if (gt === undefined) return;
    if (i < this.offset) return; // matched the pending snapshot, not an entry
    if (gt !== t) return;
    const n = i + 1 - this.offset;
    this.entries = this.entries.slice(n);
    this.offset = (i + 1) as Index;
    if (this.offsetInProgress < this.offset) this.offsetInProgress = this.offset;
  }

  stableSnapTo(i: Index): void {
    if (this.snapshot !== null && this.snapshot.meta.index === i) {
      this.snapshot = null;
      this.snapshotInProgress = false;
    }
  }

  restore(s: Snapshot): void {
    this.offset = (s.meta.index + 1) as Index;
    this.offsetInProgress = this.offset;
    this.entries = [];
    this.snapshot = s;
    this.snapshotInProgress = false;
  }

  /** Appends entries starting at ents[0].index, replacing whatever unstable suffix they overlap. */
  truncateAndAppend(ents: readonly Entry[]): void {
    if (ents.length === 0) return;
    const from = (ents[0] as Entry).index;
    const end = this.offset + this.entries.length;
    if (from === end) {
      for (const e of ents) this.entries.push(e);
    } else if (from <= this.offset) {
      // Replaces everything unstable; the new entries start a fresh write.
      this.offset = from;
      this.offsetInProgress = from;
      this.entries = ents.slice();
    } else {
      this.entries = this.entries.slice(0, from - this.offset);
      for (const e of ents) this.entries.push(e);
      if (this.offsetInProgress > from) this.offsetInProgress = from;
    }
  }

  /** Entries in [lo, hi), all unstable. */
  slice(lo: Index, hi: Index): Entry[] {
    assert(lo >= this.offset && hi <= this.offset + this.entries.length && lo <= hi, `unstable slice [${lo}, ${hi}) out of [${this.offset}, ${this.offset + this.entries.length})`);
    return this.entries.slice(lo - this.offset, hi - this.offset);
  }
}
