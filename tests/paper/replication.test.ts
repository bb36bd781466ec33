// Raft paper §5.3 (log replication) and the AppendEntries receiver rules of Figure 2, one test per rule,
// ending with Figure 7: six divergent follower logs that the leader forces to match its own.
import { describe, expect, it } from 'vitest';
import { nodeId, type Entry, type Index, type Term } from '../../raft/index.ts';
import { Peer, app, appResp, clusterWithLogs, dec, elect, enc, entries, heartbeatRounds, logTermsOf, ofType } from './support.ts';
import type { RaftCluster } from '../support/raft-cluster.ts';

function logOf(c: RaftCluster, id: number): Entry[] {
  const log = c.node(id).raw.raft.log;
  return log.slice(log.firstIndex(), (log.lastIndex() + 1) as Index, Number.MAX_SAFE_INTEGER);
}

/** Node 1 as leader of term 1 in a group of `size`, with every follower acknowledged up to its empty entry. */
function leaderWithCaughtUpFollowers(size: number): Peer {
  const voters = Array.from({ length: size }, (_, k) => k + 1);
  const p = new Peer({ id: 1, voters });
  p.electBy(voters.slice(1));
  for (const id of voters.slice(1)) p.receive(appResp(id, 1, 1, 1));
  expect(p.raft.log.committed).toBe(1);
  return p;
}

describe('§5.3 log replication: the leader', () => {
  // §5.3: "The leader appends the command to its log as a new entry, then issues AppendEntries RPCs in
  // parallel to each of the other servers to replicate the entry."
  it('appends a proposal to its own log in its term and sends it to every follower', () => {
    const p = leaderWithCaughtUpFollowers(3);
    const res = p.raw.propose(enc('x'));
    expect(res).toEqual({ ok: true, index: 2, term: 1 });
    const sent = ofType(p.drain(), 'app');
    expect(p.raft.log.lastIndex()).toBe(2);
    expect(p.raft.log.term(2 as Index)).toBe(1);
    expect(sent.map((m) => m.to)).toEqual([2, 3]);
    for (const m of sent) {
      expect(m).toMatchObject({ term: 1, index: 1, logTerm: 1, commit: 1 });
      expect(m.entries.map((e) => [e.index, e.term, dec(e.data)])).toEqual([[2, 1, 'x']]);
    }
    // Nothing is committed before a majority has it.
    expect(p.raft.log.committed).toBe(1);
  });

  // §5.3: "A log entry is committed once the leader that created the entry has replicated it on a majority
  // of the servers"; "the leader applies the entry to its state machine".
  it.each([
    { size: 1, acks: [], committed: true },
    { size: 3, acks: [], committed: false },
    { size: 3, acks: [2], committed: true },
    { size: 3, acks: [2, 3], committed: true },
    { size: 4, acks: [2], committed: false },
    { size: 4, acks: [2, 4], committed: true },
    { size: 5, acks: [2], committed: false },
    { size: 5, acks: [4, 5], committed: true },
    { size: 5, acks: [2, 3, 4, 5], committed: true },
  ])('with $size voters and acknowledgements from $acks, the new entry is committed: $committed', ({ size, acks, committed }) => {
    const p = leaderWithCaughtUpFollowers(size);
    p.raw.propose(enc('x'));
    p.drain();
    for (const id of acks) p.receive(appResp(id, 1, 1, 2));
    expect(p.raft.log.committed).toBe(committed ? 2 : 1);
    expect(p.applied.map((e) => dec(e.data))).toEqual(committed ? ['', 'x'] : ['']);
  });

  // §5.3: "This also commits all preceding entries in the leader's log, including entries created by
  // previous leaders."
  it('committing an entry commits every entry before it, including older-term ones', () => {
    const p = new Peer({ id: 1, voters: [1, 2, 3], log: [1, 1, 2], hard: { term: 2, commit: 1 } });
    p.electBy([2]);
    p.raw.propose(enc('x'));
    p.drain();
    p.receive(appResp(2, 1, 3, 5));
    expect(p.raft.log.committed).toBe(5);
    expect(p.applied.map((e) => `${e.term}/${e.index}`)).toEqual(['1/1', '1/2', '2/3', '3/4', '3/5']);
  });

  // §5.3: "The leader keeps track of the highest index it knows to be committed, and it includes that index
  // in future AppendEntries RPCs (including heartbeats) so that the other servers eventually find out."
  it('announces a new commit index in its next heartbeats and appends', () => {
    const p = leaderWithCaughtUpFollowers(3);
    p.raw.propose(enc('x'));
    p.drain();
    p.receive(appResp(2, 1, 1, 2));
    expect(p.raft.log.committed).toBe(2);
    // A heartbeat never claims more than the follower is known to hold (node 3 has not acknowledged 2 yet).
    const beats = ofType(p.tick(1), 'heartbeat');
    expect(beats.map((m) => [m.to, m.commit])).toEqual([[2, 2], [3, 1]]);
    p.raw.propose(enc('y'));
    const apps = ofType(p.drain(), 'app');
    expect(apps.map((m) => [m.to, m.commit])).toEqual([[2, 2], [3, 2]]);
  });

  // Figure 3, Leader Append-Only: "a leader never overwrites or deletes entries in its log; it only appends
  // new entries." Messages from stale leaders and rejections leave its log as it was.
  it('never overwrites or deletes entries of its own log', () => {
    const p = new Peer({ id: 1, voters: [1, 2, 3], log: [1, 1, 2], hard: { term: 2, commit: 1 } });
    p.electBy([2]);
    const before = p.logTerms();
    expect(before).toEqual([1, 1, 2, 3]);
    // An AppendEntries of an older leader that conflicts with our entry 3.
    p.receive(app(3, 1, 2, { index: 2, term: 1 }, entries([2, 2], 3), 4));
    // A follower rejecting, with a hint pointing far back.
    p.receive({ ...appResp(3, 1, 3, 3), reject: true, rejectHint: 1 as Index, logTerm: 1 as Term });
    p.raw.propose(enc('x'));
    p.drain();
    expect(p.logTerms()).toEqual([...before, 3]);
    expect(p.raft.role).toBe('leader');
  });

  // Figure 2, "matchIndex ... (initialized to 0, increases monotonically)". Acknowledgements may arrive late
  // or twice; an older one never lowers what the leader knows a follower holds.
  it('match index only grows when acknowledgements arrive reordered or duplicated', () => {
    const p = leaderWithCaughtUpFollowers(3);
    p.raw.proposeBatch([enc('a'), enc('b'), enc('c')]);
    p.drain();
    const matches: number[] = [];
    for (const index of [3, 4, 2, 3, 4, 1]) {
      p.receive(appResp(2, 1, 1, index));
      matches.push(p.raw.status().progress.get(nodeId(2))!.match);
    }
    expect(matches).toEqual([3, 4, 4, 4, 4, 4]);
    expect(p.raft.log.committed).toBe(4);
  });
});

