// Quorum arithmetic (raft/quorum/majority.ts, joint.ts) against brute-force references, in the manner of
// etcd's quorum/quick_test.go: the committed index is checked by trying every candidate index, a vote
// result by enumerating every way the missing votes could still go (PITFALLS 15).
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { restoreConfState } from '../../raft/confchange.ts';
import { jointCommitted, jointVoteResult, type JointVoters } from '../../raft/quorum/joint.ts';
import { COMMIT_UNBOUNDED, majorityCommitted, majorityVoteResult, type VoteResult } from '../../raft/quorum/majority.ts';
import { ProgressTracker } from '../../raft/tracker/tracker.ts';
import { nodeId, type ConfState, type Index, type NodeId } from '../../raft/types.ts';

const RUNS = 10_000;
const ID_MAX = 9;

// ---- brute-force references ---------------------------------------------------------------------

/** Largest i such that more than half of `voters` acked >= i, trying every i that could be the answer. */
function committedReference(voters: ReadonlySet<NodeId>, acked: ReadonlyMap<NodeId, number>): number {
  if (voters.size === 0) return COMMIT_UNBOUNDED;
  const candidates = [0, ...voters].map((id) => acked.get(id as NodeId) ?? 0);
  let best = 0;
  for (const i of candidates) {
    let holding = 0;
    for (const id of voters) if ((acked.get(id) ?? 0) >= i) holding++;
    if (2 * holding > voters.size && i > best) best = i;
  }
  return best;
}

/** Largest i acked by a majority of both halves (an empty half agrees to anything). */
function jointCommittedReference(voters: JointVoters, acked: ReadonlyMap<NodeId, number>): number {
  const majorityHolds = (half: ReadonlySet<NodeId>, i: number): boolean => {
    if (half.size === 0) return true;
    let holding = 0;
    for (const id of half) if ((acked.get(id) ?? 0) >= i) holding++;
    return 2 * holding > half.size;
  };
  if (voters.incoming.size === 0 && voters.outgoing.size === 0) return COMMIT_UNBOUNDED;
  const candidates = [0, ...acked.values()];
  let best = 0;
  for (const i of candidates) if (i > best && majorityHolds(voters.incoming, i) && majorityHolds(voters.outgoing, i)) best = i;
  return best;
}

/**
 * Decides an election by enumeration: every voter without a vote yet may still grant or refuse. 'won' if
 * every completion wins, 'lost' if none does, else 'pending'. A shared voter votes the same in both halves.
 */
function voteReference(halves: readonly ReadonlySet<NodeId>[], votes: ReadonlyMap<NodeId, boolean>): VoteResult {
  const all = [...new Set(halves.flatMap((h) => [...h]))];
  const missing = all.filter((id) => !votes.has(id));
  let wins = 0;
  const completions = 2 ** missing.length;
  for (let mask = 0; mask < completions; mask++) {
    const v = new Map(votes);
    missing.forEach((id, k) => v.set(id, ((mask >> k) & 1) === 1));
    const winsHalf = (h: ReadonlySet<NodeId>): boolean => {
      if (h.size === 0) return true;
      let granted = 0;
      for (const id of h) if (v.get(id) === true) granted++;
      return 2 * granted > h.size;
    };
    if (halves.every(winsHalf)) wins++;
  }
  return wins === completions ? 'won' : wins === 0 ? 'lost' : 'pending';
}

// ---- arbitraries --------------------------------------------------------------------------------

const idSet = fc.uniqueArray(fc.integer({ min: 1, max: ID_MAX }), { maxLength: ID_MAX }).map((ids) => new Set(ids.map(nodeId)));
/** Acknowledged indexes; ids absent from the map have acknowledged nothing known. Small range: many ties. */
const ackMap = fc.array(fc.tuple(fc.integer({ min: 1, max: ID_MAX + 2 }), fc.nat({ max: 12 })), { maxLength: ID_MAX + 2 })
  .map((pairs) => new Map(pairs.map(([id, i]) => [nodeId(id), i])));
/** Votes, including from ids that are not voters (they must not count). */
const voteMap = fc.array(fc.tuple(fc.integer({ min: 1, max: ID_MAX + 2 }), fc.boolean()), { maxLength: ID_MAX + 2 })
  .map((pairs) => new Map(pairs.map(([id, v]) => [nodeId(id), v])));

const indexer = (acked: ReadonlyMap<NodeId, number>) => (id: NodeId): Index | undefined => acked.get(id) as Index | undefined;

// ---- majority -----------------------------------------------------------------------------------

