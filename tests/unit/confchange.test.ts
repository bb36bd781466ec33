// Membership transitions (raft/confchange.ts; Raft thesis §4.1 single-server changes, §4.3 joint
// consensus): entering and leaving a joint configuration, the one-voter limit of a simple change, learner
// promotion, and demotion of an outgoing voter through learnersNext.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { applyConfChange, enterJoint, leaveJoint, restoreConfState, simpleChange, type ConfChangeResult } from '../../raft/confchange.ts';
import { ProgressTracker } from '../../raft/tracker/tracker.ts';
import { nodeId, type ConfChange, type ConfChangeSingle, type ConfChangeType, type ConfState, type Index } from '../../raft/types.ts';

const LAST_INDEX = 10 as Index;

function trackerWith(voters: readonly number[], learners: readonly number[] = []): ProgressTracker {
  const t = new ProgressTracker(8, 0);
  const cs: ConfState = { voters: voters.map(nodeId), learners: learners.map(nodeId), votersOutgoing: [], learnersNext: [], autoLeave: false };
  install(t, restoreConfState(t, cs, LAST_INDEX));
  return t;
}

function install(t: ProgressTracker, r: ConfChangeResult): ProgressTracker {
  if (!r.ok) throw new Error(`unexpected refusal: ${r.error}`);
  t.apply(r.config, r.progress);
  return t;
}

const add = (id: number): ConfChangeSingle => ({ type: 'addNode', nodeId: nodeId(id) });
const learner = (id: number): ConfChangeSingle => ({ type: 'addLearner', nodeId: nodeId(id) });
const remove = (id: number): ConfChangeSingle => ({ type: 'removeNode', nodeId: nodeId(id) });
const cc = (transition: ConfChange['transition'], ...changes: ConfChangeSingle[]): ConfChange => ({ transition, changes, context: '' });

/** The configuration in ConfState form, plus which members the progress map marks as learners. */
function view(t: ProgressTracker): ConfState & { progressLearners: readonly number[]; members: readonly number[] } {
  const members = t.memberIds();
  return { ...t.confState(), members, progressLearners: members.filter((id) => t.progress.get(id)!.isLearner) };
}

describe('simple (single-server) changes, thesis §4.1', () => {
  it('adds a voter, adds a learner and removes a node, one at a time', () => {
    const t = trackerWith([1, 2, 3]);
    install(t, simpleChange(t, [add(4)], LAST_INDEX));
    expect(view(t)).toMatchObject({ voters: [1, 2, 3, 4], learners: [], members: [1, 2, 3, 4] });
    install(t, simpleChange(t, [learner(5)], LAST_INDEX));
    expect(view(t)).toMatchObject({ voters: [1, 2, 3, 4], learners: [5], progressLearners: [5] });
    install(t, simpleChange(t, [remove(1)], LAST_INDEX));
    expect(view(t)).toMatchObject({ voters: [2, 3, 4], learners: [5], members: [2, 3, 4, 5] });
  });

  it('refuses to change two voters at once without a joint configuration', () => {
    const t = trackerWith([1, 2, 3]);
    for (const changes of [[add(4), add(5)], [add(4), remove(1)], [remove(1), remove(2)], [learner(1), learner(2)]]) {
      const r = simpleChange(t, changes, LAST_INDEX);
      expect(r.ok, JSON.stringify(changes)).toBe(false);
    }
    // Several changes that touch at most one voter are fine.
    expect(simpleChange(t, [add(4), learner(5), learner(6)], LAST_INDEX).ok).toBe(true);
  });

  it('a refused change leaves the tracker untouched', () => {
    const t = trackerWith([1, 2, 3], [4]);
    const before = view(t);
    const config = t.config;
    expect(simpleChange(t, [add(4), add(5)], LAST_INDEX).ok).toBe(false);
    expect(simpleChange(t, [remove(1), remove(2), remove(3)], LAST_INDEX).ok).toBe(false);
    expect(t.config).toBe(config);
    expect(view(t)).toEqual(before);
  });

  it('a computed change does not touch the tracker until it is applied', () => {
    const t = trackerWith([1, 2, 3], [4]);
    const before = view(t);
    expect(simpleChange(t, [add(4)], LAST_INDEX).ok).toBe(true);
    expect(enterJoint(t, false, [learner(3), add(5)], LAST_INDEX).ok).toBe(true);
    expect(view(t)).toEqual(before);
    expect(t.progress.get(nodeId(4))!.isLearner).toBe(true);
    expect(t.progress.get(nodeId(3))!.isLearner).toBe(false);
  });

  it('refuses to remove the last voter', () => {
    const t = trackerWith([1]);
    const r = simpleChange(t, [remove(1)], LAST_INDEX);
    expect(r.ok).toBe(false);
  });

  it('promotes a learner to voter, keeping its progress', () => {
    const t = trackerWith([1, 2, 3], [4]);
    t.progress.get(nodeId(4))!.match = 7 as Index;
    install(t, simpleChange(t, [add(4)], LAST_INDEX));
    expect(view(t)).toMatchObject({ voters: [1, 2, 3, 4], learners: [], progressLearners: [] });
    expect(t.progress.get(nodeId(4))!.match).toBe(7);
  });

  it('demotes a voter to learner directly when not joint', () => {
    const t = trackerWith([1, 2, 3]);
    install(t, simpleChange(t, [learner(3)], LAST_INDEX));
    expect(view(t)).toMatchObject({ voters: [1, 2], learners: [3], progressLearners: [3], learnersNext: [] });
  });

  it('is refused inside a joint configuration', () => {
    const t = trackerWith([1, 2, 3]);
    install(t, enterJoint(t, false, [add(4)], LAST_INDEX));
    expect(simpleChange(t, [add(5)], LAST_INDEX).ok).toBe(false);
  });
});

