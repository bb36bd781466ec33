// Committed consumer-group offsets in the metadata image (controller/group-offsets.ts through
// MetadataState): what a commit accepts, that offsets only move forward, that a commit is pinned to the
// topic it was made for (by id), that a deleted topic takes its offsets along, that groups are listed and
// described, that an operator's reset and a group's deletion move them back once per request id, and that
// snapshots and encoded log records carry them.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeCommand, encodeCommand, type Command } from '../../../controller/commands.ts';
import { validateGroupId } from '../../../controller/group-offsets.ts';
import { MetadataState, type ApplyResult } from '../../../controller/metadata.ts';
import { KeelError } from '../../../net/client/errors.ts';
import { index } from '../../../raft/types.ts';
import { clusterOf, codeOf, commitOffsets, createTopic, deleteTopic, entryOf, image, valueOf, withBrokers } from './support.ts';

function withTopic(partitions = 3): MetadataState {
  const { m } = clusterOf(3);
  valueOf(m.applyCommand(createTopic('c1', 'orders', partitions, 3)));
  return m;
}

const po = (partition: number, offset: number): { partition: number; offset: number } => ({ partition, offset });

/** Commits for the topic as it is now (the id a client would have from describing it). */
function commit(m: MetadataState, group: string, topic: string, ...offsets: { partition: number; offset: number }[]): ApplyResult {
  return m.applyCommand(commitOffsets(group, topic, m.topics.get(topic)?.id ?? 1, offsets));
}

