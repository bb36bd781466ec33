// The read side of the log that Raft sees (etcd's Storage interface) and an in-memory implementation.
// The host owns durability: it writes what Ready hands it to disk, and only after the write is durable
// does it append here (stable entries). Raft keeps not-yet-durable entries itself (log-unstable.ts).
import { assert } from './assert.ts';
import {
  EMPTY_HARD_STATE, EMPTY_SNAPSHOT, entryBytes,
  type ConfState, type Entry, type HardState, type Index, type Snapshot, type Term,
} from './types.ts';

export interface LogStorage {
  /** Hard state and configuration saved before a restart. */
  initialState(): { hardState: HardState; confState: ConfState };
  /**
   * Entries in [lo, hi), at least one if lo < hi, and at most `bytesMax` bytes beyond the first.
   * Precondition: firstIndex() <= lo <= hi <= lastIndex() + 1.
   */
  entries(lo: Index, hi: Index, bytesMax: number): Entry[];
  /** Term of entry i for firstIndex()-1 <= i <= lastIndex(); undefined outside that range. */
  term(i: Index): Term | undefined;
  /** Index of the first entry still available (snapshot index + 1). */
  firstIndex(): Index;
  lastIndex(): Index;
  /** The most recent snapshot. */
  snapshot(): Snapshot;
}

/** Takes entries from `ents` while they fit in `bytesMax` (always at least one). */
export function limitBytes(ents: Entry[], bytesMax: number): Entry[] {
  if (ents.length === 0) return ents;
  let size = entryBytes(ents[0] as Entry);
  let n = 1;
  for (; n < ents.length; n++) {
    size += entryBytes(ents[n] as Entry);
    if (size > bytesMax) break;
  }
  return n === ents.length ? ents : ents.slice(0, n);
}

/**
 * Stable log in memory: the latest snapshot, plus the entries after a compaction point.
 * Invariant: ents[k].index === compactedIndex + 1 + k; compactedIndex <= lastIndex();
 * the snapshot index may lie above compactedIndex (entries kept for slow followers).
 */
export class MemoryStorage implements LogStorage {
  private hard: HardState = EMPTY_HARD_STATE;
  private snap: Snapshot = EMPTY_SNAPSHOT;
  private ents: Entry[] = [];
  /** Index of the last entry dropped by compaction (or covered by an applied snapshot). */
  private compactedIndex: Index = 0 as Index;
  /** Term of the entry at compactedIndex, kept for the log-matching check of the next append. */
  private compactedTerm: Term = 0 as Term;

  initialState(): { hardState: HardState; confState: ConfState } {
    return { hardState: this.hard, confState: this.snap.meta.confState };
  }

  hardState(): HardState {
    return this.hard;
  }

  setHardState(hs: HardState): void {
    this.hard = hs;
  }

  firstIndex(): Index {
    return (this.compactedIndex + 1) as Index;
  }

  lastIndex(): Index {
    return (this.compactedIndex + this.ents.length) as Index;
  }

  term(i: Index): Term | undefined {
    if (i === this.compactedIndex) return this.compactedTerm;
    if (i < this.compactedIndex || i > this.lastIndex()) return undefined;
    return (this.ents[i - this.compactedIndex - 1] as Entry).term;
  }

  entries(lo: Index, hi: Index, bytesMax: number): Entry[] {
    assert(lo >= this.firstIndex(), `entries(${lo}) below first index ${this.firstIndex()}`);
    assert(hi <= this.lastIndex() + 1, `entries(.., ${hi}) beyond last index ${this.lastIndex()}`);
    const offset = this.compactedIndex + 1;
    return limitBytes(this.ents.slice(lo - offset, hi - offset), bytesMax);
  }

  /** Every stored entry after the compaction point (tests, recovery). */
  allEntries(): readonly Entry[] {
    return this.ents;
  }

  snapshot(): Snapshot {
    return this.snap;
  }

  /** Appends durable entries, replacing any conflicting suffix. Entries at or below the compaction point are ignored. */
  append(entries: readonly Entry[]): void {
    if (entries.length === 0) return;
    const first = this.firstIndex();
    const from = (entries[0] as Entry).index;
    assert(from <= this.lastIndex() + 1, `append at ${from} leaves a gap after ${this.lastIndex()}`);
    let toAdd = entries;
    if (from < first) {
      toAdd = entries.slice(first - from);
      if (toAdd.length === 0) return;
    }
    const start = (toAdd[0] as Entry).index - first;
    if (start < this.ents.length) this.ents.length = start;
    for (const e of toAdd) this.ents.push(e);
  }

  /** Replaces the whole log with a snapshot (received from the leader, or loaded at restart). */
  applySnapshot(s: Snapshot): void {
    if (s.meta.index < this.snap.meta.index) return;
    this.snap = s;
    this.ents = [];
    this.compactedIndex = s.meta.index;
    this.compactedTerm = s.meta.term;
  }

  /**
   * Records a snapshot of the state machine at index i (compacted point <= i <= lastIndex), keeping
   * the entries; compact() releases them later.
   */
  createSnapshot(i: Index, confState: ConfState, data: Uint8Array): Snapshot {
    assert(i >= this.snap.meta.index, `snapshot at ${i} older than ${this.snap.meta.index}`);
    assert(i <= this.lastIndex(), `snapshot at ${i} beyond last index ${this.lastIndex()}`);
    const t = this.term(i);
    assert(t !== undefined, `no term for snapshot index ${i}`);
    this.snap = { meta: { index: i, term: t, confState }, data };
    return this.snap;
  }

  /** Drops entries up to and including i. Precondition: a snapshot covers i (i <= snapshot index). */
  compact(i: Index): void {
    if (i <= this.compactedIndex) return;
    assert(i <= this.snap.meta.index, `compact(${i}) beyond snapshot ${this.snap.meta.index}: snapshot first`);
    const t = this.term(i);
    assert(t !== undefined, `compact(${i}): no term`);
    this.ents = this.ents.slice(i - this.compactedIndex);
    this.compactedIndex = i;
    this.compactedTerm = t;
  }
}