describe('joint consensus, thesis §4.3', () => {
  it('enters a joint configuration: outgoing = old voters, incoming = old voters with the changes', () => {
    const t = trackerWith([1, 2, 3]);
    install(t, enterJoint(t, false, [add(4), remove(1)], LAST_INDEX));
    expect(t.isJoint()).toBe(true);
    expect(view(t)).toMatchObject({ voters: [2, 3, 4], votersOutgoing: [1, 2, 3], members: [1, 2, 3, 4], autoLeave: false });
    // Node 1 is still tracked: it votes in the outgoing half until the joint configuration is left.
    expect(t.isVoter(nodeId(1))).toBe(true);
  });

  it('refuses to enter a joint configuration twice, or from an empty one', () => {
    const t = trackerWith([1, 2, 3]);
    install(t, enterJoint(t, true, [add(4)], LAST_INDEX));
    expect(enterJoint(t, true, [add(5)], LAST_INDEX).ok).toBe(false);
    expect(enterJoint(new ProgressTracker(8, 0), false, [add(1)], LAST_INDEX).ok).toBe(false);
  });

  it('leaves the joint configuration: the incoming half becomes the configuration, removed voters are dropped', () => {
    const t = trackerWith([1, 2, 3]);
    install(t, enterJoint(t, true, [add(4), remove(1)], LAST_INDEX));
    install(t, leaveJoint(t));
    expect(t.isJoint()).toBe(false);
    expect(view(t)).toMatchObject({ voters: [2, 3, 4], votersOutgoing: [], members: [2, 3, 4], autoLeave: false, learnersNext: [] });
  });

  it('refuses to leave a configuration that is not joint', () => {
    expect(leaveJoint(trackerWith([1, 2, 3])).ok).toBe(false);
  });

  it('demoting a voter while joint parks it in learnersNext; it becomes a learner on leaving', () => {
    const t = trackerWith([1, 2, 3]);
    install(t, enterJoint(t, false, [learner(3), add(4)], LAST_INDEX));
    expect(view(t)).toMatchObject({ voters: [1, 2, 4], votersOutgoing: [1, 2, 3], learners: [], learnersNext: [3], progressLearners: [] });
    // Still a voter of the outgoing half, so still counted there.
    expect(t.isVoter(nodeId(3))).toBe(true);
    install(t, leaveJoint(t));
    expect(view(t)).toMatchObject({ voters: [1, 2, 4], votersOutgoing: [], learners: [3], learnersNext: [], progressLearners: [3], members: [1, 2, 3, 4] });
  });

  it('promotes a learner inside a joint change', () => {
    const t = trackerWith([1, 2, 3], [4]);
    install(t, enterJoint(t, false, [add(4), remove(3)], LAST_INDEX));
    expect(view(t)).toMatchObject({ voters: [1, 2, 4], votersOutgoing: [1, 2, 3], learners: [], progressLearners: [] });
  });

  it('applyConfChange: one change with transition auto is simple; several, or implicit/explicit, go joint', () => {
    const simple = trackerWith([1, 2, 3]);
    install(simple, applyConfChange(simple, cc('auto', add(4)), LAST_INDEX));
    expect(simple.isJoint()).toBe(false);

    const auto = trackerWith([1, 2, 3]);
    install(auto, applyConfChange(auto, cc('auto', add(4), add(5)), LAST_INDEX));
    expect(view(auto)).toMatchObject({ voters: [1, 2, 3, 4, 5], votersOutgoing: [1, 2, 3], autoLeave: true });

    const implicit = trackerWith([1, 2, 3]);
    install(implicit, applyConfChange(implicit, cc('implicit', add(4)), LAST_INDEX));
    expect(view(implicit)).toMatchObject({ votersOutgoing: [1, 2, 3], autoLeave: true });

    const explicit = trackerWith([1, 2, 3]);
    install(explicit, applyConfChange(explicit, cc('explicit', add(4)), LAST_INDEX));
    expect(view(explicit)).toMatchObject({ votersOutgoing: [1, 2, 3], autoLeave: false });

    // An empty change leaves the joint configuration.
    install(explicit, applyConfChange(explicit, cc('auto'), LAST_INDEX));
    expect(view(explicit)).toMatchObject({ voters: [1, 2, 3, 4], votersOutgoing: [], autoLeave: false });
  });
});