describe('majority quorum', () => {
  it('committed index = the largest index a majority acknowledged (brute force)', () => {
    fc.assert(fc.property(idSet, ackMap, (voters, acked) => {
      expect(majorityCommitted(voters, indexer(acked))).toBe(committedReference(voters, acked));
    }), { numRuns: RUNS });
  });

  it('committed index never falls when an acknowledgement rises', () => {
    fc.assert(fc.property(idSet, ackMap, fc.integer({ min: 1, max: ID_MAX }), fc.nat({ max: 12 }), (voters, acked, id, more) => {
      const before = majorityCommitted(voters, indexer(acked));
      const raised = new Map(acked).set(nodeId(id), (acked.get(nodeId(id)) ?? 0) + more);
      expect(majorityCommitted(voters, indexer(raised))).toBeGreaterThanOrEqual(before);
    }), { numRuns: RUNS });
  });

  it('vote result = what every completion of the missing votes decides (brute force)', () => {
    fc.assert(fc.property(idSet, voteMap, (voters, votes) => {
      expect(majorityVoteResult(voters, votes)).toBe(voteReference([voters], votes));
    }), { numRuns: RUNS });
  });

  it.each([
    // voters, acks (id -> index), committed
    { voters: [], acks: {}, committed: COMMIT_UNBOUNDED },
    { voters: [1], acks: {}, committed: 0 },
    { voters: [1], acks: { 1: 7 }, committed: 7 },
    { voters: [1, 2], acks: { 1: 7 }, committed: 0 },
    { voters: [1, 2], acks: { 1: 7, 2: 5 }, committed: 5 },
    { voters: [1, 2, 3], acks: { 1: 7, 2: 5 }, committed: 5 },
    { voters: [1, 2, 3, 4], acks: { 1: 9, 2: 8, 3: 2, 4: 1 }, committed: 2 },
    { voters: [1, 2, 3, 4], acks: { 1: 9, 2: 8, 3: 8, 4: 1 }, committed: 8 },
    { voters: [1, 2, 3, 4, 5, 6], acks: { 1: 6, 2: 5, 3: 4, 4: 3, 5: 2, 6: 1 }, committed: 3 },
    // Non-voters' acknowledgements do not count.
    { voters: [1, 2, 3], acks: { 1: 7, 4: 7, 5: 7 }, committed: 0 },
  ])('voters $voters with acks $acks commit $committed', ({ voters, acks, committed }) => {
    const acked = new Map(Object.entries(acks).map(([id, i]) => [nodeId(Number(id)), i]));
    expect(majorityCommitted(new Set(voters.map(nodeId)), indexer(acked))).toBe(committed);
  });

  it.each([
    { voters: [], votes: {}, result: 'won' },
    { voters: [1], votes: {}, result: 'pending' },
    { voters: [1], votes: { 1: true }, result: 'won' },
    { voters: [1], votes: { 1: false }, result: 'lost' },
    { voters: [1, 2], votes: { 1: true }, result: 'pending' },
    { voters: [1, 2], votes: { 1: true, 2: false }, result: 'lost' },
    { voters: [1, 2, 3], votes: { 1: true, 2: false }, result: 'pending' },
    { voters: [1, 2, 3], votes: { 1: true, 3: true }, result: 'won' },
    { voters: [1, 2, 3, 4], votes: { 1: true, 2: true }, result: 'pending' },
    { voters: [1, 2, 3, 4], votes: { 1: true, 2: false, 3: false }, result: 'lost' },
    { voters: [1, 2, 3, 4], votes: { 1: true, 2: true, 3: true }, result: 'won' },
    // Votes of non-voters do not count.
    { voters: [1, 2, 3], votes: { 1: true, 4: true, 5: true }, result: 'pending' },
  ] as const)('voters $voters with votes $votes: $result', ({ voters, votes, result }) => {
    const v = new Map(Object.entries(votes).map(([id, granted]) => [nodeId(Number(id)), granted]));
    expect(majorityVoteResult(new Set(voters.map(nodeId)), v)).toBe(result);
  });
});

// ---- joint --------------------------------------------------------------------------------------

