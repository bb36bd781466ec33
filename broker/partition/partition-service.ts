// Client operations on partitions, as functions the gRPC layer (and the simulator's clients) call:
// Produce, Fetch (long-polling), ListOffsets. Served by the partition's Raft leader; errors are values
// with stable codes (NOT_LEADER carries the leader's id and address so clients can redirect).
import type { MetadataState, TopicRecord } from '../../controller/metadata.ts';
import { NONE, type NodeId } from '../../raft/types.ts';
import type { Clock } from '../ports.ts';
import type { Replica } from '../replica.ts';
import { encodeCommand, recordBytes, type ProduceRecord } from './batch-codec.ts';
import type { ApplyOutcome, FetchedRecord, PartitionMachine } from './partition-machine.ts';
import { partitionForKey } from './partitioner.ts';

export const PARTITION_ERROR_CODES = [
  'NOT_LEADER', 'UNKNOWN_TOPIC_OR_PARTITION', 'RECORD_TOO_LARGE', 'INVALID_RECORD', 'INVALID_REQUEST',
  'OUT_OF_ORDER_SEQUENCE', 'INVALID_PRODUCER_EPOCH', 'NOT_ENOUGH_REPLICAS', 'REQUEST_TIMED_OUT',
  'OFFSET_OUT_OF_RANGE', 'CORRUPT_RECORD',
] as const;
export type PartitionErrorCode = (typeof PARTITION_ERROR_CODES)[number];

export interface PartitionError {
  readonly code: PartitionErrorCode;
  readonly message: string;
  /** For NOT_LEADER: the partition leader as this node knows it (0 if unknown), and its address. */
  readonly leader?: NodeId;
  readonly leaderAddress?: string;
}

export type PResult<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly error: PartitionError };

export type Acks = 'all' | 'leader';

export interface ProduceRequest {
  readonly topic: string;
  /** Explicit partition; if absent, the key picks it (murmur2), else round-robin. */
  readonly partition?: number;
  readonly key?: Uint8Array | null;
  readonly records: readonly ProduceRecord[];
  readonly acks: Acks;
  readonly producerId?: number;
  readonly producerEpoch?: number;
  readonly baseSequence?: number;
}

export interface ProduceResponse {
  readonly topic: string;
  readonly partition: number;
  /** -1 with acks=leader: offsets are assigned at commit, which the response does not wait for. */
  readonly baseOffset: number;
  readonly logAppendTimeMs: number;
  /** The batch had already been written (idempotent retry): baseOffset is the original one. */
  readonly duplicate: boolean;
}

export interface FetchRequest {
  readonly topic: string;
  readonly partition: number;
  readonly offset: number;
  readonly maxBytes: number;
  readonly maxWaitMs: number;
}

export interface FetchResponse {
  readonly topic: string;
  readonly partition: number;
  readonly records: readonly FetchedRecord[];
  readonly highWatermark: number;
  readonly logStartOffset: number;
}

export type OffsetSpec = 'earliest' | 'latest' | { readonly timestamp: number };

/** Limits on one request (every input has a bound). */
export const RECORDS_PER_BATCH_MAX = 100_000;
export const FETCH_WAIT_MS_MAX = 30_000;
export const FETCH_BYTES_MAX = 64 << 20;

export interface PartitionContext {
  readonly nodeId: NodeId;
  readonly metadata: MetadataState;
  readonly clock: Clock;
  replica(group: number): Replica | undefined;
  machine(group: number): PartitionMachine | undefined;
  /** Planted bug switch: stamp the offset the leader guesses at append (see PartitionPlantedBugs). */
  readonly guessOffsetsAtAppend: boolean;
  /** False when this node has no metadata image (its controller replica stepped aside). */
  metadataAvailable(): boolean;
}

interface Waiter {
  readonly offset: number;
  readonly done: () => void;
}

function err<T>(code: PartitionErrorCode, message: string, leader?: NodeId, leaderAddress?: string): PResult<T> {
  const e: PartitionError = leader === undefined ? { code, message } : leaderAddress === undefined ? { code, message, leader } : { code, message, leader, leaderAddress };
  return { ok: false, error: e };
}

const isInt = (v: unknown, min: number, max = Number.MAX_SAFE_INTEGER): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= min && v <= max;
const isBytesOrNull = (v: unknown): v is Uint8Array | null => v === null || v instanceof Uint8Array;

export class PartitionService {
  private roundRobin = 0;
  /** Planted bug only: the next offset this leader expects to assign, per group. */
  private readonly guessNext = new Map<number, number>();
  /** Long-polling fetches, per group. */
  private readonly waiters = new Map<number, Set<Waiter>>();

  constructor(private readonly ctx: PartitionContext) {}

