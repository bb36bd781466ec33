// A whole cluster stopped and started again on the same data directories and ports (DESIGN.md §7: "a
// restarted node recovers from its data directory"): topics, records and idempotent producer state are
// all still there, and the cluster serves new writes.
import * as grpc from '@grpc/grpc-js';
import { afterAll, describe, expect, it } from 'vitest';
import type { NodeId } from '../../raft/types.ts';
import { call, callLeader, clientFor, createCluster, dec, forgetClients, record, waitReady, waitTopicServed, type CallResult, type TestCluster } from './cluster-helpers.ts';

let cluster: TestCluster | undefined;

afterAll(async () => {
  forgetClients();
  await cluster?.destroy();
});

const TOPIC = 'durable';

function value<T>(r: CallResult<T>): T {
  if (!r.ok) throw new Error(`${grpc.status[r.status]} ${r.keelCode ?? ''} ${r.details}`);
  return r.value;
}

async function readAll(addresses: ReadonlyMap<NodeId, string>, partition: number): Promise<string[]> {
  const { result, address } = await callLeader<{ offset: number }>(addresses, 'ListOffsets', { topic: TOPIC, partition, spec: 1 });
  const end = value(result).offset;
  const out: string[] = [];
  while (out.length < end) {
    const f = value(await call<{ records: { offset: number; record: { value: Uint8Array } }[] }>(clientFor(address), 'Fetch', { topic: TOPIC, partition, offset: out.length }));
    if (f.records.length === 0) break;
    for (const r of f.records) out.push(dec(r.record.value));
  }
  return out;
}

describe('restart', () => {
  it('stops all three nodes and starts them again on the same directories: topics and records survive', async () => {
    cluster = await createCluster(3);
    const c = cluster;
    for (const id of c.ids) await c.start(id);
    await waitReady(c);
    value(await call(clientFor(c.addresses.get(1 as NodeId)!), 'CreateTopic', { requestId: 'create-durable', name: TOPIC, partitions: 3, replicationFactor: 3 }));
    await waitTopicServed(c.addresses, TOPIC);

    const written = new Map<number, string[]>([[0, []], [1, []], [2, []]]);
    for (let i = 0; i < 30; i++) {
      const partition = i % 3;
      const v = `r${i}`;
      const { result } = await callLeader(c.addresses, 'Produce', { topic: TOPIC, hasPartition: true, partition, records: [record(null, v)] });
      value(result);
      written.get(partition)!.push(v);
    }
    const pid = value((await callLeader<{ producerId: number; producerEpoch: number }>(c.addresses, 'InitProducerId', { requestId: 'pid' })).result);
    const idempotent = { topic: TOPIC, hasPartition: true, partition: 1, records: [record('p', 'idempotent')], hasProducer: true, producerId: pid.producerId, producerEpoch: pid.producerEpoch, baseSequence: 0 };
    const first = value((await callLeader<{ baseOffset: number; duplicate: boolean }>(c.addresses, 'Produce', idempotent)).result);
    written.get(1)!.push('idempotent');

    const stopStarted = Date.now();
    await c.stopAll();
    const stopMs = Date.now() - stopStarted;
    expect(stopMs).toBeLessThan(10_000);
    // Every port is closed: nothing of the old nodes still answers.
    const gone = await call(clientFor(c.addresses.get(2 as NodeId)!), 'ClusterStatus', {}, 500);
    expect(gone.ok).toBe(false);
    forgetClients();

    for (const id of c.ids) await c.start(id);
    for (const n of c.nodes.values()) expect(n.node.starts).toBe(2);
    await waitReady(c);
    const topics = value(await call<{ names: string[] }>(clientFor(c.addresses.get(3 as NodeId)!), 'ListTopics', {}));
    expect(topics.names).toEqual([TOPIC]);
    await waitTopicServed(c.addresses, TOPIC);
    for (const [partition, values] of written) expect(await readAll(c.addresses, partition), `partition ${partition}`).toEqual(values);

    // The idempotent producer's state survived too: the retried batch is still a duplicate.
    const retry = value((await callLeader<{ baseOffset: number; duplicate: boolean }>(c.addresses, 'Produce', idempotent)).result);
    expect(retry).toMatchObject({ duplicate: true, baseOffset: first.baseOffset });
    const after = value((await callLeader<{ baseOffset: number }>(c.addresses, 'Produce', { topic: TOPIC, hasPartition: true, partition: 2, records: [record(null, 'after-restart')] })).result);
    expect(after.baseOffset).toBe(written.get(2)!.length);
  });
});
