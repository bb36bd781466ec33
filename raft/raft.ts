// The Raft state machine: roles, terms, votes and the message dispatch common to every role
// (Raft §5; etcd's raft.go). Role-specific handling lives in step-leader.ts and step-follower.ts;
// what the leader sends lives in replication.ts. Roles switch by swapping `stepFn` and `tickFn`.
import { assert } from './assert.ts';
import { applyConfChange as changeConfig, restoreConfState, type ConfChangeResult } from './confchange.ts';
import { decodeConfChange } from './confchange-codec.ts';
import { resolveConfig, type RaftConfig, type RaftOptions } from './config.ts';
import { RaftLog } from './log.ts';
import { ReadOnlyQueue } from './read-only.ts';
import { ProgressTracker } from './tracker/tracker.ts';
import {
  NONE, entryBytes,
  type ConfChange, type ConfState, type Entry, type Index, type Message, type MsgVote, type NodeId,
  type RaftRole, type ReadState, type Term,
} from './types.ts';
import * as replication from './replication.ts';
import { stepLeader } from './step-leader.ts';
import { stepCandidate, stepFollower } from './step-follower.ts';

export type StepFn = (r: Raft, m: Message) => void;

/** Snapshot chunks being received from a leader (Raft §7, InstallSnapshot with offset). */
export interface SnapshotReceive {
  readonly from: NodeId;
  readonly term: Term;
  readonly meta: { readonly index: Index; readonly term: Term; readonly confState: ConfState };
  readonly totalBytes: number;
  readonly chunks: Uint8Array[];
  received: number;
}

export type CampaignKind = 'preElection' | 'election' | 'transfer';

export class Raft {
  readonly id: NodeId;
  readonly cfg: RaftConfig;
  /** Current term. Invariant: never decreases (Raft Figure 2, "latest term server has seen"). */
  term: Term = 0 as Term;
  /** Candidate voted for in `term`, or NONE. At most one per term (Raft §5.2). */
  vote: NodeId = NONE;
  role: RaftRole = 'follower';
  /** Known leader of `term`, or NONE. */
  lead: NodeId = NONE;
  /** This node is a learner in its current configuration (it never campaigns). */
  isLearner = false;
  readonly log: RaftLog;
  readonly tracker: ProgressTracker;
  readonly readOnly: ReadOnlyQueue;

  /** Messages that may leave now. */
  msgs: Message[] = [];
  /** Messages that may leave only once everything handed to the host so far is durable (PITFALLS 3, 4). */
  msgsAfterAppend: Message[] = [];
  readStates: ReadState[] = [];

  /** Leadership transfer target, or NONE (thesis §3.10). */
  leadTransferee: NodeId = NONE;
  /** A conf change may be proposed only once this index is applied: one pending change at a time. */
  pendingConfIndex: Index = 0 as Index;
  /** Bytes of the leader's uncommitted tail (proposals refused beyond uncommittedBytesMax). */
  uncommittedBytes = 0;
  /** Read requests received by a leader before it committed an entry of its term (thesis §6.4). */
  pendingReadRequests: { from: NodeId; context: string }[] = [];
  /** The leader has new entries or a new commit index to send; flushed once per Ready. */
  appendsDirty = false;
  /** The candidate's self-vote for this term waits until term and vote are durable. */
  selfVotePending: Term = 0 as Term;
  snapshotReceive: SnapshotReceive | null = null;
  /** The leader needs a newer snapshot than storage holds (see RawNode.takeSnapshotRequest). */
  snapshotRequested = false;

  electionElapsed = 0;
  heartbeatElapsed = 0;
  /** Ticks since this node started (for the host's view of follower liveness). */
  ticksTotal = 0;
  randomizedElectionTimeout = 0;
  stepFn: StepFn = stepFollower;
  tickFn: (r: Raft) => void = tickElection;