describe('configuration invariants under random changes', () => {
  const changeArb = fc.record({
    type: fc.constantFrom<ConfChangeType>('addNode', 'addLearner', 'removeNode'),
    nodeId: fc.integer({ min: 1, max: 7 }).map(nodeId),
  });
  const ccArb = fc.record({
    transition: fc.constantFrom<ConfChange['transition']>('auto', 'implicit', 'explicit'),
    changes: fc.array(changeArb, { maxLength: 3 }),
    context: fc.constant(''),
  });

  it('every accepted change keeps the invariants, and the configuration survives a ConfState round trip', () => {
    fc.assert(fc.property(fc.array(ccArb, { maxLength: 25 }), (changes) => {
      const t = trackerWith([1, 2, 3]);
      for (const c of changes) {
        const r = applyConfChange(t, c, LAST_INDEX);
        if (!r.ok) continue;
        install(t, r);
        const cs = t.confState();
        const voters = new Set([...cs.voters, ...cs.votersOutgoing]);
        expect(cs.voters.length).toBeGreaterThan(0);
        for (const id of cs.learners) expect(voters.has(id)).toBe(false);
        for (const id of cs.learnersNext) expect(cs.votersOutgoing).toContain(id);
        if (cs.votersOutgoing.length === 0) expect([cs.learnersNext, cs.autoLeave]).toEqual([[], false]);
        // Exactly the members have progress; the progress map agrees on who is a learner.
        expect(t.memberIds()).toEqual([...new Set([...voters, ...cs.learners])].sort((a, b) => a - b));
        for (const id of t.memberIds()) expect(t.progress.get(id)!.isLearner).toBe(cs.learners.includes(id));
        // Restarting from the ConfState rebuilds the same configuration.
        const restored = new ProgressTracker(8, 0);
        install(restored, restoreConfState(restored, cs, LAST_INDEX));
        expect(restored.confState()).toEqual(cs);
      }
    }), { numRuns: 2000 });
  });
});
