// Committed consumer-group offsets in the metadata image (controller/group-offsets.ts through
// MetadataState): what a commit accepts, that offsets only move forward, that a deleted topic takes its
// offsets along, and that snapshots and encoded log records carry them.
import { describe, expect, it } from 'vitest';
import { decodeCommand, encodeCommand } from '../../../controller/commands.ts';
import { validateGroupId } from '../../../controller/group-offsets.ts';
import { MetadataState } from '../../../controller/metadata.ts';
import { clusterOf, codeOf, commitOffsets, createTopic, deleteTopic, entryOf, image, valueOf } from './support.ts';

function withTopic(partitions = 3): MetadataState {
  const { m } = clusterOf(3);
  valueOf(m.applyCommand(createTopic('c1', 'orders', partitions, 3)));
  return m;
}

describe('consumer group offsets', () => {
  it('stores commits per group and partition, and answers with the committed offsets', () => {
    const m = withTopic();
    const before = m.version;
    expect(valueOf(m.applyCommand(commitOffsets('billing', 'orders', [{ partition: 0, offset: 10 }, { partition: 2, offset: 4 }])))).toEqual({ offsets: [{ partition: 0, offset: 10 }, { partition: 2, offset: 4 }] });
    expect(m.version).toBe(before + 1);
    valueOf(m.applyCommand(commitOffsets('audit', 'orders', [{ partition: 0, offset: 1 }])));
    expect(m.committedOffsets('billing', 'orders')).toEqual([{ partition: 0, offset: 10 }, { partition: 2, offset: 4 }]);
    expect(m.committedOffsets('audit', 'orders')).toEqual([{ partition: 0, offset: 1 }]);
    expect(m.committedOffsets('nobody', 'orders')).toEqual([]);
    expect(m.committedOffsets('billing', 'missing')).toBeUndefined();
  });

  it('only moves forward: an older commit arriving late changes nothing and answers the stored offset', () => {
    const m = withTopic();
    valueOf(m.applyCommand(commitOffsets('g', 'orders', [{ partition: 1, offset: 60 }])));
    const version = m.version;
    expect(valueOf(m.applyCommand(commitOffsets('g', 'orders', [{ partition: 1, offset: 50 }, { partition: 0, offset: 5 }])))).toEqual({ offsets: [{ partition: 1, offset: 60 }, { partition: 0, offset: 5 }] });
    expect(m.version).toBe(version + 1); // partition 0 moved
    expect(valueOf(m.applyCommand(commitOffsets('g', 'orders', [{ partition: 1, offset: 60 }])))).toEqual({ offsets: [{ partition: 1, offset: 60 }] });
    expect(m.version).toBe(version + 1); // nothing moved: no new version
    expect(m.committedOffsets('g', 'orders')).toEqual([{ partition: 0, offset: 5 }, { partition: 1, offset: 60 }]);
  });

  it('refuses bad commits with stable codes and changes nothing', () => {
    const m = withTopic(2);
    const before = image(m);
    const version = m.version;
    expect(codeOf(m.applyCommand(commitOffsets('g', 'missing', [{ partition: 0, offset: 1 }])))).toBe('UNKNOWN_TOPIC');
    expect(codeOf(m.applyCommand(commitOffsets('g', 'orders', [{ partition: 2, offset: 1 }])))).toBe('UNKNOWN_TOPIC_OR_PARTITION');
    expect(codeOf(m.applyCommand(commitOffsets('g', 'orders', [{ partition: -1, offset: 1 }])))).toBe('UNKNOWN_TOPIC_OR_PARTITION');
    expect(codeOf(m.applyCommand(commitOffsets('g', 'orders', [{ partition: 0, offset: -1 }])))).toBe('INVALID_REQUEST');
    expect(codeOf(m.applyCommand(commitOffsets('g', 'orders', [{ partition: 0, offset: 1.5 }])))).toBe('INVALID_REQUEST');
    expect(codeOf(m.applyCommand(commitOffsets('g', 'orders', [{ partition: 0, offset: 1 }, { partition: 0, offset: 2 }])))).toBe('INVALID_REQUEST');
    expect(codeOf(m.applyCommand(commitOffsets('g', 'orders', [])))).toBe('INVALID_REQUEST');
    expect(codeOf(m.applyCommand(commitOffsets('', 'orders', [{ partition: 0, offset: 1 }])))).toBe('INVALID_GROUP');
    expect(codeOf(m.applyCommand(commitOffsets('a\nb', 'orders', [{ partition: 0, offset: 1 }])))).toBe('INVALID_GROUP');
    expect(codeOf(m.applyCommand(commitOffsets('x'.repeat(256), 'orders', [{ partition: 0, offset: 1 }])))).toBe('INVALID_GROUP');
    expect(image(m)).toEqual(before);
    expect(m.version).toBe(version);
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
    valueOf(m.applyCommand(commitOffsets('g', 'orders', [{ partition: 0, offset: 9 }])));
    valueOf(m.applyCommand(deleteTopic('d1', 'orders')));
    valueOf(m.applyCommand(createTopic('c2', 'orders', 1, 3)));
    expect(m.committedOffsets('g', 'orders')).toEqual([]);
    valueOf(m.applyCommand(commitOffsets('g', 'orders', [{ partition: 0, offset: 2 }])));
    expect(m.committedOffsets('g', 'orders')).toEqual([{ partition: 0, offset: 2 }]);
  });

  it('travel in the log as encoded records and in snapshots; an older snapshot without them restores empty', () => {
    const m = withTopic();
    const c = commitOffsets('g', 'orders', [{ partition: 2, offset: 33 }]);
    expect(decodeCommand(encodeCommand(c))).toEqual(c);
    m.apply(entryOf(100, c));
    expect(m.committedOffsets('g', 'orders')).toEqual([{ partition: 2, offset: 33 }]);
    const copy = new MetadataState();
    copy.restore(m.snapshot(), m.appliedIndex);
    expect(copy.committedOffsets('g', 'orders')).toEqual([{ partition: 2, offset: 33 }]);
    expect(image(copy)).toEqual(image(m));
    const old = JSON.parse(new TextDecoder().decode(m.snapshot())) as Record<string, unknown>;
    delete old['groupOffsets'];
    const restoredOld = new MetadataState();
    restoredOld.restore(new TextEncoder().encode(JSON.stringify(old)), m.appliedIndex);
    expect(restoredOld.committedOffsets('g', 'orders')).toEqual([]);
  });

  it('a malformed commit record is not a command', () => {
    const enc = (doc: unknown): Uint8Array => new TextEncoder().encode(JSON.stringify(doc));
    expect(decodeCommand(enc({ type: 'commit-offsets', consumerGroup: 'g', topic: 't', offsets: [{ partition: '0', offset: 1 }] }))).toBeUndefined();
    expect(decodeCommand(enc({ type: 'commit-offsets', consumerGroup: 1, topic: 't', offsets: [] }))).toBeUndefined();
    expect(decodeCommand(enc({ type: 'commit-offsets', group: 'g', topic: 't', offsets: [] }))).toBeUndefined();
  });
});
