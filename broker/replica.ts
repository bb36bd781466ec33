// One Raft group replica on this node: the RawNode, the stable-log mirror it reads (MemoryStorage), the
// group's state machine, and the proposals and reads waiting for an answer. The driver calls collect()
// once per turn; durability-dependent work is queued as a completion of the turn's storage batch.
import type { RaftOptions } from '../raft/config.ts';
import { RawNode } from '../raft/raw-node.ts';
import type { MemoryStorage } from '../raft/storage.ts';
import { NONE, type ConfState, type Entry, type Index, type Message, type NodeId, type Snapshot, type Term } from '../raft/types.ts';
import type { GroupObserver } from './observer.ts';
import type { GroupId, WriteOp } from './ports.ts';
import { entryKey, entryOps, hardStateOps, snapshotKey, encodeSnapshot } from './storage-codec.ts';

/** A group's replicated state machine. Apply is synchronous and deterministic. */
export interface StateMachine {
  /** Applies a committed normal entry (empty entries included); returns the proposer's result. */
  apply(entry: Entry): unknown;
  /** The state at the last applied index, serialized. */
  snapshot(): Uint8Array;
  /** Replaces the state with a snapshot's. */
  restore(data: Uint8Array, index: Index): void;
  /** Membership after an applied conf change or snapshot. */
  onConfState?(cs: ConfState): void;
  /**
   * For state machines whose Raft log is their data (partitions): the index up to which the log may be
   * compacted, with snapshot() describing the state AT that index. Without it, snapshots are taken at
   * the applied index every `snapshotEveryEntries` entries.
   */
  compactableIndex?(): Index;
}

export type ReplicaErrorCode =
  | 'NOT_LEADER' | 'TRANSFER_IN_PROGRESS' | 'UNCOMMITTED_LIMIT' | 'CONF_CHANGE_PENDING' | 'INVALID_CONF_CHANGE'
  | 'PROPOSAL_LOST' | 'OUTCOME_UNKNOWN' | 'REQUEST_TIMED_OUT' | 'GROUP_STOPPED';

export type ProposeOutcome =
  | { readonly ok: true; readonly index: Index; readonly term: Term; readonly result: unknown }
  | { readonly ok: false; readonly code: ReplicaErrorCode; readonly leader: NodeId };

export type ReadOutcome =
  | { readonly ok: true; readonly index: Index }
  | { readonly ok: false; readonly code: 'NOT_LEADER' | 'REQUEST_TIMED_OUT' | 'GROUP_STOPPED'; readonly leader: NodeId };

export interface ReplicaOptions {
  /** Take a snapshot and compact once this many entries were applied since the last one (0 = never). */
  readonly snapshotEveryEntries: number;
  /** Entries kept below a snapshot, so briefly lagging followers catch up from the log. */
  readonly entriesKeptAfterSnapshot: number;
  /** Proposals and reads not answered within this many ticks fail with REQUEST_TIMED_OUT. */
  readonly requestTimeoutTicks: number;
}

/** What a turn collects from every replica: one storage batch and the work that waits for it. */
export interface TurnBatch {
  readonly ops: WriteOp[];
  /** Ops that need no sync of their own: written with the next batch that is written anyway. */
  readonly lazyOps: WriteOp[];
  /** Run in order once the batch (and every earlier one) is durable. */
  readonly completions: (() => void)[];
  send(group: GroupId, m: Message): void;
}

interface PendingProposal {
  readonly term: Term;
  readonly deadline: number;
  readonly done: (o: ProposeOutcome) => void;
}

interface PendingRead {
  readonly deadline: number;
  readonly done: (o: ReadOutcome) => void;
  index: Index;
}

export class Replica {
  readonly raw: RawNode;
  confState: ConfState;
  appliedIndex: Index;
  /** Last entry index handed to a storage write: decides whether a new write replaces a suffix. */
  private writtenLastIndex: Index;
  private lastSnapshotIndex: Index;
  /** Configurations applied since the last snapshot, to snapshot at an earlier index (compactableIndex). */
  private confHistory: { index: Index; cs: ConfState }[] = [];
  private readonly pending = new Map<Index, PendingProposal>();
  private readonly reads = new Map<string, PendingRead>();
  private readSeq = 0;
  /** The leader when the pending reads were asked (a change loses the ones not yet answered). */
  private readsLeader: NodeId = NONE;
  private ticks = 0;
  /** See campaignSoon (0 = none planned). */
  private campaignAtTick = 0;
  private lastTerm = -1;
  private lastRole = '';
  private lastLead = -1;
  private lastCommit = -1;
  private lastLast = -1;
  stopped = false;
  /**
   * Called when a request gave Raft new work (a proposal, a read, a transfer): the driver runs a turn
   * now instead of at the next tick, or a proposal would wait up to a tick before it is sent.
   */
  onWork: () => void = () => {};