describe('§5.3 log replication: the follower (Figure 2, AppendEntries receiver)', () => {
  // Figure 2 receiver rule 2: "Reply false if log doesn't contain an entry at prevLogIndex whose term
  // matches prevLogTerm." §5.3: "If the follower does not find an entry in its log with the same index and
  // term, then it refuses the new entries."
  it.each([
    { prev: { index: 0, term: 0 }, accepted: true },
    { prev: { index: 1, term: 1 }, accepted: true },
    { prev: { index: 2, term: 2 }, accepted: true },
    { prev: { index: 2, term: 1 }, accepted: false },
    { prev: { index: 3, term: 2 }, accepted: false },
    { prev: { index: 3, term: 3 }, accepted: false },
  ])('with log [1, 2], an append after $prev.term/$prev.index is accepted: $accepted', ({ prev, accepted }) => {
    const p = new Peer({ id: 2, voters: [1, 2, 3], log: [1, 2], hard: { term: 2, commit: 1 } });
    const sent = ofType(p.receive(app(1, 2, 2, prev, [], 1)), 'appResp');
    expect(sent).toHaveLength(1);
    expect(sent[0]?.reject).toBe(!accepted);
    if (!accepted) {
      // §5.3 fast backtracking: the hint never points beyond the follower's log.
      expect(sent[0]!.rejectHint).toBeLessThanOrEqual(Math.min(prev.index, 2));
      expect(p.logTerms()).toEqual([1, 2]);
    }
  });

  // Figure 2 receiver rules 3 and 4: "If an existing entry conflicts with a new one (same index but
  // different terms), delete the existing entry and all that follow it. Append any new entries not already
  // in the log." An append that matches deletes nothing (PITFALLS 13).
  it.each([
    { prev: { index: 2, term: 2 }, terms: [3], from: 3, log: [1, 2, 3] },
    { prev: { index: 1, term: 1 }, terms: [3, 4], from: 2, log: [1, 3, 4] },
    { prev: { index: 0, term: 0 }, terms: [1], from: 1, log: [1, 2] },
    { prev: { index: 0, term: 0 }, terms: [1, 2], from: 1, log: [1, 2] },
    { prev: { index: 0, term: 0 }, terms: [2], from: 1, log: [2] },
    { prev: { index: 1, term: 1 }, terms: [], from: 2, log: [1, 2] },
  ])('log [1, 2] after an append of terms $terms at index $from becomes $log', ({ prev, terms, from, log }) => {
    const p = new Peer({ id: 2, voters: [1, 2, 3], log: [1, 2], hard: { term: 2 } });
    const sent = ofType(p.receive(app(1, 2, 4, prev, entries(terms, from), 0)), 'appResp');
    expect(sent.map((m) => [m.reject, m.index])).toEqual([[false, prev.index + terms.length]]);
    expect(p.logTerms()).toEqual(log);
  });

  // Figure 2 receiver rule 3 with a network that duplicates and reorders: a late copy of an earlier append
  // matches what the follower has and must not cut off the entries a later append added (PITFALLS 13).
  it('a delayed or duplicated append does not delete entries that a later append added', () => {
    const p = new Peer({ id: 2, voters: [1, 2, 3], hard: { term: 1 } });
    const early = app(1, 2, 1, { index: 0, term: 0 }, entries([1]), 0);
    const late = app(1, 2, 1, { index: 1, term: 1 }, entries([1, 1], 2), 0);
    p.receive(early);
    p.receive(late);
    expect(p.logTerms()).toEqual([1, 1, 1]);
    for (const m of [early, late, early, app(1, 2, 1, { index: 0, term: 0 }, entries([1, 1]), 0)]) {
      const resp = ofType(p.receive(m), 'appResp');
      expect(resp.every((r) => !r.reject)).toBe(true);
      expect(p.logTerms()).toEqual([1, 1, 1]);
    }
  });

  // Figure 2 receiver rule 5: "If leaderCommit > commitIndex, set commitIndex = min(leaderCommit, index of
  // last new entry)." §5.3: "Once a follower learns that a log entry is committed, it applies the entry to
  // its local state machine (in log order)."
  it('advances its commit index to min(leaderCommit, last new entry) and applies in log order', () => {
    const p = new Peer({ id: 2, voters: [1, 2, 3], hard: { term: 1 } });
    p.receive(app(1, 2, 1, { index: 0, term: 0 }, entries([1, 1]), 5));
    expect(p.raft.log.committed).toBe(2);
    expect(p.applied.map((e) => e.index)).toEqual([1, 2]);
    p.receive(app(1, 2, 1, { index: 2, term: 1 }, entries([1, 1], 3), 3));
    expect(p.raft.log.committed).toBe(3);
    expect(p.applied.map((e) => e.index)).toEqual([1, 2, 3]);
  });

  // §5.3 "(including heartbeats)": a heartbeat carries the commit index, so an idle follower learns of
  // commits too.
  it('learns a commit index from a heartbeat', () => {
    const p = new Peer({ id: 2, voters: [1, 2, 3], hard: { term: 1 } });
    p.receive(app(1, 2, 1, { index: 0, term: 0 }, entries([1, 1]), 0));
    expect(p.raft.log.committed).toBe(0);
    p.receive({ type: 'heartbeat', from: nodeId(1), to: nodeId(2), term: 1 as Term, commit: 2 as Index, context: '' });
    expect(p.raft.log.committed).toBe(2);
    expect(p.applied.map((e) => e.index)).toEqual([1, 2]);
  });

  // Figure 2, "commitIndex ... (initialized to 0, increases monotonically)": a late message carrying an
  // older commit index (or an append below the commit index) never lowers it.
  it('never lowers its commit index', () => {
    const p = new Peer({ id: 2, voters: [1, 2, 3], hard: { term: 1 } });
    p.receive(app(1, 2, 1, { index: 0, term: 0 }, entries([1, 1, 1]), 3));
    expect(p.raft.log.committed).toBe(3);
    p.receive(app(1, 2, 1, { index: 1, term: 1 }, entries([1], 2), 1));
    p.receive({ type: 'heartbeat', from: nodeId(1), to: nodeId(2), term: 1 as Term, commit: 0 as Index, context: '' });
    const resp = ofType(p.receive(app(1, 2, 1, { index: 0, term: 0 }, entries([1]), 0)), 'appResp');
    expect(p.raft.log.committed).toBe(3);
    expect(p.logTerms()).toEqual([1, 1, 1]);
    expect(resp.every((r) => !r.reject && r.index >= 1)).toBe(true);
  });

  // Figure 2, "Persistent state ... updated on stable storage before responding to RPCs": the acknowledgement
  // of an append leaves only after the entries are durable (PITFALLS 4).
  it('acknowledges an append only once the entries are durable', () => {
    const p = new Peer({ id: 2, voters: [1, 2, 3], hard: { term: 1 } });
    p.raw.step(app(1, 2, 1, { index: 0, term: 0 }, entries([1]), 0));
    const rd = p.raw.ready();
    expect(rd.entries.map((e) => e.index)).toEqual([1]);
    expect(rd.messages.filter((m) => m.type === 'appResp')).toEqual([]);
    expect(rd.persistedMessages.map((m) => m.type)).toEqual(['appResp']);
  });
});

