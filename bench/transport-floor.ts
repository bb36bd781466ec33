// The floor under produce-seq: one acknowledged, replicated, fsynced record per round trip through the same
// real parts (grpc-js bidirectional streams between processes, LevelDB writes with sync) and no broker code.
// A client sends a 100-byte record to a "leader" process, which forwards it to two "follower" processes and
// writes it to its own LevelDB; each follower writes it with sync and answers; the leader answers the client
// once its own write and one follower's are done (a majority of three, as in acks=all with replication 3).
// Nothing is parsed, validated, batched or applied, so Keel's produce-seq cannot be faster than this.
// Prints a table, or JSON lines with --json: {name, records, seconds, recordsPerSec, p50Ms, p99Ms, cpuMsPerRecord}.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import { ClassicLevel } from 'classic-level';
import { randomBasePort } from '../cli/base-port.ts';
import { cpuMeter } from './process-cpu.ts';

const RECORDS = 2_000;
/** As many round trips as it takes V8 to optimize the path (broker-bench.ts warms up the same way). */
const WARMUP_RECORDS = 5_000;
const VALUE_BYTES = 100;
/** Each message starts with its sequence number; answers carry only that. */
const SEQ_BYTES = 8;

const passThrough = (b: Buffer): Buffer => b;
const ECHO_SERVICE: grpc.ServiceDefinition = {
  stream: {
    path: '/floor.Floor/Stream', requestStream: true, responseStream: true, originalName: 'stream',
    requestSerialize: passThrough, requestDeserialize: passThrough, responseSerialize: passThrough, responseDeserialize: passThrough,
  },
};
const EchoClient = grpc.makeGenericClientConstructor(ECHO_SERVICE, 'Floor');
type Duplex = grpc.ClientDuplexStream<Buffer, Buffer>;

/** A stream to `port`; `onError` hears of its failure (a peer stopping at the end of the run is one). */
function openStream(port: number, onError: (err: Error) => void = () => {}): Duplex {
  const client = new EchoClient(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
  const stream = (client as unknown as { stream(): Duplex }).stream();
  stream.on('error', onError);
  return stream;
}

async function serve(port: number, onStream: (call: grpc.ServerDuplexStream<Buffer, Buffer>) => void): Promise<void> {
  const server = new grpc.Server();
  server.addService(ECHO_SERVICE, { stream: onStream });
  await new Promise<void>((resolve, reject) => server.bindAsync(`127.0.0.1:${port}`, grpc.ServerCredentials.createInsecure(), (err) => (err === null ? resolve() : reject(err))));
}

/** An entry and a hard state, as Keel's node writes per turn, in one synced batch. */
async function openDurableWriter(dir: string): Promise<(record: Buffer) => Promise<void>> {
  const db = new ClassicLevel<string, Uint8Array>(dir, { keyEncoding: 'utf8', valueEncoding: 'view' });
  await db.open();
  let index = 0;
  return (record) => {
    const batch = db.batch();
    batch.put(`e/${++index}`, record);
    batch.put('hs', record.subarray(0, SEQ_BYTES));
    return batch.write({ sync: true });
  };
}

async function runFollower(port: number, dir: string): Promise<void> {
  const write = await openDurableWriter(dir);
  await serve(port, (call) => call.on('data', (record: Buffer) => {
    void write(record).then(() => call.write(record.subarray(0, SEQ_BYTES)));
  }));
}

async function runLeader(port: number, dir: string, followerPorts: readonly number[]): Promise<void> {
  const write = await openDurableWriter(dir);
  const followers = followerPorts.map((p) => openStream(p));
  await serve(port, (call) => {
    const waiting = new Map<number, { ownDone: boolean; followerAcks: number }>();
    const maybeAnswer = (seq: number): void => {
      const w = waiting.get(seq);
      if (w === undefined || !w.ownDone || w.followerAcks < 1) return;
      waiting.delete(seq);
      const answer = Buffer.alloc(SEQ_BYTES);
      answer.writeDoubleLE(seq);
      call.write(answer);
    };
    for (const f of followers) {
      f.on('data', (ack: Buffer) => {
        const seq = ack.readDoubleLE(0);
        const w = waiting.get(seq);
        if (w !== undefined) w.followerAcks++;
        maybeAnswer(seq);
      });
    }
    call.on('data', (record: Buffer) => {
      const seq = record.readDoubleLE(0);
      waiting.set(seq, { ownDone: false, followerAcks: 0 });
      for (const f of followers) f.write(record);
      // Its own write starts once the record has left for the followers (Node's HTTP/2 sessions send from
      // an immediate queued before this one), as a Keel leader's does (net/leveldb-storage.ts).
      setImmediate(() => void write(record).then(() => {
        const w = waiting.get(seq);
        if (w !== undefined) w.ownDone = true;
        maybeAnswer(seq);
      }));
    });
  });
}

function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;
}

