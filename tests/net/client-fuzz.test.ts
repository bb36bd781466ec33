// Bad input over the wire (DESIGN.md §7: "never a crash and never lost data"). Against a real
// three-node cluster: (1) requests generated from client.proto's own field types with hostile values
// (unsafe and negative numbers, invalid and unknown topic names, flags without fields, unknown enum
// values) for every method, (2) raw bytes sent as the request body to every method path — random
// bytes, mutated valid encodings and other messages' encodings — through a client with identity
// serializers, (3) oversized requests. Every call must end with a status, never UNKNOWN / INTERNAL /
// UNIMPLEMENTED, and a failed one must name its keel-code; afterwards the cluster still serves, and
// every record acknowledged before and during the barrage is still there.
import * as grpc from '@grpc/grpc-js';
import fc from 'fast-check';
import type protobuf from 'protobufjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KEEL_SERVICE_DEFINITION, KeelService } from '../../net/client-schema.ts';
import type { NodeId } from '../../raft/types.ts';
import {
  call, callLeader, clientFor, createCluster, dec, failure, forgetClients, record, waitReady, waitTopicServed,
  type CallResult, type TestCluster,
} from './cluster-helpers.ts';

let cluster: TestCluster;
let addresses: ReadonlyMap<NodeId, string>;
const LEDGER = 'ledger';
const STREAM_INFLIGHT_MAX = 16;

/** Records acknowledged with acks=all: [partition, offset] -> value. */
const acknowledged = new Map<string, string>();
let ledgerSeq = 0;

async function produceLedger(): Promise<void> {
  const partition = ledgerSeq % 2;
  const value = `ledger-${ledgerSeq++}`;
  const { result } = await callLeader<{ baseOffset: number }>(addresses, 'Produce', { topic: LEDGER, hasPartition: true, partition, records: [record(null, value)] });
  if (result.ok) acknowledged.set(`${partition}:${result.value.baseOffset}`, value);
}

beforeAll(async () => {
  cluster = await createCluster(3, { client: { limits: { streamInflightMax: STREAM_INFLIGHT_MAX } } });
  addresses = cluster.addresses;
  for (const id of cluster.ids) await cluster.start(id);
  await waitReady(cluster);
  const created = await call(clientFor(addresses.get(1 as NodeId)!), 'CreateTopic', { requestId: 'ledger', name: LEDGER, partitions: 2, replicationFactor: 3 });
  expect(created.ok).toBe(true);
  await waitTopicServed(addresses, LEDGER);
  for (let i = 0; i < 10; i++) await produceLedger();
  expect(acknowledged.size).toBe(10);
});

afterAll(async () => {
  forgetClients();
  await cluster.destroy();
});

const METHODS = KeelService.methodsArray.map((m) => m.name);
const PATH = (m: string): string => KEEL_SERVICE_DEFINITION[m]!.path;
const ALLOWED_STATUSES = new Set([
  grpc.status.OK, grpc.status.INVALID_ARGUMENT, grpc.status.NOT_FOUND, grpc.status.ALREADY_EXISTS, grpc.status.FAILED_PRECONDITION,
  grpc.status.UNAVAILABLE, grpc.status.DEADLINE_EXCEEDED, grpc.status.RESOURCE_EXHAUSTED, grpc.status.OUT_OF_RANGE, grpc.status.CANCELLED,
]);

/** A failed call must carry its keel-code, except a deadline or cancel the client caused itself. */
function checkResult(method: string, r: CallResult<unknown>): void {
  if (r.ok) return;
  expect(ALLOWED_STATUSES.has(r.status), `${method}: status ${grpc.status[r.status]} (${r.details})`).toBe(true);
  if (r.status !== grpc.status.DEADLINE_EXCEEDED && r.status !== grpc.status.CANCELLED) expect(r.keelCode, `${method}: ${grpc.status[r.status]} ${r.details}`).toBeDefined();
}

