// The client API end to end: three real nodes (startNode) in this process on 127.0.0.1, driven through
// raw gRPC calls with a generic client built from client.proto. Every method, both streams, the error
// mapping on the wire (status + keel-* trailers) and the health service.
import * as grpc from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SERVING_STATUS } from '../../net/health-service.ts';
import type { NodeId } from '../../raft/types.ts';
import {
  call, callLeader, clientFor, createCluster, dec, enc, forgetClients, healthClient, record, waitReady, waitTopicServed, waitUntil,
  type CallResult, type ClusterStatus, type TestCluster,
} from './cluster-helpers.ts';
import type { WireRecord } from '../../net/client-convert.ts';

interface ProduceResponse { topic: string; partition: number; baseOffset: number; logAppendTimeMs: number; duplicate: boolean }
interface FetchResponse { topic: string; partition: number; records: { offset: number; record: WireRecord }[]; highWatermark: number; logStartOffset: number }
interface PartitionInfo { partition: number; group: number; replicas: number[]; leader: number; leaderAddress: string; offline: number[]; reassigningTo: number[] }
interface TopicInfo { name: string; id: number; replicationFactor: number; configs: Record<string, string>; partitions: PartitionInfo[] }

let cluster: TestCluster;
let addresses: ReadonlyMap<NodeId, string>;
const TOPIC = 'orders';

beforeAll(async () => {
  cluster = await createCluster(3);
  addresses = cluster.addresses;
  for (const id of cluster.ids) await cluster.start(id);
  await waitReady(cluster);
});

afterAll(async () => {
  forgetClients();
  await cluster.destroy();
});

function expectOk<T>(r: CallResult<T>): T {
  if (!r.ok) throw new Error(`call failed: ${grpc.status[r.status]} ${r.keelCode ?? ''} ${r.details}`);
  return r.value;
}

async function produce(partition: number, records: WireRecord[], extra: Record<string, unknown> = {}): Promise<{ response: ProduceResponse; leader: string }> {
  const { result, address } = await callLeader<ProduceResponse>(addresses, 'Produce', { topic: TOPIC, hasPartition: true, partition, records, ...extra });
  return { response: expectOk(result), leader: address };
}

async function describeTopic(name: string): Promise<TopicInfo> {
  return expectOk(await call<{ topic: TopicInfo }>(clientFor(addresses.get(1 as NodeId)!), 'DescribeTopic', { name })).topic;
}

