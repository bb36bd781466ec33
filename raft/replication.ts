// What a leader sends: appends (batched and pipelined within the inflight window), heartbeats, snapshot
// chunks, read-index rounds and TimeoutNow; and the leader-side handling of proposals (Raft §5.3, §6, §7).
import { assert } from './assert.ts';
import { applyConfChange as changeConfig } from './confchange.ts';
import { encodeConfChange } from './confchange-codec.ts';
import { RaftLog } from './log.ts';
import type { Raft } from './raft.ts';
import type { Progress } from './tracker/progress.ts';
import { NONE, type ConfChange, type Entry, type Index, type NodeId, type Term } from './types.ts';

export type ProposeError = 'NOT_LEADER' | 'TRANSFER_IN_PROGRESS' | 'UNCOMMITTED_LIMIT' | 'CONF_CHANGE_PENDING' | 'INVALID_CONF_CHANGE';

export type ProposeResult =
  | { readonly ok: true; readonly index: Index; readonly term: Term }
  | { readonly ok: false; readonly code: ProposeError; readonly leader: NodeId; readonly detail?: string };

/**
 * Sends `to` the entries it needs next (or a snapshot if they were compacted). With `sendIfEmpty`
 * an empty MsgApp goes out even with nothing new (a probe, or to carry the commit index).
 * Returns whether a message was sent.
 */
export function maybeSendAppend(r: Raft, to: NodeId, sendIfEmpty: boolean): boolean {
  const pr = r.tracker.progress.get(to);
  if (pr === undefined || pr.isPaused()) return false;
  const prevIndex = (pr.next - 1) as Index;
  const prevTerm = r.log.term(prevIndex);
  if (prevTerm === undefined) return maybeSendSnapshot(r, to, pr);
  let ents: Entry[] = [];
  // A full window in replicate state sends only empty probes, so lost messages cannot stall it forever.
  if (pr.state !== 'replicate' || !pr.inflights.full()) {
    const got = r.log.entriesFrom(pr.next, r.cfg.messageBytesMax, r.cfg.entriesPerMessageMax);
    if (got === undefined) return maybeSendSnapshot(r, to, pr);
    ents = got;
  }
  if (ents.length === 0 && !sendIfEmpty) return false;
  const commit = r.log.committed;
  r.send({ type: 'app', from: r.id, to, term: r.term, index: prevIndex, logTerm: prevTerm, entries: ents, commit });
  pr.sentEntries(ents.length, RaftLog.bytesOf(ents));
  if (pr.sentCommit < commit) pr.sentCommit = commit;
  return true;
}

function maybeSendSnapshot(r: Raft, to: NodeId, pr: Progress): boolean {
  // A follower we have not heard from lately is probably down: do not start a transfer into the void.
  if (!pr.recentActive) return false;
  const snap = r.log.snapshot();
  assert(snap.meta.index > 0, `entries for ${to} compacted but no snapshot exists`);
  const cs = snap.meta.confState;
  const member = cs.voters.includes(to) || cs.learners.includes(to) || cs.votersOutgoing.includes(to) || cs.learnersNext.includes(to);
  // The stored snapshot predates this member (PITFALLS 12: a snapshot should carry the latest
  // membership). Ask the host for a fresh one, and wait until it has handled the request (it does so
  // after the current Ready); the attempt after that sends whatever is stored then. A host that cannot
  // snapshot past a fixed point (a partition, at its retention point) leaves the old one, which a joining
  // replica accepts, learning its membership from the log after it.
  if (!member && (!pr.freshSnapshotAsked || r.snapshotRequested)) {
    r.snapshotRequested = true;
    pr.freshSnapshotAsked = true;
    return false;
  }
  pr.becomeSnapshot(snap);
  r.logInfo(`sending snapshot at ${snap.meta.index} to ${to} (it needs ${pr.next})`);
  sendSnapshotChunk(r, to, pr);
  return true;
}

