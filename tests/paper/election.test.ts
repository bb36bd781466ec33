// Raft paper §5.1 (terms), §5.2 (leader election) and §5.4.1 (election restriction), one test per rule,
// plus the thesis' pre-vote (§9.6) and check-quorum (§6.2) extensions. Each test cites the sentence it checks.
import { describe, expect, it } from 'vitest';
import { NONE, nodeId, type Index, type PlantedBugs, type Ready, type Term } from '../../raft/index.ts';
import { SimRng } from '../../sim/rng.ts';
import { Peer, app, clusterWithLogs, elect, entries, ofType, tickAll, vote, voteResp } from './support.ts';

/** A node of a 3-node group in the given role at term `t` (reached by hand, the way a test sets the stage). */
function peerInRole(role: 'follower' | 'candidate' | 'leader', t: number): Peer {
  const p = new Peer({ id: 1, voters: [1, 2, 3], hard: { term: t - 1 } });
  if (role === 'follower') p.receive(app(2, 1, t, { index: 0, term: 0 }, [], 0));
  if (role === 'candidate') p.raft.hup('election');
  if (role === 'leader') p.electBy([2]);
  p.drain();
  expect(p.raft.role).toBe(role);
  expect(p.raft.term).toBe(t);
  return p;
}

describe('§5.1 terms', () => {
  // §5.1: "If one server's current term is smaller than the other's, then it updates its current term to
  // the larger value. If a candidate or leader discovers that its term is out of date, it immediately
  // reverts to follower state."
  it.each(['follower', 'candidate', 'leader'] as const)('a %s that sees a higher term adopts it and becomes a follower', (role) => {
    const p = peerInRole(role, 2);
    p.receive(app(3, 1, 5, { index: 0, term: 0 }, [], 0));
    expect(p.raft.term).toBe(5);
    expect(p.raft.role).toBe('follower');
    expect(p.raft.lead).toBe(3);
    expect(p.storage.hardState().term).toBe(5);
  });

  // §5.1: "If a server receives a request with a stale term number, it rejects the request."
  it('a request with a stale term is rejected and changes nothing', () => {
    for (const checkQuorum of [false, true]) {
      const p = new Peer({ id: 1, voters: [1, 2, 3], log: [1, 2], hard: { term: 3, commit: 1 }, checkQuorum });
      const sent = [
        ...p.receive(app(2, 1, 2, { index: 2, term: 2 }, entries([2], 3), 3)),
        ...p.receive(vote(3, 1, 2, { index: 9, term: 2 })),
      ];
      expect(p.logTerms()).toEqual([1, 2]);
      expect(p.raft.log.committed).toBe(1);
      expect(p.raft.term).toBe(3);
      expect(p.raft.vote).toBe(NONE);
      expect(ofType(sent, 'voteResp').filter((m) => !m.reject)).toEqual([]);
      // Whatever is answered carries the newer term, so the stale sender learns it is out of date.
      for (const m of sent) expect(m.term).toBe(3);
    }
  });

  // Figure 2, "Persistent state on all servers (updated on stable storage before responding to RPCs)".
  // With the vote sent at once (PITFALLS 3 planted) the same check fails: it is able to.
  it('term and vote are handed to storage before the vote is allowed to leave', () => {
    const grant = (plantedBugs: PlantedBugs): Ready => {
      const p = new Peer({ id: 1, voters: [1, 2, 3], plantedBugs });
      p.raw.step(vote(2, 1, 1, { index: 0, term: 0 }));
      return p.raw.ready();
    };
    const rd = grant({});
    expect(rd.hardState).toMatchObject({ term: 1, vote: 2 });
    expect(rd.messages.filter((m) => m.type === 'voteResp')).toEqual([]);
    expect(rd.persistedMessages).toEqual([voteResp(1, 2, 1, false)]);
    expect(rd.persistAck).not.toBeNull();
    expect(grant({ voteBeforePersist: true }).messages.filter((m) => m.type === 'voteResp')).toEqual([voteResp(1, 2, 1, false)]);
  });
});