describe('joint quorum', () => {
  const jointArb = fc.record({ incoming: idSet, outgoing: idSet });

  it('committed index = min of the two halves', () => {
    fc.assert(fc.property(jointArb, ackMap, (voters, acked) => {
      const a = majorityCommitted(voters.incoming, indexer(acked));
      const b = majorityCommitted(voters.outgoing, indexer(acked));
      expect(jointCommitted(voters, indexer(acked))).toBe(Math.min(a, b));
    }), { numRuns: RUNS });
  });

  it('committed index = the largest index a majority of each half acknowledged (brute force)', () => {
    fc.assert(fc.property(jointArb, ackMap, (voters, acked) => {
      expect(jointCommitted(voters, indexer(acked))).toBe(jointCommittedReference(voters, acked));
    }), { numRuns: RUNS });
  });

  it('vote result = what every completion of the missing votes decides, shared voters voting once (brute force)', () => {
    fc.assert(fc.property(jointArb, voteMap, (voters, votes) => {
      expect(jointVoteResult(voters, votes)).toBe(voteReference([voters.incoming, voters.outgoing], votes));
    }), { numRuns: RUNS });
  });

  it('a joint config with an empty outgoing half behaves exactly like its incoming majority', () => {
    fc.assert(fc.property(idSet, ackMap, voteMap, (incoming, acked, votes) => {
      const joint = { incoming, outgoing: new Set<NodeId>() };
      expect(jointCommitted(joint, indexer(acked))).toBe(majorityCommitted(incoming, indexer(acked)));
      expect(jointVoteResult(joint, votes)).toBe(majorityVoteResult(incoming, votes));
    }), { numRuns: RUNS });
  });

  it('needs both halves: a majority of the new voters alone does not commit or win', () => {
    const voters = { incoming: new Set([4, 5, 6].map(nodeId)), outgoing: new Set([1, 2, 3].map(nodeId)) };
    const acked = new Map([[4, 9], [5, 9], [6, 9], [1, 9], [2, 3], [3, 1]].map(([id, i]) => [nodeId(id!), i!]));
    expect(jointCommitted(voters, indexer(acked))).toBe(3);
    const votes = new Map([[4, true], [5, true], [1, true], [2, false], [3, false]].map(([id, v]) => [nodeId(id as number), v as boolean]));
    expect(jointVoteResult(voters, votes)).toBe('lost');
  });
});

// ---- the tracker: learners never count -----------------------------------------------------------

describe('progress tracker quorum: learners never count', () => {
  const confArb = fc.record({
    voters: fc.uniqueArray(fc.integer({ min: 1, max: ID_MAX }), { minLength: 1, maxLength: 6 }),
    outgoing: fc.uniqueArray(fc.integer({ min: 1, max: ID_MAX }), { maxLength: 5 }),
    learners: fc.uniqueArray(fc.integer({ min: 1, max: ID_MAX }), { maxLength: 5 }),
  }).map(({ voters, outgoing, learners }): ConfState => ({
    voters: voters.map(nodeId),
    votersOutgoing: outgoing.map(nodeId),
    // A learner is never a voter of either half.
    learners: learners.filter((id) => !voters.includes(id) && !outgoing.includes(id)).map(nodeId),
    learnersNext: [],
    autoLeave: false,
  }));

  function trackerFor(cs: ConfState): ProgressTracker {
    const t = new ProgressTracker(16, 0);
    const r = restoreConfState(t, cs, 10 as Index);
    if (!r.ok) throw new Error(r.error);
    t.apply(r.config, r.progress);
    return t;
  }

  it('committed() counts only voters, whatever the learners acknowledged', () => {
    fc.assert(fc.property(confArb, ackMap, (cs, acked) => {
      const t = trackerFor(cs);
      for (const [id, pr] of t.progress) pr.match = (acked.get(id) ?? 0) as Index;
      const voters = { incoming: new Set(cs.voters), outgoing: new Set(cs.votersOutgoing) };
      expect(t.committed()).toBe(jointCommittedReference(voters, acked));
      // Learners acknowledging everything changes nothing.
      for (const id of cs.learners) t.progress.get(id)!.match = 1_000 as Index;
      expect(t.committed()).toBe(jointCommittedReference(voters, acked));
    }), { numRuns: RUNS });
  });

  it('tallyVotes() decides by voters only, whatever the learners voted', () => {
    fc.assert(fc.property(confArb, voteMap, (cs, votes) => {
      const t = trackerFor(cs);
      for (const [id, granted] of votes) if (!cs.learners.includes(id)) t.recordVote(id, granted);
      const expected = voteReference([new Set(cs.voters), new Set(cs.votersOutgoing)], new Map([...votes].filter(([id]) => !cs.learners.includes(id))));
      for (const id of cs.learners) t.recordVote(id, true);
      const tally = t.tallyVotes();
      expect(tally.result).toBe(expected);
      // The counts are of voters' answers only.
      const voterIds = new Set([...cs.voters, ...cs.votersOutgoing]);
      expect(tally.granted).toBe([...votes].filter(([id, v]) => v && voterIds.has(id)).length);
    }), { numRuns: RUNS });
  });

  it('quorumActive() ignores learners, and counts the leader itself as active', () => {
    fc.assert(fc.property(confArb, fc.array(fc.integer({ min: 1, max: ID_MAX }), { maxLength: ID_MAX }), (cs, active) => {
      const t = trackerFor(cs);
      const self = cs.voters[0]!;
      for (const [id, pr] of t.progress) pr.recentActive = active.includes(id) || cs.learners.includes(id);
      const votes = new Map<NodeId, boolean>();
      for (const id of [...cs.voters, ...cs.votersOutgoing]) votes.set(id, id === self || active.includes(id));
      const expected = voteReference([new Set(cs.voters), new Set(cs.votersOutgoing)], votes) === 'won';
      expect(t.quorumActive(self)).toBe(expected);
    }), { numRuns: RUNS });
  });
});
