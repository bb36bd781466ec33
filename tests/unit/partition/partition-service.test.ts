// Client operations on partitions (broker/partition/partition-service.ts) without a cluster: a real
// MetadataState image, fake replicas (leader or not, proposals committed by hand into a real
// PartitionMachine) and a fake clock. Malformed produce and fetch requests are answered with stable
// error codes (INVALID_RECORD / INVALID_REQUEST / UNKNOWN_TOPIC_OR_PARTITION), synchronously, once, and
// never by an exception; NOT_LEADER carries the leader and its address when known; and a leader's
// produce / fetch / listOffsets map the replica's and the machine's answers to the documented codes.
import { describe, expect, it } from 'vitest';
import { decodeCommand, encodeCommand, type ProduceRecord } from '../../../broker/partition/batch-codec.ts';
import { PartitionMachine } from '../../../broker/partition/partition-machine.ts';
import {
  FETCH_WAIT_MS_MAX, PARTITION_ERROR_CODES, PartitionService, RECORDS_PER_BATCH_MAX,
  type FetchRequest, type FetchResponse, type PartitionContext, type PResult, type ProduceRequest, type ProduceResponse,
} from '../../../broker/partition/partition-service.ts';
import { partitionForKey } from '../../../broker/partition/partitioner.ts';
import type { Clock, TimerHandle } from '../../../broker/ports.ts';
import type { ProposeOutcome, Replica, ReplicaErrorCode } from '../../../broker/replica.ts';
import { MetadataState } from '../../../controller/metadata.ts';
import { index, NONE, nodeId, term, type NodeId } from '../../../raft/types.ts';
import { bytes, produce, rec, text, trim } from './support.ts';

// ---- the fake node -----------------------------------------------------------------------------

class FakeClock implements Clock {
  ms = 1_700_000_000_000;
  private nextId = 1;
  readonly timers = new Map<number, { at: number; fn: () => void }>();
  now(): number {
    return this.ms;
  }
  wallMs(): number {
    return this.ms;
  }
  setTimer(delayMs: number, fn: () => void): TimerHandle {
    const id = this.nextId++;
    this.timers.set(id, { at: this.ms + delayMs, fn });
    return { id };
  }
  cancelTimer(handle: TimerHandle): void {
    this.timers.delete(handle.id);
  }
  advance(ms: number): void {
    this.ms += ms;
    for (const [id, t] of [...this.timers]) {
      if (t.at > this.ms) continue;
      this.timers.delete(id);
      t.fn();
    }
  }
}

/** The parts of a Replica the service uses; proposals wait until the test commits or fails them. */
class FakeReplica {
  isLeader = false;
  leader: NodeId = NONE;
  live = 3;
  private lastIndex = 0;
  readonly pending: { data: Uint8Array; done: (o: ProposeOutcome) => void }[] = [];
  /** If set, propose fails at once with this code (as Replica.propose does when not leader). */
  refuse: ReplicaErrorCode | null = null;

  constructor(readonly machine: PartitionMachine) {}

  liveVoters(): number {
    return this.isLeader ? this.live : 0;
  }

  propose(data: Uint8Array, done: (o: ProposeOutcome) => void): void {
    if (this.refuse !== null) return done({ ok: false, code: this.refuse, leader: this.leader });
    this.pending.push({ data, done });
  }

  /** Commits and applies every pending proposal, in order. */
  commitAll(): void {
    for (const p of this.pending.splice(0)) {
      const i = index(++this.lastIndex);
      const result = this.machine.apply({ term: term(1), index: i, type: 'normal', data: p.data });
      p.done({ ok: true, index: i, term: term(1), result });
    }
  }

  failAll(code: ReplicaErrorCode, leader: NodeId = NONE): void {
    for (const p of this.pending.splice(0)) p.done({ ok: false, code, leader });
  }
}

interface Node {
  readonly svc: PartitionService;
  readonly meta: MetadataState;
  readonly clock: FakeClock;
  /** Per partition of "orders" (3 partitions): its replica on this node, if hosted. */
  readonly replicas: Map<number, FakeReplica>;
  available: boolean;
  groupOf(partition: number): number;
  leaderOf(partition: number): FakeReplica;
}