/** Sends the chunk at the transfer's offset; one chunk is in flight at a time. */
export function sendSnapshotChunk(r: Raft, to: NodeId, pr: Progress): void {
  const t = pr.transfer;
  assert(t !== null, 'snapshot chunk without a transfer');
  const data = t.snapshot.data;
  const end = Math.min(data.byteLength, t.offset + r.cfg.snapshotChunkBytesMax);
  r.send({ type: 'snap', from: r.id, to, term: r.term, meta: t.snapshot.meta, offset: t.offset, totalBytes: data.byteLength, chunk: data.subarray(t.offset, end) });
  t.awaitingAck = true;
  t.idleTicks = 0;
}

/** Resends the chunk of a stalled transfer (the chunk or its answer was lost). */
export function tickSnapshotTransfers(r: Raft): void {
  for (const [id, pr] of r.tracker.progress) {
    if (id === r.id || pr.state !== 'snapshot' || pr.transfer === null) continue;
    pr.transfer.idleTicks++;
    if (pr.transfer.idleTicks >= r.cfg.electionTicks) sendSnapshotChunk(r, id, pr);
  }
}

/**
 * Sends every follower what it is missing, once per Ready: all entries proposed since the last Ready
 * travel together (batching). A new commit index alone does not warrant a message: it rides on the next
 * append or heartbeat, which halves the messages (and follower writes) per committed batch.
 */
export function flushAppends(r: Raft): void {
  if (!r.appendsDirty) return;
  r.appendsDirty = false;
  if (r.role !== 'leader') return;
  for (const id of r.tracker.memberIds()) {
    if (id === r.id) continue;
    let sent = false;
    while (maybeSendAppend(r, id, false)) sent = true;
    const pr = r.tracker.progress.get(id) as Progress;
    if (!sent && pr.state === 'probe' && !pr.msgAppFlowPaused && pr.match < r.log.lastIndex()) maybeSendAppend(r, id, true);
  }
}

/** Heartbeats to every member; `round` is the read round they confirm ('' for none), echoed in the answers. */
export function bcastHeartbeat(r: Raft, round: string): void {
  for (const id of r.tracker.memberIds()) {
    if (id === r.id) continue;
    const pr = r.tracker.progress.get(id) as Progress;
    // Never tell a follower a commit index beyond what it is known to hold.
    const commit = Math.min(pr.match, r.log.committed) as Index;
    r.send({ type: 'heartbeat', from: r.id, to: id, term: r.term, commit, context: round });
    if (pr.sentCommit < commit) pr.sentCommit = commit;
  }
}

/** Check-quorum (thesis §6.2): a leader that has not heard from a quorum for an election timeout steps down. */
export function checkQuorum(r: Raft): void {
  if (!r.tracker.quorumActive(r.id)) {
    r.logInfo('stepping down: no quorum heard from within an election timeout');
    r.becomeFollower(r.term, NONE);
  }
  for (const [id, pr] of r.tracker.progress) if (id !== r.id) pr.recentActive = false;
}

export function sendTimeoutNow(r: Raft, to: NodeId): void {
  r.send({ type: 'timeoutNow', from: r.id, to, term: r.term });
}

// ---- reads ------------------------------------------------------------------------------------

/**
 * A read-index request at the leader (thesis §6.4). A leader that has not yet committed an entry of its
 * term does not know the commit index, so it holds the request until it has (PITFALLS 14).
 */
export function handleReadRequest(r: Raft, from: NodeId, context: string): void {
  if (r.tracker.isSingleton() && r.tracker.config.voters.incoming.has(r.id)) {
    r.answerRead(from, context, r.log.committed);
    return;
  }
  if (!r.committedEntryInCurrentTerm()) {
    if (r.pendingReadRequests.length >= r.cfg.readRequestsMax) r.rejectRead(from, context);
    else r.pendingReadRequests.push({ from, context });
    return;
  }
  const round = r.readOnly.add(r.term, r.log.committed, { from, context });
  if (round === undefined) {
    r.rejectRead(from, context);
    return;
  }
  r.readOnly.recvAck(r.id, round);
  bcastHeartbeat(r, round);
}

export function releasePendingReads(r: Raft): void {
  if (r.pendingReadRequests.length === 0 || !r.committedEntryInCurrentTerm()) return;
  const reqs = r.pendingReadRequests;
  r.pendingReadRequests = [];
  for (const req of reqs) handleReadRequest(r, req.from, req.context);
}