describe('§5.3 Figure 7: the leader brings any follower log into line with its own', () => {
  // Figure 7 of the paper: the leader of term 8 and six possible follower logs.
  const leaderLog = [1, 1, 1, 4, 4, 5, 5, 6, 6, 6];
  const followerLogs: Record<string, number[]> = {
    '(a) missing one entry': [1, 1, 1, 4, 4, 5, 5, 6, 6],
    '(b) missing many entries': [1, 1, 1, 4],
    '(c) one extra uncommitted entry of term 6': [1, 1, 1, 4, 4, 5, 5, 6, 6, 6, 6],
    '(d) two extra entries of term 7': [1, 1, 1, 4, 4, 5, 5, 6, 6, 6, 7, 7],
    '(e) missing entries and extra entries of term 4': [1, 1, 1, 4, 4, 4, 4],
    '(f) missing entries and extra entries of terms 2 and 3': [1, 1, 1, 2, 2, 2, 3, 3, 3, 3, 3],
  };

  // §5.3: "the leader handles inconsistencies by forcing the followers' logs to duplicate its own. This
  // means that conflicting entries in follower logs will be overwritten with entries from the leader's log."
  it.each(Object.entries(followerLogs))('follower %s ends with exactly the leader log', (_, followerLog) => {
    // Node 1 leads term 8; node 3 holds the leader's log and votes for it; node 2 is the follower of the figure.
    const c = clusterWithLogs([1, 2, 3], { 1: leaderLog, 2: followerLog, 3: leaderLog }, {
      1: { term: 7, commit: 3 },
      2: { term: Math.max(...followerLog), commit: 3 },
      3: { term: 7, commit: 3 },
    });
    elect(c, 1);
    heartbeatRounds(c, 1);
    expect(c.node(1).raw.raft.role).toBe('leader');
    expect(c.node(1).raw.raft.term).toBe(8);
    const expected = [...leaderLog, 8];
    expect(logTermsOf(c, 1)).toEqual(expected);
    expect(logTermsOf(c, 2)).toEqual(expected);
    expect(c.node(2).storage.allEntries().map((e) => e.term)).toEqual(expected);
    // Everything is committed now, and the follower applied what the leader applied.
    expect(c.node(2).raw.raft.log.committed).toBe(expected.length);
    expect(c.node(2).applied).toEqual(c.node(1).applied);
    expect(c.node(1).applied).toEqual(leaderLog.map((t, k) => `${t}/${k + 1}`));
  });

  // Figure 3, Log Matching: "if two logs contain an entry with the same index and term, then the logs are
  // identical in all entries up through the given index". It holds at every step of the repair, not just
  // at the end, while the leader overwrites three divergent followers at once.
  it('log matching holds after every message while five logs converge', () => {
    const c = clusterWithLogs([1, 2, 3, 4, 5], {
      1: leaderLog,
      2: followerLogs['(d) two extra entries of term 7']!,
      3: leaderLog,
      4: followerLogs['(f) missing entries and extra entries of terms 2 and 3']!,
      5: followerLogs['(e) missing entries and extra entries of term 4']!,
    }, { 1: { term: 7 }, 2: { term: 7 }, 3: { term: 7 }, 4: { term: 3 }, 5: { term: 4 } });
    const ids = c.ids();
    const checkLogMatching = (): void => {
      const logs = ids.map((id) => logOf(c, id));
      for (const a of logs) for (const b of logs) {
        for (let k = Math.min(a.length, b.length) - 1; k >= 0; k--) {
          if (a[k]!.term !== b[k]!.term) continue;
          expect(a.slice(0, k + 1)).toEqual(b.slice(0, k + 1));
          break;
        }
      }
    };
    c.node(1).raw.raft.hup('election');
    let steps = 0;
    for (let moved = true; moved; steps++) {
      moved = false;
      for (const id of ids) moved = c.processReady(id, true) || moved;
      while (c.queue.length > 0) {
        const m = c.queue.shift()!;
        c.node(m.to).raw.step(m);
        checkLogMatching();
        moved = true;
      }
    }
    expect(steps).toBeGreaterThan(3);
    for (const id of ids) expect(logTermsOf(c, id)).toEqual([...leaderLog, 8]);
  });
});
