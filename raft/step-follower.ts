// Messages at followers and candidates: AppendEntries (Raft §5.3), heartbeats, InstallSnapshot chunks
// (§7), vote responses (§5.2), TimeoutNow (thesis §3.10) and read-index forwarding (thesis §6.4).
import type { Raft } from './raft.ts';
import { type Index, type Message, type MsgApp, type MsgHeartbeat, type MsgSnap, type NodeId, type Snapshot } from './types.ts';
import { restoreConfState } from './confchange.ts';

export function stepFollower(r: Raft, m: Message): void {
  switch (m.type) {
    case 'app':
      r.electionElapsed = 0;
      r.lead = m.from;
      handleAppendEntries(r, m);
      return;
    case 'heartbeat':
      r.electionElapsed = 0;
      r.lead = m.from;
      handleHeartbeat(r, m);
      return;
    case 'snap':
      r.electionElapsed = 0;
      r.lead = m.from;
      handleSnapshotChunk(r, m);
      return;
    case 'timeoutNow':
      // A transfer campaign skips pre-vote: the leader asked for it, there is no partition to fear.
      r.logInfo(`received timeoutNow from ${m.from}: campaigning`);
      r.hup('transfer');
      return;
    case 'readIndex':
      // Only the leader answers reads; a request that reached a follower is refused.
      r.rejectRead(m.from, m.context);
      return;
    case 'readIndexResp':
      if (!m.reject) r.readStates.push({ index: m.index, context: m.context });
      return;
    default:
      return;
  }
}

export function stepCandidate(r: Raft, m: Message): void {
  // Only answers to our own kind of campaign count (a candidate may still get stale pre-vote answers).
  const myResp = r.role === 'preCandidate' ? 'preVoteResp' : 'voteResp';
  switch (m.type) {
    case 'app':
      r.becomeFollower(m.term, m.from);
      handleAppendEntries(r, m);
      return;
    case 'heartbeat':
      r.becomeFollower(m.term, m.from);
      handleHeartbeat(r, m);
      return;
    case 'snap':
      r.becomeFollower(m.term, m.from);
      handleSnapshotChunk(r, m);
      return;
    case 'voteResp':
    case 'preVoteResp':
      if (m.type !== myResp) return;
      r.tracker.recordVote(m.from, !m.reject);
      r.checkVoteResult();
      return;
    case 'readIndex':
      r.rejectRead(m.from, m.context);
      return;
    default:
      return;
  }
}

function appResp(r: Raft, to: NodeId, index: Index): void {
  r.send({ type: 'appResp', from: r.id, to, term: r.term, index, reject: false, rejectHint: 0 as Index, logTerm: r.term });
}

/** AppendEntries receiver (Raft Figure 2). */
export function handleAppendEntries(r: Raft, m: MsgApp): void {
  if (m.index < r.log.committed) {
    // Everything up to our commit index is settled: tell the leader where we are.
    appResp(r, m.from, r.log.committed);
    return;
  }
  const lastNew = r.log.maybeAppend(m.index, m.logTerm, m.commit, m.entries);
  if (lastNew !== undefined && r.cfg.plantedBugs.truncateOnMatchingAppend === true && lastNew < r.log.lastIndex()) {
    const last = m.entries[m.entries.length - 1];
    if (last !== undefined) r.log.unstable.truncateAndAppend([last]);
  }
  if (lastNew !== undefined) {
    appResp(r, m.from, lastNew);
    return;
  }
  // Mismatch at m.index: hint the largest (index, term) that may match, skipping our entries whose
  // term exceeds the leader's term at m.index (fast backtracking, §5.3).
  const hint = r.log.findConflictByTerm(Math.min(m.index, r.log.lastIndex()) as Index, m.logTerm);
  r.send({ type: 'appResp', from: r.id, to: m.from, term: r.term, index: m.index, reject: true, rejectHint: hint.index, logTerm: hint.term });
}

function handleHeartbeat(r: Raft, m: MsgHeartbeat): void {
  r.log.commitTo(m.commit);
  r.send({ type: 'heartbeatResp', from: r.id, to: m.from, term: r.term, context: m.context });
}

function snapResp(r: Raft, m: MsgSnap, nextOffset: number, reject: boolean): void {
  r.send({ type: 'snapResp', from: r.id, to: m.from, term: r.term, snapIndex: m.meta.index, nextOffset, reject });
}

/** InstallSnapshot, one chunk at a time; the last chunk installs it (Raft §7). */
function handleSnapshotChunk(r: Raft, m: MsgSnap): void {
  if (m.meta.index <= r.log.committed) {
    // We already hold everything it covers.
    r.snapshotReceive = null;
    appResp(r, m.from, r.log.committed);
    return;
  }
  let rc = r.snapshotReceive;
  if (m.offset === 0) {
    rc = { from: m.from, term: m.term, meta: m.meta, totalBytes: m.totalBytes, chunks: [], received: 0 };
    r.snapshotReceive = rc;
  } else if (rc === null || rc.from !== m.from || rc.term !== m.term || rc.meta.index !== m.meta.index) {
    snapResp(r, m, 0, true);
    return;
  } else if (rc.received !== m.offset) {
    // Duplicate or reordered chunk: ask for the one we need.
    snapResp(r, m, rc.received, false);
    return;
  }
  rc.chunks.push(m.chunk);
  rc.received += m.chunk.byteLength;
  if (rc.received > rc.totalBytes) {
    r.snapshotReceive = null;
    snapResp(r, m, 0, true);
    return;
  }
  if (rc.received < rc.totalBytes) {
    snapResp(r, m, rc.received, false);
    return;
  }
  r.snapshotReceive = null;
  const data = new Uint8Array(rc.totalBytes);
  let at = 0;
  for (const c of rc.chunks) {
    data.set(c, at);
    at += c.byteLength;
  }
  const s: Snapshot = { meta: rc.meta, data };
  if (restore(r, s)) {
    r.logInfo(`restored snapshot at ${s.meta.index} (term ${s.meta.term})`);
    appResp(r, m.from, r.log.lastIndex());
  } else {
    appResp(r, m.from, r.log.committed);
  }
}

/** Replaces the log with a snapshot unless the log already covers it. Returns whether it did. */
function restore(r: Raft, s: Snapshot): boolean {
  if (s.meta.index <= r.log.committed) return false;
  const cs = s.meta.confState;
  const member = cs.voters.includes(r.id) || cs.learners.includes(r.id) || cs.votersOutgoing.includes(r.id);
  // A replica that just joined has no configuration yet: it accepts a snapshot taken before it was added
  // (a partition's snapshot sits at its retention point, which may predate the membership change) and
  // learns of its own membership from the log after it. A configured node not in the snapshot's
  // configuration was removed, and refuses.
  const joining = r.tracker.config.voters.incoming.size === 0 && r.tracker.config.learners.size === 0;
  if (!member && !joining) {
    r.logInfo(`ignored snapshot at ${s.meta.index}: not a member of its configuration`);
    return false;
  }
  if (r.log.matchTerm(s.meta.index, s.meta.term)) {
    // Our log already holds the snapshot's last entry: just fast-forward the commit index.
    r.log.commitTo(s.meta.index);
    return false;
  }
  r.log.restore(s);
  r.switchToConfig(restoreConfState(r.tracker, cs, r.log.lastIndex()));
  return true;
}
