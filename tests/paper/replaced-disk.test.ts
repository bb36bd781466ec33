// A replica whose disk was replaced (a wiped data directory) rejoins under its old id with no memory of
// what it promised: Figure 2's "persistent state on all servers" (currentTerm, votedFor, log[]) is gone.
// Raft's safety rests on those promises (§5.2: "each server will vote for at most one candidate in a
// given term"; §5.4: an entry is committed once stored on a majority). RaftConfig.voteFenceTerm is how
// such a replica comes back: these tests show each rule, and the loss it prevents.
import { describe, expect, it } from 'vitest';
import { NONE } from '../../raft/index.ts';
import { Peer, app, entries, ofType, vote } from './support.ts';

/** A replica of a 3-node group on an empty disk, told that its peers' terms reached `fence`. */
function replaced(fence: number): Peer {
  return new Peer({ id: 2, voters: [1, 2, 3], voteFenceTerm: fence });
}

describe('a replaced disk (RaftConfig.voteFenceTerm)', () => {
  it('starts at the fence term with no vote, and persists the raise before anything else', () => {
    const p = replaced(5);
    expect(p.raft.term).toBe(5);
    expect(p.raft.vote).toBe(NONE);
    const rd = p.raw.ready();
    expect(rd.hardState).toMatchObject({ term: 5, vote: NONE });
    expect(rd.mustSync).toBe(true);
  });

  // The wiped replica acknowledged entry 2 (term 2) for leader 1, which committed it with that
  // acknowledgement (§5.4: stored on a majority, 2 of 3). Node 1 is down; node 3 never got entry 2 and
  // campaigns. An empty log is "at least as up-to-date" as nothing, so without the fence the replaced
  // replica elects node 3, which then overwrites a committed entry.
  it('does not elect a candidate that lacks entries the lost disk acknowledged', () => {
    const candidate = vote(3, 2, 3, { index: 1, term: 1 });
    const blind = new Peer({ id: 2, voters: [1, 2, 3] });
    expect(ofType(blind.receive(candidate), 'voteResp')[0]?.reject).toBe(false);
    const fenced = replaced(2);
    expect(ofType(fenced.receive(candidate), 'voteResp')[0]?.reject).toBe(true);
    expect(fenced.raft.vote).toBe(NONE);
  });

  // §5.2: one vote per term. The lost disk may have voted in any term up to the fence (the candidate it
  // voted for holds that term), so a vote in such a term could be its second.
  it('never votes in a term up to the fence, even once its log has caught up', () => {
    // Caught up by the leader of term 4 (node 1), which is gone now; node 3 asks for term 4, then term 5.
    const p = new Peer({ id: 2, voters: [1, 2, 3], voteFenceTerm: 4, log: [1, 4], hard: { term: 4 } });
    expect(p.raft.fenced()).toBe(false);
    expect(ofType(p.receive(vote(3, 2, 4, { index: 2, term: 4 })), 'voteResp')[0]?.reject).toBe(true);
    expect(p.raft.vote).toBe(NONE);
    expect(ofType(p.receive(vote(3, 2, 5, { index: 2, term: 4 })), 'voteResp')[0]?.reject).toBe(false);
  });

  it('votes again once its log holds an entry of the fence term or later, from a leader elected without it', () => {
    const p = replaced(3);
    expect(p.raft.fenced()).toBe(true);
    // The leader of term 4, elected by nodes 1 and 3, catches it up; its first entry of term 4 ends the fence.
    p.receive(app(1, 2, 4, { index: 0, term: 0 }, entries([1, 2, 4]), 3));
    expect(p.raft.fenced()).toBe(false);
    expect(ofType(p.receive(vote(3, 2, 5, { index: 3, term: 4 })), 'voteResp')[0]?.reject).toBe(false);
    expect(p.raft.vote).toBe(3);
  });

  // A leader of a term before the fence may still count the lost disk's acknowledgements: the replica
  // must not add new ones to its count, so it answers with its higher term and the leader steps down.
  it('takes no entries from a leader of a term before the fence', () => {
    const p = replaced(5);
    const sent = p.receive(app(1, 2, 3, { index: 0, term: 0 }, entries([1, 3]), 0));
    expect(p.logTerms()).toEqual([]);
    for (const m of sent) expect(m.term).toBe(5);
  });

  it('does not campaign while its log is behind the fence', () => {
    const p = replaced(2);
    const sent = p.tick(40);
    expect(ofType(sent, 'vote')).toEqual([]);
    expect(p.raft.term).toBe(2);
    expect(p.raft.role).toBe('follower');
  });
});
