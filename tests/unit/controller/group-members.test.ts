// Consumer-group membership in the metadata image (controller/group-members.ts through MetadataState):
// the target assignment is balanced and sticky; a partition is handed to its new owner only after the old
// one let go of it (or left); an unknown member that claims partitions is told to join again; commits are
// fenced to the partitions a member owns; reset and delete wait for an empty group; a deleted topic's
// partitions are owned by nobody; snapshots carry members. A property runs random heartbeats and leaves of
// several members and checks that no partition ever has two owners and that every member converges.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Command } from '../../../controller/commands.ts';
import { targetAssignment, type MemberAssignment } from '../../../controller/group-members.ts';
import { MetadataState, type ApplyResult } from '../../../controller/metadata.ts';
import { index } from '../../../raft/types.ts';
import { clusterOf, codeOf, createTopic, deleteTopic, valueOf } from './support.ts';

function withTopic(partitions: number): MetadataState {
  const { m } = clusterOf(3);
  valueOf(m.applyCommand(createTopic('c1', 'orders', partitions, 3)));
  return m;
}

const topicId = (m: MetadataState): number => m.topics.get('orders')?.id ?? 1;
const beat = (m: MetadataState, memberId: string, owned: readonly number[], group = 'billing'): ApplyResult =>
  m.applyCommand({ type: 'member-heartbeat', consumerGroup: group, memberId, topic: 'orders', topicId: topicId(m), owned: [...owned] });
const assigned = (m: MetadataState, memberId: string, owned: readonly number[]): readonly number[] => valueOf<MemberAssignment>(beat(m, memberId, owned)).assigned;
const leave = (memberId: string): Command => ({ type: 'leave-group', consumerGroup: 'billing', memberId });
const commitAs = (m: MetadataState, memberId: string | undefined, partition: number, offset: number): ApplyResult =>
  m.applyCommand({ type: 'commit-offsets', consumerGroup: 'billing', topic: 'orders', topicId: topicId(m), offsets: [{ partition, offset }], ...(memberId === undefined ? {} : { memberId }) });
const owners = (m: MetadataState): Map<string, readonly number[]> => new Map(m.describeGroup('billing').members.map((x) => [x.memberId, x.partitions]));

describe('the target assignment', () => {
  it('splits partitions evenly and keeps what members own up to their share', () => {
    const t = targetAssignment(new Map([['a', new Set([0, 1, 2, 3, 4, 5])], ['b', new Set<number>()]]), 6);
    expect(t.get('a')).toEqual([0, 1, 2]);
    expect(t.get('b')).toEqual([3, 4, 5]);
    // A third member takes one from each, and nobody else moves.
    const u = targetAssignment(new Map([['a', new Set([0, 1, 2])], ['b', new Set([3, 4, 5])], ['c', new Set<number>()]]), 6);
    expect(u.get('a')).toEqual([0, 1]);
    expect(u.get('b')).toEqual([3, 4]);
    expect(u.get('c')).toEqual([2, 5]);
  });

  it('property: every partition exactly once, shares differ by at most one, owned partitions kept up to the share', () => {
    fc.assert(fc.property(fc.integer({ min: 0, max: 20 }), fc.array(fc.array(fc.integer({ min: 0, max: 25 }), { maxLength: 8 }), { minLength: 1, maxLength: 6 }), (count, claims) => {
      // Owned sets are disjoint in the image: the first claim of a partition wins.
      const seen = new Set<number>();
      const members = new Map(claims.map((c, k) => [`m${k}`, new Set(c.filter((p) => !seen.has(p) && (seen.add(p), true)))]));
      const t = targetAssignment(members, count);
      const all = [...t.values()].flat().sort((a, b) => a - b);
      expect(all).toEqual(Array.from({ length: count }, (_, p) => p));
      const sizes = [...t.values()].map((ps) => ps.length);
      expect(Math.max(...sizes) - Math.min(...sizes)).toBeLessThanOrEqual(1);
      for (const [id, owned] of members) {
        const valid = [...owned].filter((p) => p < count);
        const kept = (t.get(id) ?? []).filter((p) => owned.has(p));
        expect(kept.length).toBe(Math.min(valid.length, (t.get(id) ?? []).length));
      }
    }), { numRuns: 500 });
  });
});

