// Where produce-seq's time goes, hop by hop: a fresh local three-node cluster with hop tracing on
// (net/hop-trace.ts), warmed up as broker-bench.ts does, then sequential produces of one 100-byte
// record, each marked by the client at its send and its answer. Prints the median timeline of a record
// (bench/hop-timeline.ts): offsets in microseconds from the client's send, of the leader's (L) and the
// followers' (F1 first to hear from L, F2) turns, writes, frames and answers. Gaps between rows are
// where the time goes: a hop between processes, a fsync, or the node's own work.
//   npm run bench:hops [-- --records N] [-- --json]
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ProcessCluster } from '../cli/process-cluster.ts';
import { HOP_TRACE_DIR_ENV, HopTrace, type HopMark } from '../net/hop-trace.ts';
import { benchDataDir, BENCH_PARTITIONS, BENCH_SEQUENTIAL_WARM_UP, BENCH_TOPIC, BENCH_VALUE, produceRoundRobin, withBenchCluster } from './bench-cluster.ts';
import { hopTimeline } from './hop-timeline.ts';

const json = process.argv.includes('--json');
const recordsArg = process.argv.indexOf('--records');
const RECORDS = recordsArg > 0 ? Number(process.argv[recordsArg + 1]) : 2_000;
/** V8 must have optimized the produce path before it is measured (broker-bench.ts warms up likewise). */
const WARMUP_CONCURRENT = 20_000;

/** Signals every node to start or end its recording (SIGUSR2 toggles it, see cli/node-command.ts). */
function toggleRecording(cluster: ProcessCluster): void {
  for (const id of [1, 2, 3]) {
    const pid = cluster.pid(id);
    if (pid !== undefined) process.kill(pid, 'SIGUSR2');
  }
}

async function readNodeMarks(dir: string): Promise<Map<number, HopMark[]>> {
  const marks = new Map<number, HopMark[]>();
  for (let attempt = 0; marks.size < 3 && attempt < 50; attempt++) {
    await new Promise((r) => setTimeout(r, 100));
    for (const id of [1, 2, 3]) {
      try {
        marks.set(id, JSON.parse(readFileSync(join(dir, `hops-${id}.json`), 'utf8')) as HopMark[]);
      } catch {
        // not written yet
      }
    }
  }
  if (marks.size < 3) throw new Error(`only nodes ${[...marks.keys()].join(',')} wrote their hop trace`);
  return marks;
}

async function main(): Promise<void> {
  if (!Number.isSafeInteger(RECORDS) || RECORDS < 1) throw new Error('--records must be a positive integer');
  const dataDir = benchDataDir();
  process.env[HOP_TRACE_DIR_ENV] = dataDir;
  await withBenchCluster(dataDir, async (cluster, client) => {
    await produceRoundRobin(client, WARMUP_CONCURRENT, 32);
    await produceRoundRobin(client, BENCH_SEQUENTIAL_WARM_UP, 1);

    const trace = new HopTrace();
    toggleRecording(cluster);
    await new Promise((r) => setTimeout(r, 200));
    trace.start();
    const t0 = performance.now();
    for (let i = 0; i < RECORDS; i++) {
      trace.mark('send');
      await client.produce(BENCH_TOPIC, [{ value: BENCH_VALUE }], { partition: i % BENCH_PARTITIONS });
      trace.mark('answer');
    }
    const seconds = (performance.now() - t0) / 1000;
    const clientMarks = trace.stop();
    toggleRecording(cluster);
    const rows = hopTimeline(clientMarks, await readNodeMarks(dataDir));
    const recordsPerSec = Math.round(RECORDS / seconds);
    if (json) console.log(JSON.stringify({ name: 'hop-timeline', records: RECORDS, recordsPerSec, rows }));
    else {
      console.log(`produce-seq, ${RECORDS} records at ${recordsPerSec} rec/s: median offsets from the client's send`);
      for (const r of rows) console.log(`${String(r.medianUs).padStart(7)} us  ${r.event.padEnd(20)} ${r.share < 1 ? `(${Math.round(r.share * 100)}% of records)` : ''}`);
    }
  });
}

await main();