  constructor(options: RaftOptions) {
    this.cfg = resolveConfig(options);
    this.id = this.cfg.id;
    this.log = new RaftLog(this.cfg.storage, this.cfg.committedBytesPerReadyMax);
    this.tracker = new ProgressTracker(this.cfg.inflightMessagesMax, this.cfg.inflightBytesMax);
    this.readOnly = new ReadOnlyQueue(this.cfg.readRequestsMax);

    const { hardState, confState } = this.cfg.storage.initialState();
    this.switchToConfig(restoreConfState(this.tracker, confState, this.log.lastIndex()));
    if (hardState.term !== 0 || hardState.vote !== NONE || hardState.commit !== 0) {
      assert(hardState.commit <= this.log.lastIndex(), `hard state commit ${hardState.commit} beyond last index ${this.log.lastIndex()}`);
      // Entries under the snapshot are committed whatever the stored commit says: a commit-only change
      // may be written lazily (Ready.mustSync), so a snapshot can be newer than the stored commit.
      if (hardState.commit > this.log.committed) this.log.committed = hardState.commit;
      this.term = hardState.term;
      this.vote = hardState.vote;
    }
    const applied = this.cfg.applied ?? (0 as Index);
    if (applied > this.log.applied) this.log.appliedTo(Math.min(applied, this.log.committed) as Index);
    if (this.term < this.cfg.voteFenceTerm) {
      // A replaced disk: start at the fence term, with no vote (RawNode persists the raise first).
      this.term = this.cfg.voteFenceTerm;
      this.vote = NONE;
    }
    this.becomeFollower(this.term, NONE);
  }

  logInfo(message: string): void {
    this.cfg.logger.info(`${this.id} [term ${this.term}] ${message}`);
  }

  // ---- roles ----------------------------------------------------------------------------------

  private reset(t: Term): void {
    if (this.term !== t) {
      assert(t > this.term, `term going backwards: ${this.term} -> ${t}`);
      this.term = t;
      this.vote = NONE;
    }
    this.lead = NONE;
    this.electionElapsed = 0;
    this.heartbeatElapsed = 0;
    this.randomizedElectionTimeout = this.cfg.electionTicks + this.cfg.rng.nextInt(this.cfg.electionTicks);
    this.abortLeaderTransfer();
    this.tracker.resetVotes();
    const last = this.log.lastIndex();
    for (const [id, pr] of this.tracker.progress) {
      pr.match = 0 as Index;
      pr.next = (last + 1) as Index;
      pr.state = 'probe';
      pr.pendingSnapshot = 0 as Index;
      pr.transfer = null;
      pr.msgAppFlowPaused = false;
      pr.sentCommit = 0 as Index;
      pr.inflights.reset();
      // The leader's own match is what this node holds durably: unstable entries count once written.
      if (id === this.id) pr.match = (this.log.unstable.offset - 1) as Index;
    }
    this.pendingConfIndex = 0 as Index;
    this.uncommittedBytes = 0;
    this.pendingReadRequests = [];
    this.selfVotePending = 0 as Term;
    this.appendsDirty = false;
    for (const req of this.readOnly.clear()) this.rejectRead(req.from, req.context);
  }

  becomeFollower(t: Term, lead: NodeId): void {
    this.stepFn = stepFollower;
    this.reset(t);
    this.tickFn = tickElection;
    this.lead = lead;
    this.role = 'follower';
  }

  becomeCandidate(): void {
    assert(this.role !== 'leader', 'leader cannot become candidate');
    this.stepFn = stepCandidate;
    this.reset((this.term + 1) as Term);
    this.tickFn = tickElection;
    this.vote = this.id;
    this.role = 'candidate';
    this.logInfo('became candidate');
  }

  /** Pre-vote (thesis §9.6) changes neither term nor vote: a partitioned node cannot inflate terms. */
  becomePreCandidate(): void {
    assert(this.role !== 'leader', 'leader cannot become pre-candidate');
    this.stepFn = stepCandidate;
    this.tracker.resetVotes();
    this.tickFn = tickElection;
    this.lead = NONE;
    this.role = 'preCandidate';
    this.logInfo('became pre-candidate');
  }

