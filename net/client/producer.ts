// The batching, pipelined, idempotent producer. send() places a record in its partition's open batch
// (key -> murmur2, else round-robin, or the partition given); a batch leaves when it is full, `lingerMs`
// after its first record, or on flush(). Batches go over one ProduceStream per leader, many partitions
// in flight at once but one batch per partition, so that a partition's batches reach the broker in
// order and idempotent sequences stay valid (see sequences.ts). A batch keeps its request - records and
// base sequence - across retries, so a retry after a timeout or a leader change is recognised by the
// broker as a duplicate and answered with the original offsets.
import { RECORDS_PER_BATCH_MAX } from '../../broker/partition/partition-service.ts';
import { BatchAccumulator, type Batch } from './accumulator.ts';
import type { ClientEnv, TimerHandle } from './env.ts';
import { closedError, invalidRequest, isKeelError, KeelError } from './errors.ts';
import { FlushTracker } from './flush-tracker.ts';
import { PartitionChooser } from './partition-chooser.ts';
import type { ProduceChannel } from './produce-stream.ts';
import { beyondEveryTopic, toWireRecord, wireRecordBytes, type ProducerRecord } from './records.ts';
import { SequenceBook, type Assignment } from './sequences.ts';
import { ACKS_WIRE, type Acks, type ProducerIdentity, type WireProduceRequest, type WireProduceResponse, type WireRecord } from './wire.ts';

export interface ProducerOptions {
  /** Default true: retries never duplicate records (needs acks 'all'). */
  readonly idempotent?: boolean;
  /** Default 'all': a record is acknowledged once committed. 'leader' may lose data and reports offset -1. */
  readonly acks?: Acks;
  /** How long a batch waits for more records after its first (default 5). */
  readonly lingerMs?: number;
  /** Default 500. */
  readonly batchRecordsMax?: number;
  /** Default 1 MiB (a larger single record travels alone). */
  readonly batchBytesMax?: number;
  /** Batches in flight across all partitions (default 64); one per partition at most. */
  readonly inFlightMax?: number;
  /** Records accepted and not yet acknowledged or failed (default 100,000); past it, send() waits for room. */
  readonly bufferedRecordsMax?: number;
  /**
   * How long send() waits for room in a full buffer before it fails with BUFFER_FULL (default 60,000,
   * Kafka's max.block.ms; 0 fails at once). Waiting sends are admitted in the order they were made.
   */
  readonly maxBlockMs?: number;
  /** How long a batch keeps being retried once sent (default: the client's deliveryTimeoutMs). */
  readonly deliveryTimeoutMs?: number;
}

export interface SendOptions {
  readonly partition?: number;
}

export interface SendResult {
  readonly topic: string;
  readonly partition: number;
  /** -1 with acks 'leader' (offsets are assigned at commit, which that answer does not wait for). */
  readonly offset: number;
}

/** What a producer needs from its client (a fake in tests). */
export interface ProducerHost {
  readonly env: ClientEnv;
  readonly requestTimeoutMs: number;
  readonly deliveryTimeoutMs: number;
  partitionCount(topic: string): Promise<number>;
  initProducerId(): Promise<ProducerIdentity>;
  /** Runs `attempt` at the partition's leader, following redirects and retrying until the deadline. */
  toLeader<T>(topic: string, partition: number, deadlineAtMs: number, attempt: (address: string) => Promise<T>): Promise<T>;
  openProduceChannel(address: string): ProduceChannel;
  /** The producer closed (the client stops tracking it). */
  producerClosed?(p: Producer): void;
}

interface Queued {
  readonly wire: WireRecord;
  /** Order of the send() call, for flush(). */
  readonly index: number;
  readonly resolve: (r: SendResult) => void;
  readonly reject: (e: KeelError) => void;
}

/** A send() waiting for room in the buffer. */
interface Blocked {
  readonly admit: () => void;
  readonly fail: (e: KeelError) => void;
  /** Resolves once the send was admitted or failed (what a flush() made meanwhile waits for first). */
  readonly decided: Promise<void>;
}