// ---- proposals --------------------------------------------------------------------------------

function refuseUnlessLeader(r: Raft): ProposeResult | null {
  if (r.role !== 'leader') return { ok: false, code: 'NOT_LEADER', leader: r.lead };
  // A leader removed from the configuration takes no new proposals.
  if (!r.tracker.progress.has(r.id)) return { ok: false, code: 'NOT_LEADER', leader: NONE };
  if (r.leadTransferee !== NONE) return { ok: false, code: 'TRANSFER_IN_PROGRESS', leader: r.id };
  return null;
}

export function propose(r: Raft, datas: readonly Uint8Array[]): ProposeResult {
  const refused = refuseUnlessLeader(r);
  if (refused !== null) return refused;
  // A leader on its way out (in the joint configuration's outgoing half only) steps down once the joint
  // configuration is left: an entry it took now would be committed, if at all, by its successor, and its
  // proposer would never learn the outcome. Refused, nothing appended: the client retries elsewhere.
  if (r.tracker.isJoint() && !r.tracker.config.voters.incoming.has(r.id)) return { ok: false, code: 'NOT_LEADER', leader: NONE };
  const index = r.appendEntries(datas.map((data) => ({ type: 'normal' as const, data })));
  if (index === undefined) return { ok: false, code: 'UNCOMMITTED_LIMIT', leader: r.id };
  return { ok: true, index, term: r.term };
}

/**
 * Proposes a membership change. One change at a time: refused while an earlier one is not yet applied
 * (a new leader treats its whole log as possibly holding one, PITFALLS 8), and checked against the
 * configuration it will apply to, so a committed change always applies.
 */
export function proposeConfChange(r: Raft, cc: ConfChange): ProposeResult {
  const refused = refuseUnlessLeader(r);
  if (refused !== null) return refused;
  if (r.pendingConfIndex > r.log.applied) {
    return { ok: false, code: 'CONF_CHANGE_PENDING', leader: r.id, detail: `unapplied conf change at ${r.pendingConfIndex} (applied ${r.log.applied})` };
  }
  const joint = r.tracker.isJoint();
  const leaving = cc.changes.length === 0;
  if (joint && !leaving) return { ok: false, code: 'INVALID_CONF_CHANGE', leader: r.id, detail: 'must leave the joint config first' };
  if (!joint && leaving) return { ok: false, code: 'INVALID_CONF_CHANGE', leader: r.id, detail: 'not in a joint config' };
  const trial = changeConfig(r.tracker, cc, r.log.lastIndex());
  if (!trial.ok) return { ok: false, code: 'INVALID_CONF_CHANGE', leader: r.id, detail: trial.error };
  const index = r.appendEntries([{ type: 'conf', data: encodeConfChange(cc) }]);
  if (index === undefined) return { ok: false, code: 'UNCOMMITTED_LIMIT', leader: r.id };
  r.pendingConfIndex = index;
  return { ok: true, index, term: r.term };
}

export type TransferResult = { readonly ok: true } | { readonly ok: false; readonly code: 'NOT_LEADER' | 'NOT_A_VOTER'; readonly leader: NodeId };

/** Leadership transfer (thesis §3.10): catch the target up, then tell it to campaign at once. */
export function transferLeader(r: Raft, to: NodeId): TransferResult {
  if (r.role !== 'leader') return { ok: false, code: 'NOT_LEADER', leader: r.lead };
  const pr = r.tracker.progress.get(to);
  if (pr === undefined || pr.isLearner || !r.tracker.isVoter(to)) return { ok: false, code: 'NOT_A_VOTER', leader: r.id };
  if (to === r.id) return { ok: true };
  if (r.leadTransferee === to) return { ok: true };
  r.abortLeaderTransfer();
  // The transfer must finish within one election timeout.
  r.electionElapsed = 0;
  r.leadTransferee = to;
  r.logInfo(`transferring leadership to ${to}`);
  if (pr.match === r.log.lastIndex()) sendTimeoutNow(r, to);
  else maybeSendAppend(r, to, true);
  return { ok: true };
}
