// The synchronous API a host drives (etcd's RawNode): tick, step, propose, readIndex, transferLeader,
// then ready() / advance() to collect what to persist, send and apply.
//
// Storage contract (PITFALLS 3, 4, 5) — asynchronous storage writes:
//   1. `ready()` hands out `entries`, `hardState` and `snapshot` to persist, and `messages` that may be
//      sent at once (they depend on nothing unwritten: the leader may send entries before writing them).
//   2. `persistedMessages` (acknowledgements of appends, votes) may leave only once every write handed
//      out so far, this Ready's included, is durable. The host then appends the entries / applies the
//      snapshot to its LogStorage, sends `persistedMessages`, and calls `onPersisted(persistAck)`.
//      Writes complete in the order they were handed out.
//   3. `committedEntries` are committed and durable locally: apply them in order (calling
//      `applyConfChange` for `conf` entries), restore `snapshot` into the state machine if present,
//      then call `advance()` before the next `ready()`.
// A synchronous host does all of this before the next ready(); an asynchronous one (the node driver)
// overlaps writes with new work, and a stale `onPersisted` can never mark newer entries durable.
import { assert } from './assert.ts';
import type { RaftOptions } from './config.ts';
import { Raft } from './raft.ts';
import * as replication from './replication.ts';
import type { ProposeResult, TransferResult } from './replication.ts';
import type { ProgressState } from './tracker/progress.ts';
import {
  NONE, hardStateEqual,
  type ConfChange, type ConfState, type Entry, type HardState, type Index, type Message, type NodeId,
  type RaftRole, type ReadState, type Snapshot, type SoftState, type Term,
} from './types.ts';

/** Handed back through onPersisted() once a Ready's writes (and all earlier ones) are durable. */
export interface PersistAck {
  /** Last entry written by this Ready, or 0 if none. */
  readonly lastIndex: Index;
  readonly lastTerm: Term;
  /** Snapshot written by this Ready, or 0. */
  readonly snapshotIndex: Index;
  /** The candidate's vote for itself in this term becomes countable, or 0. */
  readonly voteTerm: Term;
  /** Our term when the Ready was handed out: completions from an older term mark no entry stable. */
  readonly readyTerm: Term;
}

export interface Ready {
  /** Leader and role, when they changed since the previous Ready. */
  readonly softState: SoftState | null;
  /** Term, vote and commit to persist, when changed. */
  readonly hardState: HardState | null;
  /**
   * True if this Ready's writes must be durable before its persistedMessages leave: entries, a snapshot,
   * or a new term or vote. A change of the commit index alone need not be synced (it is volatile state
   * in Raft): the host may write it lazily, with its next synced write.
   */
  readonly mustSync: boolean;
  /** Entries to persist; they may replace a suffix starting at entries[0].index. */
  readonly entries: readonly Entry[];
  /** A snapshot received from the leader: persist it, and restore the state machine from it. */
  readonly snapshot: Snapshot | null;
  /** Send now. */
  readonly messages: readonly Message[];
  /** Send only after this Ready's writes and all earlier ones are durable. */
  readonly persistedMessages: readonly Message[];
  /** Committed, locally durable entries to apply in order. */
  readonly committedEntries: readonly Entry[];
  /** Answers to read-index requests. */
  readonly readStates: readonly ReadState[];
  /** Non-null when onPersisted() must be called after the writes; null when nothing is awaited. */
  readonly persistAck: PersistAck | null;
}

export type ReadIndexResult = { readonly ok: true } | { readonly ok: false; readonly code: 'NO_LEADER'; readonly leader: NodeId };

export interface ProgressStatus {
  readonly match: Index;
  readonly next: Index;
  readonly state: ProgressState;
  readonly recentActive: boolean;
  readonly isLearner: boolean;
  readonly inflight: number;
}

export interface Status {
  readonly id: NodeId;
  readonly term: Term;
  readonly vote: NodeId;
  readonly commit: Index;
  readonly applied: Index;
  readonly lastIndex: Index;
  readonly firstIndex: Index;
  readonly lead: NodeId;
  readonly role: RaftRole;
  readonly leadTransferee: NodeId;
  readonly config: ConfState;
  /** Leader only: one entry per member. */
  readonly progress: ReadonlyMap<NodeId, ProgressStatus>;
}