interface Waiting {
  readonly record: Queued;
  readonly bytes: number;
  readonly key: Uint8Array | null;
  readonly partition: number | undefined;
}

const DEFAULTS = {
  idempotent: true,
  acks: 'all' as Acks,
  lingerMs: 5,
  batchRecordsMax: 500,
  batchBytesMax: 1 << 20,
  inFlightMax: 64,
  bufferedRecordsMax: 100_000,
  maxBlockMs: 60_000,
};

/** The broker's bound on records in one produce request. */
export const BATCH_RECORDS_LIMIT = RECORDS_PER_BATCH_MAX;
/** Fresh identities asked for in a row before giving up (each one was retired while we waited). */
const IDENTITY_ATTEMPTS_MAX = 3;

export interface ProducerStats {
  readonly batchesSent: number;
  readonly batchAttempts: number;
  readonly duplicates: number;
  readonly recordsAcknowledged: number;
  readonly recordsFailed: number;
}

export class Producer {
  readonly idempotent: boolean;
  readonly acks: Acks;
  private readonly limits: { readonly lingerMs: number; readonly batchRecordsMax: number; readonly batchBytesMax: number; readonly inFlightMax: number; readonly bufferedRecordsMax: number; readonly maxBlockMs: number; readonly deliveryTimeoutMs: number };
  private readonly accumulator: BatchAccumulator<Queued>;
  private readonly book = new SequenceBook();
  private readonly chooser: PartitionChooser;
  /** Partition counts, learned once per topic. */
  private readonly partitionCounts = new Map<string, number>();
  /** Records waiting for their topic's partition count, in send order. */
  private readonly waiting = new Map<string, Waiting[]>();
  /** Partitions ("p\0topic") with a batch in flight. Invariant: size === inFlight. */
  private readonly inFlightPartitions = new Set<string>();
  private inFlight = 0;
  private readonly channels = new Map<string, ProduceChannel>();
  private identity: Promise<ProducerIdentity> | null = null;
  private readonly flushes = new FlushTracker();
  /** Sends waiting for room in the buffer, oldest first. */
  private readonly blocked: Blocked[] = [];
  private admitScheduled = false;
  private lingerTimer: TimerHandle | null = null;
  private lingerAt = 0;
  private closing = false;
  /** Streams closed: nothing more may be opened. */
  private shut = false;
  private counters = { batchesSent: 0, batchAttempts: 0, duplicates: 0, recordsAcknowledged: 0, recordsFailed: 0 };

  constructor(private readonly host: ProducerHost, options: ProducerOptions = {}) {
    this.idempotent = options.idempotent ?? DEFAULTS.idempotent;
    this.acks = options.acks ?? DEFAULTS.acks;
    if (this.idempotent && this.acks !== 'all') throw invalidRequest('an idempotent producer needs acks "all" (use idempotent: false with acks "leader")');
    this.limits = {
      lingerMs: positive('lingerMs', options.lingerMs ?? DEFAULTS.lingerMs, 0),
      batchRecordsMax: positive('batchRecordsMax', Math.min(options.batchRecordsMax ?? DEFAULTS.batchRecordsMax, BATCH_RECORDS_LIMIT), 1),
      batchBytesMax: positive('batchBytesMax', options.batchBytesMax ?? DEFAULTS.batchBytesMax, 1),
      inFlightMax: positive('inFlightMax', options.inFlightMax ?? DEFAULTS.inFlightMax, 1),
      bufferedRecordsMax: positive('bufferedRecordsMax', options.bufferedRecordsMax ?? DEFAULTS.bufferedRecordsMax, 1),
      maxBlockMs: positive('maxBlockMs', options.maxBlockMs ?? DEFAULTS.maxBlockMs, 0),
      deliveryTimeoutMs: positive('deliveryTimeoutMs', options.deliveryTimeoutMs ?? host.deliveryTimeoutMs, 1),
    };
    this.accumulator = new BatchAccumulator(this.limits);
    this.chooser = new PartitionChooser(() => host.env.random());
  }

  get stats(): ProducerStats {
    return { ...this.counters };
  }