function startRole(args: readonly string[]): Promise<ChildProcess> {
  const runTs = fileURLToPath(new URL('../bin/run-ts.js', import.meta.url));
  const child = spawn(process.execPath, [runTs, fileURLToPath(import.meta.url), ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    child.stdout?.once('data', () => resolve(child));
    child.once('exit', (code) => reject(new Error(`${args[0]} exited with ${String(code)} before it was ready`)));
  });
}

async function runClient(json: boolean): Promise<void> {
  const base = randomBasePort(16_000, 4_000);
  const dataDir = mkdtempSync(join(tmpdir(), 'keel-floor-'));
  const children: ChildProcess[] = [];
  try {
    // Followers first: the leader opens its streams to them as it starts.
    for (const k of [1, 2]) children.push(await startRole(['follower', String(base + k), join(dataDir, `f${k}`)]));
    children.push(await startRole(['leader', String(base), join(dataDir, 'leader'), String(base + 1), String(base + 2)]));
    let failed: Error | null = null;
    let pending: ((err: Error) => void) | null = null;
    const stream = openStream(base, (err) => {
      failed = err;
      pending?.(err);
    });
    const answers = new Map<number, () => void>();
    stream.on('data', (answer: Buffer) => answers.get(answer.readDoubleLE(0))?.());
    let seq = 0;
    const roundTrip = (): Promise<number> => new Promise((resolve, reject) => {
      if (failed !== null) return reject(failed);
      pending = reject;
      const record = Buffer.alloc(SEQ_BYTES + VALUE_BYTES, 120);
      record.writeDoubleLE(++seq);
      const startMs = performance.now();
      answers.set(seq, () => {
        answers.delete(seq);
        resolve(performance.now() - startMs);
      });
      stream.write(record);
    });
    for (let i = 0; i < WARMUP_RECORDS; i++) await roundTrip();
    const cpu = cpuMeter([process.pid, ...children.map((c) => c.pid ?? 0)]);
    const latencies: number[] = [];
    const t0 = performance.now();
    for (let i = 0; i < RECORDS; i++) latencies.push(await roundTrip());
    const ms = performance.now() - t0;
    const cpuMs = cpu();
    latencies.sort((a, b) => a - b);
    const round = (x: number): number => Math.round(x * 1000) / 1000;
    const result = {
      name: 'floor-seq', records: RECORDS, seconds: round(ms / 1000), recordsPerSec: Math.round(RECORDS / (ms / 1000)),
      p50Ms: round(percentile(latencies, 50)), p99Ms: round(percentile(latencies, 99)),
      ...(cpuMs === null ? {} : { cpuMsPerRecord: round(cpuMs / RECORDS) }),
    };
    console.log(json ? JSON.stringify(result) : Object.entries(result).map(([k, v]) => `${k}=${String(v)}`).join('  '));
    stream.end();
  } finally {
    // The leader first, so no follower stream breaks under a running leader.
    for (const c of [...children].reverse()) c.kill();
    await Promise.all(children.map((c) => (c.exitCode === null ? new Promise((r) => c.once('exit', r)) : undefined)));
    rmSync(dataDir, { recursive: true, force: true });
  }
}

const [role, port, dir, ...followerPorts] = process.argv.slice(2);
if (role === 'follower') {
  await runFollower(Number(port), dir as string);
  console.log('ready');
} else if (role === 'leader') {
  await runLeader(Number(port), dir as string, followerPorts.map(Number));
  console.log('ready');
} else {
  await runClient(process.argv.includes('--json'));
  process.exit(0);
}