function setup(opts: { configs?: Record<string, unknown>; hosted?: boolean } = {}): Node {
  const meta = new MetadataState();
  for (const b of [1, 2, 3]) {
    const r = meta.applyCommand({ type: 'register-broker', broker: nodeId(b), address: `host-${b}:9092`, incarnation: 1 });
    if (!r.ok) throw new Error(r.error.message);
    const { epoch } = r.value as { epoch: number };
    meta.applyCommand({ type: 'unfence-broker', broker: nodeId(b), epoch });
  }
  const created = meta.applyCommand({ type: 'create-topic', requestId: 'c1', name: 'orders', partitions: 3, replicationFactor: 3, configs: opts.configs ?? {} });
  if (!created.ok) throw new Error(created.error.message);
  const groups = meta.topics.get('orders')?.groups ?? [];
  const clock = new FakeClock();
  const replicas = new Map<number, FakeReplica>();
  if (opts.hosted !== false) groups.forEach((_g, p) => replicas.set(p, new FakeReplica(new PartitionMachine())));
  const byGroup = (g: number): FakeReplica | undefined => replicas.get(groups.indexOf(g));
  const node: Node = {
    meta, clock, replicas, available: true,
    svc: undefined as unknown as PartitionService,
    groupOf: (p) => groups[p] as number,
    leaderOf: (p) => {
      const r = replicas.get(p);
      if (r === undefined) throw new Error(`partition ${p} not hosted`);
      r.isLeader = true;
      r.leader = nodeId(1);
      return r;
    },
  };
  const ctx: PartitionContext = {
    nodeId: nodeId(1),
    metadata: meta,
    clock,
    replica: (g) => byGroup(g) as unknown as Replica | undefined,
    machine: (g) => byGroup(g)?.machine,
    guessOffsetsAtAppend: false,
    metadataAvailable: () => node.available,
  };
  return Object.assign(node, { svc: new PartitionService(ctx) });
}

/** Calls an operation and returns its answers (checks it answered exactly once, synchronously, without throwing). */
function answerOf<T>(call: (done: (r: PResult<T>) => void) => void): PResult<T> {
  const got: PResult<T>[] = [];
  expect(() => call((r) => got.push(r))).not.toThrow();
  expect(got).toHaveLength(1);
  return got[0] as PResult<T>;
}

function codeOf<T>(r: PResult<T>): string {
  if (r.ok) throw new Error(`expected an error, got ${JSON.stringify(r.value)}`);
  expect(PARTITION_ERROR_CODES).toContain(r.error.code);
  expect(typeof r.error.message).toBe('string');
  return r.error.code;
}

function valueOf<T>(r: PResult<T>): T {
  if (!r.ok) throw new Error(`expected ok, got ${r.error.code}: ${r.error.message}`);
  return r.value;
}

const good: ProduceRequest = { topic: 'orders', partition: 0, records: [rec('v')], acks: 'all' };
const produceWith = (n: Node, req: unknown): PResult<ProduceResponse> => answerOf<ProduceResponse>((d) => n.svc.produce(req as ProduceRequest, d));
const goodFetch: FetchRequest = { topic: 'orders', partition: 0, offset: 0, maxBytes: 1_000, maxWaitMs: 0 };
const fetchWith = (n: Node, req: unknown): PResult<FetchResponse> => answerOf<FetchResponse>((d) => n.svc.fetch(req as FetchRequest, d));

// ---- produce validation ----------------------------------------------------------------------------

const recordish = (r: Record<string, unknown>): unknown => ({ key: null, value: bytes('v'), headers: [], timestamp: -1, ...r });