  constructor(
    readonly nodeId: NodeId,
    readonly group: GroupId,
    readonly store: MemoryStorage,
    readonly sm: StateMachine,
    raftOptions: Omit<RaftOptions, 'id' | 'storage'>,
    private readonly options: ReplicaOptions,
    private readonly observer: GroupObserver,
    /** This node's incarnation (its process life): read contexts carry it, so no life reuses another's. */
    private readonly incarnation: () => number,
  ) {
    const snap = store.snapshot();
    this.confState = snap.meta.confState;
    this.lastSnapshotIndex = snap.meta.index;
    this.appliedIndex = snap.meta.index;
    this.writtenLastIndex = store.lastIndex();
    if (snap.meta.index > 0) sm.restore(snap.data, snap.meta.index);
    sm.onConfState?.(this.confState);
    this.raw = new RawNode({ ...raftOptions, id: nodeId, storage: store, applied: snap.meta.index });
    observer.recovered?.(nodeId, group, snap.meta, store.allEntries(), store.hardState().commit);
  }

  get isLeader(): boolean {
    return this.raw.raft.role === 'leader';
  }

  get leader(): NodeId {
    return this.raw.raft.lead;
  }

  /** Leader only: voters heard from within the last election timeout, this node included. */
  liveVoters(): number {
    const r = this.raw.raft;
    if (r.role !== 'leader') return 0;
    let n = 0;
    for (const id of r.tracker.voterIds()) if (id === this.nodeId || this.heardFromRecently(id)) n++;
    return n;
  }

  /** Leader only: `id` answered within the last election timeout. */
  heardFromRecently(id: NodeId): boolean {
    const r = this.raw.raft;
    const pr = r.tracker.progress.get(id);
    return r.role === 'leader' && pr !== undefined && r.ticksTotal - pr.lastHeardTick < r.cfg.electionTicks;
  }

  // ---- requests ---------------------------------------------------------------------------

  propose(data: Uint8Array, done: (o: ProposeOutcome) => void): void {
    if (this.stopped) return done({ ok: false, code: 'GROUP_STOPPED', leader: NONE });
    const r = this.raw.propose(data);
    if (!r.ok) {
      const code = r.code === 'NOT_LEADER' || r.code === 'TRANSFER_IN_PROGRESS' || r.code === 'UNCOMMITTED_LIMIT' ? r.code : 'NOT_LEADER';
      return done({ ok: false, code, leader: r.leader });
    }
    this.pending.set(r.index, { term: r.term, deadline: this.ticks + this.options.requestTimeoutTicks, done });
    this.onWork();
  }

  proposeConfChange(cc: Parameters<RawNode['proposeConfChange']>[0], done: (o: ProposeOutcome) => void): void {
    if (this.stopped) return done({ ok: false, code: 'GROUP_STOPPED', leader: NONE });
    const r = this.raw.proposeConfChange(cc);
    if (!r.ok) return done({ ok: false, code: r.code, leader: r.leader });
    this.pending.set(r.index, { term: r.term, deadline: this.ticks + this.options.requestTimeoutTicks, done });
    this.onWork();
  }

  /** A linearizable read point (ReadIndex): done once the state machine has applied it. */
  readIndex(done: (o: ReadOutcome) => void): void {
    if (this.stopped) return done({ ok: false, code: 'GROUP_STOPPED', leader: NONE });
    // Unique across restarts too: an answer to the previous life's read under the same context would
    // carry a read index taken before this read was asked (PITFALLS 14).
    const ctx = `${this.nodeId}.${this.incarnation()}.${this.group}.${++this.readSeq}`;
    const r = this.raw.readIndex(ctx);
    if (!r.ok) return done({ ok: false, code: 'NOT_LEADER', leader: r.leader });
    this.readsLeader = this.leader;
    this.reads.set(ctx, { deadline: this.ticks + this.options.requestTimeoutTicks, done, index: -1 as Index });
    this.onWork();
  }

  /** Leader only: hands leadership to `to` (Raft thesis §3.10), starting at once rather than at the next tick. */
  transferLeader(to: NodeId): ReturnType<RawNode['transferLeader']> {
    const r = this.raw.transferLeader(to);
    this.onWork();
    return r;
  }