describe('client API on a three-node cluster', () => {
  it('reports readiness in ClusterStatus and the health service', async () => {
    for (const [id, address] of addresses) {
      const s = expectOk(await call<ClusterStatus>(clientFor(address), 'ClusterStatus', {}));
      expect(s.nodeId).toBe(id);
      expect(s.ready).toBe(true);
      expect(s.controllerLeader).toBeGreaterThan(0);
      expect(s.brokers.map((b) => [b.id, b.address])).toEqual([...addresses].map(([i, a]) => [i, a]));
      const h = healthClient(address);
      for (const service of ['', 'keel.v1.Keel']) expect(expectOk(await call<{ status: number }>(h, 'Check', { service }))).toEqual({ status: SERVING_STATUS.SERVING });
      const unknown = await call(h, 'Check', { service: 'no.such.Service' });
      expect(unknown.ok ? 'ok' : unknown.status).toBe(grpc.status.NOT_FOUND);
    }
  });

  it('creates a topic with three partitions and three replicas', async () => {
    const created = expectOk(await call<{ topic: TopicInfo }>(clientFor(addresses.get(2 as NodeId)!), 'CreateTopic', {
      requestId: 'create-orders', name: TOPIC, partitions: 3, replicationFactor: 3, configs: { 'retention.ms': '3600000' },
    }));
    expect(created.topic.name).toBe(TOPIC);
    expect(created.topic.partitions).toHaveLength(3);
    expect(created.topic.configs['retention.ms']).toBe('3600000');
    for (const p of created.topic.partitions) expect([...p.replicas].sort()).toEqual([1, 2, 3]);
    // A retry with the same request id answers the first result instead of failing.
    const again = expectOk(await call<{ topic: TopicInfo }>(clientFor(addresses.get(3 as NodeId)!), 'CreateTopic', {
      requestId: 'create-orders', name: TOPIC, partitions: 3, replicationFactor: 3, configs: { 'retention.ms': '3600000' },
    }));
    expect(again.topic.id).toBe(created.topic.id);
    // A different request for the same name is refused.
    const dup = await call(clientFor(addresses.get(1 as NodeId)!), 'CreateTopic', { requestId: 'create-orders-2', name: TOPIC, partitions: 1, replicationFactor: 1 });
    expect(dup.ok ? 'ok' : [dup.status, dup.keelCode]).toEqual([grpc.status.ALREADY_EXISTS, 'TOPIC_ALREADY_EXISTS']);
    await waitTopicServed(addresses, TOPIC);
    expect((await describeTopic(TOPIC)).partitions.every((p) => p.leaderAddress === addresses.get(p.leader as NodeId))).toBe(true);
  });

  it('produces to each partition (following NOT_LEADER), fetches back, lists offsets', async () => {
    for (const partition of [0, 1, 2]) {
      const records = [record(`k${partition}`, `v${partition}-0`, { h: 'x' }), record(null, `v${partition}-1`), record(`k${partition}`, null), record('', '')];
      const { response, leader } = await produce(partition, records);
      expect(response).toMatchObject({ topic: TOPIC, partition, baseOffset: 0, duplicate: false });
      const fetched = expectOk(await call<FetchResponse>(clientFor(leader), 'Fetch', { topic: TOPIC, partition, offset: 0, maxBytes: 0, maxWaitMs: 0 }));
      expect(fetched.highWatermark).toBe(4);
      expect(fetched.records.map((r) => r.offset)).toEqual([0, 1, 2, 3]);
      const [r0, r1, r2, r3] = fetched.records.map((r) => r.record);
      expect([dec(r0!.key), dec(r0!.value), r0!.headers.map((h) => [h.key, dec(h.value)])]).toEqual([`k${partition}`, `v${partition}-0`, [['h', 'x']]]);
      expect([r1!.keyNull, dec(r1!.value)]).toEqual([true, `v${partition}-1`]);
      expect([r2!.keyNull, r2!.valueNull]).toEqual([false, true]);
      expect([r3!.keyNull, r3!.valueNull, r3!.key.length, r3!.value.length]).toEqual([false, false, 0, 0]);
      expect(r0!.timestamp).toBe(response.logAppendTimeMs);
      const earliest = expectOk(await call<{ offset: number; logStartOffset: number; highWatermark: number }>(clientFor(leader), 'ListOffsets', { topic: TOPIC, partition, spec: 0 }));
      const latest = expectOk(await call<{ offset: number }>(clientFor(leader), 'ListOffsets', { topic: TOPIC, partition, spec: 1 }));
      const byTime = expectOk(await call<{ offset: number }>(clientFor(leader), 'ListOffsets', { topic: TOPIC, partition, spec: 2, timestamp: response.logAppendTimeMs }));
      expect([earliest.offset, earliest.highWatermark, latest.offset, byTime.offset]).toEqual([0, 4, 4, 0]);
    }
  });

  it('keyed produce without a partition lands on the key\'s partition; acks=leader answers base_offset -1', async () => {
    const { result } = await callLeader<ProduceResponse>(addresses, 'Produce', { topic: TOPIC, hasKey: true, key: enc('user-7'), records: [record('user-7', 'a')] });
    const first = expectOk(result);
    const { result: again } = await callLeader<ProduceResponse>(addresses, 'Produce', { topic: TOPIC, hasKey: true, key: enc('user-7'), records: [record('user-7', 'b')] });
    expect(expectOk(again).partition).toBe(first.partition);
    const { result: leaderAck } = await callLeader<ProduceResponse>(addresses, 'Produce', { topic: TOPIC, hasPartition: true, partition: 0, acks: 1, records: [record(null, 'fast')] });
    expect(expectOk(leaderAck).baseOffset).toBe(-1);
  });

  it('idempotent produce: a retried batch is a duplicate with the original offset', async () => {
    const { result } = await callLeader<{ producerId: number; producerEpoch: number }>(addresses, 'InitProducerId', { requestId: 'pid-1' });
    const pid = expectOk(result);
    expect(pid.producerId).toBeGreaterThan(0);
    const req = { hasProducer: true, producerId: pid.producerId, producerEpoch: pid.producerEpoch, baseSequence: 0 };
    const first = await produce(1, [record('i', 'once-0'), record('i', 'once-1')], req);
    expect(first.response.duplicate).toBe(false);
    const retry = await produce(1, [record('i', 'once-0'), record('i', 'once-1')], req);
    expect(retry.response).toMatchObject({ duplicate: true, baseOffset: first.response.baseOffset });
    const gap = await call(clientFor(first.leader), 'Produce', { topic: TOPIC, hasPartition: true, partition: 1, records: [record('i', 'gap')], ...req, baseSequence: 7 });
    expect(gap.ok ? 'ok' : [gap.status, gap.keelCode]).toEqual([grpc.status.FAILED_PRECONDITION, 'OUT_OF_ORDER_SEQUENCE']);
  });

  it('ProduceStream: 200 pipelined requests, each answered once by correlation id', async () => {
    const { leader, response: warmUp } = await produce(2, [record(null, 'warm-up')]);
    const stream = (clientFor(leader)['ProduceStream'] as (md: grpc.Metadata, o: grpc.CallOptions) => grpc.ClientDuplexStream<unknown, unknown>).call(clientFor(leader), new grpc.Metadata(), { deadline: Date.now() + 20_000 });
    const answers = new Map<number, { ok?: ProduceResponse; error?: { code: string } }>();
    const ended = new Promise<void>((resolve, reject) => {
      stream.on('data', (m: { correlationId: number; ok?: ProduceResponse; error?: { code: string } }) => {
        expect(answers.has(m.correlationId)).toBe(false);
        answers.set(m.correlationId, m);
      });
      stream.on('end', resolve);
      stream.on('error', reject);
    });
    for (let i = 0; i < 200; i++) stream.write({ correlationId: 1_000 + i, request: { topic: TOPIC, hasPartition: true, partition: 2, records: [record(`s${i}`, `stream-${i}`)] } });
    stream.write({ correlationId: 5, request: { topic: 'no-such-topic', records: [record(null, 'x')] } });
    stream.write({ correlationId: 6 });
    stream.end();
    await ended;
    expect(answers.size).toBe(202);
    expect(answers.get(5)?.error?.code).toBe('UNKNOWN_TOPIC_OR_PARTITION');
    expect(answers.get(6)?.error?.code).toBe('INVALID_REQUEST');
    const offsets = Array.from({ length: 200 }, (_, i) => answers.get(1_000 + i)?.ok?.baseOffset);
    expect(offsets.every((o) => typeof o === 'number')).toBe(true);
    expect(new Set(offsets).size).toBe(200);
    // Offsets are assigned in commit order: 200 consecutive ones after the warm-up record.
    expect([...offsets as number[]].sort((a, b) => a - b)).toEqual(Array.from({ length: 200 }, (_, i) => warmUp.baseOffset + 1 + i));
  });

  it('Subscribe receives records produced after subscribing, then ends when cancelled', async () => {
    const { leader } = await produce(0, [record(null, 'before')]);
    const latest = expectOk(await call<{ offset: number }>(clientFor(leader), 'ListOffsets', { topic: TOPIC, partition: 0, spec: 1 })).offset;
    const sub = (clientFor(leader)['Subscribe'] as (r: unknown, md: grpc.Metadata, o: grpc.CallOptions) => grpc.ClientReadableStream<unknown>).call(clientFor(leader), { topic: TOPIC, partition: 0, offset: latest }, new grpc.Metadata(), {});
    const seen: { offset: number; value: string }[] = [];
    const errors: unknown[] = [];
    sub.on('data', (m: { batch?: FetchResponse; error?: unknown }) => {
      if (m.error) errors.push(m.error);
      for (const r of m.batch?.records ?? []) seen.push({ offset: r.offset, value: dec(r.record.value) });
    });
    const closed = new Promise<grpc.StatusObject>((resolve) => sub.on('status', resolve));
    sub.on('error', () => {});
    await produce(0, [record(null, 'after-1'), record(null, 'after-2')]);
    await produce(0, [record(null, 'after-3')]);
    await waitUntil(() => seen.length >= 3, 'the subscriber to see three records', 10_000);
    expect(seen).toEqual([{ offset: latest, value: 'after-1' }, { offset: latest + 1, value: 'after-2' }, { offset: latest + 2, value: 'after-3' }]);
    expect(errors).toEqual([]);
    sub.cancel();
    expect((await closed).code).toBe(grpc.status.CANCELLED);
  });

  it('Subscribe at a follower ends with a NOT_LEADER Error naming the leader', async () => {
    const info = await describeTopic(TOPIC);
    const p = info.partitions[1]!;
    const follower = [...addresses].find(([id]) => id !== p.leader)![1];
    const sub = (clientFor(follower)['Subscribe'] as (r: unknown, md: grpc.Metadata, o: grpc.CallOptions) => grpc.ClientReadableStream<unknown>).call(clientFor(follower), { topic: TOPIC, partition: 1, offset: 0 }, new grpc.Metadata(), { deadline: Date.now() + 5_000 });
    const msgs: { error?: { code: string; leader: number; leaderAddress: string } }[] = [];
    sub.on('data', (m: { error?: { code: string; leader: number; leaderAddress: string } }) => msgs.push(m));
    const status = await new Promise<grpc.StatusObject>((resolve) => sub.on('status', resolve));
    expect(status.code).toBe(grpc.status.OK);
    expect(msgs).toHaveLength(1);
    expect(msgs[0]!.error).toMatchObject({ code: 'NOT_LEADER', leader: p.leader, leaderAddress: addresses.get(p.leader as NodeId) });
  });

  it('maps errors to statuses with keel-* trailers', async () => {
    const c1 = clientFor(addresses.get(1 as NodeId)!);
    const unknownTopic = await call(c1, 'Produce', { topic: 'nope', records: [record(null, 'x')] });
    expect(unknownTopic.ok ? 'ok' : [unknownTopic.status, unknownTopic.keelCode]).toEqual([grpc.status.NOT_FOUND, 'UNKNOWN_TOPIC_OR_PARTITION']);
    const unknownDescribe = await call(c1, 'DescribeTopic', { name: 'nope' });
    expect(unknownDescribe.ok ? 'ok' : [unknownDescribe.status, unknownDescribe.keelCode]).toEqual([grpc.status.NOT_FOUND, 'UNKNOWN_TOPIC']);
    const badName = await call(c1, 'CreateTopic', { name: 'bad name!', partitions: 1, replicationFactor: 1 });
    expect(badName.ok ? 'ok' : [badName.status, badName.keelCode]).toEqual([grpc.status.INVALID_ARGUMENT, 'INVALID_TOPIC']);
    const badRf = await call(c1, 'CreateTopic', { name: 'too-many-replicas', partitions: 1, replicationFactor: 4 });
    expect(badRf.ok ? 'ok' : [badRf.status, badRf.keelCode]).toEqual([grpc.status.INVALID_ARGUMENT, 'INVALID_REPLICATION_FACTOR']);
    const badConfig = await call(c1, 'CreateTopic', { name: 'bad-config', partitions: 1, replicationFactor: 1, configs: { 'retention.ms': 'soon' } });
    expect(badConfig.ok ? 'ok' : [badConfig.status, badConfig.keelCode]).toEqual([grpc.status.INVALID_ARGUMENT, 'INVALID_CONFIG']);
    const badPartition = await call(c1, 'Fetch', { topic: TOPIC, partition: 9, offset: 0 });
    expect(badPartition.ok ? 'ok' : [badPartition.status, badPartition.keelCode]).toEqual([grpc.status.NOT_FOUND, 'UNKNOWN_TOPIC_OR_PARTITION']);
    const noFlag = await call(c1, 'Produce', { topic: TOPIC, partition: 1, records: [record(null, 'x')] });
    expect(noFlag.ok ? 'ok' : [noFlag.status, noFlag.keelCode]).toEqual([grpc.status.INVALID_ARGUMENT, 'INVALID_REQUEST']);
    expect(noFlag.ok ? '' : noFlag.details).toMatch(/has_partition/);

    // The wrong node for a partition: UNAVAILABLE, with the leader's id and address.
    const info = await describeTopic(TOPIC);
    const p = info.partitions[0]!;
    const [wrongId, wrong] = [...addresses].find(([id]) => id !== p.leader)!;
    expect(wrongId).not.toBe(p.leader);
    const redirected = await call(clientFor(wrong), 'Produce', { topic: TOPIC, hasPartition: true, partition: 0, records: [record(null, 'x')] });
    expect(redirected.ok ? 'ok' : [redirected.status, redirected.keelCode, redirected.leader, redirected.leaderAddress]).toEqual([grpc.status.UNAVAILABLE, 'NOT_LEADER', p.leader, addresses.get(p.leader as NodeId)]);
    const leader = addresses.get(p.leader as NodeId)!;
    const outOfRange = await call(clientFor(leader), 'Fetch', { topic: TOPIC, partition: 0, offset: 1_000_000 });
    expect(outOfRange.ok ? 'ok' : [outOfRange.status, outOfRange.keelCode]).toEqual([grpc.status.OUT_OF_RANGE, 'OFFSET_OUT_OF_RANGE']);
    const tooBig = await call(clientFor(leader), 'Produce', { topic: TOPIC, hasPartition: true, partition: 0, records: [{ ...record(null, null), valueNull: false, value: new Uint8Array(2 << 20) }] });
    expect(tooBig.ok ? 'ok' : [tooBig.status, tooBig.keelCode]).toEqual([grpc.status.INVALID_ARGUMENT, 'RECORD_TOO_LARGE']);
  });

  it('a long-polling Fetch answers when a record arrives, and stops at the call deadline', async () => {
    const info = await describeTopic(TOPIC);
    const leader = addresses.get(info.partitions[2]!.leader as NodeId)!;
    const hw = expectOk(await call<{ offset: number }>(clientFor(leader), 'ListOffsets', { topic: TOPIC, partition: 2, spec: 1 })).offset;
    const started = Date.now();
    const empty = await call<FetchResponse>(clientFor(leader), 'Fetch', { topic: TOPIC, partition: 2, offset: hw, maxWaitMs: 30_000 }, 600);
    expect(expectOk(empty).records).toEqual([]);
    expect(Date.now() - started).toBeLessThan(2_000);
    const waiting = call<FetchResponse>(clientFor(leader), 'Fetch', { topic: TOPIC, partition: 2, offset: hw, maxWaitMs: 10_000 });
    await produce(2, [record(null, 'wake-up')]);
    expect(expectOk(await waiting).records.map((r) => dec(r.record.value))).toEqual(['wake-up']);
  });

  it('lists, describes and deletes topics', async () => {
    const c = clientFor(addresses.get(3 as NodeId)!);
    expectOk(await call(c, 'CreateTopic', { name: 'scratch', partitions: 1, replicationFactor: 2 }));
    const listed = expectOk(await call<{ names: string[]; metadataVersion: number }>(c, 'ListTopics', {}));
    expect(listed.names).toEqual(['orders', 'scratch']);
    const local = expectOk(await call<{ names: string[]; metadataVersion: number }>(c, 'ListTopics', { consistency: 1 }));
    expect(local.metadataVersion).toBeGreaterThan(0);
    const described = expectOk(await call<{ topic: TopicInfo; metadataVersion: number }>(c, 'DescribeTopic', { name: 'scratch', consistency: 0 }));
    expect(described.topic).toMatchObject({ name: 'scratch', replicationFactor: 2 });
    expect(described.topic.configs).toMatchObject({ 'max.message.bytes': '1048588', 'min.insync.replicas': '1' });
    expectOk(await call(c, 'DeleteTopic', { requestId: 'del-scratch', name: 'scratch' }));
    const again = await call(c, 'DeleteTopic', { requestId: 'del-scratch-2', name: 'scratch' });
    expect(again.ok ? 'ok' : [again.status, again.keelCode]).toEqual([grpc.status.NOT_FOUND, 'UNKNOWN_TOPIC']);
    expect(expectOk(await call<{ names: string[] }>(c, 'ListTopics', {})).names).toEqual(['orders']);
  });

  it('commits and fetches consumer-group offsets at any node; offsets only move forward, except by an operator\'s reset; groups are listed, described and deleted', async () => {
    interface Offsets { offsets: { partition: number; offset: number }[] }
    const [c1, c2] = [clientFor(addresses.get(1 as NodeId)!), clientFor(addresses.get(2 as NodeId)!)];
    const topicId = (await describeTopic(TOPIC)).id;
    expect(expectOk(await call<Offsets>(c1, 'FetchOffsets', { groupId: 'billing', topic: TOPIC })).offsets).toEqual([]);
    const committed = expectOk(await call<Offsets>(c1, 'CommitOffsets', { groupId: 'billing', topic: TOPIC, topicId, offsets: [{ partition: 0, offset: 7 }, { partition: 2, offset: 3 }] }));
    expect(committed.offsets).toEqual([{ partition: 0, offset: 7 }, { partition: 2, offset: 3 }]);
    // A late, older commit moves nothing and is told the stored offset.
    const stale = expectOk(await call<Offsets>(c2, 'CommitOffsets', { groupId: 'billing', topic: TOPIC, topicId, offsets: [{ partition: 0, offset: 5 }] }));
    expect(stale.offsets).toEqual([{ partition: 0, offset: 7 }]);
    for (const c of [c1, c2]) {
      expect(expectOk(await call<Offsets & { metadataVersion: number }>(c, 'FetchOffsets', { groupId: 'billing', topic: TOPIC })).offsets).toEqual([{ partition: 0, offset: 7 }, { partition: 2, offset: 3 }]);
    }
    const refused = async (req: Record<string, unknown>, method = 'CommitOffsets'): Promise<unknown> => {
      const r = await call(c1, method, req);
      return r.ok ? 'ok' : [r.status, r.keelCode];
    };
    const one = [{ partition: 0, offset: 1 }];
    expect(await refused({ groupId: 'billing', topic: 'nope', topicId, offsets: one })).toEqual([grpc.status.NOT_FOUND, 'UNKNOWN_TOPIC']);
    // Another topic id: a commit for an earlier topic of this name.
    expect(await refused({ groupId: 'billing', topic: TOPIC, topicId: topicId + 100, offsets: one })).toEqual([grpc.status.NOT_FOUND, 'UNKNOWN_TOPIC']);
    expect(await refused({ groupId: 'billing', topic: TOPIC, offsets: one })).toEqual([grpc.status.INVALID_ARGUMENT, 'INVALID_REQUEST']);
    expect(await refused({ groupId: 'billing', topic: TOPIC, topicId, offsets: [{ partition: 9, offset: 1 }] })).toEqual([grpc.status.INVALID_ARGUMENT, 'INVALID_REQUEST']);
    expect(await refused({ groupId: '', topic: TOPIC, topicId, offsets: one })).toEqual([grpc.status.INVALID_ARGUMENT, 'INVALID_GROUP']);
    expect(await refused({ groupId: 'billing', topic: TOPIC, topicId, offsets: [] })).toEqual([grpc.status.INVALID_ARGUMENT, 'INVALID_REQUEST']);
    expect(await refused({ groupId: 'billing', topic: 'nope' }, 'FetchOffsets')).toEqual([grpc.status.NOT_FOUND, 'UNKNOWN_TOPIC']);
    expect(await refused({ topic: TOPIC }, 'FetchOffsets')).toEqual([grpc.status.INVALID_ARGUMENT, 'INVALID_GROUP']);

    // Groups exist once they committed; a group's description has every topic it committed.
    expectOk(await call(c2, 'CommitOffsets', { groupId: 'audit', topic: TOPIC, topicId, offsets: [{ partition: 1, offset: 4 }] }));
    for (const c of [c1, c2]) {
      expect(expectOk(await call<{ groupIds: string[] }>(c, 'ListGroups', {})).groupIds).toEqual(['audit', 'billing']);
      expect(expectOk(await call<{ topics: unknown[] }>(c, 'DescribeGroup', { groupId: 'billing' })).topics).toEqual([{ topic: TOPIC, offsets: [{ partition: 0, offset: 7 }, { partition: 2, offset: 3 }] }]);
    }
    expect(expectOk(await call<{ topics: unknown[] }>(c1, 'DescribeGroup', { groupId: 'nobody' })).topics).toEqual([]);
    expect(await refused({ groupId: '' }, 'DescribeGroup')).toEqual([grpc.status.INVALID_ARGUMENT, 'INVALID_GROUP']);

    // An operator's reset moves the group back; a retry with its request id does not move it back again.
    const reset = { requestId: 'reset-1', groupId: 'billing', topic: TOPIC, topicId, offsets: [{ partition: 0, offset: 1 }] };
    expect(expectOk(await call<Offsets>(c2, 'ResetOffsets', reset)).offsets).toEqual([{ partition: 0, offset: 1 }]);
    expectOk(await call(c1, 'CommitOffsets', { groupId: 'billing', topic: TOPIC, topicId, offsets: [{ partition: 0, offset: 4 }] }));
    expect(expectOk(await call<Offsets>(c1, 'ResetOffsets', reset)).offsets).toEqual([{ partition: 0, offset: 1 }]);
    expect(expectOk(await call<Offsets>(c1, 'FetchOffsets', { groupId: 'billing', topic: TOPIC })).offsets).toEqual([{ partition: 0, offset: 4 }, { partition: 2, offset: 3 }]);
    expect(await refused({ ...reset, requestId: 'reset-2', topicId: topicId + 100 }, 'ResetOffsets')).toEqual([grpc.status.NOT_FOUND, 'UNKNOWN_TOPIC']);
    // Deleting a group.
    expect(expectOk(await call<{ deleted: boolean }>(c2, 'DeleteGroup', { groupId: 'audit' })).deleted).toBe(true);
    expect(expectOk(await call<{ deleted: boolean }>(c1, 'DeleteGroup', { groupId: 'audit' })).deleted).toBe(false);
    expect(expectOk(await call<{ groupIds: string[] }>(c1, 'ListGroups', {})).groupIds).toEqual(['billing']);
    expect(await refused({ groupId: '' }, 'DeleteGroup')).toEqual([grpc.status.INVALID_ARGUMENT, 'INVALID_GROUP']);
  });

  it('refuses a request id reused for a different request instead of answering with the other result', async () => {
    const c = clientFor(addresses.get(1 as NodeId)!);
    expectOk(await call(c, 'InitProducerId', { requestId: 'shared-id' }));
    const create = await call(c, 'CreateTopic', { requestId: 'shared-id', name: 'reuse', partitions: 1, replicationFactor: 1 });
    expect(create.ok ? 'ok' : [create.status, create.keelCode]).toEqual([grpc.status.INVALID_ARGUMENT, 'INVALID_REQUEST']);
    expect(create.ok ? '' : create.details).toMatch(/already used/);
    // The controller answered the id with the earlier CreateTopic's result and deleted nothing.
    const del = await call(c, 'DeleteTopic', { requestId: 'create-orders', name: TOPIC });
    expect(del.ok ? 'ok' : [del.status, del.keelCode]).toEqual([grpc.status.INVALID_ARGUMENT, 'INVALID_REQUEST']);
    expect(expectOk(await call<{ names: string[] }>(c, 'ListTopics', {})).names).toEqual([TOPIC]);
  });

  it('Watch streams the serving status', async () => {
    const h = healthClient(addresses.get(1 as NodeId)!);
    const watch = (h['Watch'] as (r: unknown, md: grpc.Metadata, o: grpc.CallOptions) => grpc.ClientReadableStream<{ status: number }>).call(h, { service: '' }, new grpc.Metadata(), {});
    const first = await new Promise<{ status: number }>((resolve) => watch.once('data', resolve));
    expect(first.status).toBe(SERVING_STATUS.SERVING);
    watch.on('error', () => {});
    watch.cancel();
  });
});