describe('consumer group offsets', () => {
  it('stores commits per group and partition, and answers with the committed offsets', () => {
    const m = withTopic();
    const before = m.version;
    expect(valueOf(commit(m, 'billing', 'orders', po(0, 10), po(2, 4)))).toEqual({ offsets: [po(0, 10), po(2, 4)] });
    expect(m.version).toBe(before + 1);
    valueOf(commit(m, 'audit', 'orders', po(0, 1)));
    expect(m.committedOffsets('billing', 'orders')).toEqual([po(0, 10), po(2, 4)]);
    expect(m.committedOffsets('audit', 'orders')).toEqual([po(0, 1)]);
    expect(m.committedOffsets('nobody', 'orders')).toEqual([]);
    expect(m.committedOffsets('billing', 'missing')).toBeUndefined();
  });

  it('only moves forward: an older commit arriving late changes nothing and answers the stored offset', () => {
    const m = withTopic();
    valueOf(commit(m, 'g', 'orders', po(1, 60)));
    const version = m.version;
    expect(valueOf(commit(m, 'g', 'orders', po(1, 50), po(0, 5)))).toEqual({ offsets: [po(1, 60), po(0, 5)] });
    expect(m.version).toBe(version + 1); // partition 0 moved
    expect(valueOf(commit(m, 'g', 'orders', po(1, 60)))).toEqual({ offsets: [po(1, 60)] });
    expect(m.version).toBe(version + 1); // nothing moved: no new version
    expect(m.committedOffsets('g', 'orders')).toEqual([po(0, 5), po(1, 60)]);
  });

  it('refuses bad commits with stable codes that clients do not retry, and changes nothing', () => {
    const m = withTopic(2);
    const before = image(m);
    const version = m.version;
    const id = m.topics.get('orders')?.id as number;
    const codes = [
      codeOf(m.applyCommand(commitOffsets('g', 'missing', id, [po(0, 1)]))),
      codeOf(commit(m, 'g', 'orders', po(2, 1))),
      codeOf(commit(m, 'g', 'orders', po(-1, 1))),
      codeOf(commit(m, 'g', 'orders', po(0, -1))),
      codeOf(commit(m, 'g', 'orders', po(0, 1.5))),
      codeOf(commit(m, 'g', 'orders', po(0, 1), po(0, 2))),
      codeOf(commit(m, 'g', 'orders')),
      codeOf(commit(m, '', 'orders', po(0, 1))),
      codeOf(commit(m, 'a\nb', 'orders', po(0, 1))),
      codeOf(commit(m, 'x'.repeat(256), 'orders', po(0, 1))),
    ];
    expect(codes).toEqual(['UNKNOWN_TOPIC', ...Array<string>(6).fill('INVALID_REQUEST'), 'INVALID_GROUP', 'INVALID_GROUP', 'INVALID_GROUP']);
    // Partition counts never change, so none of these answers may change on a retry.
    for (const code of new Set(codes)) expect(new KeelError({ code, message: '' }).retriable).toBe(false);
    expect(image(m)).toEqual(before);
    expect(m.version).toBe(version);
  });

  it('lists the groups that committed, and describes a group\'s commits across topics, in name order', () => {
    const m = withTopic();
    valueOf(m.applyCommand(createTopic('c2', 'audit-log', 1, 3)));
    expect(m.groupIds()).toEqual([]);
    valueOf(commit(m, 'zeta', 'orders', po(1, 5)));
    valueOf(commit(m, 'alpha', 'orders', po(2, 7), po(0, 3)));
    valueOf(commit(m, 'alpha', 'audit-log', po(0, 1)));
    expect(m.groupIds()).toEqual(['alpha', 'zeta']);
    expect(m.describeGroup('alpha').topics).toEqual([{ topic: 'audit-log', offsets: [po(0, 1)] }, { topic: 'orders', offsets: [po(0, 3), po(2, 7)] }]);
    expect(m.describeGroup('nobody').topics).toEqual([]);
    // A group whose only topic goes is gone with it.
    valueOf(m.applyCommand(deleteTopic('d1', 'orders')));
    expect(m.groupIds()).toEqual(['alpha']);
    expect(m.describeGroup('alpha').topics).toEqual([{ topic: 'audit-log', offsets: [po(0, 1)] }]);
  });

  it('an operator\'s reset moves offsets anywhere, backwards too, once per request id', () => {
    const m = withTopic();
    const id = m.topics.get('orders')?.id as number;
    valueOf(commit(m, 'g', 'orders', po(0, 50), po(1, 20)));
    const reset: Command = { type: 'reset-offsets', requestId: 'r1', consumerGroup: 'g', topic: 'orders', topicId: id, offsets: [po(0, 0), po(2, 9)] };
    const version = m.version;
    expect(valueOf(m.applyCommand(reset))).toEqual({ offsets: [po(0, 0), po(2, 9)] });
    expect(m.version).toBe(version + 1);
    expect(m.committedOffsets('g', 'orders')).toEqual([po(0, 0), po(1, 20), po(2, 9)]);
    // The group's consumers go on; a retry of the reset arriving late moves nothing back again.
    valueOf(commit(m, 'g', 'orders', po(0, 7)));
    expect(valueOf(m.applyCommand(reset))).toEqual({ offsets: [po(0, 0), po(2, 9)] });
    expect(m.committedOffsets('g', 'orders')).toEqual([po(0, 7), po(1, 20), po(2, 9)]);
    // Checked as commits are, and pinned to the topic's id.
    expect(codeOf(m.applyCommand({ ...reset, requestId: 'r2', offsets: [po(5, 0)] }))).toBe('INVALID_REQUEST');
    expect(codeOf(m.applyCommand({ ...reset, requestId: 'r3', consumerGroup: '' }))).toBe('INVALID_GROUP');
    expect(codeOf(m.applyCommand({ ...reset, requestId: 'r4', topicId: id + 1 }))).toBe('UNKNOWN_TOPIC');
    expect(decodeCommand(encodeCommand(reset))).toEqual(reset);
  });

  it('deleting a group forgets its offsets in every topic; a group that never committed is not deleted', () => {
    const m = withTopic();
    valueOf(m.applyCommand(createTopic('c2', 'audit-log', 1, 3)));
    valueOf(commit(m, 'g', 'orders', po(0, 5)));
    valueOf(commit(m, 'g', 'audit-log', po(0, 2)));
    valueOf(commit(m, 'h', 'orders', po(0, 1)));
    const del: Command = { type: 'delete-group', requestId: 'd1', consumerGroup: 'g' };
    expect(decodeCommand(encodeCommand(del))).toEqual(del);
    expect(valueOf(m.applyCommand(del))).toEqual({ deleted: true });
    expect(m.groupIds()).toEqual(['h']);
    expect(m.committedOffsets('g', 'orders')).toEqual([]);
    const version = m.version;
    expect(valueOf(m.applyCommand({ ...del, requestId: 'd2' }))).toEqual({ deleted: false });
    expect(m.version).toBe(version);
    expect(codeOf(m.applyCommand({ ...del, requestId: 'd3', consumerGroup: 'a\nb' }))).toBe('INVALID_GROUP');
    // Committing again starts the group afresh.
    valueOf(commit(m, 'g', 'orders', po(0, 1)));
    expect(m.committedOffsets('g', 'orders')).toEqual([po(0, 1)]);
  });

  it('group ids: any printable text of 1 to 255 characters', () => {
    expect(validateGroupId('billing-service.v2')).toBeNull();
    expect(validateGroupId('группа 1')).toBeNull();
    expect(validateGroupId('x'.repeat(255))).toBeNull();
    expect(validateGroupId(7)).toMatch(/string/);
    expect(validateGroupId('tab\there')).toMatch(/control/);
  });

  it('a deleted topic takes its offsets along: a topic created again under the name starts afresh', () => {
    const m = withTopic();
    valueOf(commit(m, 'g', 'orders', po(0, 9)));
    valueOf(m.applyCommand(deleteTopic('d1', 'orders')));
    valueOf(m.applyCommand(createTopic('c2', 'orders', 1, 3)));
    expect(m.committedOffsets('g', 'orders')).toEqual([]);
    valueOf(commit(m, 'g', 'orders', po(0, 2)));
    expect(m.committedOffsets('g', 'orders')).toEqual([po(0, 2)]);
  });

  it('a commit delayed past its topic\'s deletion does not land on the topic created again under the name', () => {
    const m = withTopic(1);
    const late = commitOffsets('g', 'orders', m.topics.get('orders')?.id as number, [po(0, 1000)]);
    valueOf(m.applyCommand(deleteTopic('d1', 'orders')));
    valueOf(m.applyCommand(createTopic('c2', 'orders', 1, 3)));
    const version = m.version;
    const r = m.applyCommand(late);
    expect(codeOf(r)).toBe('UNKNOWN_TOPIC');
    expect(r.ok ? '' : r.error.message).toMatch(/was deleted/);
    expect(m.committedOffsets('g', 'orders')).toEqual([]);
    expect(m.version).toBe(version);
  });

  it('travel in the log as encoded records and in snapshots; an older snapshot without them restores empty', () => {
    const m = withTopic();
    const c = commitOffsets('g', 'orders', m.topics.get('orders')?.id as number, [po(2, 33)]);
    expect(decodeCommand(encodeCommand(c))).toEqual(c);
    m.apply(entryOf(100, c));
    expect(m.committedOffsets('g', 'orders')).toEqual([po(2, 33)]);
    const copy = new MetadataState();
    copy.restore(m.snapshot(), m.appliedIndex);
    expect(copy.committedOffsets('g', 'orders')).toEqual([po(2, 33)]);
    expect(image(copy)).toEqual(image(m));
    const old = JSON.parse(new TextDecoder().decode(m.snapshot())) as Record<string, unknown>;
    delete old['groupOffsets'];
    const restoredOld = new MetadataState();
    restoredOld.restore(new TextEncoder().encode(JSON.stringify(old)), m.appliedIndex);
    expect(restoredOld.committedOffsets('g', 'orders')).toEqual([]);
  });

  it('snapshot bytes are equal on a node that restored mid-history and one that applied everything', () => {
    const names = ['a', 'b'];
    const act = fc.oneof(
      fc.record({ k: fc.constant('commit' as const), g: fc.nat({ max: 2 }), t: fc.nat({ max: 1 }), parts: fc.uniqueArray(fc.nat({ max: 2 }), { minLength: 1, maxLength: 3 }), off: fc.nat({ max: 20 }) }),
      fc.record({ k: fc.constant('delete' as const), t: fc.nat({ max: 1 }) }),
      fc.record({ k: fc.constant('create' as const), t: fc.nat({ max: 1 }) }),
      fc.record({ k: fc.constant('reset' as const), g: fc.nat({ max: 2 }), t: fc.nat({ max: 1 }), parts: fc.uniqueArray(fc.nat({ max: 2 }), { minLength: 1, maxLength: 3 }), off: fc.nat({ max: 20 }) }),
      fc.record({ k: fc.constant('drop-group' as const), g: fc.nat({ max: 2 }), t: fc.nat({ max: 1 }) }),
    );
    const arb = fc.array(act, { minLength: 1, maxLength: 40 }).chain((as) => fc.tuple(fc.constant(as), fc.nat({ max: as.length })));
    fc.assert(fc.property(arb, ([actions, split]) => {
      const a = new MetadataState();
      withBrokers(a, 3);
      const base = a.appliedIndex;
      let k = 0;
      for (const n of names) a.apply(entryOf(base + ++k, createTopic(`s${n}`, n, 3, 3)));
      const restored = (): MetadataState => {
        const r = new MetadataState();
        r.restore(a.snapshot(), index(a.appliedIndex));
        return r;
      };
      let b: MetadataState | undefined;
      actions.forEach((x, i) => {
        if (i === split) b = restored();
        const t = names[x.t] as string;
        // Commands are built against the image at the time (the id a client would have), applied to both.
        const id = a.topics.get(t)?.id ?? 1;
        const c: Command = x.k === 'commit' ? commitOffsets(`g${x.g}`, t, id, x.parts.map((p, j) => po(p, x.off + j)))
          : x.k === 'reset' ? { type: 'reset-offsets', requestId: `r${i}`, consumerGroup: `g${x.g}`, topic: t, topicId: id, offsets: x.parts.map((p, j) => po(p, x.off + j)) }
            : x.k === 'drop-group' ? { type: 'delete-group', requestId: `dg${i}`, consumerGroup: `g${x.g}` }
              : x.k === 'delete' ? deleteTopic(`x${i}`, t) : createTopic(`c${i}`, t, 3, 3);
        const e = entryOf(base + ++k, c);
        a.apply(e);
        b?.apply(e);
      });
      b ??= restored();
      expect(new TextDecoder().decode(b.snapshot())).toBe(new TextDecoder().decode(a.snapshot()));
    }), { numRuns: 300 });
  });

  it('a malformed commit record is not a command', () => {
    const enc = (doc: unknown): Uint8Array => new TextEncoder().encode(JSON.stringify(doc));
    expect(decodeCommand(enc({ type: 'commit-offsets', consumerGroup: 'g', topic: 't', topicId: 1, offsets: [{ partition: '0', offset: 1 }] }))).toBeUndefined();
    expect(decodeCommand(enc({ type: 'commit-offsets', consumerGroup: 1, topic: 't', topicId: 1, offsets: [] }))).toBeUndefined();
    expect(decodeCommand(enc({ type: 'commit-offsets', consumerGroup: 'g', topic: 't', offsets: [] }))).toBeUndefined();
    expect(decodeCommand(enc({ type: 'commit-offsets', group: 'g', topic: 't', topicId: 1, offsets: [] }))).toBeUndefined();
    expect(decodeCommand(enc({ type: 'reset-offsets', consumerGroup: 'g', topic: 't', topicId: 1, offsets: [] }))).toBeUndefined();
    expect(decodeCommand(enc({ type: 'delete-group', consumerGroup: 'g' }))).toBeUndefined();
  });
});