  becomeLeader(): void {
    assert(this.role !== 'follower', 'follower cannot become leader directly');
    this.stepFn = stepLeader;
    this.reset(this.term);
    this.tickFn = tickHeartbeat;
    this.lead = this.id;
    this.role = 'leader';
    const self = this.tracker.progress.get(this.id);
    assert(self !== undefined, 'leader without its own progress');
    self.state = 'replicate';
    self.recentActive = true;
    // Any entry in the log may be an unapplied conf change: allow a new one only once all are applied
    // (the single-server-change fix of PITFALLS 8).
    this.pendingConfIndex = this.log.lastIndex();
    // Raft §8: a new leader commits an empty entry of its term, which also commits earlier-term entries.
    const ok = this.appendEntries([{ type: 'normal', data: new Uint8Array(0) }]);
    assert(ok !== undefined, 'empty entry refused at election');
    this.logInfo('became leader');
  }

  promotable(): boolean {
    return this.tracker.isPromotable(this.id);
  }

  /** This replica's disk was replaced and its log does not yet reach the fence term (RaftConfig.voteFenceTerm). */
  fenced(): boolean {
    return this.cfg.voteFenceTerm > 0 && this.log.lastTerm() < this.cfg.voteFenceTerm;
  }

  // ---- ticks and elections --------------------------------------------------------------------

  tick(): void {
    this.ticksTotal++;
    this.tickFn(this);
  }

  pastElectionTimeout(): boolean {
    return this.electionElapsed >= this.randomizedElectionTimeout;
  }

  /** Starts an election if allowed (etcd's hup). */
  hup(kind: CampaignKind): void {
    if (this.role === 'leader') return;
    if (!this.promotable()) return;
    if (this.fenced()) {
      this.logInfo(`cannot campaign: replaced disk, log behind fence term ${this.cfg.voteFenceTerm}`);
      return;
    }
    if (this.hasUnappliedConfChanges()) {
      this.logInfo('cannot campaign: committed conf changes not yet applied');
      return;
    }
    this.campaign(kind);
  }

  private hasUnappliedConfChanges(): boolean {
    if (this.log.applied >= this.log.committed) return false;
    const lo = (this.log.applied + 1) as Index;
    const hi = (this.log.committed + 1) as Index;
    if (lo < this.log.firstIndex()) return false;
    for (const e of this.log.slice(lo, hi, Number.MAX_SAFE_INTEGER)) if (e.type === 'conf') return true;
    return false;
  }

  campaign(kind: CampaignKind): void {
    assert(this.promotable(), 'campaign by a non-promotable node');
    let voteTerm: Term;
    let type: MsgVote['type'];
    if (kind === 'preElection') {
      this.becomePreCandidate();
      type = 'preVote';
      voteTerm = (this.term + 1) as Term;
      // A pre-vote changes no durable state, so the self-vote counts at once.
      this.tracker.recordVote(this.id, true);
    } else {
      this.becomeCandidate();
      type = 'vote';
      voteTerm = this.term;
      // The self-vote counts only once term and vote are durable (onPersisted).
      this.selfVotePending = this.term;
    }
    const lastIndex = this.log.lastIndex();
    const lastTerm = this.log.lastTerm();
    for (const id of this.tracker.voterIds()) {
      if (id === this.id) continue;
      this.send({ type, from: this.id, to: id, term: voteTerm, index: lastIndex, logTerm: lastTerm, transfer: kind === 'transfer' });
    }
    if (kind === 'preElection') this.checkVoteResult();
  }

  /** Counts the votes so far and acts on a decided election. */
  checkVoteResult(): void {
    const { result } = this.tracker.tallyVotes();
    if (result === 'won') {
      if (this.role === 'preCandidate') this.campaign('election');
      else if (this.role === 'candidate') this.becomeLeader();
    } else if (result === 'lost') {
      this.becomeFollower(this.term, NONE);
    }
  }

