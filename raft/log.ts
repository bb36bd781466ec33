// The Raft log as the algorithm sees it (etcd's log.go): stable storage followed by unstable entries,
// with the commit and apply cursors.
import { assert } from './assert.ts';
import { UnstableLog } from './log-unstable.ts';
import { limitBytes, type LogStorage } from './storage.ts';
import { entryBytes, type Entry, type Index, type Snapshot, type Term } from './types.ts';

export class RaftLog {
  readonly unstable: UnstableLog;
  /**
   * Highest index known committed. Invariant: applied <= applying <= committed <= lastIndex();
   * never decreases (Raft Figure 2).
   */
  committed: Index;
  /** Highest index handed to the host for applying. */
  applying: Index;
  /** Highest index the host has applied. */
  applied: Index;

  constructor(
    readonly storage: LogStorage,
    /** Upper bound on the bytes of committed entries handed out in one Ready. */
    readonly committedBytesPerReadyMax: number,
  ) {
    const first = storage.firstIndex();
    const last = storage.lastIndex();
    this.unstable = new UnstableLog((last + 1) as Index);
    // Everything a snapshot covers is committed, and the host restores its state machine from the
    // snapshot: start there even if the log keeps entries below it (compaction lags the snapshot).
    const base = Math.max(first - 1, storage.snapshot().meta.index) as Index;
    this.committed = base;
    this.applying = base;
    this.applied = base;
  }

  firstIndex(): Index {
    return this.unstable.maybeFirstIndex() ?? this.storage.firstIndex();
  }

  lastIndex(): Index {
    return this.unstable.maybeLastIndex() ?? this.storage.lastIndex();
  }

  /** Term of entry i, or undefined if i is compacted (below firstIndex - 1) or beyond the last index. */
  term(i: Index): Term | undefined {
    const t = this.unstable.maybeTerm(i);
    if (t !== undefined) return t;
    // The term at firstIndex - 1 stays known after compaction: the next append is matched against it.
    if (i + 1 < this.firstIndex() || i > this.lastIndex()) return undefined;
    return this.storage.term(i);
  }

  lastTerm(): Term {
    const t = this.term(this.lastIndex());
    assert(t !== undefined, `no term for last index ${this.lastIndex()}`);
    return t;
  }

  matchTerm(i: Index, t: Term): boolean {
    return this.term(i) === t;
  }

  /**
   * Raft §5.4.1 election restriction: a log is at least as up to date as ours if its last term is
   * higher, or the last terms are equal and it is at least as long. Term first, then index (PITFALLS 2).
   */
  isUpToDate(lastIndex: Index, lastTerm: Term): boolean {
    const ourTerm = this.lastTerm();
    return lastTerm > ourTerm || (lastTerm === ourTerm && lastIndex >= this.lastIndex());
  }

  /**
   * Index of the first entry in `ents` that conflicts with the log (same index, different term) or
   * is new; 0 if every entry is already present. Raft Figure 2, AppendEntries receiver rule 3:
   * only a real conflict truncates (PITFALLS 13).
   */
  findConflict(ents: readonly Entry[]): Index {
    for (const e of ents) {
      if (!this.matchTerm(e.index, e.term)) return e.index;
    }
    return 0 as Index;
  }

  /**
   * For fast backtracking: the largest index <= i whose term is <= t, with its term. Entries above it
   * cannot match a log whose entry at i has term t. Returns (i, 0) if the search reaches compacted entries.
   */
  findConflictByTerm(i: Index, t: Term): { index: Index; term: Term } {
    let idx = Math.min(i, this.lastIndex());
    for (; idx > 0; idx--) {
      const ourTerm = this.term(idx as Index);
      if (ourTerm === undefined) return { index: idx as Index, term: 0 as Term };
      if (ourTerm <= t) return { index: idx as Index, term: ourTerm };
    }
    return { index: 0 as Index, term: 0 as Term };
  }

  /**
   * AppendEntries receiver logic: if the entry at prev `index` has `logTerm`, append `ents` (truncating
   * only from the first real conflict) and advance the commit index. Returns the last new index, or
   * undefined when the previous entry does not match (Raft §5.3).
   */
  maybeAppend(index: Index, logTerm: Term, committed: Index, ents: readonly Entry[]): Index | undefined {
    if (!this.matchTerm(index, logTerm)) return undefined;
    const lastNew = (index + ents.length) as Index;
    const ci = this.findConflict(ents);
    if (ci !== 0) {
      assert(ci > this.committed, `entry ${ci} conflicts with committed entry (committed ${this.committed})`);
      this.append(ents.slice(ci - (index + 1)));
    }
    this.commitTo(Math.min(committed, lastNew) as Index);
    return lastNew;
  }