const MALFORMED_PRODUCE: readonly (readonly [string, Record<string, unknown>, string])[] = [
  ['topic not a string', { topic: 5 }, 'INVALID_REQUEST'],
  ['topic missing', { topic: undefined }, 'INVALID_REQUEST'],
  ['acks unknown', { acks: 'none' }, 'INVALID_REQUEST'],
  ['acks missing', { acks: undefined }, 'INVALID_REQUEST'],
  ['acks as a number', { acks: 1 }, 'INVALID_REQUEST'],
  ['negative partition', { partition: -1 }, 'UNKNOWN_TOPIC_OR_PARTITION'],
  ['fractional partition', { partition: 0.5 }, 'UNKNOWN_TOPIC_OR_PARTITION'],
  ['NaN partition', { partition: Number.NaN }, 'UNKNOWN_TOPIC_OR_PARTITION'],
  ['infinite partition', { partition: Number.POSITIVE_INFINITY }, 'UNKNOWN_TOPIC_OR_PARTITION'],
  ['partition as a string', { partition: '0' }, 'UNKNOWN_TOPIC_OR_PARTITION'],
  ['partition null', { partition: null }, 'UNKNOWN_TOPIC_OR_PARTITION'],
  ['key as a string', { key: 'k' }, 'INVALID_RECORD'],
  ['key as a number array', { key: [1, 2] }, 'INVALID_RECORD'],
  ['no records', { records: [] }, 'INVALID_RECORD'],
  ['records missing', { records: undefined }, 'INVALID_RECORD'],
  ['records not an array', { records: 'abc' }, 'INVALID_RECORD'],
  ['records array-like', { records: { length: 1, 0: recordish({}) } }, 'INVALID_RECORD'],
  ['a null record', { records: [null] }, 'INVALID_RECORD'],
  ['a hole in the records', { records: Object.assign(new Array<unknown>(3), { 0: recordish({}), 2: recordish({}) }) }, 'INVALID_RECORD'],
  ['a number as a record', { records: [7] }, 'INVALID_RECORD'],
  ['record key a string', { records: [recordish({ key: 'k' })] }, 'INVALID_RECORD'],
  ['record key missing', { records: [recordish({ key: undefined })] }, 'INVALID_RECORD'],
  ['record value a number', { records: [recordish({ value: 5 })] }, 'INVALID_RECORD'],
  ['record value an ArrayBuffer', { records: [recordish({ value: new ArrayBuffer(2) })] }, 'INVALID_RECORD'],
  ['timestamp -2', { records: [recordish({ timestamp: -2 })] }, 'INVALID_RECORD'],
  ['timestamp fractional', { records: [recordish({ timestamp: 1.5 })] }, 'INVALID_RECORD'],
  ['timestamp NaN', { records: [recordish({ timestamp: Number.NaN })] }, 'INVALID_RECORD'],
  ['timestamp a string', { records: [recordish({ timestamp: '1' })] }, 'INVALID_RECORD'],
  ['timestamp missing', { records: [recordish({ timestamp: undefined })] }, 'INVALID_RECORD'],
  ['timestamp beyond safe integers', { records: [recordish({ timestamp: 2 ** 53 })] }, 'INVALID_RECORD'],
  ['headers missing', { records: [recordish({ headers: undefined })] }, 'INVALID_RECORD'],
  ['headers an object', { records: [recordish({ headers: { a: bytes('b') } })] }, 'INVALID_RECORD'],
  ['a null header', { records: [recordish({ headers: [null] })] }, 'INVALID_RECORD'],
  ['header key a number', { records: [recordish({ headers: [{ key: 1, value: bytes('b') }] })] }, 'INVALID_RECORD'],
  ['header value a string', { records: [recordish({ headers: [{ key: 'a', value: 'b' }] })] }, 'INVALID_RECORD'],
  ['header value null', { records: [recordish({ headers: [{ key: 'a', value: null }] })] }, 'INVALID_RECORD'],
  ['header value missing', { records: [recordish({ headers: [{ key: 'a' }] })] }, 'INVALID_RECORD'],
  ['the second record bad', { records: [recordish({}), recordish({ value: 'x' })] }, 'INVALID_RECORD'],
  ['producerId alone', { producerId: 1 }, 'INVALID_REQUEST'],
  ['producerId and epoch without sequence', { producerId: 1, producerEpoch: 0 }, 'INVALID_REQUEST'],
  ['sequence alone', { baseSequence: 0 }, 'INVALID_REQUEST'],
  ['epoch alone', { producerEpoch: 0 }, 'INVALID_REQUEST'],
  ['negative producerId', { producerId: -1, producerEpoch: 0, baseSequence: 0 }, 'INVALID_REQUEST'],
  ['negative epoch', { producerId: 1, producerEpoch: -1, baseSequence: 0 }, 'INVALID_REQUEST'],
  ['negative sequence', { producerId: 1, producerEpoch: 0, baseSequence: -1 }, 'INVALID_REQUEST'],
  ['fractional sequence', { producerId: 1, producerEpoch: 0, baseSequence: 1.5 }, 'INVALID_REQUEST'],
  ['producerId a string', { producerId: '1', producerEpoch: 0, baseSequence: 0 }, 'INVALID_REQUEST'],
  ['producerId null', { producerId: null, producerEpoch: 0, baseSequence: 0 }, 'INVALID_REQUEST'],
  ['unknown topic', { topic: 'nope' }, 'UNKNOWN_TOPIC_OR_PARTITION'],
  ['partition past the last one', { partition: 3 }, 'UNKNOWN_TOPIC_OR_PARTITION'],
  ['partition far out', { partition: Number.MAX_SAFE_INTEGER }, 'UNKNOWN_TOPIC_OR_PARTITION'],
];