  /** Records accepted and not yet acknowledged or failed. */
  get buffered(): number {
    return this.flushes.pending;
  }

  /**
   * Resolves with the record's offset once acknowledged; rejects with a KeelError if it could not be.
   * With the buffer full it first waits (up to maxBlockMs) for room.
   */
  send(topic: string, record: ProducerRecord, options: SendOptions = {}): Promise<SendResult> {
    if (this.closing) return Promise.reject(closedError('the producer'));
    if (typeof topic !== 'string' || topic === '') return Promise.reject(invalidRequest('a topic name is required'));
    let wire: WireRecord;
    try {
      wire = toWireRecord(record);
    } catch (e) {
      return Promise.reject(asKeelError(e));
    }
    const bytes = wireRecordBytes(wire);
    const tooLarge = beyondEveryTopic(bytes, 'a record');
    if (tooLarge !== null) return Promise.reject(tooLarge);
    // Behind sends already waiting, never ahead of them: a partition's records keep their send order.
    if (this.blocked.length === 0 && this.flushes.pending < this.limits.bufferedRecordsMax) return this.accept(topic, wire, bytes, options);
    if (this.limits.maxBlockMs === 0) return Promise.reject(this.bufferFull());
    return new Promise<SendResult>((resolve, reject) => this.block(() => this.accept(topic, wire, bytes, options).then(resolve, reject), reject));
  }

  private bufferFull(): KeelError {
    const held = this.flushes.pending;
    const waited = this.limits.maxBlockMs === 0 ? '' : ` and no room freed up within maxBlockMs (${this.limits.maxBlockMs} ms)`;
    return new KeelError({ code: 'BUFFER_FULL', message: `the producer holds ${held} unacknowledged records (bufferedRecordsMax)${waited}; await some sends or flush()`, retriable: true });
  }

  /** Queues a send until there is room (admit) or maxBlockMs passed (fail with BUFFER_FULL). */
  private block(admit: () => void, fail: (e: KeelError) => void): void {
    let decide = (): void => {};
    const decided = new Promise<void>((resolve) => {
      decide = resolve;
    });
    const env = this.host.env;
    const timer = env.setTimer(() => {
      const i = this.blocked.indexOf(b);
      if (i < 0) return;
      this.blocked.splice(i, 1);
      b.fail(this.bufferFull());
    }, this.limits.maxBlockMs);
    const decideNow = (): void => {
      env.clearTimer(timer);
      decide();
    };
    const b: Blocked = {
      admit: () => {
        decideNow();
        admit();
      },
      fail: (e) => {
        decideNow();
        fail(e);
      },
      decided,
    };
    this.blocked.push(b);
  }

  /**
   * Room was freed: admits waiting sends, oldest first, from a microtask (the record that settled is
   * being answered from inside the producer's own bookkeeping, as a send() from user code never is).
   */
  private scheduleAdmit(): void {
    if (this.admitScheduled || this.blocked.length === 0) return;
    this.admitScheduled = true;
    queueMicrotask(() => {
      this.admitScheduled = false;
      while (this.blocked.length > 0 && this.flushes.pending < this.limits.bufferedRecordsMax) (this.blocked.shift() as Blocked).admit();
    });
  }

  /** Takes a record into the buffer: it counts against bufferedRecordsMax until it settles. */
  private accept(topic: string, wire: WireRecord, bytes: number, options: SendOptions): Promise<SendResult> {
    const key = wire.keyNull ? null : wire.key;
    const index = this.flushes.accepted();
    return new Promise<SendResult>((resolve, reject) => {
      const q: Queued = {
        wire,
        index,
        resolve: (r) => {
          this.counters.recordsAcknowledged++;
          resolve(r);
          this.flushes.settled(index);
          this.scheduleAdmit();
        },
        reject: (e) => {
          this.counters.recordsFailed++;
          reject(e);
          this.flushes.settled(index);
          this.scheduleAdmit();
        },
      };
      const w: Waiting = { record: q, bytes, key, partition: options.partition };
      const queue = this.waiting.get(topic);
      const count = this.partitionCounts.get(topic);
      if (queue !== undefined) queue.push(w);
      else if (count === undefined) this.learnPartitions(topic, w);
      else {
        this.place(topic, count, w);
        this.pump();
        this.armLinger();
      }
    });
  }