  append(ents: readonly Entry[]): Index {
    if (ents.length === 0) return this.lastIndex();
    const after = (ents[0] as Entry).index - 1;
    assert(after >= this.committed, `append after ${after} would overwrite committed ${this.committed}`);
    this.unstable.truncateAndAppend(ents);
    return this.lastIndex();
  }

  /** Commit index never moves backwards (Raft Figure 2; PITFALLS 13). */
  commitTo(toCommit: Index): void {
    if (this.committed < toCommit) {
      assert(toCommit <= this.lastIndex(), `commit ${toCommit} beyond last index ${this.lastIndex()}`);
      this.committed = toCommit;
    }
  }

  /**
   * Leader commit rule with the Figure-8 restriction (Raft §5.4.2): advance to `maxIndex` only if that
   * entry is from the current term `t`; earlier-term entries then commit indirectly.
   */
  maybeCommit(maxIndex: Index, t: Term): boolean {
    if (maxIndex > this.committed && this.term(maxIndex) === t) {
      this.commitTo(maxIndex);
      return true;
    }
    return false;
  }

  appliedTo(i: Index): void {
    assert(i <= this.committed && i >= this.applied, `applied ${i} out of [${this.applied}, ${this.committed}]`);
    this.applied = i;
    if (this.applying < i) this.applying = i;
  }

  /**
   * Highest index that may be handed out for applying: committed and durable locally. Entries that are
   * still being written are held back so the state machine never runs ahead of this node's own disk.
   */
  private maxApplicableIndex(): Index {
    return Math.min(this.committed, this.unstable.offset - 1) as Index;
  }

  hasNextCommittedEnts(): boolean {
    if (this.hasNextOrInProgressSnapshot()) return false;
    return this.applying < this.maxApplicableIndex();
  }

  nextCommittedEnts(): Entry[] {
    if (this.hasNextOrInProgressSnapshot()) return [];
    const lo = (this.applying + 1) as Index;
    const hi = (this.maxApplicableIndex() + 1) as Index;
    if (lo >= hi) return [];
    return this.slice(lo, hi, this.committedBytesPerReadyMax);
  }

  acceptApplying(i: Index): void {
    assert(i <= this.committed && i >= this.applying, `applying ${i} out of [${this.applying}, ${this.committed}]`);
    this.applying = i;
  }

  hasNextUnstableEnts(): boolean {
    return this.unstable.hasNextEntries();
  }

  hasNextOrInProgressSnapshot(): boolean {
    return this.unstable.snapshot !== null;
  }

  snapshot(): Snapshot {
    return this.unstable.snapshot ?? this.storage.snapshot();
  }

  /** Installs a snapshot received from the leader: the log is replaced by it (Raft §7). */
  restore(s: Snapshot): void {
    this.committed = s.meta.index;
    this.unstable.restore(s);
  }

  stableTo(i: Index, t: Term): void {
    this.unstable.stableTo(i, t);
  }

  stableSnapTo(i: Index): void {
    this.unstable.stableSnapTo(i);
  }

  /** Entries in [lo, hi) up to `bytesMax` (at least one), or undefined if lo is compacted. */
  entriesFrom(lo: Index, bytesMax: number, countMax: number): Entry[] | undefined {
    const last = this.lastIndex();
    if (lo > last) return [];
    const hi = Math.min(last + 1, lo + countMax) as Index;
    return this.sliceOrUndefined(lo, hi, bytesMax);
  }

  private sliceOrUndefined(lo: Index, hi: Index, bytesMax: number): Entry[] | undefined {
    if (lo < this.firstIndex()) return undefined;
    return this.slice(lo, hi, bytesMax);
  }

  /** Entries in [lo, hi) across stable storage and the unstable tail. Precondition: firstIndex <= lo <= hi <= last+1. */
  slice(lo: Index, hi: Index, bytesMax: number): Entry[] {
    assert(lo >= this.firstIndex(), `slice(${lo}) compacted (first index ${this.firstIndex()})`);
    assert(hi <= this.lastIndex() + 1 && lo <= hi, `slice [${lo}, ${hi}) beyond last index ${this.lastIndex()}`);
    if (lo === hi) return [];
    const off = this.unstable.offset;
    let ents: Entry[] = [];
    if (lo < off) {
      ents = this.storage.entries(lo, Math.min(hi, off) as Index, bytesMax);
      // Storage stopped early on the byte limit: do not reach into the unstable tail.
      if (ents.length < Math.min(hi, off) - lo) return ents;
    }
    if (hi > off) {
      const tail = this.unstable.slice(Math.max(lo, off) as Index, hi);
      ents = ents.length === 0 ? tail : ents.concat(tail);
    }
    return limitBytes(ents, bytesMax);
  }

  /** Sum of entry sizes (for uncommitted-size accounting). */
  static bytesOf(ents: readonly Entry[]): number {
    let n = 0;
    for (const e of ents) n += entryBytes(e);
    return n;
  }
}
