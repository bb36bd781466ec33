// Messages at the leader: acknowledgements and rejections of appends, heartbeat responses (which also
// confirm read-index rounds), snapshot chunk acknowledgements, forwarded reads (Raft §5.3, §6.4, §7).
import { jointVoteResult } from './quorum/joint.ts';
import type { Raft } from './raft.ts';
import * as replication from './replication.ts';
import type { Progress } from './tracker/progress.ts';
import type { Message, MsgAppResp, MsgHeartbeatResp, MsgSnapResp } from './types.ts';

export function stepLeader(r: Raft, m: Message): void {
  switch (m.type) {
    case 'readIndex':
      replication.handleReadRequest(r, m.from, m.context);
      return;
    case 'appResp':
    case 'heartbeatResp':
    case 'snapResp': {
      const pr = r.tracker.progress.get(m.from);
      if (pr === undefined) return; // not a member (any more)
      pr.lastHeardTick = r.ticksTotal;
      if (m.type === 'appResp') handleAppResp(r, m, pr);
      else if (m.type === 'heartbeatResp') handleHeartbeatResp(r, m, pr);
      else handleSnapResp(r, m, pr);
      return;
    }
    case 'app':
    case 'heartbeat':
    case 'snap':
      // Another leader in our own term would break election safety (§5.2): it cannot happen.
      r.logInfo(`ignored ${m.type} from ${m.from} claiming leadership of our term`);
      return;
    default:
      return; // stale votes, timeoutNow, read responses: nothing to do as leader
  }
}

function handleAppResp(r: Raft, m: MsgAppResp, pr: Progress): void {
  pr.recentActive = true;
  if (m.reject) {
    if (r.cfg.plantedBugs.ignoreAppendRejections === true) return;
    // Fast backtracking (§5.3): with the follower's (hint index, term), skip every entry of ours
    // whose term is above the follower's term at that index.
    let nextProbe = m.rejectHint;
    if (m.logTerm > 0) nextProbe = r.log.findConflictByTerm(m.rejectHint, m.logTerm).index;
    if (pr.maybeDecrTo(m.index, nextProbe)) {
      if (pr.state === 'replicate') pr.becomeProbe();
      replication.maybeSendAppend(r, m.from, true);
    }
    return;
  }
  const updated = pr.maybeUpdate(m.index);
  if (!updated && !(pr.match === m.index && pr.state === 'probe')) return;
  if (pr.state === 'probe') {
    pr.becomeReplicate();
  } else if (pr.state === 'snapshot' && pr.match + 1 >= r.log.firstIndex()) {
    // Caught up through the snapshot (or otherwise): resume streaming from the log.
    pr.becomeProbe();
    pr.becomeReplicate();
  } else if (pr.state === 'snapshot' && pr.match >= pr.pendingSnapshot) {
    // The follower installed the snapshot we sent, but our log was compacted past it meanwhile (we took a
    // newer snapshot during the transfer; without one, the branch above applies). Probe from just past
    // it: the probe finds those entries gone and sends the newer snapshot. Staying in snapshot state
    // resent the old one forever (scenarios/seeds/majorities-ring-9215.json).
    pr.becomeProbe();
  } else if (pr.state === 'replicate') {
    pr.inflights.freeLE(m.index);
  }
  if (r.maybeCommit()) r.onLeaderCommitted();
  // The window may have room again: flushAppends sends what this follower is missing.
  r.appendsDirty = true;
  if (m.from === r.leadTransferee && pr.match === r.log.lastIndex()) {
    r.logInfo(`sending timeoutNow to ${m.from}: caught up`);
    replication.sendTimeoutNow(r, m.from);
  }
}

function handleHeartbeatResp(r: Raft, m: MsgHeartbeatResp, pr: Progress): void {
  pr.recentActive = true;
  pr.msgAppFlowPaused = false;
  // A follower behind us (or being probed) gets an append now; with a full window this is an empty
  // probe that reveals whether the window's messages were lost.
  if (pr.match < r.log.lastIndex() || pr.state === 'probe') replication.maybeSendAppend(r, m.from, true);
  // The context echoes the read round the heartbeat carried (ReadOnlyQueue's token, never a caller's).
  if (m.context === '') return;
  const acks = r.readOnly.recvAck(m.from, m.context);
  if (acks === undefined) return;
  // The round is confirmed once a quorum acknowledged it: we were still leader when it started.
  if (jointVoteResult(r.tracker.config.voters, acks) !== 'won') return;
  for (const { req, index } of r.readOnly.advance(m.context)) r.answerRead(req.from, req.context, index);
}

function handleSnapResp(r: Raft, m: MsgSnapResp, pr: Progress): void {
  pr.recentActive = true;
  const t = pr.transfer;
  if (pr.state !== 'snapshot' || t === null || m.snapIndex !== t.index) return;
  t.awaitingAck = false;
  t.idleTicks = 0;
  t.offset = m.reject ? 0 : m.nextOffset;
  if (t.offset <= t.snapshot.data.byteLength) replication.sendSnapshotChunk(r, m.from, pr);
}
