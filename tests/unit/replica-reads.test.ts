// A follower replica's linearizable reads (ReadIndex, thesis §6.4) go to the leader under a context, and
// the leader's answer is matched to the read by it. A node that restarted must not reuse its previous
// life's contexts: a late answer to an old read carries a read index taken before the new read was asked,
// and serving the new read at it could miss a write that completed in between (PITFALLS 14).
import { describe, expect, it } from 'vitest';
import { Replica, type ReadOutcome, type TurnBatch } from '../../broker/replica.ts';
import { SeededRng } from '../../net/seeded-rng.ts';
import { RAFT_DEFAULTS } from '../../raft/config.ts';
import { MemoryStorage } from '../../raft/storage.ts';
import type { Entry, Index, Message, MsgReadIndex, NodeId, Term } from '../../raft/types.ts';

const GROUP = 7;
const LEADER = 2 as NodeId;

/** Node 1's replica of a three-voter group, a follower of node 2 at term 1, in its life `incarnation`. */
function follower(incarnation: number): { replica: Replica; sent: Message[]; turn: () => void } {
  const store = new MemoryStorage();
  store.applySnapshot({ meta: { index: 1 as Index, term: 1 as Term, confState: { voters: [1, 2, 3] as NodeId[], learners: [], votersOutgoing: [], learnersNext: [], autoLeave: false } }, data: new Uint8Array() });
  const sm = { apply: (_e: Entry): unknown => undefined, snapshot: () => new Uint8Array(), restore: () => {} };
  const replica = new Replica(1 as NodeId, GROUP, store, sm, { ...RAFT_DEFAULTS, rng: new SeededRng(incarnation) },
    { snapshotEveryEntries: 0, entriesKeptAfterSnapshot: 0, requestTimeoutTicks: 100 }, {}, () => incarnation);
  const sent: Message[] = [];
  const turn = (): void => {
    const batch: TurnBatch = { ops: [], lazyOps: [], completions: [], send: (_g, m) => sent.push(m) };
    replica.collect(batch);
    for (const c of batch.completions) c();
  };
  replica.step({ type: 'heartbeat', from: LEADER, to: 1 as NodeId, term: 1 as Term, commit: 1 as Index, context: '' });
  turn();
  return { replica, sent, turn };
}

/** Asks for a read; returns the context it was forwarded to the leader under and its outcomes. */
function read(f: ReturnType<typeof follower>): { context: string; outcomes: ReadOutcome[] } {
  const outcomes: ReadOutcome[] = [];
  f.replica.readIndex((o) => outcomes.push(o));
  f.turn();
  const forwarded = f.sent.filter((m): m is MsgReadIndex => m.type === 'readIndex');
  expect(forwarded).toHaveLength(1);
  f.sent.length = 0;
  return { context: (forwarded[0] as MsgReadIndex).context, outcomes };
}

function answer(f: ReturnType<typeof follower>, context: string): void {
  f.replica.step({ type: 'readIndexResp', from: LEADER, to: 1 as NodeId, term: 1 as Term, index: 1 as Index, context, reject: false });
  f.turn();
}

describe('Replica reads', () => {
  it('a forwarded read is answered by the leader\'s answer under its context', () => {
    const f = follower(1);
    const r = read(f);
    answer(f, r.context);
    expect(r.outcomes).toEqual([{ ok: true, index: 1 }]);
  });

  it('a restarted node forwards its reads under contexts of its own life: a late answer to the old life\'s read answers nothing', () => {
    const before = follower(1);
    const old = read(before);
    const after = follower(2); // the same node and group, restarted
    const fresh = read(after);
    expect(fresh.context).not.toBe(old.context);
    answer(after, old.context);
    expect(fresh.outcomes).toEqual([]);
    answer(after, fresh.context);
    expect(fresh.outcomes).toEqual([{ ok: true, index: 1 }]);
  });
});