  // ---- the entry point for messages -----------------------------------------------------------

  step(m: Message): void {
    if (m.term > this.term) {
      if (!this.stepHigherTerm(m)) return;
    } else if (m.term < this.term && m.term !== 0) {
      this.stepLowerTerm(m);
      return;
    }
    if (m.type === 'vote' || m.type === 'preVote') {
      this.handleVoteRequest(m);
      return;
    }
    this.stepFn(this, m);
  }

  /** Returns false if the message must be ignored. */
  private stepHigherTerm(m: Message): boolean {
    if (m.type === 'vote' || m.type === 'preVote') {
      // Leader stickiness (thesis §4.2.3, §9.6): while we hear from a leader within the election
      // timeout, ignore campaigns unless the leader itself asked for it (transfer).
      const inLease = this.cfg.checkQuorum && this.lead !== NONE && this.electionElapsed < this.cfg.electionTicks;
      if (!m.transfer && inLease) {
        this.cfg.logger.debug(`${this.id} ignored ${m.type} from ${m.from} at term ${m.term}: leader lease`);
        return false;
      }
    }
    if (m.type === 'preVote') return true; // a pre-vote never changes our term
    if (m.type === 'preVoteResp' && !m.reject) return true; // granted pre-votes carry the future term
    const lead = m.type === 'app' || m.type === 'heartbeat' || m.type === 'snap' ? m.from : NONE;
    this.logInfo(`received ${m.type} from ${m.from} at higher term ${m.term}`);
    this.becomeFollower(m.term, lead);
    return true;
  }

  private stepLowerTerm(m: Message): void {
    if ((this.cfg.checkQuorum || this.cfg.preVote) && (m.type === 'heartbeat' || m.type === 'app')) {
      // A stale leader: answer so it learns our term and steps down. This also frees a node whose
      // term rose while partitioned and that can no longer win (thesis §9.6).
      this.send({ type: 'appResp', from: this.id, to: m.from, term: this.term, index: 0 as Index, reject: false, rejectHint: 0 as Index, logTerm: 0 as Term });
    } else if (m.type === 'preVote') {
      this.send({ type: 'preVoteResp', from: this.id, to: m.from, term: this.term, reject: true });
    }
  }

  private handleVoteRequest(m: MsgVote): void {
    const canVote = this.vote === m.from
      || (this.vote === NONE && this.lead === NONE)
      || (m.type === 'preVote' && m.term > this.term);
    const upToDate = this.cfg.plantedBugs.grantVoteWithoutLogCheck === true || this.log.isUpToDate(m.index, m.logTerm);
    const respType = m.type === 'vote' ? 'voteResp' : 'preVoteResp';
    // A replaced disk forgot its votes and acknowledgements: no vote until the fence is passed.
    const fenceAllows = m.term > this.cfg.voteFenceTerm && !this.fenced();
    // Learners answer too: a learner promoted without knowing it yet must still vote (PITFALLS 11).
    if (canVote && upToDate && fenceAllows) {
      // Reply with the request's term: a pre-vote is for a term we have not adopted.
      this.send({ type: respType, from: this.id, to: m.from, term: m.term, reject: false });
      if (m.type === 'vote') {
        // Only a real vote resets the timer (a granted pre-vote must not: PITFALLS 6).
        this.electionElapsed = 0;
        this.vote = m.from;
      }
    } else {
      this.send({ type: respType, from: this.id, to: m.from, term: this.term, reject: true });
    }
  }

  /** Queues a message; responses that depend on durable state wait for the current writes. */
  send(m: Message): void {
    const afterAppend = m.type === 'appResp' || m.type === 'voteResp' || m.type === 'snapResp' || m.type === 'preVoteResp';
    if (afterAppend && !this.plantedEarly(m)) this.msgsAfterAppend.push(m);
    else this.msgs.push(m);
  }