export class RawNode {
  readonly raft: Raft;
  private prevSoft: SoftState;
  private prevHard: HardState;
  /** Acks handed out and not yet returned through onPersisted(). */
  private acksOutstanding = 0;
  /** Between ready() and advance(): what the Ready handed out for applying. */
  private applyingIndex: Index | null = null;
  private applyingEntries: readonly Entry[] = [];

  constructor(options: RaftOptions) {
    this.raft = new Raft(options);
    this.prevSoft = this.softState();
    // A term raised at construction (RaftConfig.voteFenceTerm) differs from storage: the first Ready persists it.
    const stored = options.storage.initialState().hardState;
    this.prevHard = stored.term === this.raft.term ? this.hardState() : stored;
  }

  get id(): NodeId {
    return this.raft.id;
  }

  tick(): void {
    this.raft.tick();
  }

  /** Delivers a message from a peer. Messages not addressed to us are ignored. */
  step(m: Message): void {
    if (m.to !== this.raft.id) return;
    this.raft.step(m);
  }

  /** Starts an election now (tests, or a host that wants a leader quickly). */
  campaign(): void {
    this.raft.hup(this.raft.cfg.preVote ? 'preElection' : 'election');
  }

  propose(data: Uint8Array): ProposeResult {
    return replication.propose(this.raft, [data]);
  }

  /** Proposes several entries at once: they get consecutive indexes starting at the returned one. */
  proposeBatch(datas: readonly Uint8Array[]): ProposeResult {
    assert(datas.length > 0, 'empty proposal batch');
    return replication.propose(this.raft, datas);
  }

  proposeConfChange(cc: ConfChange): ProposeResult {
    return replication.proposeConfChange(this.raft, cc);
  }

  /** Applies a committed conf change entry; returns the new configuration (store it with snapshots). */
  applyConfChange(cc: ConfChange): ConfState {
    return this.raft.applyConfChange(cc);
  }

  applyConfChangeEntry(e: Entry): ConfState {
    return this.raft.applyConfChangeEntry(e);
  }

  /**
   * Requests a linearizable read point. The answer arrives in Ready.readStates with the same context;
   * serve the read once the state machine has applied that index. Contexts must be unique in the group
   * (prefix them with the node id). Followers forward to the leader.
   */
  readIndex(context: string): ReadIndexResult {
    const r = this.raft;
    if (r.role === 'leader') {
      replication.handleReadRequest(r, r.id, context);
      return { ok: true };
    }
    if (r.lead === NONE) return { ok: false, code: 'NO_LEADER', leader: NONE };
    r.send({ type: 'readIndex', from: r.id, to: r.lead, term: 0 as Term, context });
    return { ok: true };
  }

  /**
   * True once (then cleared) when the leader must send a snapshot but the stored one is too old to be
   * usable (it predates the recipient's membership): the host should snapshot its state machine at the
   * applied index into its LogStorage.
   */
  takeSnapshotRequest(): boolean {
    const wanted = this.raft.snapshotRequested;
    this.raft.snapshotRequested = false;
    return wanted;
  }

  transferLeader(to: NodeId): TransferResult {
    return replication.transferLeader(this.raft, to);
  }

  private softState(): SoftState {
    return { lead: this.raft.lead, role: this.raft.role };
  }

  private hardState(): HardState {
    return { term: this.raft.term, vote: this.raft.vote, commit: this.raft.log.committed };
  }

  hasReady(): boolean {
    const r = this.raft;
    replication.flushAppends(r);
    if (r.msgs.length > 0 || r.msgsAfterAppend.length > 0 || r.readStates.length > 0) return true;
    if (r.log.hasNextUnstableEnts() || r.log.unstable.nextSnapshot() !== null) return true;
    if (r.log.hasNextCommittedEnts()) return true;
    // Compared field by field: this runs for every group on every turn, mostly to answer no.
    if (r.lead !== this.prevSoft.lead || r.role !== this.prevSoft.role) return true;
    const hard = this.prevHard;
    return r.term !== hard.term || r.vote !== hard.vote || r.log.committed !== hard.commit;
  }

