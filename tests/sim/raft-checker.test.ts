// Every Raft checker is fed the anomaly it names and must report it; fed a healthy history, nothing.
import { describe, expect, it } from 'vitest';
import type { RaftStateView } from '../../broker/observer.ts';
import { RaftChecker } from '../../sim/checkers/raft-checker.ts';
import type { ConfState, Entry, Index, NodeId, RaftRole, SnapshotMeta, Term } from '../../raft/types.ts';

const G = 1;
const cs: ConfState = { voters: [1, 2, 3] as NodeId[], learners: [], votersOutgoing: [], learnersNext: [], autoLeave: false };
const boot: SnapshotMeta = { index: 1 as Index, term: 1 as Term, confState: cs };
const n = (x: number): NodeId => x as NodeId;
const e = (term: number, index: number, data = ''): Entry => ({ term: term as Term, index: index as Index, type: 'normal', data: new TextEncoder().encode(data) });
const st = (term: number, role: RaftRole, commit: number, lastIndex = commit): RaftStateView => ({ term: term as Term, role, lead: 0 as NodeId, commit: commit as Index, lastIndex: lastIndex as Index });

function fresh(nodes = [1, 2, 3]): RaftChecker {
  const c = new RaftChecker(() => 0);
  for (const id of nodes) c.recovered(n(id), G, boot, [], 1 as Index);
  return c;
}

function checkers(c: RaftChecker): string[] {
  return c.violations.map((v) => v.checker);
}

describe('RaftChecker', () => {
  it('a healthy history raises nothing', () => {
    const c = fresh();
    c.raftState(n(1), G, st(2, 'leader', 1));
    for (const id of [1, 2, 3]) c.persisted(n(id), G, null, [e(2, 2, 'a'), e(2, 3, 'b')]);
    for (const id of [1, 2, 3]) {
      c.applied(n(id), G, e(2, 2, 'a'));
      c.applied(n(id), G, e(2, 3, 'b'));
    }
    c.raftState(n(1), G, st(2, 'leader', 3));
    c.raftState(n(2), G, st(3, 'leader', 3));
    expect(c.violations).toEqual([]);
  });

  it('election safety: two leaders in one term', () => {
    const c = fresh();
    c.raftState(n(1), G, st(2, 'leader', 1));
    c.raftState(n(2), G, st(2, 'leader', 1));
    expect(checkers(c)).toContain('election-safety');
  });

  it('log matching: same index and term, different content', () => {
    const c = fresh();
    c.persisted(n(1), G, null, [e(2, 2, 'a')]);
    c.persisted(n(2), G, null, [e(2, 2, 'x')]);
    expect(checkers(c)).toContain('log-matching');
  });

  it('log matching: same entry at 3, different prefixes below it', () => {
    const c = fresh();
    c.persisted(n(1), G, null, [e(2, 2, 'a'), e(3, 3, 'c')]);
    c.persisted(n(2), G, null, [e(2, 2, 'b'), e(3, 3, 'c')]);
    expect(checkers(c)).toContain('log-matching');
  });

  it('log matching: an entry persisted after a gap', () => {
    const c = fresh();
    c.persisted(n(1), G, null, [e(2, 5, 'a')]);
    expect(checkers(c)).toContain('log-matching');
  });

  it('leader completeness: a new leader missing a committed entry', () => {
    const c = fresh();
    for (const id of [1, 2]) c.persisted(n(id), G, null, [e(2, 2, 'a')]);
    c.applied(n(1), G, e(2, 2, 'a'));
    c.raftState(n(1), G, st(2, 'leader', 2)); // 1 led term 2 and committed 2
    c.raftState(n(3), G, st(3, 'leader', 1)); // 3's log ends at 1
    expect(checkers(c)).toContain('leader-completeness');
  });

  it('leader completeness: a new leader holding a different entry where one was committed', () => {
    const c = fresh();
    c.persisted(n(1), G, null, [e(2, 2, 'a')]);
    c.applied(n(1), G, e(2, 2, 'a'));
    c.raftState(n(1), G, st(2, 'leader', 2));
    c.persisted(n(3), G, null, [e(3, 2, 'z')]);
    c.raftState(n(3), G, st(4, 'leader', 1, 2));
    expect(checkers(c)).toContain('leader-completeness');
  });

  // §5.4 binds leaders of later terms only. A candidate of term 2 whose votes were delayed (a pause) wins
  // after term 4 committed index 2: a stale leader that can commit nothing, not a violation.
  it('leader completeness: a candidate of an older term winning late need not hold what later terms committed', () => {
    const c = fresh();
    for (const id of [1, 2]) c.persisted(n(id), G, null, [e(4, 2, 'a')]);
    c.applied(n(1), G, e(4, 2, 'a'));
    c.raftState(n(1), G, st(4, 'leader', 2));
    c.raftState(n(3), G, st(2, 'leader', 1)); // 3's log ends at 1
    expect(c.violations).toEqual([]);
    c.raftState(n(3), G, st(5, 'leader', 1)); // but as leader of term 5 it must
    expect(checkers(c)).toContain('leader-completeness');
  });

  it('state machine safety: two nodes apply different entries at one index', () => {
    const c = fresh();
    c.persisted(n(1), G, null, [e(2, 2, 'a')]);
    c.persisted(n(2), G, null, [e(3, 2, 'b')]);
    c.applied(n(1), G, e(2, 2, 'a'));
    c.applied(n(2), G, e(3, 2, 'b'));
    expect(checkers(c)).toContain('state-machine-safety');
  });

  it('state machine safety: entries applied out of order (a skipped index)', () => {
    const c = fresh();
    c.persisted(n(1), G, null, [e(2, 2, 'a'), e(2, 3, 'b')]);
    c.applied(n(1), G, e(2, 3, 'b'));
    expect(checkers(c)).toContain('state-machine-safety');
  });

  it('commit monotonicity: a commit index that goes back', () => {
    const c = fresh();
    c.raftState(n(2), G, st(2, 'follower', 5, 5));
    c.raftState(n(2), G, st(2, 'follower', 4, 5));
    expect(checkers(c)).toContain('commit-monotonic');
  });

  it('a restart resets what a node may claim (commit is volatile), without a false alarm', () => {
    const c = fresh();
    c.persisted(n(2), G, null, [e(2, 2, 'a')]);
    c.raftState(n(2), G, st(2, 'follower', 2));
    c.recovered(n(2), G, boot, [e(2, 2, 'a')], 1 as Index);
    c.raftState(n(2), G, st(2, 'follower', 1));
    expect(c.violations).toEqual([]);
  });
});