describe('§5.2 leader election', () => {
  // §5.2: "When servers start up, they begin as followers."
  it('a server starts as a follower', () => {
    const p = new Peer({ id: 1, voters: [1, 2, 3], log: [1, 1], hard: { term: 4, vote: 2, commit: 1 } });
    expect(p.raft.role).toBe('follower');
    expect(p.raft.term).toBe(4);
    expect(p.raft.vote).toBe(2);
  });

  // §5.2: "Leaders send periodic heartbeats (AppendEntries RPCs that carry no log entries) to all
  // followers in order to maintain their authority."
  it('a leader sends a heartbeat to every follower each heartbeat interval', () => {
    const p = new Peer({ id: 1, voters: [1, 2, 3], heartbeatTicks: 3, electionTicks: 10 });
    p.electBy([2]);
    p.drain();
    expect(ofType(p.tick(2), 'heartbeat')).toEqual([]);
    const beats = ofType(p.tick(1), 'heartbeat');
    expect(beats.map((m) => m.to).sort()).toEqual([2, 3]);
    for (const m of beats) expect(m.term).toBe(1);
    expect(ofType(p.tick(2), 'heartbeat')).toEqual([]);
    expect(ofType(p.tick(1), 'heartbeat')).toHaveLength(2);
  });

  // §5.2: "If a follower receives no communication over a period of time called the election timeout,
  // then it assumes there is no viable leader and begins an election"; "a follower increments its
  // current term and transitions to candidate state. It then votes for itself and issues RequestVote
  // RPCs in parallel to each of the other servers in the cluster."
  it('a follower that hears nothing for an election timeout becomes a candidate of the next term', () => {
    const p = new Peer({ id: 1, voters: [1, 2, 3], log: [1, 2], hard: { term: 2 }, electionTicks: 10 });
    expect(p.tick(9)).toEqual([]);
    expect(p.raft.role).toBe('follower');
    const sent = p.tick(1);
    expect(p.raft.role).toBe('candidate');
    expect(p.raft.term).toBe(3);
    expect(p.raft.vote).toBe(1);
    expect(p.storage.hardState()).toMatchObject({ term: 3, vote: 1 });
    // §5.4.1: "the RPC includes information about the candidate's log".
    expect(ofType(sent, 'vote')).toEqual([vote(1, 2, 3, { index: 2, term: 2 }), vote(1, 3, 3, { index: 2, term: 2 })]);
  });

  // §5.2: "If many followers become candidates at the same time, votes could be split so that no candidate
  // obtains a majority. When this happens, each candidate will time out and start a new election by
  // incrementing its term and initiating another round of RequestVote RPCs."
  it('a candidate whose election times out starts a new election with a higher term', () => {
    const p = peerInRole('candidate', 1);
    const sent = p.tick(10);
    expect(p.raft.role).toBe('candidate');
    expect(p.raft.term).toBe(2);
    expect(ofType(sent, 'vote').map((m) => [m.to, m.term])).toEqual([[2, 2], [3, 2]]);
  });

  // §5.2: "A candidate wins an election if it receives votes from a majority of the servers in the full
  // cluster for the same term." It stays a candidate while undecided and gives up once it cannot win.
  it.each([
    { size: 1, granted: [], rejected: [], role: 'leader' },
    { size: 3, granted: [2], rejected: [], role: 'leader' },
    { size: 3, granted: [2, 3], rejected: [], role: 'leader' },
    { size: 3, granted: [], rejected: [], role: 'candidate' },
    { size: 3, granted: [], rejected: [2], role: 'candidate' },
    { size: 3, granted: [], rejected: [2, 3], role: 'follower' },
    { size: 4, granted: [2], rejected: [], role: 'candidate' },
    { size: 4, granted: [2, 3], rejected: [4], role: 'leader' },
    { size: 4, granted: [2], rejected: [3, 4], role: 'follower' },
    { size: 5, granted: [2], rejected: [3], role: 'candidate' },
    { size: 5, granted: [2, 3], rejected: [4, 5], role: 'leader' },
    { size: 5, granted: [2], rejected: [3, 4, 5], role: 'follower' },
  ])('with $size voters, granted by $granted and refused by $rejected, the candidate ends up $role', ({ size, granted, rejected, role }) => {
    const voters = Array.from({ length: size }, (_, k) => k + 1);
    const p = new Peer({ id: 1, voters });
    p.raft.hup('election');
    p.drain();
    for (const from of granted) p.receive(voteResp(from, 1, 1, false));
    for (const from of rejected) p.receive(voteResp(from, 1, 1, true));
    expect(p.raft.role).toBe(role);
  });

  // §5.2: "Each server will vote for at most one candidate in a given term, on a first-come-first-served
  // basis." Together with the majority rule this is Election Safety (Figure 3): at most one leader per term.
  it.each([
    { votedFor: 0, candidate: 2, granted: true },
    { votedFor: 0, candidate: 3, granted: true },
    { votedFor: 2, candidate: 2, granted: true },
    { votedFor: 2, candidate: 3, granted: false },
    { votedFor: 3, candidate: 2, granted: false },
  ])('a server that voted for $votedFor in this term answers $candidate with granted=$granted', ({ votedFor, candidate, granted }) => {
    const p = new Peer({ id: 1, voters: [1, 2, 3], hard: { term: 1, vote: nodeId(votedFor) } });
    const sent = p.receive(vote(candidate, 1, 1, { index: 0, term: 0 }));
    expect(sent).toEqual([voteResp(1, candidate, 1, !granted)]);
    expect(p.raft.vote).toBe(votedFor === 0 ? candidate : votedFor);
  });

  // §5.2 with Figure 2's persistent votedFor: the one vote per term survives a crash, so a restarted
  // server cannot hand a second candidate a vote in the same term.
  it('the vote of a term survives a restart', () => {
    const first = new Peer({ id: 1, voters: [1, 2, 3] });
    expect(first.receive(vote(2, 1, 1, { index: 0, term: 0 }))).toEqual([voteResp(1, 2, 1, false)]);
    const hard = first.storage.hardState();
    const restarted = new Peer({ id: 1, voters: [1, 2, 3], hard });
    expect(restarted.receive(vote(3, 1, 1, { index: 0, term: 0 }))).toEqual([voteResp(1, 3, 1, true)]);
    expect(restarted.receive(vote(2, 1, 1, { index: 0, term: 0 }))).toEqual([voteResp(1, 2, 1, false)]);
  });

  // §5.2: "If the leader's term (included in its RPC) is at least as large as the candidate's current term,
  // then the candidate recognizes the leader as legitimate and returns to follower state."
  it('a candidate that hears from a leader of its own term becomes its follower', () => {
    const p = peerInRole('candidate', 1);
    p.receive(app(2, 1, 1, { index: 0, term: 0 }, entries([1]), 0));
    expect(p.raft.role).toBe('follower');
    expect(p.raft.term).toBe(1);
    expect(p.raft.lead).toBe(2);
    expect(p.logTerms()).toEqual([1]);
  });

  // §5.2: "If the term in the RPC is smaller than the candidate's current term, then the candidate rejects
  // the RPC and continues in candidate state."
  it('a candidate ignores an AppendEntries from an older term', () => {
    const p = peerInRole('candidate', 2);
    p.receive(app(2, 1, 1, { index: 0, term: 0 }, entries([1]), 0));
    expect(p.raft.role).toBe('candidate');
    expect(p.raft.term).toBe(2);
    expect(p.logTerms()).toEqual([]);
  });

  // §5.2: "Raft uses randomized election timeouts ... chosen randomly from a fixed interval". Our interval
  // is [electionTicks, 2 * electionTicks); the jitter comes from the injected Rng only.
  it('election timeouts are random within [electionTicks, 2 * electionTicks) and cover the interval', () => {
    const electionTicks = 10;
    const p = new Peer({ id: 1, voters: [1, 2, 3], electionTicks, rng: new SimRng(7, 'node-1') });
    const seen = new Set<number>();
    for (let k = 0; k < 500; k++) {
      p.raft.becomeFollower((p.raft.term + 1) as Term, NONE);
      let ticks = 0;
      while (p.raft.role === 'follower') {
        p.raft.tick();
        ticks++;
        expect(ticks).toBeLessThan(2 * electionTicks);
      }
      expect(ticks).toBeGreaterThanOrEqual(electionTicks);
      seen.add(ticks);
    }
    expect([...seen].sort((a, b) => a - b)).toEqual(Array.from({ length: electionTicks }, (_, k) => electionTicks + k));
  });

  // §5.2: "in most cases only a single server will time out; it wins the election and sends heartbeats
  // before any other servers time out." Nodes drawing from different Rng streams rarely time out together.
  it('nodes with their own Rng streams seldom time out on the same tick', () => {
    const electionTicks = 10;
    const seeds = 200;
    let together = 0;
    for (let seed = 1; seed <= seeds; seed++) {
      const ps = [1, 2, 3, 4, 5].map((id) => new Peer({ id, voters: [1, 2, 3, 4, 5], electionTicks, rng: new SimRng(seed, `node-${id}`) }));
      let candidates = 0;
      while (candidates === 0) {
        for (const p of ps) p.raft.tick();
        candidates = ps.filter((p) => p.raft.role === 'candidate').length;
      }
      if (candidates > 1) together++;
    }
    // Five uniform draws over ten ticks collide on the minimum with probability about 0.2.
    expect(together / seeds).toBeLessThan(0.3);
    // Without jitter every node would time out at once: the test above is not vacuous.
    const fixed = [1, 2, 3].map((id) => new Peer({ id, voters: [1, 2, 3], electionTicks }));
    for (const p of fixed) p.tick(electionTicks);
    expect(fixed.every((p) => p.raft.role === 'candidate')).toBe(true);
  });
});

