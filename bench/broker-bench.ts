// Broker benchmark against a fresh local three-node cluster of real processes (replication 3,
// acks=all, fsync on, 100-byte records). Prints a table, or JSON lines with --json:
//   {name, records, seconds, recordsPerSec, p50Ms, p99Ms, cpuMsPerRecord}
// cpuMsPerRecord is the CPU the client and the three nodes spent per record (Linux only): steadier than
// the rate on a shared machine, so compare builds by it. bench/transport-floor.ts measures the floor.
//   produce-seq           1 record per request, 1 in flight (KeelClient.produce, on its ProduceStream)
//   produce-c64           1 record per request, 64 in flight (pipelined ProduceStream)
//   produce-c64-batch100  100 records per request, 64 in flight
//   consume               reading every record back (Fetch, 1 MiB per request)
//   failover              ms from kill -9 of a partition leader to the next acknowledged produce
// Before measuring, warmUp() runs the produce paths for a while: a broker serves for hours, and what it
// does in its first seconds is V8 compiling its hot paths, not its steady state (see warmUp()).
import type { ProcessCluster } from '../cli/process-cluster.ts';
import { ChannelPool } from '../net/client/channels.ts';
import { openProduceStream } from '../net/client/calls.ts';
import { realEnv } from '../net/client/env.ts';
import type { KeelClient } from '../net/client/keel-client.ts';
import { ProduceStreamConnection } from '../net/client/produce-stream.ts';
import { benchDataDir, BENCH_PARTITIONS as PARTITIONS, BENCH_SEQUENTIAL_WARM_UP, BENCH_TOPIC as TOPIC, BENCH_VALUE as value, produceRoundRobin, settledLeaders, withBenchCluster } from './bench-cluster.ts';
import { cpuMeter } from './process-cpu.ts';

const json = process.argv.includes('--json');

interface Result {
  name: string;
  records: number;
  seconds: number;
  recordsPerSec: number;
  p50Ms: number;
  p99Ms: number;
  cpuMsPerRecord?: number;
}

function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] as number;
}

function result(name: string, records: number, ms: number, latencies: number[], cpuMs: number | null): Result {
  latencies.sort((a, b) => a - b);
  const round = (x: number): number => Math.round(x * 100) / 100;
  return {
    name, records, seconds: round(ms / 1000), recordsPerSec: Math.round(records / (ms / 1000)), p50Ms: round(percentile(latencies, 50)), p99Ms: round(percentile(latencies, 99)),
    ...(cpuMs === null ? {} : { cpuMsPerRecord: Math.round((cpuMs / records) * 1000) / 1000 }),
  };
}

/** The bench process and every node: what a run's CPU is measured over. */
function clusterPids(cluster: ProcessCluster): number[] {
  return [process.pid, ...[1, 2, 3].map((id) => cluster.pid(id) ?? 0)];
}

function print(r: Record<string, unknown>): void {
  if (json) console.log(JSON.stringify(r));
  else console.log(Object.entries(r).map(([k, v]) => `${k}=${typeof v === 'number' ? v.toLocaleString('en-US') : String(v)}`).join('  '));
}

async function produceSeq(client: KeelClient, pids: readonly number[], count: number): Promise<Result> {
  const lat: number[] = [];
  const cpu = cpuMeter(pids);
  const t0 = performance.now();
  for (let i = 0; i < count; i++) {
    const s = performance.now();
    await client.produce(TOPIC, [{ value }], { partition: i % PARTITIONS });
    lat.push(performance.now() - s);
  }
  return result('produce-seq', count, performance.now() - t0, lat, cpu());
}

/**
 * Runs both produce paths (the bench's own pipelined streams and KeelClient.produce) until V8 has
 * optimized them, as a JMH warm-up does. Measured on this 2-core VM: after 200 warm-up requests produce-seq gave 451–527 rec/s
 * at 2.5–3.0 ms of CPU per record, and the c64 run after it 5,600–6,200 rec/s; after the pipelined and
 * concurrent parts and 500 sequential produces, 700–930 rec/s at 1.3–1.8 ms and 7,500–8,600 rec/s. Its
 * records stay in the log (consume reads them).
 */