  /** A planted bug lets this reply leave before what it promises is durable (PITFALLS 3, 4). */
  private plantedEarly(m: Message): boolean {
    const bugs = this.cfg.plantedBugs;
    return (m.type === 'appResp' && bugs.ackBeforePersist === true) || (m.type === 'voteResp' && bugs.voteBeforePersist === true);
  }

  // ---- proposals ------------------------------------------------------------------------------

  /**
   * Appends entries at the leader with the current term. Returns the index of the first, or undefined
   * when the uncommitted-bytes bound refuses them (a leader without quorum must not grow unboundedly).
   */
  appendEntries(ents: readonly { type: Entry['type']; data: Uint8Array }[]): Index | undefined {
    const last = this.log.lastIndex();
    let bytes = 0;
    const full: Entry[] = ents.map((e, k) => {
      const entry: Entry = { term: this.term, index: (last + 1 + k) as Index, type: e.type, data: e.data };
      bytes += entry.data.byteLength === 0 ? 0 : entryBytes(entry);
      return entry;
    });
    const max = this.cfg.uncommittedBytesMax;
    if (max > 0 && this.uncommittedBytes > 0 && bytes > 0 && this.uncommittedBytes + bytes > max) return undefined;
    this.uncommittedBytes += bytes;
    this.log.append(full);
    this.appendsDirty = true;
    return (last + 1) as Index;
  }

  reduceUncommittedBytes(ents: readonly Entry[]): void {
    if (this.role !== 'leader') return;
    let bytes = 0;
    for (const e of ents) if (e.data.byteLength > 0) bytes += entryBytes(e);
    this.uncommittedBytes = Math.max(0, this.uncommittedBytes - bytes);
  }

  /** Leader: advance the commit index from the followers' match indexes (Figure-8 rule inside). */
  maybeCommit(): boolean {
    const mci = this.tracker.committed();
    if (this.cfg.plantedBugs.commitOldTermByCounting === true) {
      if (mci > this.log.committed && mci <= this.log.lastIndex()) {
        this.log.commitTo(mci);
        return true;
      }
      return false;
    }
    return this.log.maybeCommit(mci, this.term);
  }

  committedEntryInCurrentTerm(): boolean {
    return this.log.term(this.log.committed) === this.term;
  }

  abortLeaderTransfer(): void {
    this.leadTransferee = NONE;
  }

  // ---- reads ----------------------------------------------------------------------------------

  rejectRead(from: NodeId, context: string): void {
    if (from === this.id || from === NONE) return; // the local host times out its own reads
    this.msgs.push({ type: 'readIndexResp', from: this.id, to: from, term: this.term, index: 0 as Index, context, reject: true });
  }

  answerRead(from: NodeId, context: string, readIndex: Index): void {
    if (from === this.id || from === NONE) {
      this.readStates.push({ index: readIndex, context });
    } else {
      this.msgs.push({ type: 'readIndexResp', from: this.id, to: from, term: this.term, index: readIndex, context, reject: false });
    }
  }

  // ---- persistence and application feedback ----------------------------------------------------

  /**
   * The host made entries up to (index, term) and/or a snapshot durable (async storage writes).
   * `readyTerm` is our term when the write was handed out. Entries are only overwritten by a leader of a
   * newer term, so a completion from an older term may describe entries that were replaced since — even by
   * an identical (index, term) written again later (PITFALLS 5, the ABA race) — and must not mark anything
   * stable; a later write of the current term will.
   */
  onPersisted(lastIndex: Index, lastTerm: Term, snapshotIndex: Index, voteTerm: Term, readyTerm: Term): void {
    if (snapshotIndex > 0) this.log.stableSnapTo(snapshotIndex);
    if (lastIndex > 0 && readyTerm === this.term) this.log.stableTo(lastIndex, lastTerm);
    if (this.role === 'leader') {
      const self = this.tracker.progress.get(this.id);
      const durable = (this.log.unstable.offset - 1) as Index;
      if (self !== undefined && self.maybeUpdate(durable) && this.maybeCommit()) this.onLeaderCommitted();
    }
    if (voteTerm > 0 && this.role === 'candidate' && this.selfVotePending === voteTerm && this.term === voteTerm) {
      this.selfVotePending = 0 as Term;
      this.tracker.recordVote(this.id, true);
      this.checkVoteResult();
    }
  }