  /** Resolves a topic partition to its group and this node's replica, or an error value. */
  private locate<T>(topic: string, partition: number): { t: TopicRecord; group: number; replica: Replica; machine: PartitionMachine } | PResult<T> {
    if (!this.ctx.metadataAvailable()) return this.noMetadata();
    const t = this.ctx.metadata.topics.get(topic);
    if (t === undefined || !isInt(partition, 0, t.groups.length - 1)) return err('UNKNOWN_TOPIC_OR_PARTITION', `no partition ${topic}/${String(partition)}`);
    const group = t.groups[partition] as number;
    const replica = this.ctx.replica(group);
    const machine = this.ctx.machine(group);
    if (replica === undefined || machine === undefined || !replica.isLeader) {
      const leader = replica?.leader !== undefined && replica.leader !== NONE ? replica.leader : (this.ctx.metadata.partitions.get(group)?.leader ?? NONE);
      const address = this.ctx.metadata.brokers.get(leader)?.address;
      return err('NOT_LEADER', `node ${this.ctx.nodeId} is not the leader of ${topic}/${partition}${leader !== NONE ? `; try node ${leader}` : ''}`, leader, address);
    }
    return { t, group, replica, machine };
  }

  produce(req: ProduceRequest, done: (r: PResult<ProduceResponse>) => void): void {
    const invalid = validateProduce(req);
    if (invalid !== null) return done(invalid);
    if (!this.ctx.metadataAvailable()) return done(this.noMetadata());
    const t = this.ctx.metadata.topics.get(req.topic);
    if (t === undefined) return done(err('UNKNOWN_TOPIC_OR_PARTITION', `unknown topic "${req.topic}"`));
    const partition = req.partition ?? (req.key !== undefined && req.key !== null ? partitionForKey(req.key, t.groups.length) : this.roundRobin++ % t.groups.length);
    const at = this.locate<ProduceResponse>(req.topic, partition);
    if ('ok' in at) return done(at);
    let bytes = 0;
    for (const r of req.records) bytes += recordBytes(r);
    if (bytes > t.configs['max.message.bytes']) return done(err('RECORD_TOO_LARGE', `batch of ${bytes} bytes exceeds max.message.bytes=${t.configs['max.message.bytes']} of ${req.topic}`));
    const live = at.replica.liveVoters();
    if (req.acks === 'all' && live < t.configs['min.insync.replicas']) {
      return done(err('NOT_ENOUGH_REPLICAS', `${live} live replicas of ${req.topic}/${partition}, min.insync.replicas=${t.configs['min.insync.replicas']}`));
    }
    const producer = req.producerId === undefined ? null : { producerId: req.producerId, producerEpoch: req.producerEpoch as number, baseSequence: req.baseSequence as number };
    const appendTimeMs = Math.floor(this.ctx.clock.wallMs());
    const guessedBaseOffset = this.ctx.guessOffsetsAtAppend ? this.guessOffset(at.group, at.machine.nextOffset, req.records.length) : -1;
    const data = encodeCommand({ type: 'produce', producer, appendTimeMs, records: req.records, guessedBaseOffset });
    const topic = req.topic;
    let answered = false;
    at.replica.propose(data, (o) => {
      if (answered) return;
      answered = true;
      if (!o.ok) {
        if (o.code === 'REQUEST_TIMED_OUT' || o.code === 'OUTCOME_UNKNOWN') return done(err('REQUEST_TIMED_OUT', `the batch did not commit in time; it may still be written (retry with the same producer sequence to deduplicate)`));
        if (o.code === 'UNCOMMITTED_LIMIT') return done(err('NOT_ENOUGH_REPLICAS', `the leader of ${topic}/${partition} cannot reach a quorum`));
        const leaderAddress = this.ctx.metadata.brokers.get(o.leader)?.address;
        return done(err('NOT_LEADER', `leadership of ${topic}/${partition} moved (${o.code})`, o.leader, leaderAddress));
      }
      const a = o.result as ApplyOutcome | undefined;
      if (a === undefined) return done(err('CORRUPT_RECORD', 'the batch could not be applied'));
      if (!a.ok) return done(err(a.code, a.message));
      done({ ok: true, value: { topic, partition, baseOffset: a.baseOffset, logAppendTimeMs: a.logAppendTimeMs, duplicate: a.duplicate } });
    });
    // acks=leader: answered once the leader holds the batch in its log (documented as able to lose data).
    if (req.acks === 'leader' && !answered) {
      answered = true;
      done({ ok: true, value: { topic, partition, baseOffset: -1, logAppendTimeMs: appendTimeMs, duplicate: false } });
    }
  }

