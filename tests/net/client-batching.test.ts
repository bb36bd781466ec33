// The producer's pure parts: which partition a record goes to (Kafka's murmur2 for keys, round-robin
// without) and how records become batches (full by count or bytes, sealed after lingerMs or on flush,
// FIFO per partition), on an explicit clock.
import { describe, expect, it } from 'vitest';
import { partitionForKey } from '../../broker/partition/partitioner.ts';
import { BatchAccumulator } from '../../net/client/accumulator.ts';
import { PartitionChooser } from '../../net/client/partition-chooser.ts';
import { toWireRecord, wireRecordBytes } from '../../net/client/records.ts';

const enc = (s: string): Uint8Array => new TextEncoder().encode(s);

describe('partition choice', () => {
  it('puts a key where Kafka puts it (murmur2), for any partition count', () => {
    const c = new PartitionChooser(() => 0);
    for (const n of [1, 3, 7, 64]) {
      for (const k of ['', 'a', 'user-17', 'héllo', 'a much longer key than four bytes']) {
        const r = c.choose('t', n, enc(k));
        expect(r).toEqual({ ok: true, partition: partitionForKey(enc(k), n) });
      }
    }
    // One of Kafka's murmur2 test vectors: "21" -> -973932308.
    expect(c.choose('t', 1_000, enc('21'))).toEqual({ ok: true, partition: (-973932308 & 0x7fffffff) % 1_000 });
  });

  it('goes round-robin without a key, per topic, from a random start', () => {
    const c = new PartitionChooser(() => 0.5);
    const picks = (topic: string, n: number): number[] => Array.from({ length: 6 }, () => {
      const r = c.choose(topic, n, null);
      return r.ok ? r.partition : -1;
    });
    expect(picks('a', 3)).toEqual([1, 2, 0, 1, 2, 0]);
    expect(picks('b', 4)).toEqual([2, 3, 0, 1, 2, 3]);
    expect(picks('a', 3)).toEqual([1, 2, 0, 1, 2, 0]);
  });

  it('takes an explicit partition, if the topic has it', () => {
    const c = new PartitionChooser(() => 0);
    expect(c.choose('t', 3, enc('k'), 2)).toEqual({ ok: true, partition: 2 });
    const bad = c.choose('t', 3, null, 3);
    expect(bad.ok).toBe(false);
    if (!bad.ok) expect(bad.error).toMatchObject({ code: 'UNKNOWN_TOPIC_OR_PARTITION', retriable: false, message: 'topic t has 3 partitions (0..2); there is no partition 3' });
    expect(c.choose('t', 3, null, -1).ok).toBe(false);
  });
});

describe('batch accumulator', () => {
  const limits = { lingerMs: 5, batchRecordsMax: 3, batchBytesMax: 100 };

  it('seals a batch when it holds batchRecordsMax records', () => {
    const a = new BatchAccumulator<string>(limits);
    for (const r of ['r0', 'r1', 'r2', 'r3']) a.append('t', 0, r, 10, 0);
    expect(a.ready()).toEqual([['t', 0]]);
    expect(a.take('t', 0)?.records).toEqual(['r0', 'r1', 'r2']);
    expect(a.take('t', 0)).toBeUndefined();
    expect(a.bufferedRecords).toBe(1);
  });

  it('seals before a record that would pass batchBytesMax; a larger record travels alone', () => {
    const a = new BatchAccumulator<string>(limits);
    a.append('t', 0, 'small', 60, 0);
    a.append('t', 0, 'next', 50, 0);
    a.append('t', 0, 'huge', 500, 0);
    expect(a.take('t', 0)?.records).toEqual(['small']);
    expect(a.take('t', 0)?.records).toEqual(['next']);
    expect(a.take('t', 0)?.records).toEqual(['huge']);
    expect(a.bufferedRecords).toBe(0);
  });

  it('seals an open batch lingerMs after its first record', () => {
    const a = new BatchAccumulator<string>(limits);
    a.append('t', 0, 'a', 1, 100);
    a.append('t', 1, 'b', 1, 102);
    a.append('t', 0, 'c', 1, 104);
    expect(a.nextLingerDeadline()).toBe(105);
    a.expire(104);
    expect(a.ready()).toEqual([]);
    a.expire(105);
    expect(a.ready()).toEqual([['t', 0]]);
    expect(a.nextLingerDeadline()).toBe(107);
    expect(a.take('t', 0)?.records).toEqual(['a', 'c']);
    a.expire(107);
    expect(a.take('t', 1)?.records).toEqual(['b']);
    expect(a.nextLingerDeadline()).toBeNull();
  });

  it('keeps each partition FIFO and partitions apart; sealAll sends what there is', () => {
    const a = new BatchAccumulator<number>(limits);
    for (let i = 0; i < 8; i++) a.append(i % 2 === 0 ? 'x' : 'y', 0, i, 1, 0);
    a.sealAll();
    const out: Record<string, number[][]> = { x: [], y: [] };
    for (;;) {
      const ready = a.ready();
      if (ready.length === 0) break;
      for (const [topic, partition] of ready) out[topic]!.push(a.take(topic, partition)!.records);
    }
    expect(out).toEqual({ x: [[0, 2, 4], [6]], y: [[1, 3, 5], [7]] });
    expect(a.bufferedRecords).toBe(0);
  });

  it('drains everything on abort', () => {
    const a = new BatchAccumulator<number>(limits);
    for (let i = 0; i < 5; i++) a.append('t', i % 2, i, 1, 0);
    expect(a.drain().flatMap((b) => b.records).sort()).toEqual([0, 1, 2, 3, 4]);
    expect(a.bufferedRecords).toBe(0);
    expect(a.ready()).toEqual([]);
  });
});

describe('records on the wire', () => {
  it('tell null from empty and strings from bytes', () => {
    expect(toWireRecord({ value: 'hi' })).toEqual({ key: new Uint8Array(0), keyNull: true, value: enc('hi'), valueNull: false, headers: [], timestamp: -1 });
    expect(toWireRecord({ key: '', value: null, headers: [{ key: 'h', value: 'v' }], timestamp: 7 })).toEqual({ key: new Uint8Array(0), keyNull: false, value: new Uint8Array(0), valueNull: true, headers: [{ key: 'h', value: enc('v') }], timestamp: 7 });
    expect(wireRecordBytes(toWireRecord({ key: 'k', value: 'value' }))).toBeGreaterThan(6);
  });

  it('are refused with INVALID_REQUEST when malformed', () => {
    const bad = [{}, { value: 5 }, { value: 'v', key: {} }, { value: 'v', headers: [{ key: 1, value: 'x' }] }, { value: 'v', timestamp: 1.5 }, null];
    for (const r of bad) expect(() => toWireRecord(r as never), JSON.stringify(r)).toThrow(expect.objectContaining({ code: 'INVALID_REQUEST', retriable: false }));
  });
});