describe('§5.4.1 election restriction', () => {
  // §5.4.1: "Raft determines which of two logs is more up-to-date by comparing the index and term of the
  // last entries in the logs. If the logs have last entries with different terms, then the log with the
  // later term is more up-to-date. If the logs end with the same term, then whichever log is longer is
  // more up-to-date." The voter "denies its vote if its own log is more up-to-date than that of the candidate".
  it.each([
    // voter's log, candidate's last (index, term), granted?
    { log: [1, 1], last: { index: 2, term: 1 }, granted: true },
    { log: [1, 1], last: { index: 3, term: 1 }, granted: true },
    { log: [1, 1], last: { index: 1, term: 1 }, granted: false },
    { log: [1, 1], last: { index: 1, term: 2 }, granted: true },
    { log: [1, 2], last: { index: 2, term: 2 }, granted: true },
    { log: [1, 2], last: { index: 1, term: 2 }, granted: false },
    { log: [1, 2], last: { index: 1, term: 3 }, granted: true },
    // Term first, then index: a longer log with an older last term is not more up to date (PITFALLS 2).
    { log: [1, 2], last: { index: 5, term: 1 }, granted: false },
    { log: [1, 1, 1, 2], last: { index: 3, term: 1 }, granted: false },
    { log: [], last: { index: 0, term: 0 }, granted: true },
  ])('a voter with log $log answers a candidate whose last entry is $last.term/$last.index with granted=$granted', ({ log, last, granted }) => {
    const p = new Peer({ id: 1, voters: [1, 2, 3], log, hard: { term: 3 } });
    expect(p.receive(vote(2, 1, 4, last))).toEqual([voteResp(1, 2, 4, !granted)]);
    expect(p.raft.vote).toBe(granted ? 2 : NONE);
  });

  // §5.4.1: "A candidate must contact a majority of the cluster in order to be elected, which means that
  // every committed entry must be present in at least one of those servers." A node missing a committed
  // entry cannot become leader; a node holding it can.
  it('a candidate whose log lacks a committed entry cannot win; one that holds it can', () => {
    const c = clusterWithLogs([1, 2, 3], { 1: [1], 2: [1, 2], 3: [1, 2] }, { 1: { term: 2, commit: 1 }, 2: { term: 2, commit: 2 }, 3: { term: 2, commit: 2 } });
    elect(c, 1);
    expect(c.node(1).raw.raft.role).not.toBe('leader');
    expect(c.node(2).raw.raft.vote).toBe(NONE);
    elect(c, 2);
    expect(c.node(2).raw.raft.role).toBe('leader');
    expect(c.node(1).raw.raft.log.term(2 as Index)).toBe(2);
  });

  // The same scenario with the up-to-date check planted away (PITFALLS 2): the stale candidate wins, so the
  // test above really depends on the restriction.
  it('without the up-to-date check the stale candidate wins (the test above can fail)', () => {
    const c = clusterWithLogs([1, 2, 3], { 1: [1], 2: [1, 2], 3: [1, 2] }, { 1: { term: 2, commit: 1 }, 2: { term: 2, commit: 2 }, 3: { term: 2, commit: 2 } }, { plantedBugs: { grantVoteWithoutLogCheck: true } });
    // Only the election is run: replicating the stale leader's log would then hit the followers'
    // assertion against overwriting a committed entry.
    c.node(1).raw.raft.hup('election');
    c.processReady(nodeId(1), true);
    c.deliver({}, true);
    for (const id of [2, 3]) c.processReady(nodeId(id), true);
    c.deliver({ to: [nodeId(1)] }, true);
    expect(c.node(1).raw.raft.role).toBe('leader');
  });
});