describe('produce: malformed requests', () => {
  it.each(MALFORMED_PRODUCE)('%s → %s', (_name, patch, code) => {
    const n = setup();
    const leader = n.leaderOf(0);
    expect(codeOf(produceWith(n, { ...good, ...patch }))).toBe(code);
    // Nothing was proposed.
    expect(leader.pending).toHaveLength(0);
    expect(leader.machine.nextOffset).toBe(0);
  });

  it.each(MALFORMED_PRODUCE)('%s → %s also on a node that is not the leader', (name, patch, code) => {
    const n = setup();
    const r = produceWith(n, { ...good, ...patch });
    // Shape checks come first, so the code does not depend on where the request landed; routing errors
    // (unknown topic/partition) still come before leadership.
    expect(codeOf(r), name).toBe(code);
  });

  it(`more than ${RECORDS_PER_BATCH_MAX} records → INVALID_RECORD; exactly that many pass the shape checks`, () => {
    const n = setup();
    const r = rec('');
    expect(codeOf(produceWith(n, { ...good, records: new Array<ProduceRecord>(RECORDS_PER_BATCH_MAX + 1).fill(r) }))).toBe('INVALID_RECORD');
    // (Not the leader here, so a batch that passes validation is NOT_LEADER.)
    expect(codeOf(produceWith(n, { ...good, records: new Array<ProduceRecord>(RECORDS_PER_BATCH_MAX).fill(r) }))).toBe('NOT_LEADER');
  });

  it('shape checks come before metadata: a malformed request is refused even without a metadata image', () => {
    const n = setup();
    n.available = false;
    expect(codeOf(produceWith(n, { ...good, records: [] }))).toBe('INVALID_RECORD');
    expect(codeOf(produceWith(n, { ...good, acks: 'x' }))).toBe('INVALID_REQUEST');
    expect(codeOf(produceWith(n, good))).toBe('NOT_LEADER');
  });

  it('valid edge values pass validation: null/empty keys and values, timestamp -1 and 0, empty header key, producer 0/0/0', () => {
    const n = setup();
    const leader = n.leaderOf(0);
    const records: ProduceRecord[] = [
      { key: null, value: null, headers: [], timestamp: -1 },
      { key: new Uint8Array(0), value: new Uint8Array(0), headers: [{ key: '', value: new Uint8Array(0) }], timestamp: 0 },
    ];
    const got: PResult<ProduceResponse>[] = [];
    n.svc.produce({ ...good, records, producerId: 0, producerEpoch: 0, baseSequence: 0 }, (r) => got.push(r));
    expect(got).toHaveLength(0);
    expect(leader.pending).toHaveLength(1);
    leader.commitAll();
    expect(valueOf(got[0] as PResult<ProduceResponse>)).toMatchObject({ topic: 'orders', partition: 0, baseOffset: 0, duplicate: false });
  });
});

// ---- fetch validation --------------------------------------------------------------------------------

