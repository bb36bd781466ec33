// A partition snapshots at its retention point, which can lie behind the applied index, so the snapshot
// must carry the membership in force AT that point: not the newest (a membership change after it is still
// in the log after the snapshot and would apply twice), and not the one of the previous snapshot (a
// member added before it would be unknown to a replica installing it: PITFALLS 12).
import { describe, expect, it } from 'vitest';
import { Replica, type ProposeOutcome, type TurnBatch } from '../../broker/replica.ts';
import { SeededRng } from '../../net/seeded-rng.ts';
import { RAFT_DEFAULTS } from '../../raft/config.ts';
import { MemoryStorage } from '../../raft/storage.ts';
import type { ConfState, Index, NodeId, Term } from '../../raft/types.ts';

const NO_MEMBERS: ConfState = { voters: [], learners: [], votersOutgoing: [], learnersNext: [], autoLeave: false };

/** Node 1, sole voter of a group whose state machine can be compacted up to `retention.index` (as a partition's). */
function soleVoter(store: MemoryStorage): { replica: Replica; retention: { index: number }; settle: () => void } {
  const retention = { index: 0 };
  const sm = { apply: (): unknown => undefined, snapshot: () => new Uint8Array(), restore: () => {}, compactableIndex: () => retention.index as Index };
  const replica = new Replica(1 as NodeId, 3, store, sm, { ...RAFT_DEFAULTS, rng: new SeededRng(1) },
    { snapshotEveryEntries: 0, entriesKeptAfterSnapshot: 0, requestTimeoutTicks: 100 }, {}, () => 1);
  // Runs turns, each batch made durable at once, until the replica has nothing left to do.
  const settle = (): void => {
    for (let turns = 0; turns < 20; turns++) {
      const batch: TurnBatch = { ops: [], lazyOps: [], completions: [], send: () => {} };
      replica.collect(batch);
      if (batch.ops.length === 0 && batch.completions.length === 0) return;
      for (const c of batch.completions) c();
    }
  };
  return { replica, retention, settle };
}

function proposed(propose: (done: (o: ProposeOutcome) => void) => void, settle: () => void): Index {
  let outcome: ProposeOutcome | undefined;
  propose((o) => { outcome = o; });
  settle();
  if (outcome === undefined || !outcome.ok) throw new Error(`proposal not applied: ${JSON.stringify(outcome)}`);
  return outcome.index;
}

describe('Replica snapshots at a retention point', () => {
  it('carry the membership in force at that index: not a change after it, and a change before it even across a restart', () => {
    const store = new MemoryStorage();
    store.applySnapshot({ meta: { index: 1 as Index, term: 1 as Term, confState: { ...NO_MEMBERS, voters: [1] as NodeId[] } }, data: new Uint8Array() });
    const { replica, retention, settle } = soleVoter(store);
    replica.raw.campaign();
    settle();
    const data = (): Index => proposed((done) => replica.propose(new Uint8Array([1]), done), settle);
    const before = data();
    const change = proposed((done) => replica.proposeConfChange({ transition: 'auto', changes: [{ type: 'addLearner', nodeId: 2 as NodeId }], context: '' }, done), settle);
    const after = data();
    expect(before).toBeLessThan(change);

    // The replica looks at its retention point in a turn with work to do (a partition's moves as it applies).
    retention.index = before;
    data();
    expect(store.snapshot().meta).toMatchObject({ index: before, confState: { voters: [1], learners: [] } });

    // Restarted on the same log, whose snapshot predates the change: applying the log again brings it back.
    const again = soleVoter(store);
    again.replica.raw.campaign();
    again.settle();
    again.retention.index = after;
    proposed((done) => again.replica.propose(new Uint8Array([2]), done), again.settle);
    expect(store.snapshot().meta).toMatchObject({ index: after, confState: { voters: [1], learners: [2] } });
  });
});