describe('consumer group membership', () => {
  it('a second member gets its share only after the first let go of it', () => {
    const m = withTopic(4);
    expect(assigned(m, 'a', [])).toEqual([0, 1, 2, 3]);
    const joined = valueOf<MemberAssignment>(beat(m, 'b', []));
    expect(joined).toEqual({ assigned: [], pending: [2, 3], members: 2 });
    // a is told to keep 0 and 1 only; until it reports the others gone, b waits.
    expect(assigned(m, 'a', [0, 1, 2, 3])).toEqual([0, 1]);
    expect(assigned(m, 'b', [])).toEqual([]);
    expect(assigned(m, 'a', [0, 1])).toEqual([0, 1]);
    expect(assigned(m, 'b', [])).toEqual([2, 3]);
    expect(owners(m)).toEqual(new Map([['a', [0, 1]], ['b', [2, 3]]]));
  });

  it('a member that leaves frees its partitions at once', () => {
    const m = withTopic(4);
    assigned(m, 'a', []);
    assigned(m, 'b', []);
    assigned(m, 'a', [0, 1]);
    expect(assigned(m, 'b', [])).toEqual([2, 3]);
    valueOf(m.applyCommand(leave('b')));
    expect(assigned(m, 'a', [0, 1])).toEqual([0, 1, 2, 3]);
    expect(m.groupMembers.count('billing')).toBe(1);
  });

  it('an unknown member that claims partitions is told to join again, owning nothing', () => {
    const m = withTopic(2);
    expect(codeOf(beat(m, 'ghost', [0]))).toBe('UNKNOWN_MEMBER');
    expect(m.groupMembers.count('billing')).toBe(0);
    expect(assigned(m, 'ghost', [])).toEqual([0, 1]);
  });

  it('a heartbeat that changes nothing changes nothing (the leader then writes nothing)', () => {
    const m = withTopic(2);
    assigned(m, 'a', []);
    const version = m.version;
    expect(m.steadyMember('billing', 'a', 'orders', topicId(m), [0, 1])).toEqual({ assigned: [0, 1], pending: [], members: 1 });
    expect(assigned(m, 'a', [0, 1])).toEqual([0, 1]);
    expect(m.version).toBe(version);
    expect(m.steadyMember('billing', 'a', 'orders', topicId(m), [0])).toBeUndefined();
    expect(m.steadyMember('billing', 'b', 'orders', topicId(m), [])).toBeUndefined();
  });

  it('refuses heartbeats for unknown topics, bad member ids and bad group ids', () => {
    const m = withTopic(2);
    expect(codeOf(m.applyCommand({ type: 'member-heartbeat', consumerGroup: 'billing', memberId: 'a', topic: 'nope', topicId: 1, owned: [] }))).toBe('UNKNOWN_TOPIC');
    expect(codeOf(m.applyCommand({ type: 'member-heartbeat', consumerGroup: 'billing', memberId: 'a', topic: 'orders', topicId: topicId(m) + 1, owned: [] }))).toBe('UNKNOWN_TOPIC');
    expect(codeOf(beat(m, 'has space', []))).toBe('INVALID_REQUEST');
    expect(codeOf(beat(m, 'a', [], 'bad\u0000group'))).toBe('INVALID_GROUP');
  });

  it('commits only from the member that owns the partition; reset and delete wait for an empty group', () => {
    const m = withTopic(2);
    assigned(m, 'a', []);
    assigned(m, 'b', []);
    assigned(m, 'a', [0]);
    assigned(m, 'b', []);
    valueOf(commitAs(m, 'a', 0, 5));
    expect(codeOf(commitAs(m, 'a', 1, 5))).toBe('FENCED_MEMBER');
    expect(codeOf(commitAs(m, 'gone', 0, 9))).toBe('UNKNOWN_MEMBER');
    expect(codeOf(commitAs(m, undefined, 0, 9))).toBe('NON_EMPTY_GROUP');
    expect(codeOf(m.applyCommand({ type: 'reset-offsets', requestId: 'r1', consumerGroup: 'billing', topic: 'orders', topicId: topicId(m), offsets: [{ partition: 0, offset: 0 }] }))).toBe('NON_EMPTY_GROUP');
    expect(codeOf(m.applyCommand({ type: 'delete-group', requestId: 'd1', consumerGroup: 'billing' }))).toBe('NON_EMPTY_GROUP');
    expect(m.committedOffsets('billing', 'orders')).toEqual([{ partition: 0, offset: 5 }]);
    valueOf(m.applyCommand(leave('a')));
    valueOf(m.applyCommand(leave('b')));
    valueOf(commitAs(m, undefined, 0, 9));
    valueOf(m.applyCommand({ type: 'delete-group', requestId: 'd2', consumerGroup: 'billing' }));
  });

  it('a deleted topic\'s partitions are owned by nobody; groups with members are listed', () => {
    const m = withTopic(2);
    assigned(m, 'a', []);
    expect(m.groupIds()).toEqual(['billing']);
    valueOf(m.applyCommand(deleteTopic('d1', 'orders')));
    expect(owners(m)).toEqual(new Map([['a', []]]));
  });

  it('snapshots carry members and what they own', () => {
    const m = withTopic(3);
    assigned(m, 'a', []);
    assigned(m, 'b', []);
    const copy = new MetadataState();
    copy.restore(m.snapshot(), index(m.appliedIndex));
    expect(copy.describeGroup('billing')).toEqual(m.describeGroup('billing'));
    expect(assigned(copy, 'a', [0, 1, 2])).toEqual(assigned(m, 'a', [0, 1, 2]));
  });

  it('property: under any heartbeats and leaves no partition has two owners, and members that report honestly converge', () => {
    const step = fc.record({ member: fc.integer({ min: 0, max: 3 }), leave: fc.boolean(), drop: fc.array(fc.integer({ min: 0, max: 5 }), { maxLength: 2 }) });
    fc.assert(fc.property(fc.integer({ min: 1, max: 6 }), fc.array(step, { maxLength: 40 }), (count, steps) => {
      const m = withTopic(count);
      /** What each live member reads, as it believes. */
      const reading = new Map<string, number[]>();
      for (const s of steps) {
        const id = `m${s.member}`;
        if (s.leave) {
          m.applyCommand(leave(id));
          reading.delete(id);
        } else {
          // It reports what it reads, minus what it happens to drop (a lost answer, a failed start).
          const owned = (reading.get(id) ?? []).filter((p) => !s.drop.includes(p));
          const r = beat(m, id, owned);
          reading.set(id, r.ok ? [...(r.value as MemberAssignment).assigned] : []);
        }
        const owned = m.describeGroup('billing').members.flatMap((x) => x.partitions);
        expect(new Set(owned).size).toBe(owned.length);
        // What a member reads, it owns in the image.
        for (const [id2, ps] of reading) for (const p of ps) expect(owners(m).get(id2)).toContain(p);
      }
      // Honest heartbeats from every member until nothing changes: everyone reads its share.
      for (let round = 0; round < 4; round++) for (const id of [...reading.keys()].sort()) reading.set(id, [...assigned(m, id, reading.get(id) ?? [])]);
      const all = [...reading.values()].flat().sort((a, b) => a - b);
      if (reading.size > 0) expect(all).toEqual(Array.from({ length: count }, (_, p) => p));
    }), { numRuns: 300 });
  });

  it('an idle group without members expires, unless its offsets changed since the leader looked or it has members', () => {
    const m = withTopic(2);
    valueOf(commitAs(m, undefined, 0, 3));
    const seen = m.groupOffsets.changedAtVersion('billing');
    expect(seen).toBe(m.version);
    const expire = (changedAt: number): unknown => valueOf(m.applyCommand({ type: 'expire-group', consumerGroup: 'billing', changedAt }));
    // A commit raced the expiry: the offsets moved after the leader looked.
    valueOf(commitAs(m, undefined, 1, 4));
    expect(expire(seen)).toEqual({ expired: false });
    // A member joined meanwhile.
    assigned(m, 'a', []);
    expect(expire(m.groupOffsets.changedAtVersion('billing'))).toEqual({ expired: false });
    valueOf(m.applyCommand(leave('a')));
    const copy = new MetadataState();
    copy.restore(m.snapshot(), index(m.appliedIndex));
    expect(copy.groupOffsets.changedAtVersion('billing')).toBe(m.groupOffsets.changedAtVersion('billing'));
    expect(expire(m.groupOffsets.changedAtVersion('billing'))).toEqual({ expired: true });
    expect(m.groupIds()).toEqual([]);
    expect(m.committedOffsets('billing', 'orders')).toEqual([]);
  });
});