const MALFORMED_FETCH: readonly (readonly [string, Record<string, unknown>, string])[] = [
  ['topic not a string', { topic: 1 }, 'INVALID_REQUEST'],
  ['negative offset', { offset: -1 }, 'INVALID_REQUEST'],
  ['fractional offset', { offset: 0.5 }, 'INVALID_REQUEST'],
  ['NaN offset', { offset: Number.NaN }, 'INVALID_REQUEST'],
  ['offset missing', { offset: undefined }, 'INVALID_REQUEST'],
  ['offset as a string', { offset: '0' }, 'INVALID_REQUEST'],
  ['offset beyond safe integers', { offset: 2 ** 53 }, 'INVALID_REQUEST'],
  ['maxBytes 0', { maxBytes: 0 }, 'INVALID_REQUEST'],
  ['negative maxBytes', { maxBytes: -5 }, 'INVALID_REQUEST'],
  ['maxBytes missing', { maxBytes: undefined }, 'INVALID_REQUEST'],
  ['negative maxWaitMs', { maxWaitMs: -1 }, 'INVALID_REQUEST'],
  ['maxWaitMs over the limit', { maxWaitMs: FETCH_WAIT_MS_MAX + 1 }, 'INVALID_REQUEST'],
  ['fractional maxWaitMs', { maxWaitMs: 0.5 }, 'INVALID_REQUEST'],
  ['NaN maxWaitMs', { maxWaitMs: Number.NaN }, 'INVALID_REQUEST'],
  ['infinite maxWaitMs', { maxWaitMs: Number.POSITIVE_INFINITY }, 'INVALID_REQUEST'],
  ['maxWaitMs missing', { maxWaitMs: undefined }, 'INVALID_REQUEST'],
  ['negative partition', { partition: -1 }, 'UNKNOWN_TOPIC_OR_PARTITION'],
  ['partition past the last one', { partition: 3 }, 'UNKNOWN_TOPIC_OR_PARTITION'],
  ['partition as a string', { partition: '0' }, 'UNKNOWN_TOPIC_OR_PARTITION'],
  ['unknown topic', { topic: 'nope' }, 'UNKNOWN_TOPIC_OR_PARTITION'],
];

describe('fetch: malformed requests', () => {
  it.each(MALFORMED_FETCH)('%s → %s', (_name, patch, code) => {
    const n = setup();
    n.leaderOf(0);
    expect(codeOf(fetchWith(n, { ...goodFetch, ...patch }))).toBe(code);
    expect(n.clock.timers.size).toBe(0);
  });

  it('the bounds themselves are accepted: offset 0, maxBytes 1, maxWaitMs 0 and FETCH_WAIT_MS_MAX', () => {
    const n = setup();
    n.leaderOf(0);
    expect(valueOf(fetchWith(n, { ...goodFetch, maxBytes: 1, maxWaitMs: 0 }))).toMatchObject({ records: [], highWatermark: 0, logStartOffset: 0 });
    const got: PResult<FetchResponse>[] = [];
    n.svc.fetch({ ...goodFetch, maxWaitMs: FETCH_WAIT_MS_MAX }, (r) => got.push(r));
    expect(got).toHaveLength(0);
    n.clock.advance(FETCH_WAIT_MS_MAX);
    expect(got).toHaveLength(1);
    expect(valueOf(got[0] as PResult<FetchResponse>).records).toEqual([]);
  });
});

// ---- NOT_LEADER -------------------------------------------------------------------------------------