  /**
   * Sends everything buffered now and resolves once every record sent before the call has settled,
   * including sends still waiting for room (they are admitted first; later sends queue behind them).
   */
  flush(): Promise<void> {
    const last = this.blocked[this.blocked.length - 1];
    if (last !== undefined) return last.decided.then(() => this.flushAccepted());
    return this.flushAccepted();
  }

  private flushAccepted(): Promise<void> {
    const done = this.flushes.wait();
    this.accumulator.sealAll();
    this.pump();
    this.armLinger();
    return done;
  }

  /** Flushes, then refuses new records and closes the producer's streams. */
  async close(): Promise<void> {
    this.closing = true;
    await this.flush();
    this.shutdown();
  }

  /** Closes at once: every record not yet acknowledged fails with CLOSED (its outcome may be unknown). */
  abort(): void {
    this.closing = true;
    const e = closedError('the producer');
    for (const b of this.blocked.splice(0)) b.fail(e);
    for (const list of this.waiting.values()) for (const w of list) w.record.reject(e);
    this.waiting.clear();
    for (const b of this.accumulator.drain()) for (const r of b.records) r.reject(e);
    this.shutdown();
  }

  private shutdown(): void {
    this.shut = true;
    if (this.lingerTimer !== null) this.host.env.clearTimer(this.lingerTimer);
    this.lingerTimer = null;
    for (const c of this.channels.values()) c.close();
    this.channels.clear();
    this.host.producerClosed?.(this);
  }

  private learnPartitions(topic: string, first: Waiting): void {
    const queue = [first];
    this.waiting.set(topic, queue);
    this.host.partitionCount(topic).then((count) => {
      this.partitionCounts.set(topic, count);
      this.waiting.delete(topic);
      for (const w of queue) this.place(topic, count, w);
      // A flush() is waiting for (at least the first of) these records: no lingering for them.
      if (this.flushes.awaited(first.record.index)) this.accumulator.sealAll();
      this.pump();
      this.armLinger();
    }, (e: unknown) => {
      this.waiting.delete(topic);
      const err = asKeelError(e);
      for (const w of queue) w.record.reject(err);
    });
  }

  /** Appends the record to its partition's open batch; the caller then pumps and arms the linger timer. */
  private place(topic: string, count: number, w: Waiting): void {
    const choice = this.chooser.choose(topic, count, w.key, w.partition);
    if (!choice.ok) {
      w.record.reject(choice.error);
      return;
    }
    this.accumulator.append(topic, choice.partition, w.record, w.bytes, this.host.env.now());
  }

  /** Starts every sealed batch whose partition has none in flight, up to inFlightMax. */
  private pump(): void {
    for (const [topic, partition] of this.accumulator.ready()) {
      if (this.inFlight >= this.limits.inFlightMax) return;
      const k = `${partition}\u0000${topic}`;
      if (this.inFlightPartitions.has(k)) continue;
      const batch = this.accumulator.take(topic, partition);
      if (batch === undefined) continue;
      this.inFlightPartitions.add(k);
      this.inFlight++;
      void this.sendBatch(batch).finally(() => {
        this.inFlightPartitions.delete(k);
        this.inFlight--;
        this.pump();
      });
    }
  }

  private armLinger(): void {
    const at = this.accumulator.nextLingerDeadline();
    if (at === null) {
      if (this.lingerTimer !== null) this.host.env.clearTimer(this.lingerTimer);
      this.lingerTimer = null;
      return;
    }
    if (this.lingerTimer !== null && this.lingerAt <= at) return;
    if (this.lingerTimer !== null) this.host.env.clearTimer(this.lingerTimer);
    this.lingerAt = at;
    this.lingerTimer = this.host.env.setTimer(() => {
      this.lingerTimer = null;
      this.accumulator.expire(this.host.env.now());
      this.pump();
      this.armLinger();
    }, at - this.host.env.now());
  }