/** Fails the test if a call never ends (a handler that forgot to answer). */
function bounded<T>(p: Promise<T>, what: string, ms = 15_000): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no status within ${ms} ms`)), ms);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}

// ---- requests generated from the schema ----------------------------------------------------------

// Weighted toward plausible values so that many requests get past the checks and reach the node.
const hostileNumber32 = fc.oneof(
  { arbitrary: fc.integer({ min: 0, max: 3 }), weight: 6 },
  { arbitrary: fc.integer({ min: -3, max: 8 }), weight: 2 },
  { arbitrary: fc.constantFrom(-1, 2 ** 31 - 1, 2 ** 32 - 1, 2 ** 32, 2 ** 53 - 1, 2 ** 53), weight: 2 },
);
const hostileNumber64 = fc.oneof(
  { arbitrary: hostileNumber32, weight: 8 },
  { arbitrary: fc.constantFrom('18446744073709551615', '9223372036854775807', '-9223372036854775808', '9007199254740993', '9007199254740992', '-1'), weight: 2 },
);
const hostileString = fc.oneof(fc.string({ maxLength: 12 }), fc.constantFrom('', ' ', '\u0000', 'é', 'x'.repeat(300)), fc.string({ unit: 'binary', maxLength: 8 }));
/** Topic names: mostly the ledger, else two creatable names, unknown and invalid ones (never arbitrary valid names: no surprise topics). */
/**
 * Methods never aimed at the ledger: deleting it, or a retention of 1 ms on it, would lose its records
 * legitimately, and new partitions would move its keys.
 */
const LEDGER_CHANGING = new Set(['DeleteTopic', 'AlterTopicConfigs', 'CreatePartitions']);
function topicNames(method: string): fc.Arbitrary<string> {
  const pool = fc.constantFrom('fz-a', 'fz-b', 'nope', '', 'bad name', '.', '..', 'x'.repeat(250), 'ü');
  const invalid = fc.string({ maxLength: 10 }).map((s) => `${s} ?`);
  if (LEDGER_CHANGING.has(method)) return fc.oneof(pool, invalid);
  return fc.oneof({ arbitrary: fc.constant(LEDGER), weight: 6 }, { arbitrary: pool, weight: 3 }, { arbitrary: invalid, weight: 1 });
}
const smallBytes = fc.oneof({ arbitrary: fc.constant(new Uint8Array(0)), weight: 3 }, { arbitrary: fc.uint8Array({ maxLength: 24 }), weight: 2 });
const enumNumber = fc.oneof({ arbitrary: fc.integer({ min: 0, max: 2 }), weight: 8 }, { arbitrary: fc.integer({ min: -2, max: 4 }), weight: 2 });
const configKeys = fc.oneof(fc.constantFrom('retention.ms', 'retention.bytes', 'max.message.bytes', 'min.insync.replicas', '__proto__', 'constructor'), hostileString);
const configValues = fc.oneof(fc.constantFrom('-1', '0', '1', '3', '1e3', '0x10', ' 5', '99999999999999999999'), hostileString);

function fieldArb(f: protobuf.Field, method: string, depth: number): fc.Arbitrary<unknown> {
  if (f.map) return fc.dictionary(configKeys, configValues, { maxKeys: 4 });
  const one = scalarArb(f, method, depth);
  return f.repeated ? fc.array(one, { maxLength: 4 }) : one;
}

function scalarArb(f: protobuf.Field, method: string, depth: number): fc.Arbitrary<unknown> {
  const t = f.resolvedType;
  if (t !== null && 'values' in t) return enumNumber; // an enum, unknown values included
  if (t !== null) return depth >= 3 ? fc.constant({}) : messageArb(t as protobuf.Type, method, depth + 1);
  if (f.name === 'topic' || f.name === 'name') return topicNames(method);
  switch (f.type) {
    case 'string': return hostileString;
    case 'bool': return fc.boolean();
    case 'bytes': return smallBytes;
    case 'uint64': case 'int64': return hostileNumber64;
    default: return hostileNumber32;
  }
}

function messageArb(type: protobuf.Type, method: string, depth = 0): fc.Arbitrary<Record<string, unknown>> {
  const fields: Record<string, fc.Arbitrary<unknown>> = {};
  for (const f of type.fieldsArray) fields[f.name] = fieldArb(f, method, depth);
  return fc.record(fields, { requiredKeys: [] });
}

/** Produce requests that mostly pass the checks: they reach leaders, producer-state checks and both acks. */
const plausibleRecord = fc.record({
  key: smallBytes, keyNull: fc.constant(false), value: smallBytes, valueNull: fc.constant(false),
  headers: fc.array(fc.record({ key: fc.string({ maxLength: 4 }), value: smallBytes }), { maxLength: 2 }),
  timestamp: fc.constantFrom(-1, 0, 1_700_000_000_000),
}).map((r) => ({ ...r, keyNull: r.key.length === 0 && r.headers.length % 2 === 1 }));
const plausibleProduce = fc.record({
  topic: fc.oneof({ arbitrary: fc.constant(LEDGER), weight: 8 }, { arbitrary: fc.constantFrom('nope', 'fz-a'), weight: 1 }),
  partition: fc.constantFrom(0, 1, 2, 7),
  records: fc.array(plausibleRecord, { minLength: 1, maxLength: 3 }),
  acks: fc.constantFrom(0, 0, 1),
  producer: fc.option(fc.record({ producerId: fc.constantFrom(0, 1_000, 1_001, 99_999), producerEpoch: fc.constantFrom(0, 1), baseSequence: fc.constantFrom(0, 1, 5) })),
  keyed: fc.boolean(),
}).map(({ partition, producer, keyed, ...r }) => ({
  ...r,
  ...(keyed ? { hasKey: true, key: new Uint8Array([partition]) } : { hasPartition: true, partition }),
  ...(producer === null ? {} : { hasProducer: true, ...producer }),
}));

function requestType(method: string): protobuf.Type {
  const m = KeelService.methods[method]!;
  m.resolve();
  return m.resolvedRequestType as protobuf.Type;
}

/** Runs one generated request of `method` against `address`; resolves with what the client saw. */
async function runRequest(method: string, address: string, req: Record<string, unknown>): Promise<CallResult<unknown>[]> {
  const client = clientFor(address);
  if (method === 'Subscribe') {
    const sub = (client['Subscribe'] as (r: unknown, md: grpc.Metadata, o: grpc.CallOptions) => grpc.ClientReadableStream<unknown>).call(client, req, new grpc.Metadata(), { deadline: Date.now() + 300 });
    sub.on('data', () => {});
    return [await new Promise<CallResult<unknown>>((resolve) => {
      sub.on('error', (err: grpc.ServiceError) => resolve(failure(err)));
      sub.on('status', (s: grpc.StatusObject) => {
        if (s.code === grpc.status.OK) resolve({ ok: true, value: null });
      });
    })];
  }
  if (method === 'ProduceStream') {
    const stream = (client['ProduceStream'] as (md: grpc.Metadata, o: grpc.CallOptions) => grpc.ClientDuplexStream<unknown, unknown>).call(client, new grpc.Metadata(), { deadline: Date.now() + 5_000 });
    const answers: CallResult<unknown>[] = [];
    const done = new Promise<CallResult<unknown>>((resolve) => {
      stream.on('data', (m: { error?: { code: string } }) => {
        if (m.error !== undefined && m.error !== null) expect(m.error.code).toMatch(/^[A-Z_]+$/);
        answers.push({ ok: true, value: m });
      });
      stream.on('error', (err: grpc.ServiceError) => resolve(failure(err)));
      stream.on('status', (s: grpc.StatusObject) => {
        if (s.code === grpc.status.OK) resolve({ ok: true, value: null });
      });
    });
    stream.write(req);
    stream.end();
    return [...answers, await done];
  }
  return [await call(client, method, req, method === 'Fetch' ? 400 : 5_000)];
}

describe('bad input over the wire', () => {
  it('requests built from the schema with hostile values: every call gets a status with a keel-code', async () => {
    const all = [...addresses.values()];
    for (const method of METHODS) {
      const type = requestType(method === 'ProduceStream' ? 'Produce' : method);
      const schemaArb = method === 'Produce' || method === 'ProduceStream' ? fc.oneof(messageArb(type, method), plausibleProduce) : messageArb(type, method);
      const reqArb = method === 'ProduceStream'
        ? fc.record({ correlationId: hostileNumber64, request: schemaArb }, { requiredKeys: [] })
        : schemaArb;
      await fc.assert(fc.asyncProperty(fc.array(fc.tuple(reqArb, fc.nat(all.length - 1)), { minLength: 1, maxLength: 6 }), async (reqs) => {
        const results = await bounded(Promise.all(reqs.map(([req, k]) => runRequest(method, all[k]!, req))), method);
        for (const rs of results) for (const r of rs) checkResult(method, r);
      }), { numRuns: method === 'Subscribe' || method === 'Fetch' ? 8 : 25, seed: 4_242 });
      // The barrage left every node serving: a linearizable read succeeds everywhere.
      const health = await Promise.all(all.map((a) => call(clientFor(a), 'ListTopics', {}, 3_000)));
      expect(health.map((r) => (r.ok ? 'ok' : r.details)), `after ${method}`).toEqual(all.map(() => 'ok'));
      await produceLedger();
    }
  });

  it('raw bytes on every method path: malformed bodies get INVALID_ARGUMENT, nothing crashes', async () => {
    const identity = (b: Buffer): Buffer => b;
    const address = addresses.get(1 as NodeId)!;
    const raw = new grpc.Client(address, grpc.credentials.createInsecure());
    const valid = (method: string): fc.Arbitrary<Uint8Array> => messageArb(requestType(method === 'ProduceStream' ? 'Produce' : method), method).map((m) => {
      const type = requestType(method === 'ProduceStream' ? 'Produce' : method);
      return type.encode(type.fromObject(m)).finish();
    });
    const otherMethods = fc.constantFrom(...METHODS.filter((m) => m !== 'ProduceStream'));
    const body = (method: string): fc.Arbitrary<Uint8Array> => fc.oneof(
      fc.uint8Array({ maxLength: 200 }),
      // A valid encoding with bytes flipped and cut off.
      fc.tuple(valid(method), fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 4 }), fc.nat()).map(([b, flips, cut]) => {
        const out = Uint8Array.from(b);
        for (const [at, v] of flips) if (out.length > 0) out[at % out.length] = v;
        return out.length === 0 ? out : out.subarray(0, 1 + (cut % out.length));
      }),
      // Another request type's encoding: wire types that do not match this message's fields.
      otherMethods.chain((m) => valid(m)),
    );
    try {
      for (const method of METHODS) {
        const def = KEEL_SERVICE_DEFINITION[method]!;
        await fc.assert(fc.asyncProperty(body(method), async (bytes) => {
          // Never let random bytes create a huge topic or delete or alter the ledger (fc.pre outside the try: its
          // skip is an exception too, which the catch would swallow).
          let harmful = false;
          try {
            const decoded = def.requestDeserialize(Buffer.from(bytes)) as { partitions?: number; name?: string };
            harmful = ((method === 'CreateTopic' || method === 'CreatePartitions') && (decoded.partitions ?? 0) > 4)
              || (LEDGER_CHANGING.has(method) && decoded.name === LEDGER);
          } catch {
            // undecodable: exactly what this test sends
          }
          fc.pre(!harmful);
          const buf = Buffer.from(bytes);
          const md = new grpc.Metadata();
          const r = await bounded(new Promise<CallResult<unknown>>((resolve) => {
            const opts: grpc.CallOptions = { deadline: Date.now() + 400 };
            if (!def.requestStream && !def.responseStream) {
              raw.makeUnaryRequest(def.path, identity, identity, buf, md, opts, (err) => resolve(err === null ? { ok: true, value: null } : failure(err)));
            } else {
              const s = def.requestStream ? raw.makeBidiStreamRequest(def.path, identity, identity, md, opts) : raw.makeServerStreamRequest(def.path, identity, identity, buf, md, opts);
              s.on('data', () => {});
              s.on('error', (err: grpc.ServiceError) => resolve(failure(err)));
              s.on('status', (st: grpc.StatusObject) => {
                if (st.code === grpc.status.OK) resolve({ ok: true, value: null });
              });
              if (def.requestStream) {
                const w = s as grpc.ClientDuplexStream<Buffer, Buffer>;
                w.write(buf);
                w.end();
              }
            }
          }), method);
          checkResult(method, r);
        }), { numRuns: 40, seed: 77 });
      }
      // Bytes that cannot be a request at all (a field with a length past the end): INVALID_ARGUMENT.
      for (const method of METHODS.filter((m) => !KEEL_SERVICE_DEFINITION[m]!.requestStream && !KEEL_SERVICE_DEFINITION[m]!.responseStream)) {
        const r = await new Promise<CallResult<unknown>>((resolve) => {
          raw.makeUnaryRequest(PATH(method), identity, identity, Buffer.from([0x0a, 0xff, 0xff, 0x03]), new grpc.Metadata(), { deadline: Date.now() + 2_000 }, (err) => resolve(err === null ? { ok: true, value: null } : failure(err)));
        });
        expect(r.ok ? 'ok' : [r.status, r.keelCode], method).toEqual([grpc.status.INVALID_ARGUMENT, 'INVALID_REQUEST']);
      }
    } finally {
      raw.close();
    }
    await produceLedger();
  });

  it('oversized and out-of-range requests get clear INVALID_ARGUMENT errors', async () => {
    const c = clientFor(addresses.get(2 as NodeId)!);
    const cases: [string, Record<string, unknown>, string, RegExp][] = [
      ['Produce', { topic: 'x'.repeat(1 << 20), records: [record(null, 'v')] }, 'INVALID_TOPIC', /1 to 249 characters/],
      ['Produce', { topic: LEDGER, records: Array.from({ length: 100_001 }, () => record(null, null)) }, 'INVALID_REQUEST', /at most 100000/],
      ['Produce', { topic: LEDGER, records: [] }, 'INVALID_REQUEST', /at least one record/],
      ['Produce', { topic: LEDGER, hasPartition: true, partition: 0, records: [{ ...record(null, null), valueNull: false, value: new Uint8Array(3 << 20) }] }, 'RECORD_TOO_LARGE', /max.message.bytes/],
      ['Produce', { topic: LEDGER, records: [{ ...record(null, 'v'), headers: Array.from({ length: 1_001 }, () => ({ key: 'h', value: new Uint8Array(0) })) }] }, 'INVALID_REQUEST', /headers/],
      ['Produce', { topic: LEDGER, records: [{ ...record('k', 'v'), keyNull: true }] }, 'INVALID_REQUEST', /key_null/],
      ['Produce', { topic: LEDGER, records: [{ ...record(null, 'v'), timestamp: -2 }] }, 'INVALID_REQUEST', /timestamp/],
      ['Produce', { topic: LEDGER, acks: 5, records: [record(null, 'v')] }, 'INVALID_REQUEST', /acks/],
      ['Produce', { topic: LEDGER, hasProducer: true, producerId: '18446744073709551615', records: [record(null, 'v')] }, 'INVALID_REQUEST', /producer_id must be a safe integer/],
      ['Fetch', { topic: LEDGER, offset: '9007199254740993' }, 'INVALID_REQUEST', /offset must be a safe integer/],
      ['Fetch', { topic: LEDGER, maxBytes: 2 ** 32 - 1 }, 'INVALID_REQUEST', /max_bytes/],
      ['Fetch', { topic: LEDGER, maxWaitMs: 60_000 }, 'INVALID_REQUEST', /max_wait_ms/],
      ['ListOffsets', { topic: LEDGER, spec: 2, timestamp: -5 }, 'INVALID_REQUEST', /timestamp/],
      ['ListOffsets', { topic: LEDGER, spec: 9 }, 'INVALID_REQUEST', /spec/],
      ['CreateTopic', { name: 'big', partitions: 10_001, replicationFactor: 1 }, 'INVALID_PARTITIONS', /partitions/],
      ['CreateTopic', { name: 'big', partitions: 1, replicationFactor: 0 }, 'INVALID_REPLICATION_FACTOR', /replication factor/],
      ['CreateTopic', { name: 'big', partitions: 1, replicationFactor: 1, configs: Object.fromEntries(Array.from({ length: 65 }, (_, i) => [`k${i}`, 'v'])) }, 'INVALID_REQUEST', /configs/],
      ['CreateTopic', { name: 'big', partitions: 1, replicationFactor: 1, requestId: 'r'.repeat(257) }, 'INVALID_REQUEST', /request_id/],
      ['ListTopics', { consistency: 7 }, 'INVALID_REQUEST', /consistency/],
    ];
    for (const [method, req, code, details] of cases) {
      // Leadership is checked before the size: that case goes to the partition's leader.
      const r = code === 'RECORD_TOO_LARGE' ? (await callLeader(addresses, method, req)).result : await call(c, method, req);
      expect(r.ok ? 'ok' : [r.status, r.keelCode], `${method} ${code}`).toEqual([grpc.status.INVALID_ARGUMENT, code]);
      expect(r.ok ? '' : r.details, `${method} ${code}`).toMatch(details);
      expect(r.ok ? 0 : r.details.length).toBeLessThanOrEqual(1_024);
    }
    // Bigger than the server's message limit: refused by gRPC itself, before any handler.
    const big = new (grpc.makeGenericClientConstructor(KEEL_SERVICE_DEFINITION, 'Keel'))(addresses.get(2 as NodeId)!, grpc.credentials.createInsecure(), { 'grpc.max_send_message_length': 128 << 20 });
    const r = await new Promise<CallResult<unknown>>((resolve) => {
      (big as unknown as Record<string, (...a: unknown[]) => void>)['Produce']!.call(big, { topic: LEDGER, records: [{ ...record(null, null), valueNull: false, value: new Uint8Array(65 << 20) }] }, (err: grpc.ServiceError | null) => resolve(err === null ? { ok: true, value: null } : failure(err)));
    });
    big.close();
    expect(r.ok ? 'ok' : r.status).toBe(grpc.status.RESOURCE_EXHAUSTED);
  });

  it('a ProduceStream beyond its in-flight bound answers TOO_MANY_REQUESTS per request and keeps going', async () => {
    const { address } = await callLeader(addresses, 'Produce', { topic: LEDGER, hasPartition: true, partition: 0, records: [record(null, 'probe')] });
    const client = clientFor(address);
    const stream = (client['ProduceStream'] as (md: grpc.Metadata, o: grpc.CallOptions) => grpc.ClientDuplexStream<unknown, unknown>).call(client, new grpc.Metadata(), { deadline: Date.now() + 20_000 });
    const answers = new Map<number, { ok?: { baseOffset: number }; error?: { code: string } }>();
    const ended = new Promise<void>((resolve, reject) => {
      stream.on('data', (m: { correlationId: number; ok?: { baseOffset: number }; error?: { code: string } }) => answers.set(m.correlationId, m));
      stream.on('end', resolve);
      stream.on('error', reject);
    });
    // Enough requests that some arrive while STREAM_INFLIGHT_MAX are still committing, however fast the
    // node commits (a few hundred were not always enough once commits took a millisecond).
    const n = 2_000;
    for (let i = 0; i < n; i++) stream.write({ correlationId: i, request: { topic: LEDGER, hasPartition: true, partition: 0, records: [record(null, `burst-${i}`)] } });
    stream.end();
    await ended;
    expect(answers.size).toBe(n);
    const codes = [...answers.values()].map((a) => a.ok !== undefined && a.ok !== null ? 'OK' : a.error?.code);
    expect(codes.every((c) => c === 'OK' || c === 'TOO_MANY_REQUESTS')).toBe(true);
    expect(codes.filter((c) => c === 'OK').length).toBeGreaterThanOrEqual(STREAM_INFLIGHT_MAX);
    expect(codes.filter((c) => c === 'TOO_MANY_REQUESTS').length).toBeGreaterThan(0);
    for (const [id, a] of answers) if (a.ok) acknowledged.set(`0:${a.ok.baseOffset}`, `burst-${id}`);
  });

  it('afterwards the cluster still serves, and no acknowledged record is lost', async () => {
    await produceLedger();
    await produceLedger();
    for (const partition of [0, 1]) {
      const { result, address } = await callLeader<{ offset: number }>(addresses, 'ListOffsets', { topic: LEDGER, partition, spec: 1 });
      expect(result.ok).toBe(true);
      const end = result.ok ? result.value.offset : 0;
      const values = new Map<number, string>();
      while (values.size < end) {
        const f = await call<{ records: { offset: number; record: { value: Uint8Array; valueNull: boolean } }[] }>(clientFor(address), 'Fetch', { topic: LEDGER, partition, offset: values.size });
        expect(f.ok).toBe(true);
        if (!f.ok || f.value.records.length === 0) break;
        for (const r of f.value.records) values.set(r.offset, r.record.valueNull ? '<null>' : dec(r.record.value));
      }
      for (const [key, value] of acknowledged) {
        const [p, offset] = key.split(':').map(Number);
        if (p === partition) expect(values.get(offset!), key).toBe(value);
      }
    }
    expect(acknowledged.size).toBeGreaterThan(20);
    for (const address of addresses.values()) {
      const s = await call<{ ready: boolean }>(clientFor(address), 'ClusterStatus', {});
      expect(s.ok && s.value.ready).toBe(true);
    }
  });
});