describe('NOT_LEADER', () => {
  type Op = (n: Node) => PResult<unknown>;
  const OPS: readonly (readonly [string, Op])[] = [
    ['produce', (n) => produceWith(n, good)],
    ['fetch', (n) => fetchWith(n, goodFetch)],
    ['listOffsets', (n) => answerOf((d) => n.svc.listOffsets({ topic: 'orders', partition: 0, spec: 'latest' }, d))],
  ];

  it.each(OPS)('%s: carries the leader the replica knows, and its address', (_op, op) => {
    const n = setup();
    (n.replicas.get(0) as FakeReplica).leader = nodeId(2);
    const r = op(n);
    expect(r).toEqual({ ok: false, error: { code: 'NOT_LEADER', message: expect.stringMatching(/try node 2/), leader: 2, leaderAddress: 'host-2:9092' } });
  });

  it.each(OPS)('%s: falls back to the leader the metadata reports', (_op, op) => {
    const n = setup();
    n.meta.applyCommand({ type: 'report-leader', group: n.groupOf(0), leader: nodeId(3), term: 4 });
    expect(op(n)).toEqual({ ok: false, error: { code: 'NOT_LEADER', message: expect.any(String), leader: 3, leaderAddress: 'host-3:9092' } });
  });

  it.each(OPS)('%s: on a node that does not host the partition, the metadata leader', (_op, op) => {
    const n = setup({ hosted: false });
    n.meta.applyCommand({ type: 'report-leader', group: n.groupOf(0), leader: nodeId(2), term: 1 });
    expect(op(n)).toEqual({ ok: false, error: { code: 'NOT_LEADER', message: expect.any(String), leader: 2, leaderAddress: 'host-2:9092' } });
  });

  it.each(OPS)('%s: leader unknown → leader 0 (NONE) and no address', (_op, op) => {
    const n = setup();
    const r = op(n);
    expect(codeOf(r)).toBe('NOT_LEADER');
    if (r.ok) return;
    expect(r.error.leader).toBe(NONE);
    expect('leaderAddress' in r.error).toBe(false);
  });

  it.each(OPS)('%s: a leader that is not a registered broker → its id without an address', (_op, op) => {
    const n = setup();
    (n.replicas.get(0) as FakeReplica).leader = nodeId(9);
    const r = op(n);
    expect(r).toEqual({ ok: false, error: { code: 'NOT_LEADER', message: expect.any(String), leader: 9 } });
  });

  it.each(OPS)('%s: without a metadata image → NOT_LEADER (retriable elsewhere)', (_op, op) => {
    const n = setup();
    n.leaderOf(0);
    n.available = false;
    const r = op(n);
    expect(codeOf(r)).toBe('NOT_LEADER');
  });

  it('an unknown topic is UNKNOWN_TOPIC_OR_PARTITION for every operation, on a node without topics', () => {
    const n = setup({ hosted: false });
    expect(codeOf(produceWith(n, { ...good, topic: 'missing' }))).toBe('UNKNOWN_TOPIC_OR_PARTITION');
    expect(codeOf(fetchWith(n, { ...goodFetch, topic: 'missing' }))).toBe('UNKNOWN_TOPIC_OR_PARTITION');
    expect(codeOf(answerOf((d) => n.svc.listOffsets({ topic: 'missing', partition: 0, spec: 'earliest' }, d)))).toBe('UNKNOWN_TOPIC_OR_PARTITION');
  });
});

// ---- on the leader ----------------------------------------------------------------------------------

