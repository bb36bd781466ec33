// The cluster a benchmark runs against: a fresh local three-node cluster of real processes in a
// temporary directory, with one topic of three partitions, replication 3, whose leadership has settled
// on each partition's preferred replica (one leader per node). Stopped and removed afterwards.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBasePort } from '../cli/base-port.ts';
import { ProcessCluster } from '../cli/process-cluster.ts';
import { KeelClient } from '../net/client/keel-client.ts';

export const BENCH_TOPIC = 'bench';
export const BENCH_PARTITIONS = 3;
/** Every benchmark record's value: 100 bytes. */
export const BENCH_VALUE = new Uint8Array(100).fill(120);

/**
 * Sequential produces a benchmark's warm-up ends with before it measures sequential produces. One at a
 * time, the nodes and the client take paths the concurrent warm-up barely ran (one entry per frame, one
 * record per answer), and V8 goes on compiling for about 5 s of them. In four runs of 1,000-record
 * windows after 500 sequential produces, the second to fourth windows had 31 records over 2 ms on
 * average, the seventh and later 15, and within each run the later windows were 63–145 rec/s faster. In
 * six alternating runs of broker-bench.ts, produce-seq after 5,000 rather than 500 gained 6–180 rec/s
 * and spent less CPU per record in every pair. transport-floor.ts warms up with as many round trips.
 */
export const BENCH_SEQUENTIAL_WARM_UP = 5_000;

/**
 * Produces `count` one-record requests with KeelClient.produce, `inFlight` at a time, the partitions in
 * turn: how the benchmarks warm up the client's produce path.
 */
export async function produceRoundRobin(client: KeelClient, count: number, inFlight: number): Promise<void> {
  let sent = 0;
  const worker = async (): Promise<void> => {
    while (sent < count) await client.produce(BENCH_TOPIC, [{ value: BENCH_VALUE }], { partition: sent++ % BENCH_PARTITIONS });
  };
  await Promise.all(Array.from({ length: inFlight }, worker));
}

/**
 * Leader addresses once every partition is led by its preferred replica: a few seconds after the topic
 * is created, leadership settles there (one leader per node) and stays, so no run measures a handover.
 */
export async function settledLeaders(client: KeelClient, timeoutMs = 30_000): Promise<string[]> {
  const until = performance.now() + timeoutMs;
  for (;;) {
    const t = await client.describeTopic(BENCH_TOPIC);
    const addrs = t.partitions.map((p) => p.leaderAddress);
    const settled = t.partitions.every((p) => p.leaderAddress !== '' && p.leader === p.replicas[0]);
    if (settled || (performance.now() > until && addrs.every((a) => a !== ''))) return addrs;
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Runs `bench` against a new cluster (its data in `dataDir`), then stops the cluster and removes the data. */
export async function withBenchCluster<T>(dataDir: string, bench: (cluster: ProcessCluster, client: KeelClient) => Promise<T>): Promise<T> {
  const cluster = new ProcessCluster({ nodes: 3, basePort: randomBasePort(11_000, 5_000), dataDir });
  const client = new KeelClient({ bootstrap: cluster.bootstrap, requestTimeoutMs: 10_000 });
  try {
    cluster.start();
    await cluster.waitUntilReady(60_000);
    await client.createTopic(BENCH_TOPIC, { partitions: BENCH_PARTITIONS, replicationFactor: 3 });
    await settledLeaders(client);
    return await bench(cluster, client);
  } finally {
    client.close();
    await cluster.stop(5_000);
    rmSync(dataDir, { recursive: true, force: true });
  }
}

/** A new temporary directory for a benchmark's cluster (withBenchCluster removes it). */
export function benchDataDir(): string {
  return mkdtempSync(join(tmpdir(), 'keel-bench-'));
}