describe('thesis §9.6 pre-vote and §6.2 check-quorum', () => {
  const options = { preVote: true, checkQuorum: true, electionTicks: 10 };

  // Thesis §9.6: "the Pre-Vote algorithm ... a candidate only increments its term if it first learns from a
  // majority of the cluster that they would be willing to grant the candidate their votes". A partitioned
  // node therefore never inflates its term, and rejoining does not depose the leader (PITFALLS 6).
  it('with pre-vote a partitioned node keeps its term and does not disrupt the leader on rejoin', () => {
    const c = clusterWithLogs([1, 2, 3], {}, {}, options);
    elect(c, 1);
    const t = c.node(1).raw.raft.term;
    c.partition([[1, 2], [3]]);
    tickAll(c, 100);
    expect(c.node(3).raw.raft.term).toBe(t);
    expect(c.node(3).raw.raft.role).toBe('preCandidate');
    c.heal();
    tickAll(c, 30);
    expect(c.node(1).raw.raft.role).toBe('leader');
    for (const id of [1, 2, 3]) expect(c.node(id).raw.raft.term).toBe(t);
    expect(c.node(3).raw.raft.lead).toBe(1);
  });

  // The control: without pre-vote, the partitioned node's term climbs and its return forces a new election.
  it('without pre-vote the partitioned node inflates its term and its return deposes the leader', () => {
    const c = clusterWithLogs([1, 2, 3], {}, {}, { preVote: false, checkQuorum: false, electionTicks: 10 });
    elect(c, 1);
    const t = c.node(1).raw.raft.term;
    c.partition([[1, 2], [3]]);
    tickAll(c, 100);
    expect(c.node(3).raw.raft.term).toBeGreaterThan(t + 5);
    c.heal();
    tickAll(c, 30);
    expect(c.node(1).raw.raft.term).toBeGreaterThan(t + 5);
  });

  // Thesis §9.6: in the pre-vote phase "a server ... does not increment its term"; neither does a voter
  // that answers the pre-vote, and it records no vote.
  it('answering a pre-vote changes neither the voter\'s term nor its vote', () => {
    const p = new Peer({ id: 2, voters: [1, 2, 3], log: [1], hard: { term: 1 }, preVote: true });
    expect(p.receive(vote(3, 2, 2, { index: 1, term: 1 }, 'preVote'))).toEqual([voteResp(2, 3, 2, false, 'preVoteResp')]);
    expect(p.raft.term).toBe(1);
    expect(p.raft.vote).toBe(NONE);
    expect(p.storage.hardState()).toMatchObject({ term: 1, vote: NONE });
  });

  // PITFALLS 6 (hashicorp/raft PR 609): granting a pre-vote must not reset the election timer, or a node
  // that keeps probing could hold back a healthy group's election indefinitely.
  it('granting a pre-vote does not reset the election timer', () => {
    const p = new Peer({ id: 2, voters: [1, 2, 3], log: [1], hard: { term: 1 }, preVote: true, electionTicks: 10 });
    p.tick(9);
    p.receive(vote(3, 2, 2, { index: 1, term: 1 }, 'preVote'));
    p.tick(1);
    expect(p.raft.role).toBe('preCandidate');
  });

  // Thesis §6.2: "a leader steps down if an election timeout elapses without a successful round of
  // heartbeats to a majority of its cluster".
  it('with check-quorum a leader cut off from the majority steps down within an election timeout', () => {
    const c = clusterWithLogs([1, 2, 3], {}, {}, options);
    elect(c, 1);
    tickAll(c, 25);
    expect(c.node(1).raw.raft.role).toBe('leader');
    c.partition([[1], [2, 3]]);
    // The lease window restarts at each check; stepping down takes at most two election timeouts.
    tickAll(c, 2 * options.electionTicks);
    expect(c.node(1).raw.raft.role).toBe('follower');
  });

  // Thesis §4.2.3 / §6.2: followers that heard from a leader within the minimum election timeout ignore
  // RequestVote, so a server that cannot win does not disrupt a healthy group (PITFALLS 7).
  it('with check-quorum a follower inside the leader lease ignores a vote request, and grants it after the lease', () => {
    const p = new Peer({ id: 2, voters: [1, 2, 3], hard: { term: 1 }, checkQuorum: true, electionTicks: 10 });
    p.receive(app(1, 2, 1, { index: 0, term: 0 }, entries([1]), 1));
    expect(p.receive(vote(3, 2, 2, { index: 1, term: 1 }))).toEqual([]);
    expect(p.raft.term).toBe(1);
    p.tick(10);
    // The lease has run out (the follower has even started campaigning itself), so the higher term is heard.
    const t = p.raft.term + 1;
    expect(ofType(p.receive(vote(3, 2, t, { index: 1, term: 1 })), 'voteResp')).toEqual([voteResp(2, 3, t, false)]);
    expect(p.raft.vote).toBe(3);
  });
});