  /**
   * Campaigns after `afterTicks` ticks unless a leader is known by then: a new group's preferred replica
   * does so, so a topic gets leaders in a few ticks instead of a randomized election timeout. The delay
   * lets the other replicas learn of the group first (a vote request for a group not yet hosted is
   * dropped); if the early election fails, the usual timeouts take over.
   */
  campaignSoon(afterTicks: number): void {
    this.campaignAtTick = this.ticks + afterTicks;
  }

  tick(): void {
    this.ticks++;
    this.raw.tick();
    if (this.campaignAtTick !== 0 && this.ticks >= this.campaignAtTick) {
      this.campaignAtTick = 0;
      if (this.leader === NONE && !this.stopped) this.raw.campaign();
    }
    if (this.ticks % 8 === 0) this.expire();
  }

  private expire(): void {
    const leader = this.leader;
    for (const [index, p] of this.pending) {
      if (p.deadline > this.ticks) continue;
      this.pending.delete(index);
      p.done({ ok: false, code: 'REQUEST_TIMED_OUT', leader });
    }
    for (const [ctx, r] of this.reads) {
      if (r.deadline > this.ticks) continue;
      this.reads.delete(ctx);
      r.done({ ok: false, code: 'REQUEST_TIMED_OUT', leader });
    }
  }

  step(m: Message): void {
    if (!this.stopped) this.raw.step(m);
  }

  // ---- the turn -----------------------------------------------------------------------------

  collect(batch: TurnBatch): void {
    if (this.stopped || !this.raw.hasReady()) return;
    const rd = this.raw.ready();
    const g = this.group;
    if (rd.snapshot !== null) this.installSnapshot(rd.snapshot, batch);
    if (rd.entries.length > 0) {
      for (const op of entryOps(g, rd.entries, this.writtenLastIndex)) batch.ops.push(op);
      this.writtenLastIndex = (rd.entries[rd.entries.length - 1] as Entry).index;
    }
    if (rd.hardState !== null) {
      // A commit-only change rides along with the next synced write instead of forcing one.
      const target = rd.mustSync ? batch.ops : batch.lazyOps;
      for (const op of hardStateOps(g, rd.hardState)) target.push(op);
    }
    for (const m of rd.messages) batch.send(g, m);
    for (const e of rd.committedEntries) this.applyEntry(e);
    for (const rs of rd.readStates) {
      const r = this.reads.get(rs.context);
      if (r !== undefined) r.index = rs.index;
    }
    this.raw.advance();
    if (rd.persistAck !== null) {
      const { snapshot, entries, hardState, persistedMessages, persistAck } = rd;
      batch.completions.push(() => {
        if (this.stopped) return;
        if (snapshot !== null) this.store.applySnapshot(snapshot);
        this.store.append(entries);
        if (hardState !== null) this.store.setHardState(hardState);
        if (snapshot !== null || entries.length > 0) this.observer.persisted?.(this.nodeId, g, snapshot?.meta ?? null, entries);
        for (const m of persistedMessages) batch.send(g, m);
        this.raw.onPersisted(persistAck);
      });
    }
    this.failReadsOfOldLeader();
    this.answerReads();
    if (this.raw.takeSnapshotRequest()) this.snapshotNow(batch, false);
    else this.maybeCompact(batch);
    this.reportState();
  }

  private installSnapshot(s: Snapshot, batch: TurnBatch): void {
    // The received snapshot replaces the whole log on disk and the state machine now.
    batch.ops.push({ type: 'delRange', gte: entryKey(this.group, 0 as Index), lt: entryKey(this.group, Number.MAX_SAFE_INTEGER as Index) });
    batch.ops.push({ type: 'put', key: snapshotKey(this.group), value: encodeSnapshot(s) });
    this.writtenLastIndex = s.meta.index;
    this.lastSnapshotIndex = s.meta.index;
    this.sm.restore(s.data, s.meta.index);
    this.appliedIndex = s.meta.index;
    this.confState = s.meta.confState;
    this.confHistory = [];
    this.sm.onConfState?.(this.confState);
    this.observer.restored?.(this.nodeId, this.group, s.meta);
    // Proposals the snapshot covers: whether ours made it is unknowable here.
    for (const [index, p] of this.pending) {
      if (index > s.meta.index) continue;
      this.pending.delete(index);
      p.done({ ok: false, code: 'OUTCOME_UNKNOWN', leader: this.leader });
    }
  }