  private async sendBatch(batch: Batch<Queued>): Promise<void> {
    const { topic, partition, records } = batch;
    let assigned: Assignment | null = null;
    try {
      if (this.idempotent) assigned = await this.assign(topic, partition, records.length);
      const request: WireProduceRequest = {
        topic,
        hasPartition: true,
        partition,
        records: records.map((r) => r.wire),
        acks: ACKS_WIRE[this.acks],
        hasProducer: assigned !== null,
        producerId: assigned?.identity.producerId ?? 0,
        producerEpoch: assigned?.identity.producerEpoch ?? 0,
        baseSequence: assigned?.baseSequence ?? 0,
      };
      this.counters.batchesSent++;
      const deadlineAtMs = this.host.env.now() + this.limits.deliveryTimeoutMs;
      const res = await this.host.toLeader(topic, partition, deadlineAtMs, (address) => {
        this.counters.batchAttempts++;
        return this.channel(address).send(request, this.host.requestTimeoutMs);
      });
      this.acknowledge(batch, res);
    } catch (e) {
      const err = asKeelError(e);
      // The batch may or may not be in the log: nothing may be numbered after it (sequences.ts).
      if (assigned !== null) this.book.endRun(topic, partition);
      if (err.code === 'RECORD_TOO_LARGE' && records.length > 1) {
        // Over the topic's max.message.bytes as a batch, refused whole (nothing written): the records
        // may fit in smaller ones, as Kafka's producer splits a batch on MESSAGE_TOO_LARGE. In order.
        const half = Math.ceil(records.length / 2);
        for (const part of [records.slice(0, half), records.slice(half)]) {
          await this.sendBatch({ ...batch, records: part, bytes: part.reduce((n, r) => n + wireRecordBytes(r.wire), 0) });
        }
        return;
      }
      for (const r of records) r.reject(err);
    }
  }

  private acknowledge(batch: Batch<Queued>, res: WireProduceResponse): void {
    if (res.duplicate) this.counters.duplicates++;
    batch.records.forEach((r, i) => {
      r.resolve({ topic: batch.topic, partition: batch.partition, offset: res.baseOffset < 0 ? -1 : res.baseOffset + i });
    });
  }

  /** The batch's sequences: next in the partition's run, or 0 in a new run under a fresh identity. */
  private async assign(topic: string, partition: number, count: number): Promise<Assignment> {
    const next = this.book.next(topic, partition, count);
    if (next !== null) return next;
    return this.book.start(topic, partition, count, await this.freshIdentity());
  }

  /** The producer's current identity, asking InitProducerId for a new one if it was retired. */
  private async freshIdentity(): Promise<ProducerIdentity> {
    for (let attempt = 0; attempt < IDENTITY_ATTEMPTS_MAX; attempt++) {
      let p = this.identity;
      if (p === null) {
        const fresh = this.host.initProducerId();
        p = fresh;
        this.identity = fresh;
        fresh.catch(() => {
          if (this.identity === fresh) this.identity = null;
        });
      }
      const id = await p;
      if (!this.book.isRetired(id)) return id;
      if (this.identity === p) this.identity = null;
    }
    throw new KeelError({ code: 'INVALID_PRODUCER_EPOCH', message: `no usable producer id after ${IDENTITY_ATTEMPTS_MAX} InitProducerId calls`, retriable: false });
  }

  private channel(address: string): ProduceChannel {
    if (this.shut) throw closedError('the producer');
    let c = this.channels.get(address);
    if (c === undefined || c.broken) {
      c = this.host.openProduceChannel(address);
      this.channels.set(address, c);
    }
    return c;
  }

}

function positive(name: string, value: number, min: number): number {
  if (!Number.isFinite(value) || value < min) throw invalidRequest(`${name} must be a number >= ${min}, got ${value}`);
  return value;
}

function asKeelError(e: unknown): KeelError {
  if (isKeelError(e)) return e;
  return new KeelError({ code: 'INTERNAL', message: e instanceof Error ? e.message : String(e), retriable: false });
}
