// The client library end to end on a real three-node cluster (startNode, in this process, on 127.0.0.1):
// create a topic (3 partitions, replication factor 3), send 2,000 records with the idempotent producer,
// read them all back with the consumer and a subscription. Every record exactly once, in send order
// within its partition, at the offset the producer reported. A consumer group reads a topic over two
// runs and follows it, committing as it goes.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KeelClient, KeelError, type SendResult } from '../../net/client/keel-client.ts';
import { createCluster, waitUntilReady, type TestCluster } from './cluster-helpers.ts';

const RECORDS = 2_000;
const TOPIC = 'e2e-orders';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const dec = (b: Uint8Array | null): string => (b === null ? '<null>' : new TextDecoder().decode(b));

let cluster: TestCluster;
let client: KeelClient;

beforeAll(async () => {
  cluster = await createCluster(3);
  for (const id of cluster.ids) await cluster.start(id);
  const peers = cluster.addresses;
  client = new KeelClient({ bootstrap: [...peers.values()], requestTimeoutMs: 5_000 });
  await waitUntilReady(client, peers.values());
});

afterAll(async () => {
  client?.close();
  await cluster?.destroy();
});

describe('KeelClient on a three-node cluster', () => {
  it('produces 2,000 records idempotently and reads every one back exactly once, in order per partition', async () => {
    const created = await client.createTopic(TOPIC, { partitions: 3, replicationFactor: 3 });
    expect(created.name).toBe(TOPIC);
    expect(created.partitions.map((p) => p.replicas.length)).toEqual([3, 3, 3]);
    expect(await client.listTopics()).toContain(TOPIC);
    await expect(client.createTopic(TOPIC, { partitions: 3, replicationFactor: 3 })).rejects.toMatchObject({ code: 'TOPIC_ALREADY_EXISTS', retriable: false });

    // Send: keys spread records over the partitions by murmur2; every 10th record has no key (round-robin).
    const producer = client.producer({ idempotent: true, lingerMs: 5, batchRecordsMax: 100 });
    const sends: Promise<SendResult>[] = [];
    for (let i = 0; i < RECORDS; i++) {
      const key = i % 10 === 0 ? null : `user-${i % 37}`;
      sends.push(producer.send(TOPIC, { key, value: `record-${i}`, headers: [{ key: 'seq', value: String(i) }] }));
    }
    await producer.flush();
    const acks = await Promise.all(sends);
    await producer.close();
    expect(producer.stats.recordsAcknowledged).toBe(RECORDS);
    expect(producer.stats.recordsFailed).toBe(0);

    // Acknowledged positions: distinct, dense per partition, and in send order within a partition.
    const byPartition = new Map<number, { offset: number; i: number }[]>();
    acks.forEach((a, i) => byPartition.set(a.partition, [...(byPartition.get(a.partition) ?? []), { offset: a.offset, i }]));
    expect([...byPartition.keys()].sort()).toEqual([0, 1, 2]);
    for (const list of byPartition.values()) {
      expect(list.map((x) => x.offset)).toEqual(list.map((_, k) => k));
    }

    // Read everything back from the beginning, up to the high watermark.
    const read = await client.consumer().readAll(TOPIC, { from: 'earliest' });
    expect(read).toHaveLength(RECORDS);
    const seen = new Set<string>();
    for (const r of read) {
      const value = dec(r.value);
      expect(seen.has(value), `duplicate ${value}`).toBe(false);
      seen.add(value);
      const i = Number(value.slice('record-'.length));
      // The record sits exactly where the producer was told it went.
      expect({ partition: r.partition, offset: r.offset }).toEqual({ partition: acks[i]!.partition, offset: acks[i]!.offset });
      expect(dec(r.key)).toBe(i % 10 === 0 ? '<null>' : `user-${i % 37}`);
      expect(r.headers.map((h) => [h.key, dec(h.value)])).toEqual([['seq', String(i)]]);
    }
    for (const p of [0, 1, 2]) {
      const offsets = read.filter((r) => r.partition === p).map((r) => r.offset);
      expect(offsets).toEqual(offsets.map((_, k) => k));
    }

    // Offsets and a tail of partition 0 agree with what was read.
    const p0 = read.filter((r) => r.partition === 0);
    expect(await client.listOffsets(TOPIC, 0, 'earliest')).toMatchObject({ offset: 0, highWatermark: p0.length });
    expect((await client.listOffsets(TOPIC, 0, 'latest')).offset).toBe(p0.length);
    const tailed: string[] = [];
    for await (const r of client.subscribe(TOPIC, 0, 0)) {
      tailed.push(dec(r.value));
      if (tailed.length === p0.length) break;
    }
    expect(tailed).toEqual(p0.map((r) => dec(r.value)));

    // A plain produce() and a fetch of it; a bad partition fails for good.
    const one = await client.produce(TOPIC, [{ key: 'k', value: 'last' }], { partition: 1 });
    expect(one).toMatchObject({ partition: 1, duplicate: false });
    const fetched = await client.fetch(TOPIC, 1, one.baseOffset);
    expect(fetched.records.map((r) => dec(r.value))).toEqual(['last']);
    const bad = await client.fetch(TOPIC, 7, 0).catch((e: unknown) => e);
    expect(bad).toBeInstanceOf(KeelError);
    expect(bad).toMatchObject({ code: 'UNKNOWN_TOPIC_OR_PARTITION', retriable: false });
  });

  it('a consumer group reads a topic in turns, each record once; a follow hands out records produced after it started', async () => {
    const topic = 'e2e-group';
    await client.createTopic(topic, { partitions: 3, replicationFactor: 3 });
    for (let i = 0; i < 30; i++) await client.produce(topic, [{ value: `g-${i}` }], { partition: i % 3 });
    const consumer = client.consumer();
    const first = await consumer.readAll(topic, { group: 'billing', maxRecords: 10 });
    const second = await consumer.readAll(topic, { group: 'billing' });
    const both = [...first, ...second].map((r) => dec(r.value));
    expect(first).toHaveLength(10);
    expect(new Set(both).size).toBe(30);
    expect(both).toHaveLength(30);
    expect(await client.fetchOffsets('billing', topic)).toEqual(new Map([[0, 10], [1, 10], [2, 10]]));

    // Following as the group: the records produced while it waits, on every partition, then abort.
    const stop = new AbortController();
    const followed: string[] = [];
    const reading = (async () => {
      for await (const r of consumer.read(topic, { group: 'billing', follow: true, signal: stop.signal })) {
        followed.push(`${r.partition}:${r.offset}:${dec(r.value)}`);
        if (followed.length === 3) stop.abort();
      }
    })();
    await sleep(200);
    for (let p = 0; p < 3; p++) await client.produce(topic, [{ value: `late-${p}` }], { partition: p });
    await reading;
    expect(followed.sort()).toEqual(['0:10:late-0', '1:10:late-1', '2:10:late-2']);
    expect(await client.fetchOffsets('billing', topic)).toEqual(new Map([[0, 11], [1, 11], [2, 11]]));
  });
});