  private applyEntry(e: Entry): void {
    this.appliedIndex = e.index;
    let result: unknown;
    if (e.type === 'conf') {
      this.confState = this.raw.applyConfChangeEntry(e);
      this.confHistory.push({ index: e.index, cs: this.confState });
      this.sm.onConfState?.(this.confState);
    } else {
      result = this.sm.apply(e);
    }
    this.observer.applied?.(this.nodeId, this.group, e);
    const p = this.pending.get(e.index);
    if (p === undefined) return;
    this.pending.delete(e.index);
    // Same index, other term: our entry was overwritten by another leader's and will never commit.
    if (p.term === e.term) p.done({ ok: true, index: e.index, term: e.term, result });
    else p.done({ ok: false, code: 'PROPOSAL_LOST', leader: this.leader });
  }

  /**
   * A read-index request still waiting for its index when leadership moves is lost with the old leader's
   * state (forwarded to a node that died, or dropped when this node stepped down): fail it now, with the
   * new leader as hint, instead of at its timeout. The caller retries.
   */
  private failReadsOfOldLeader(): void {
    const lead = this.leader;
    if (lead === this.readsLeader || this.reads.size === 0) return;
    this.readsLeader = lead;
    for (const [ctx, r] of this.reads) {
      if (r.index >= 0) continue;
      this.reads.delete(ctx);
      r.done({ ok: false, code: 'NOT_LEADER', leader: lead });
    }
  }

  private answerReads(): void {
    if (this.reads.size === 0) return;
    for (const [ctx, r] of this.reads) {
      if (r.index < 0 || r.index > this.appliedIndex) continue;
      this.reads.delete(ctx);
      r.done({ ok: true, index: r.index });
    }
  }

  /** Snapshots the state machine and drops old log entries once enough were applied. */
  private maybeCompact(batch: TurnBatch): void {
    if (this.sm.compactableIndex !== undefined) {
      if (this.sm.compactableIndex() > this.lastSnapshotIndex) this.snapshotNow(batch, true);
      return;
    }
    const every = this.options.snapshotEveryEntries;
    if (every <= 0 || this.appliedIndex - this.lastSnapshotIndex < every) return;
    this.snapshotNow(batch, true);
  }

  /** The configuration in force at `index` (after every conf entry up to it). */
  private confStateAt(index: Index): ConfState {
    let cs = this.store.snapshot().meta.confState;
    for (const h of this.confHistory) if (h.index <= index) cs = h.cs;
    return cs;
  }

  /** Takes a snapshot into this turn's batch, optionally compacting the log up to it. */
  private snapshotNow(batch: TurnBatch, compact: boolean): void {
    const at = this.sm.compactableIndex?.() ?? this.appliedIndex;
    // A received snapshot still being written: the stable log does not reach the applied index yet.
    if (at > this.appliedIndex || at > this.store.lastIndex() || at <= this.store.snapshot().meta.index) return;
    const snap = this.store.createSnapshot(at, this.confStateAt(at), this.sm.snapshot());
    this.lastSnapshotIndex = snap.meta.index;
    this.confHistory = this.confHistory.filter((h) => h.index > at);
    batch.ops.push({ type: 'put', key: snapshotKey(this.group), value: encodeSnapshot(snap) });
    if (!compact) return;
    const kept = this.sm.compactableIndex === undefined ? this.options.entriesKeptAfterSnapshot : 0;
    const compactTo = Math.max(this.store.firstIndex() - 1, snap.meta.index - kept) as Index;
    this.store.compact(compactTo);
    batch.ops.push({ type: 'delRange', gte: entryKey(this.group, 0 as Index), lt: entryKey(this.group, (compactTo + 1) as Index) });
  }

  private reportState(): void {
    if (this.observer.raftState === undefined) return;
    const r = this.raw.raft;
    const last = r.log.lastIndex();
    if (r.term === this.lastTerm && r.role === this.lastRole && r.lead === this.lastLead && r.log.committed === this.lastCommit && last === this.lastLast) return;
    this.lastTerm = r.term;
    this.lastRole = r.role;
    this.lastLead = r.lead;
    this.lastCommit = r.log.committed;
    this.lastLast = last;
    this.observer.raftState(this.nodeId, this.group, { term: r.term, role: r.role, lead: r.lead, commit: r.log.committed, lastIndex: r.log.lastIndex() });
  }

  /** Fails everything waiting (the replica is being stopped or removed). */
  stop(): void {
    this.stopped = true;
    // A pending proposal may already be in other replicas' logs and commit without us: unknown, not refused.
    for (const p of this.pending.values()) p.done({ ok: false, code: 'OUTCOME_UNKNOWN', leader: NONE });
    for (const r of this.reads.values()) r.done({ ok: false, code: 'GROUP_STOPPED', leader: NONE });
    this.pending.clear();
    this.reads.clear();
  }
}