async function warmUp(client: KeelClient, pids: readonly number[]): Promise<void> {
  await producePipelined(client, pids, 'warm-up', 20_000, 1, 64);
  await produceRoundRobin(client, 5_000, 32);
  await produceSeq(client, pids, BENCH_SEQUENTIAL_WARM_UP);
}

/** `inFlight` requests of `perRequest` records kept outstanding on one ProduceStream per leader. */
async function producePipelined(client: KeelClient, pids: readonly number[], name: string, requests: number, perRequest: number, inFlight: number): Promise<Result> {
  const addrs = await settledLeaders(client);
  const pool = new ChannelPool();
  const streams = new Map<string, ProduceStreamConnection>();
  for (const a of new Set(addrs)) streams.set(a, new ProduceStreamConnection(openProduceStream(pool.get(a)), a, realEnv()));
  const records = Array.from({ length: perRequest }, () => ({ key: new Uint8Array(0), keyNull: true, value, valueNull: false, headers: [], timestamp: -1 }));
  const lat: number[] = [];
  let next = 0;
  const cpu = cpuMeter(pids);
  const t0 = performance.now();
  const worker = async (): Promise<void> => {
    while (next < requests) {
      const i = next++;
      const partition = i % PARTITIONS;
      const stream = streams.get(addrs[partition] as string) as ProduceStreamConnection;
      const s = performance.now();
      await stream.send({ topic: TOPIC, hasPartition: true, partition, records, acks: 0, hasProducer: false, producerId: 0, producerEpoch: 0, baseSequence: 0 }, 30_000);
      lat.push(performance.now() - s);
    }
  };
  await Promise.all(Array.from({ length: inFlight }, worker));
  const ms = performance.now() - t0;
  const cpuMs = cpu();
  for (const s of streams.values()) s.close();
  pool.close();
  return result(name, requests * perRequest, ms, lat, cpuMs);
}

async function consumeAll(client: KeelClient, pids: readonly number[]): Promise<Result> {
  const lat: number[] = [];
  let n = 0;
  const cpu = cpuMeter(pids);
  const t0 = performance.now();
  for (let p = 0; p < PARTITIONS; p++) {
    const end = (await client.listOffsets(TOPIC, p, 'latest')).offset;
    let offset = (await client.listOffsets(TOPIC, p, 'earliest')).offset;
    while (offset < end) {
      const s = performance.now();
      const r = await client.fetch(TOPIC, p, offset, { maxBytes: 1 << 20 });
      lat.push(performance.now() - s);
      n += r.records.length;
      const last = r.records[r.records.length - 1];
      if (last === undefined) break;
      offset = last.offset + 1;
    }
  }
  return result('consume', n, performance.now() - t0, lat, cpu());
}

async function failover(cluster: ProcessCluster, client: KeelClient): Promise<Record<string, unknown>> {
  const t = await client.describeTopic(TOPIC);
  const leader = t.partitions[0]?.leader ?? 0;
  await client.produce(TOPIC, [{ value }], { partition: 0 });
  const killedAt = performance.now();
  await cluster.kill9(leader);
  await client.produce(TOPIC, [{ value }], { partition: 0 });
  const ms = Math.round(performance.now() - killedAt);
  cluster.start(leader);
  return { name: 'failover', ms, killedNode: leader };
}

async function main(): Promise<void> {
  await withBenchCluster(benchDataDir(), async (cluster, client) => {
    const pids = clusterPids(cluster);
    await warmUp(client, pids);
    print({ ...await produceSeq(client, pids, 2_000) });
    print({ ...await producePipelined(client, pids, 'produce-c64', 20_000, 1, 64) });
    print({ ...await producePipelined(client, pids, 'produce-c64-batch100', 3_000, 100, 64) });
    print({ ...await consumeAll(client, pids) });
    print(await failover(cluster, client));
  });
}

await main();