  ready(): Ready {
    assert(this.applyingIndex === null, 'ready() called again before advance()');
    const r = this.raft;
    replication.flushAppends(r);
    const entries = r.log.unstable.nextEntries();
    const snapshot = r.log.unstable.nextSnapshot();
    const hs = this.hardState();
    const hardChanged = !hardStateEqual(hs, this.prevHard);
    const soft = this.softState();
    const softChanged = soft.lead !== this.prevSoft.lead || soft.role !== this.prevSoft.role;

    const committedEntries = r.log.nextCommittedEnts();
    const lastCommitted = committedEntries[committedEntries.length - 1];
    if (lastCommitted !== undefined) r.log.acceptApplying(lastCommitted.index);
    this.applyingIndex = Math.max(lastCommitted?.index ?? 0, snapshot?.meta.index ?? 0, r.log.applied) as Index;
    this.applyingEntries = committedEntries;

    const termOrVoteChanged = hs.term !== this.prevHard.term || hs.vote !== this.prevHard.vote;
    const writes = entries.length > 0 || snapshot !== null || termOrVoteChanged;
    const voteTerm = hardChanged && r.selfVotePending !== 0 ? r.selfVotePending : (0 as Term);
    let messages = r.msgs;
    let persistedMessages = r.msgsAfterAppend;
    let persistAck: PersistAck | null = null;
    if (writes || (persistedMessages.length > 0 && this.acksOutstanding > 0)) {
      const last = entries[entries.length - 1];
      persistAck = {
        lastIndex: last?.index ?? (0 as Index),
        lastTerm: last?.term ?? (0 as Term),
        snapshotIndex: snapshot?.meta.index ?? (0 as Index),
        voteTerm,
        readyTerm: r.term,
      };
      this.acksOutstanding++;
    } else if (persistedMessages.length > 0) {
      // Nothing pending on disk: the acknowledgements describe durable state already.
      messages = messages.length === 0 ? persistedMessages : messages.concat(persistedMessages);
      persistedMessages = [];
    }
    const rd: Ready = {
      softState: softChanged ? soft : null,
      hardState: hardChanged ? hs : null,
      mustSync: writes,
      entries,
      snapshot,
      messages,
      persistedMessages,
      committedEntries,
      readStates: r.readStates,
      persistAck,
    };
    r.msgs = [];
    r.msgsAfterAppend = [];
    r.readStates = [];
    r.log.unstable.acceptInProgress();
    if (hardChanged) this.prevHard = hs;
    if (softChanged) this.prevSoft = soft;
    return rd;
  }

  /** The host applied the Ready's committed entries (and snapshot). */
  advance(): void {
    assert(this.applyingIndex !== null, 'advance() without ready()');
    this.raft.appliedTo(this.applyingIndex, this.applyingEntries);
    this.applyingIndex = null;
    this.applyingEntries = [];
  }

  /** A Ready's writes (and all earlier ones) are durable, and the host's LogStorage holds them. */
  onPersisted(ack: PersistAck): void {
    assert(this.acksOutstanding > 0, 'onPersisted without an outstanding write');
    this.acksOutstanding--;
    this.raft.onPersisted(ack.lastIndex, ack.lastTerm, ack.snapshotIndex, ack.voteTerm, ack.readyTerm);
  }

  status(): Status {
    const r = this.raft;
    const progress = new Map<NodeId, ProgressStatus>();
    if (r.role === 'leader') {
      for (const id of r.tracker.memberIds()) {
        const pr = r.tracker.progress.get(id);
        if (pr === undefined) continue;
        progress.set(id, { match: pr.match, next: pr.next, state: pr.state, recentActive: pr.recentActive, isLearner: pr.isLearner, inflight: pr.inflights.count });
      }
    }
    return {
      id: r.id,
      term: r.term,
      vote: r.vote,
      commit: r.log.committed,
      applied: r.log.applied,
      lastIndex: r.log.lastIndex(),
      firstIndex: r.log.firstIndex(),
      lead: r.lead,
      role: r.role,
      leadTransferee: r.leadTransferee,
      config: r.tracker.confState(),
      progress,
    };
  }
}
