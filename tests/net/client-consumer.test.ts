// Reading a topic back (net/client/consumer.ts) from a fake client: every partition from the earliest
// offset up to the high watermark seen at the start, a given offset, a record limit, records appended
// meanwhile left out unless following, and a leader that is briefly behind (empty answers) waited for.
import { describe, expect, it } from 'vitest';
import { Consumer, type ConsumerHost } from '../../net/client/consumer.ts';
import type { ConsumedRecord, FetchResult } from '../../net/client/records.ts';
import type { OffsetSpec, TopicInfo } from '../../net/client/wire.ts';

const enc = (s: string): Uint8Array => new TextEncoder().encode(s);
const dec = (b: Uint8Array | null): string => (b === null ? '' : new TextDecoder().decode(b));

class FakeTopic implements ConsumerHost {
  readonly fetches: [number, number, number][] = [];
  /** Empty answers to give before real ones, per partition. */
  readonly lagging = new Map<number, number>();

  constructor(readonly logs: string[][], readonly logStart = 0, readonly perFetch = 2) {}

  async describeTopic(name: string): Promise<TopicInfo> {
    return { name, id: 1, replicationFactor: 1, configs: {}, partitions: this.logs.map((_, partition) => ({ partition, group: partition + 1, replicas: [1], leader: 1, leaderAddress: 'a:1', offline: [], reassigningTo: [] })) };
  }

  async listOffsets(_topic: string, partition: number, spec: OffsetSpec): Promise<{ offset: number; logStartOffset: number; highWatermark: number }> {
    const hw = this.logs[partition]!.length;
    return { offset: spec === 'earliest' ? this.logStart : hw, logStartOffset: this.logStart, highWatermark: hw };
  }

  async fetch(_topic: string, partition: number, offset: number, options: { maxWaitMs?: number } = {}): Promise<FetchResult> {
    this.fetches.push([partition, offset, options.maxWaitMs ?? 0]);
    const log = this.logs[partition]!;
    const lag = this.lagging.get(partition) ?? 0;
    if (lag > 0) {
      this.lagging.set(partition, lag - 1);
      return { records: [], highWatermark: offset, logStartOffset: this.logStart };
    }
    const records: ConsumedRecord[] = log.slice(offset, offset + this.perFetch).map((v, i) => ({ offset: offset + i, key: null, value: enc(v), headers: [], timestamp: 0 }));
    return { records, highWatermark: log.length, logStartOffset: this.logStart };
  }
}

describe('consumer', () => {
  it('reads every partition from the beginning up to the high watermark, partitions side by side', async () => {
    const t = new FakeTopic([['a0', 'a1', 'a2'], [], ['c0', 'c1', 'c2', 'c3', 'c4']]);
    const read = await new Consumer(t).readAll('t');
    expect(read.map((r) => `${r.partition}:${r.offset}:${dec(r.value)}`)).toEqual([
      '0:0:a0', '0:1:a1', '2:0:c0', '2:1:c1', '0:2:a2', '2:2:c2', '2:3:c3', '2:4:c4',
    ]);
    expect(read[0]).toMatchObject({ topic: 't', partition: 0, offset: 0 });
    // The empty partition was never fetched.
    expect(t.fetches.some(([p]) => p === 1)).toBe(false);
  });

  it('stops after maxRecords, and reads one partition from a given offset', async () => {
    const t = new FakeTopic([['a0', 'a1', 'a2', 'a3'], ['b0', 'b1']]);
    expect((await new Consumer(t).readAll('t', { maxRecords: 3 })).map((r) => dec(r.value))).toEqual(['a0', 'a1', 'b0']);
    expect((await new Consumer(t).readAll('t', { partitions: [0], from: 2 })).map((r) => dec(r.value))).toEqual(['a2', 'a3']);
    expect(await new Consumer(t).readAll('t', { from: 'latest' })).toEqual([]);
    await expect(new Consumer(t).readAll('t', { partitions: [5] })).rejects.toMatchObject({ code: 'UNKNOWN_TOPIC_OR_PARTITION', retriable: false });
  });

  it('leaves out records appended after it started unless following', async () => {
    const t = new FakeTopic([['a0', 'a1']], 0, 1);
    const seen: string[] = [];
    for await (const r of new Consumer(t).read('t')) {
      seen.push(dec(r.value));
      t.logs[0]!.push(`late${seen.length}`);
    }
    expect(seen).toEqual(['a0', 'a1']);
    const followed: string[] = [];
    for await (const r of new Consumer(t).read('t', { follow: true, maxRecords: 4, maxWaitMs: 100 })) followed.push(dec(r.value));
    expect(followed).toEqual(['a0', 'a1', 'late1', 'late2']);
    expect(t.fetches.at(-1)![2]).toBe(100);
  });

  it('waits for a leader that is briefly behind the high watermark it reported', async () => {
    const t = new FakeTopic([['a0', 'a1']]);
    t.lagging.set(0, 3);
    expect((await new Consumer(t).readAll('t')).map((r) => dec(r.value))).toEqual(['a0', 'a1']);
    // The empty answers were followed by long polls, not a spin.
    expect(t.fetches.map(([, , wait]) => wait)).toEqual([0, 250, 250, 250]);
  });
});