describe('produce on the leader', () => {
  function produceAsync(n: Node, req: ProduceRequest): PResult<ProduceResponse>[] {
    const got: PResult<ProduceResponse>[] = [];
    n.svc.produce(req, (r) => got.push(r));
    return got;
  }

  it('proposes one encoded batch and answers with the offset assigned at commit', () => {
    const n = setup();
    const leader = n.leaderOf(0);
    const a = produceAsync(n, { ...good, records: [rec('a'), rec('b')] });
    const b = produceAsync(n, { ...good, records: [rec('c')] });
    expect(leader.pending).toHaveLength(2);
    const d = decodeCommand(leader.pending[0]?.data as Uint8Array);
    expect(d).toMatchObject({ ok: true, command: { type: 'produce', producer: null, appendTimeMs: n.clock.ms, guessedBaseOffset: -1 } });
    expect(a).toHaveLength(0);
    leader.commitAll();
    expect(a.map(valueOf)).toEqual([{ topic: 'orders', partition: 0, baseOffset: 0, logAppendTimeMs: n.clock.ms, duplicate: false }]);
    expect(b.map(valueOf)).toEqual([{ topic: 'orders', partition: 0, baseOffset: 2, logAppendTimeMs: n.clock.ms, duplicate: false }]);
  });

  it('idempotent retries are answered with the original offset; sequence errors keep their codes', () => {
    const n = setup();
    const leader = n.leaderOf(0);
    const req = { ...good, producerId: 7, producerEpoch: 0, baseSequence: 0 };
    const first = produceAsync(n, req);
    leader.commitAll();
    const retry = produceAsync(n, req);
    const gap = produceAsync(n, { ...req, baseSequence: 5 });
    leader.commitAll();
    expect(valueOf(first[0] as PResult<ProduceResponse>)).toMatchObject({ baseOffset: 0, duplicate: false });
    expect(valueOf(retry[0] as PResult<ProduceResponse>)).toMatchObject({ baseOffset: 0, duplicate: true });
    expect(codeOf(gap[0] as PResult<ProduceResponse>)).toBe('OUT_OF_ORDER_SEQUENCE');
    expect(leader.machine.nextOffset).toBe(1);
  });

  it('a key without a partition picks murmur2(key) % partitions; neither picks round-robin', () => {
    const n = setup();
    for (let p = 0; p < 3; p++) n.leaderOf(p);
    for (const k of ['a', 'foobar', 'user-17', 'x']) {
      const p = partitionForKey(bytes(k), 3);
      const before = (n.replicas.get(p) as FakeReplica).pending.length;
      produceAsync(n, { topic: 'orders', key: bytes(k), records: [rec(k)], acks: 'all' });
      expect((n.replicas.get(p) as FakeReplica).pending.length, k).toBe(before + 1);
    }
    const counts = () => [0, 1, 2].map((p) => (n.replicas.get(p) as FakeReplica).pending.length);
    const start = counts();
    for (let k = 0; k < 6; k++) produceAsync(n, { topic: 'orders', key: null, records: [rec('r')], acks: 'all' });
    expect(counts().map((c, p) => c - (start[p] as number))).toEqual([2, 2, 2]);
  });

  it('a batch over max.message.bytes → RECORD_TOO_LARGE, nothing proposed', () => {
    const n = setup({ configs: { 'max.message.bytes': 100 } });
    const leader = n.leaderOf(0);
    expect(codeOf(produceWith(n, { ...good, records: [rec('x'.repeat(100))] }))).toBe('RECORD_TOO_LARGE');
    expect(leader.pending).toHaveLength(0);
    produceAsync(n, { ...good, records: [rec('x'.repeat(100 - 16))] });
    expect(leader.pending).toHaveLength(1);
  });

  it('acks=all with fewer live replicas than min.insync.replicas → NOT_ENOUGH_REPLICAS; acks=leader goes ahead', () => {
    const n = setup({ configs: { 'min.insync.replicas': 2 } });
    const leader = n.leaderOf(0);
    leader.live = 1;
    expect(codeOf(produceWith(n, good))).toBe('NOT_ENOUGH_REPLICAS');
    expect(leader.pending).toHaveLength(0);
    const r = produceWith(n, { ...good, acks: 'leader' });
    expect(valueOf(r)).toEqual({ topic: 'orders', partition: 0, baseOffset: -1, logAppendTimeMs: n.clock.ms, duplicate: false });
    expect(leader.pending).toHaveLength(1);
    // The later commit does not answer a second time.
    leader.commitAll();
    leader.live = 2;
    const ok: PResult<ProduceResponse>[] = [];
    n.svc.produce(good, (x) => ok.push(x));
    leader.commitAll();
    expect(valueOf(ok[0] as PResult<ProduceResponse>).baseOffset).toBe(1);
  });

  it.each([
    ['REQUEST_TIMED_OUT', 'REQUEST_TIMED_OUT'],
    ['OUTCOME_UNKNOWN', 'REQUEST_TIMED_OUT'],
    ['UNCOMMITTED_LIMIT', 'NOT_ENOUGH_REPLICAS'],
    ['PROPOSAL_LOST', 'NOT_LEADER'],
    ['GROUP_STOPPED', 'NOT_LEADER'],
  ] as const)('a proposal failing with %s → %s', (replicaCode, code) => {
    const n = setup();
    const leader = n.leaderOf(0);
    const got: PResult<ProduceResponse>[] = [];
    n.svc.produce(good, (r) => got.push(r));
    leader.failAll(replicaCode, nodeId(2));
    expect(got).toHaveLength(1);
    expect(codeOf(got[0] as PResult<ProduceResponse>)).toBe(code);
  });

  it('a proposal refused because leadership moved → NOT_LEADER with the new leader and its address', () => {
    const n = setup();
    const leader = n.leaderOf(0);
    leader.refuse = 'NOT_LEADER';
    leader.leader = nodeId(3);
    expect(produceWith(n, good)).toEqual({ ok: false, error: { code: 'NOT_LEADER', message: expect.any(String), leader: 3, leaderAddress: 'host-3:9092' } });
    // acks=leader does not answer success after an immediate refusal.
    expect(codeOf(produceWith(n, { ...good, acks: 'leader' }))).toBe('NOT_LEADER');
  });
});

