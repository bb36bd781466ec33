// The leader's view of one follower (etcd's tracker/progress.go): how much of the log it is known to
// hold (match), what to send next (next), and how to send it (probe / replicate / snapshot).
import { assert } from '../assert.ts';
import type { Index, Snapshot } from '../types.ts';
import { Inflights } from './inflights.ts';

/**
 * probe: next is a guess; send one MsgApp and wait for the answer before sending more.
 * replicate: the follower is known to match; stream MsgApps optimistically within the inflight window.
 * snapshot: the entries it needs were compacted; send a snapshot and wait for it to be applied.
 */
export type ProgressState = 'probe' | 'replicate' | 'snapshot';

/** An InstallSnapshot transfer in progress, chunk by chunk (Raft §7). */
export interface SnapshotTransfer {
  readonly index: Index;
  /** The snapshot being sent; chunks all come from this one even if a newer one is taken meanwhile. */
  readonly snapshot: Snapshot;
  /** Next byte offset to send. */
  offset: number;
  /** Ticks since the last chunk was sent or acknowledged; a stalled transfer is resent after a timeout. */
  idleTicks: number;
  /** True while a chunk is on the wire awaiting its acknowledgement. */
  awaitingAck: boolean;
}

export class Progress {
  /** Highest index known to be durably replicated on the follower. Invariant: match < next; match never decreases. */
  match: Index;
  /** Index of the next entry to send. */
  next: Index;
  state: ProgressState = 'probe';
  /** In snapshot state, the index of the snapshot being sent; else 0. */
  pendingSnapshot: Index = 0 as Index;
  transfer: SnapshotTransfer | null = null;
  /** Heard from within the current check-quorum window (Raft thesis §6.2). */
  recentActive = false;
  /** The leader's tick count when this follower was last heard from (host-visible liveness). */
  lastHeardTick = 0;
  /**
   * The stored snapshot predated this follower's membership and the host was asked for a fresh one.
   * If the next attempt still finds only the old one (the host snapshots at a fixed point, as a
   * partition does at its retention point), the old one is sent: a joining replica accepts it.
   */
  freshSnapshotAsked = false;
  /**
   * Hold further MsgApps until a reply or heartbeat response arrives. In probe state: a probe is
   * outstanding. In replicate state: the inflight window is full (a heartbeat response clears it so one
   * empty MsgApp can find out whether the window's messages were lost).
   */
  msgAppFlowPaused = false;
  /** Highest commit index sent to this follower (so a new commit index is sent once, not per ack). */
  sentCommit: Index = 0 as Index;
  readonly inflights: Inflights;
  isLearner: boolean;

  constructor(next: Index, inflightMessagesMax: number, inflightBytesMax: number, isLearner: boolean) {
    this.match = 0 as Index;
    this.next = next;
    this.inflights = new Inflights(inflightMessagesMax, inflightBytesMax);
    this.isLearner = isLearner;
  }

  private resetState(state: ProgressState): void {
    this.msgAppFlowPaused = false;
    this.pendingSnapshot = 0 as Index;
    this.transfer = null;
    this.state = state;
    this.inflights.reset();
  }

  becomeProbe(): void {
    // After a snapshot, the follower holds at least the snapshot: probe from just past it.
    if (this.state === 'snapshot') {
      const pending = this.pendingSnapshot;
      this.resetState('probe');
      this.next = Math.max(this.match + 1, pending + 1) as Index;
    } else {
      this.resetState('probe');
      this.next = (this.match + 1) as Index;
    }
  }

  becomeReplicate(): void {
    this.resetState('replicate');
    this.next = (this.match + 1) as Index;
  }

  becomeSnapshot(snapshot: Snapshot): void {
    this.resetState('snapshot');
    this.freshSnapshotAsked = false;
    this.pendingSnapshot = snapshot.meta.index;
    this.transfer = { index: snapshot.meta.index, snapshot, offset: 0, idleTicks: 0, awaitingAck: false };
  }

  /**
   * Records that the follower holds everything up to n. Returns false for a stale acknowledgement.
   * Raft Figure 2: matchIndex only increases.
   */
  maybeUpdate(n: Index): boolean {
    let updated = false;
    if (this.match < n) {
      this.match = n;
      updated = true;
      this.msgAppFlowPaused = false;
    }
    if (this.next < n + 1) this.next = (n + 1) as Index;
    return updated;
  }

  /**
   * Handles a rejection of the MsgApp whose previous index was `rejected`, with the follower's hint
   * `matchHint` (the largest index at which its log may match). Returns false if the rejection is stale.
   */
  maybeDecrTo(rejected: Index, matchHint: Index): boolean {
    if (this.state === 'replicate') {
      // A rejection at or below match is out of date: those entries were acknowledged.
      if (rejected <= this.match) return false;
      this.next = (this.match + 1) as Index;
      return true;
    }
    // Probe: only the answer to the probe in flight (prev index = next - 1) counts.
    if (this.next - 1 !== rejected) return false;
    this.next = Math.max(Math.min(rejected, matchHint + 1), this.match + 1) as Index;
    this.msgAppFlowPaused = false;
    return true;
  }

  /** True when the leader should not send this follower more entries right now. */
  isPaused(): boolean {
    switch (this.state) {
      case 'probe':
        return this.msgAppFlowPaused;
      case 'replicate':
        return this.msgAppFlowPaused;
      case 'snapshot':
        return true;
    }
  }

  /** Accounts for a MsgApp carrying `entryCount` entries of `bytes` bytes just sent. */
  sentEntries(entryCount: number, bytes: number): void {
    switch (this.state) {
      case 'replicate':
        if (entryCount > 0) {
          this.next = (this.next + entryCount) as Index;
          this.inflights.add((this.next - 1) as Index, bytes);
        }
        this.msgAppFlowPaused = this.inflights.full();
        return;
      case 'probe':
        if (entryCount > 0) this.msgAppFlowPaused = true;
        return;
      case 'snapshot':
        assert(false, `sending entries to a follower in snapshot state`);
    }
  }
}
