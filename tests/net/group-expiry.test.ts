// Consumer groups on real nodes (in this process): the offsets of a group without members that has not
// committed for the offsets retention expire (Kafka's offsets.retention.minutes, here shortened to 1.5 s),
// while a group that keeps committing, or that has a member reading, keeps them; once its member leaves,
// that group's retention starts too.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_GROUP_COORDINATOR_OPTIONS } from '../../broker/group-coordinator.ts';
import { KeelClient } from '../../net/client/keel-client.ts';
import { createCluster, fastConfig, waitUntilReady, type TestCluster } from './cluster-helpers.ts';

const RETENTION_MS = 1_500;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

let cluster: TestCluster;
let client: KeelClient;

beforeAll(async () => {
  cluster = await createCluster(3, { configure: (c) => ({ ...fastConfig(c), groups: { ...DEFAULT_GROUP_COORDINATOR_OPTIONS, offsetsRetentionMs: RETENTION_MS } }) });
  for (const id of cluster.ids) await cluster.start(id);
  client = new KeelClient({ bootstrap: [...cluster.addresses.values()], requestTimeoutMs: 5_000 });
  await waitUntilReady(client, cluster.addresses.values());
});

afterAll(async () => {
  client?.close();
  await cluster?.destroy();
});

describe('consumer group offsets retention', () => {
  it('expires an idle group without members; keeps one that commits and one with a member, until it leaves', async () => {
    await client.createTopic('retained', { partitions: 2, replicationFactor: 3 });
    await client.produce('retained', [{ value: 'r0' }], { partition: 0 });
    await client.commitOffsets('idle', 'retained', new Map([[0, 1]]));
    const stop = new AbortController();
    const member = client.consumer().readAll('retained', { group: 'member', follow: true, from: 'earliest', signal: stop.signal, autoCommitIntervalMs: 100 });
    let offset = 0;
    const started = Date.now();
    while (Date.now() - started < RETENTION_MS * 3) {
      await client.commitOffsets('busy', 'retained', new Map([[1, ++offset]]));
      await sleep(300);
    }
    expect(await client.listGroups()).toEqual(['busy', 'member']);
    expect(await client.fetchOffsets('idle', 'retained')).toEqual(new Map());
    expect((await client.groupMembers('member')).length).toBe(1);
    stop.abort();
    expect((await member).map((r) => r.partition)).toEqual([0]);
    await sleep(RETENTION_MS * 3);
    expect(await client.listGroups()).toEqual([]);
  }, 60_000);
});