  onLeaderCommitted(): void {
    replication.releasePendingReads(this);
    this.appendsDirty = true;
  }

  /** The host applied everything up to `index`. */
  appliedTo(index: Index, appliedEntries: readonly Entry[]): void {
    const newApplied = Math.max(index, this.log.applied) as Index;
    this.log.appliedTo(newApplied);
    this.reduceUncommittedBytes(appliedEntries);
    // Joint configurations entered with auto-leave are left by the leader once applied (thesis §4.3).
    if (this.tracker.config.autoLeave && newApplied >= this.pendingConfIndex && this.role === 'leader' && this.leadTransferee === NONE) {
      const leave: ConfChange = { transition: 'auto', changes: [], context: '' };
      replication.proposeConfChange(this, leave);
    }
  }

  // ---- membership -----------------------------------------------------------------------------

  /** Applies a committed conf change; the host calls this when it applies the `conf` entry. */
  applyConfChange(cc: ConfChange): ConfState {
    const result = changeConfig(this.tracker, cc, this.log.lastIndex());
    assert(result.ok, `conf change failed to apply: ${result.ok ? '' : result.error}`);
    return this.switchToConfig(result);
  }

  applyConfChangeEntry(e: Entry): ConfState {
    assert(e.type === 'conf', 'not a conf entry');
    const decoded = decodeConfChange(e.data);
    assert(decoded.ok, `undecodable conf change at ${e.index}`);
    return this.applyConfChange(decoded.value);
  }

  switchToConfig(result: ConfChangeResult): ConfState {
    assert(result.ok, `bad configuration: ${result.ok ? '' : result.error}`);
    this.tracker.apply(result.config, result.progress);
    const cs = this.tracker.confState();
    const pr = this.tracker.progress.get(this.id);
    this.isLearner = pr !== undefined && pr.isLearner;
    if ((pr === undefined || this.isLearner) && this.role === 'leader') {
      // Removed or demoted leader steps down, or it would keep suppressing elections (PITFALLS 10).
      this.logInfo('removed from the configuration: stepping down');
      this.becomeFollower(this.term, NONE);
      return cs;
    }
    if (this.role !== 'leader' || cs.voters.length === 0) return cs;
    if (this.maybeCommit()) this.onLeaderCommitted();
    this.appendsDirty = true;
    if (this.leadTransferee !== NONE && !this.tracker.isVoter(this.leadTransferee)) this.abortLeaderTransfer();
    return cs;
  }
}

// ---- tick functions (swapped with the role) ---------------------------------------------------

function tickElection(r: Raft): void {
  r.electionElapsed++;
  if (r.promotable() && r.pastElectionTimeout()) {
    r.electionElapsed = 0;
    r.hup(r.cfg.preVote ? 'preElection' : 'election');
  }
}

function tickHeartbeat(r: Raft): void {
  r.heartbeatElapsed++;
  r.electionElapsed++;
  if (r.electionElapsed >= r.cfg.electionTicks) {
    r.electionElapsed = 0;
    if (r.cfg.checkQuorum) replication.checkQuorum(r);
    // A transfer that did not finish within an election timeout is abandoned (thesis §3.10).
    if (r.role === 'leader' && r.leadTransferee !== NONE) {
      r.logInfo(`leadership transfer to ${r.leadTransferee} timed out`);
      r.abortLeaderTransfer();
    }
  }
  if (r.role !== 'leader') return;
  replication.tickSnapshotTransfers(r);
  if (r.heartbeatElapsed >= r.cfg.heartbeatTicks) {
    r.heartbeatElapsed = 0;
    replication.bcastHeartbeat(r, r.readOnly.lastRound() ?? '');
  }
}
