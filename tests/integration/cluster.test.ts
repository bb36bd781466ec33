// The real runtime, as a user runs it: three `keel node start` processes on 127.0.0.1, real gRPC, real
// LevelDB with fsync. (1) 10,000 records through the idempotent producer while the leader of a partition
// is killed with kill -9 and restarted: every acknowledged record is there exactly once, in send order
// per partition. (2) The whole cluster stopped and started again: topics and records are still there.
// (3) A node restarted on a wiped data directory rejoins fenced (broker/disk-identity.ts): once it is
// ready, another node can stop and nothing acknowledged is missing. (4) The same for one partition
// replica whose stored log was corrupted (broker/node-host.ts repair).
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Level } from 'level';
import { afterAll, describe, expect, it } from 'vitest';
import { randomBasePort } from '../../cli/base-port.ts';
import { ProcessCluster } from '../../cli/process-cluster.ts';
import { KeelClient } from '../../net/client/keel-client.ts';

const RECORDS = 10_000;
const decoder = new TextDecoder();

describe('a three-node cluster of real processes', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'keel-it-'));
  const basePort = randomBasePort(26_000, 5_000); // disjoint from cli.test.ts's range (they run in parallel)
  const output: string[] = [];
  const cluster = new ProcessCluster({ nodes: 3, basePort, dataDir, onOutput: (id, line) => output.push(`[${id}] ${line}`) });
  const client = new KeelClient({ bootstrap: cluster.bootstrap, requestTimeoutMs: 5_000 });
  /** What the producer acknowledged: value -> (partition, offset), in send order. */
  const acked: { value: string; partition: number; offset: number; i: number }[] = [];

  afterAll(async () => {
    client.close();
    await cluster.stop(5_000);
    rmSync(dataDir, { recursive: true, force: true });
  });

  /** The partition's leader as the controller knows it; leaders are reported asynchronously, so poll. */
  async function leaderOf(topic: string, partition: number): Promise<number> {
    const deadline = Date.now() + 30_000;
    for (;;) {
      const leader = (await client.describeTopic(topic)).partitions.find((p) => p.partition === partition)?.leader ?? 0;
      if (leader > 0 || Date.now() > deadline) return leader;
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  it('survives kill -9 of a partition leader while producing: every acknowledged record once, in order', async () => {
    cluster.start();
    await cluster.waitUntilReady(60_000);
    if (process.platform === 'linux') {
      // Each node runs with the cluster's Node flags (before the script: V8 reads them at start).
      const argv = readFileSync(`/proc/${String(cluster.pid(1))}/cmdline`, 'utf8').split('\0');
      const scriptAt = argv.findIndex((a) => a.endsWith('keel.js'));
      for (const flag of ['--initial-old-space-size=256', '--no-memory-reducer']) {
        const flagAt = argv.indexOf(flag);
        expect(flagAt, flag).toBeGreaterThan(0);
        expect(flagAt, flag).toBeLessThan(scriptAt);
      }
    }
    await client.createTopic('it-orders', { partitions: 3, replicationFactor: 3 });
    const producer = client.producer({ idempotent: true, lingerMs: 2 });
    const sends: Promise<void>[] = [];
    let killed = 0;
    for (let i = 0; i < RECORDS; i++) {
      const value = `v${i}`;
      sends.push(producer.send('it-orders', { key: `k${i % 97}`, value }).then((r) => { acked.push({ value, partition: r.partition, offset: r.offset, i }); }));
      if (i === Math.floor(RECORDS / 3)) {
        await Promise.all(sends.slice(-200));
        // kill -9 the leader of partition 0 mid-stream, and bring it back a little later.
        const leader = await leaderOf('it-orders', 0);
        expect(leader).toBeGreaterThan(0);
        killed = leader;
        await cluster.kill9(leader);
        setTimeout(() => cluster.start(leader), 1_500);
      }
      if (i % 500 === 0) await new Promise((r) => setImmediate(r));
    }
    await producer.flush();
    await Promise.all(sends);
    await producer.close();
    expect(killed).toBeGreaterThan(0);
    expect(acked.length).toBe(RECORDS);
    await cluster.waitUntilReady(60_000);

    // Read every partition back from the beginning.
    const seen = new Map<string, { partition: number; offset: number }[]>();
    const byPartition = new Map<number, { offset: number; value: string }[]>();
    const t = await client.describeTopic('it-orders');
    for (const p of t.partitions) {
      const records: { offset: number; value: string }[] = [];
      let offset = (await client.listOffsets('it-orders', p.partition, 'earliest')).offset;
      const end = (await client.listOffsets('it-orders', p.partition, 'latest')).offset;
      while (offset < end) {
        const r = await client.fetch('it-orders', p.partition, offset, { maxBytes: 1 << 20 });
        for (const rec of r.records) {
          const value = decoder.decode(rec.value ?? new Uint8Array(0));
          records.push({ offset: rec.offset, value });
          seen.set(value, [...(seen.get(value) ?? []), { partition: p.partition, offset: rec.offset }]);
          offset = rec.offset + 1;
        }
      }
      byPartition.set(p.partition, records);
    }
    // Exactly once, at the acknowledged offset.
    for (const a of acked) {
      expect(seen.get(a.value), a.value).toEqual([{ partition: a.partition, offset: a.offset }]);
    }
    expect([...seen.values()].every((places) => places.length === 1)).toBe(true);
    // In send order within each partition.
    for (const [partition, records] of byPartition) {
      const order = records.map((r) => Number(r.value.slice(1)));
      const sorted = [...order].sort((a, b) => a - b);
      expect(order, `partition ${partition} order`).toEqual(sorted);
    }
  }, 180_000);

  it('keeps topics and records across a restart of the whole cluster', async () => {
    await cluster.stop(10_000);
    cluster.start();
    await cluster.waitUntilReady(60_000);
    expect(await client.listTopics()).toContain('it-orders');
    expect(await recordCount()).toBe(RECORDS);
  }, 120_000);

  /** One record to a partition, retried for up to 30 s while its group elects a leader. */
  async function produceOne(value: string, partition: number): Promise<void> {
    const deadline = Date.now() + 30_000;
    for (;;) {
      try {
        await client.produce('it-orders', [{ value }], { partition });
        return;
      } catch (err) {
        if (Date.now() > deadline) throw err;
        await new Promise((r) => setTimeout(r, 200));
      }
    }
  }

  async function recordCount(): Promise<number> {
    let total = 0;
    for (const p of (await client.describeTopic('it-orders')).partitions) {
      const latest = await client.listOffsets('it-orders', p.partition, 'latest');
      total += latest.offset - latest.logStartOffset;
    }
    return total;
  }

  it('takes back a node whose data directory was wiped: it rejoins fenced and loses nothing', async () => {
    const wiped = cluster.nodes[1] as (typeof cluster.nodes)[number];
    await cluster.stopNode(wiped.id, 10_000);
    rmSync(wiped.dir, { recursive: true, force: true });
    cluster.start(wiped.id);
    await cluster.waitUntilReady(60_000);
    expect(readFileSync(wiped.log, 'utf8')).toMatch(/this data directory is not the one this node ran on/);
    // The wiped node and one other now hold the majority: every acknowledged record must still be there.
    const other = cluster.nodes[0] as (typeof cluster.nodes)[number];
    await cluster.stopNode(other.id, 10_000);
    await cluster.waitUntilReady(60_000);
    await produceOne('after-wipe', 0);
    expect(await recordCount()).toBe(RECORDS + 1);
    cluster.start(other.id);
    await cluster.waitUntilReady(60_000);
  }, 180_000);

  it('takes back a replica whose stored log is corrupt: it rejoins empty, fenced, and is caught up', async () => {
    const damaged = cluster.nodes[2] as (typeof cluster.nodes)[number];
    await cluster.stopNode(damaged.id, 10_000);
    // Flip a bit in the middle of one of a partition's stored Raft entries (a latent disk error).
    const db = new Level<string, Uint8Array>(join(damaged.dir, 'db'), { keyEncoding: 'utf8', valueEncoding: 'view' });
    const entries: string[] = [];
    for await (const key of db.keys({ gte: 'g/00000001/', lt: 'g/ffffffff' })) if (key.includes('/e/')) entries.push(key);
    const key = entries[Math.floor(entries.length / 2)] as string;
    const value = (await db.get(key) as Uint8Array).slice();
    value[Math.floor(value.length / 2)] = (value[Math.floor(value.length / 2)] as number) ^ 0x04;
    await db.put(key, value);
    await db.close();
    const group = Number.parseInt(key.slice(2, 10), 16);
    cluster.start(damaged.id);
    await cluster.waitUntilReady(60_000);
    expect(readFileSync(damaged.log, 'utf8')).toMatch(/group replica rejoins empty: its stored state is corrupt/);
    // The repaired replica and one other hold the majority: it must have been caught up, every record there.
    const other = cluster.nodes[1] as (typeof cluster.nodes)[number];
    await cluster.stopNode(other.id, 10_000);
    await cluster.waitUntilReady(60_000);
    const partition = (await client.describeTopic('it-orders')).partitions.find((p) => p.group === group)?.partition ?? 0;
    await produceOne('after-repair', partition);
    expect(await recordCount()).toBe(RECORDS + 2);
    cluster.start(other.id);
    await cluster.waitUntilReady(60_000);
  }, 180_000);
});