describe('fetch and listOffsets on the leader', () => {
  function withData(): { n: Node; leader: FakeReplica } {
    const n = setup();
    const leader = n.leaderOf(0);
    for (const v of ['a', 'b', 'c']) n.svc.produce({ ...good, records: [rec(v, { timestamp: 100 * (v.charCodeAt(0) - 96) })] }, () => {});
    leader.commitAll();
    return { n, leader };
  }

  it('reads from an offset and reports the high watermark and log start', () => {
    const { n } = withData();
    const r = valueOf(fetchWith(n, { ...goodFetch, offset: 1 }));
    expect(r.records.map((x) => [x.offset, text(x.value)])).toEqual([[1, 'b'], [2, 'c']]);
    expect(r).toMatchObject({ topic: 'orders', partition: 0, highWatermark: 3, logStartOffset: 0 });
    expect(valueOf(fetchWith(n, { ...goodFetch, maxBytes: 1 })).records).toHaveLength(1);
  });

  it('a batch whose records fail their checksum is never served: the records before it are, a fetch at it is CORRUPT_RECORD', () => {
    const { n, leader } = withData();
    const data = encodeCommand(produce(['d', 'e']));
    data[data.byteLength - 1] = (data[data.byteLength - 1] as number) ^ 1;
    leader.machine.apply({ term: term(1), index: index(50), type: 'normal', data });
    n.svc.produce({ ...good, records: [rec('f')] }, () => {});
    leader.commitAll();
    expect(valueOf(fetchWith(n, { ...goodFetch, offset: 1 })).records.map((x) => text(x.value))).toEqual(['b', 'c']);
    expect(codeOf(fetchWith(n, { ...goodFetch, offset: 3 }))).toBe('CORRUPT_RECORD');
    expect(valueOf(fetchWith(n, { ...goodFetch, offset: 5 })).records.map((x) => text(x.value))).toEqual(['f']);
  });

  it('an offset outside [logStartOffset, highWatermark] → OFFSET_OUT_OF_RANGE', () => {
    const { n, leader } = withData();
    expect(codeOf(fetchWith(n, { ...goodFetch, offset: 4 }))).toBe('OFFSET_OUT_OF_RANGE');
    leader.machine.apply({ term: term(1), index: index(100), type: 'normal', data: encodeCommand(trim(2)) });
    expect(leader.machine.logStartOffset).toBe(2);
    expect(codeOf(fetchWith(n, { ...goodFetch, offset: 1 }))).toBe('OFFSET_OUT_OF_RANGE');
    expect(valueOf(fetchWith(n, { ...goodFetch, offset: 2 })).records.map((x) => x.offset)).toEqual([2]);
  });

  it('at the high watermark it long-polls: answered when a batch is appended, or empty when the wait ends', () => {
    const { n, leader } = withData();
    const got: PResult<FetchResponse>[] = [];
    n.svc.fetch({ ...goodFetch, offset: 3, maxWaitMs: 500 }, (r) => got.push(r));
    expect(got).toHaveLength(0);
    n.svc.produce({ ...good, records: [rec('d')] }, () => {});
    leader.commitAll();
    n.svc.appended(n.groupOf(0));
    expect(got).toHaveLength(1);
    expect(valueOf(got[0] as PResult<FetchResponse>).records.map((x) => text(x.value))).toEqual(['d']);
    expect(n.clock.timers.size).toBe(0);
    // Nothing arrives: an empty answer at the deadline, once.
    const later: PResult<FetchResponse>[] = [];
    n.svc.fetch({ ...goodFetch, offset: 4, maxWaitMs: 500 }, (r) => later.push(r));
    n.clock.advance(499);
    expect(later).toHaveLength(0);
    n.clock.advance(1);
    n.svc.appended(n.groupOf(0));
    expect(later).toHaveLength(1);
    expect(valueOf(later[0] as PResult<FetchResponse>)).toMatchObject({ records: [], highWatermark: 4 });
  });

  it('listOffsets: earliest, latest, by timestamp; a bad spec → INVALID_REQUEST', () => {
    const { n } = withData();
    const list = (spec: unknown) => answerOf<{ offset: number }>((d) => n.svc.listOffsets({ topic: 'orders', partition: 0, spec: spec as 'earliest' }, d));
    expect(valueOf(list('earliest')).offset).toBe(0);
    expect(valueOf(list('latest')).offset).toBe(3);
    expect(valueOf(list({ timestamp: 150 })).offset).toBe(1);
    expect(valueOf(list({ timestamp: 10_000 })).offset).toBe(3);
    for (const bad of ['newest', null, 5, {}, { timestamp: -1 }, { timestamp: 1.5 }, { timestamp: '1' }]) expect(codeOf(list(bad)), JSON.stringify(bad)).toBe('INVALID_REQUEST');
  });
});