  fetch(req: FetchRequest, done: (r: PResult<FetchResponse>) => void): void {
    if (typeof req.topic !== 'string' || !isInt(req.offset, 0) || !isInt(req.maxBytes, 1) || !isInt(req.maxWaitMs, 0, FETCH_WAIT_MS_MAX)) {
      return done(err('INVALID_REQUEST', `fetch needs topic, partition, offset >= 0, maxBytes >= 1 and 0 <= maxWaitMs <= ${FETCH_WAIT_MS_MAX}`));
    }
    const at = this.locate<FetchResponse>(req.topic, req.partition);
    if ('ok' in at) return done(at);
    const m = at.machine;
    if (req.offset < m.logStartOffset || req.offset > m.nextOffset) {
      return done(err('OFFSET_OUT_OF_RANGE', `offset ${req.offset} is outside [${m.logStartOffset}, ${m.nextOffset}] of ${req.topic}/${req.partition}`));
    }
    const answer = (): void => {
      const now = this.ctx.machine(at.group);
      if (now === undefined) return done(err('NOT_LEADER', 'the partition moved away while waiting'));
      const { records, corrupt } = now.read(req.offset, Math.min(req.maxBytes, FETCH_BYTES_MAX));
      // A corrupt batch is never served: the records before it are, and a fetch that starts at it fails.
      if (corrupt && records.length === 0) return done(err('CORRUPT_RECORD', `the batch at offset ${req.offset} of ${req.topic}/${req.partition} failed its checksum on this replica`));
      done({ ok: true, value: { topic: req.topic, partition: req.partition, records, highWatermark: now.nextOffset, logStartOffset: now.logStartOffset } });
    };
    if (req.offset < m.nextOffset || req.maxWaitMs === 0) return answer();
    // Long poll: answer when a batch arrives or the wait ends, whichever comes first.
    let set = this.waiters.get(at.group);
    if (set === undefined) {
      set = new Set();
      this.waiters.set(at.group, set);
    }
    const waiters = set;
    let finished = false;
    const w: Waiter = { offset: req.offset, done: () => {
      if (finished) return;
      finished = true;
      waiters.delete(w);
      this.ctx.clock.cancelTimer(timer);
      answer();
    } };
    const timer = this.ctx.clock.setTimer(req.maxWaitMs, w.done);
    waiters.add(w);
  }

  /** This node cannot route partition requests: retriable on another node. */
  private noMetadata<T>(): PResult<T> {
    return err('NOT_LEADER', `node ${this.ctx.nodeId} has no metadata image (its controller replica stepped aside after finding corrupt data); ask another node`, NONE);
  }

  /**
   * PLANTED BUG (offsetsAtAppend): guessing offsets at append, as if the leader's view were final.
   * A new leader guesses from its applied offset and collides with entries still in flight.
   */
  private guessOffset(group: number, applied: number, count: number): number {
    const next = Math.max(this.guessNext.get(group) ?? 0, applied);
    this.guessNext.set(group, next + count);
    return next;
  }

  /** Wakes the long-polling fetches of a group (called when a batch is applied). */
  appended(group: number): void {
    const set = this.waiters.get(group);
    if (set === undefined || set.size === 0) return;
    for (const w of [...set]) w.done();
  }

  listOffsets(req: { readonly topic: string; readonly partition: number; readonly spec: OffsetSpec }, done: (r: PResult<{ offset: number; logStartOffset: number; highWatermark: number }>) => void): void {
    const at = this.locate<{ offset: number; logStartOffset: number; highWatermark: number }>(req.topic, req.partition);
    if ('ok' in at) return done(at);
    const m = at.machine;
    let offset: number;
    if (req.spec === 'earliest') offset = m.logStartOffset;
    else if (req.spec === 'latest') offset = m.nextOffset;
    else if (typeof req.spec === 'object' && req.spec !== null && isInt(req.spec.timestamp, 0)) offset = m.offsetForTimestamp(req.spec.timestamp);
    else return done(err('INVALID_REQUEST', 'offset spec must be earliest, latest or { timestamp }'));
    done({ ok: true, value: { offset, logStartOffset: m.logStartOffset, highWatermark: m.nextOffset } });
  }
}

/** Shape and range checks of a produce request (INVALID_RECORD / INVALID_REQUEST), before anything else. */
function validateProduce(req: ProduceRequest): PResult<never> | null {
  if (typeof req.topic !== 'string') return err('INVALID_REQUEST', 'topic must be a string');
  if (req.acks !== 'all' && req.acks !== 'leader') return err('INVALID_REQUEST', 'acks must be "all" or "leader"');
  if (req.partition !== undefined && !isInt(req.partition, 0)) return err('UNKNOWN_TOPIC_OR_PARTITION', `partition must be a non-negative integer, got ${String(req.partition)}`);
  if (req.key !== undefined && !isBytesOrNull(req.key)) return err('INVALID_RECORD', 'key must be bytes or null');
  if (!Array.isArray(req.records) || req.records.length === 0) return err('INVALID_RECORD', 'a batch needs at least one record');
  if (req.records.length > RECORDS_PER_BATCH_MAX) return err('INVALID_RECORD', `at most ${RECORDS_PER_BATCH_MAX} records per batch`);
  for (const r of req.records) {
    if (typeof r !== 'object' || r === null || !isBytesOrNull(r.key) || !isBytesOrNull(r.value) || !isInt(r.timestamp, -1) || !Array.isArray(r.headers)) {
      return err('INVALID_RECORD', 'each record needs key and value (bytes or null), headers (array) and timestamp (-1 or ms since the epoch)');
    }
    for (const h of r.headers) if (typeof h?.key !== 'string' || !(h.value instanceof Uint8Array)) return err('INVALID_RECORD', 'headers need a string key and a bytes value');
  }
  const p = [req.producerId, req.producerEpoch, req.baseSequence];
  if (p.some((x) => x !== undefined) && !p.every((x) => isInt(x, 0))) return err('INVALID_REQUEST', 'producerId, producerEpoch and baseSequence go together, as non-negative integers');
  return null;
}
