// The state machine of one partition. The partition's Raft log is its data log (Redpanda's model, not
// Kafka's ISR): a committed produce batch gets its dense offsets when it is applied, so no-ops and config
// entries never take offset space, and every replica assigns the same offsets. The high watermark is the
// last applied offset + 1. Retention is a replicated `trim` record: every replica drops the same batches.
//
// Snapshots describe the state at the log's compaction point (the first retained batch's Raft index - 1),
// not at the applied index: data after that point stays in the Raft log, so a snapshot is small (offsets
// and producer state) and a follower that installs it replays the log after it to the same state. To have
// that state at hand, the machine keeps a lagging copy ("base") that trims advance.
import type { StateMachine } from '../replica.ts';
import type { Entry, Index } from '../../raft/types.ts';
import { decodeBatchRecords, decodeCommandHeader, recordBytes, type EncodedBatch, type ProduceRecord } from './batch-codec.ts';
import { ProducerTable, type ProducerEntry, type ProducerUpdate } from './producer-state.ts';

export type PartitionErrorCode =
  | 'OUT_OF_ORDER_SEQUENCE' | 'INVALID_PRODUCER_EPOCH' | 'CORRUPT_RECORD';

export type ApplyOutcome =
  | { readonly ok: true; readonly baseOffset: number; readonly logAppendTimeMs: number; readonly duplicate: boolean }
  | { readonly ok: false; readonly code: PartitionErrorCode; readonly message: string };

/** A committed batch kept in memory for fetches, still encoded (decoded when a fetch reads it). */
export interface StoredBatch {
  readonly baseOffset: number;
  /** Raft index of the entry that carried it. */
  readonly raftIndex: Index;
  /** Its header (record count, bytes, newest timestamp) and records section. */
  readonly encoded: EncodedBatch;
}

/** What read() found: records, and whether it stopped at a batch whose checksum failed. */
export interface ReadResult {
  readonly records: FetchedRecord[];
  readonly corrupt: boolean;
}

/** Decoded batches kept for further reads (consumers tail the newest ones). */
const DECODED_BATCHES_KEPT = 256;

export interface FetchedRecord {
  readonly offset: number;
  readonly key: Uint8Array | null;
  readonly value: Uint8Array | null;
  readonly headers: readonly { readonly key: string; readonly value: Uint8Array }[];
  readonly timestamp: number;
}

/** Deliberate bugs, for proving the simulator catches them. Never set outside tests. */
export interface PartitionPlantedBugs {
  /** Leave producer state out of snapshots (duplicates after failover). */
  readonly producerStateNotInSnapshots?: boolean;
  /** Use the offset the leader guessed at append instead of assigning it at apply. */
  readonly offsetsAtAppend?: boolean;
}

interface BaseState {
  index: Index;
  nextOffset: number;
  logStartOffset: number;
  producers: ProducerTable;
}

/** What applying one entry changed, remembered until the base passes it. */
interface Effect {
  readonly index: Index;
  readonly nextOffsetAfter: number;
  readonly update: ProducerUpdate | null;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

export class PartitionMachine implements StateMachine {
  logStartOffset = 0;
  /** Next offset to assign; the high watermark. */
  nextOffset = 0;
  retainedBytes = 0;
  /** Retained batches in offset order; batches[head] is the oldest. */
  private batches: StoredBatch[] = [];
  private head = 0;
  producers = new ProducerTable();
  private base: BaseState = { index: 0 as Index, nextOffset: 0, logStartOffset: 0, producers: new ProducerTable() };
  private effects: Effect[] = [];
  /** Recently decoded batches by base offset, oldest first (a small cache for repeated reads). */
  private readonly decoded = new Map<number, readonly ProduceRecord[]>();
  /** Called after each applied batch (wakes long-polling fetches). */
  onAppend: () => void = () => {};

  constructor(private readonly bugs: PartitionPlantedBugs = {}) {}

  // ---- StateMachine -------------------------------------------------------------------------------

  apply(e: Entry): unknown {
    if (e.data.byteLength === 0) return undefined;
    const d = decodeCommandHeader(e.data);
    if (!d.ok) return { ok: false, code: 'CORRUPT_RECORD', message: d.error } satisfies ApplyOutcome;
    const c = d.command;
    if (c.type === 'trim') {
      this.trim(c.logStartOffset, e.index);
      return undefined;
    }
    return this.produce(e.index, c.batch);
  }

  /** Applies a batch from its header alone: offsets, size and producer state need no record decoded. */
  private produce(index: Index, b: EncodedBatch): ApplyOutcome {
    const { producer, appendTimeMs, recordCount: count } = b;
    let update: ProducerUpdate | null = null;
    if (producer !== null) {
      const check = this.producers.check(producer.producerId, producer.producerEpoch, producer.baseSequence, count);
      if (check.kind === 'duplicate') return { ok: true, baseOffset: check.baseOffset, logAppendTimeMs: appendTimeMs, duplicate: true };
      if (check.kind === 'error') return { ok: false, code: check.code, message: check.message };
    }
    const baseOffset = this.bugs.offsetsAtAppend === true && b.guessedBaseOffset >= 0 ? b.guessedBaseOffset : this.nextOffset;
    this.batches.push({ baseOffset, raftIndex: index, encoded: b });
    this.nextOffset = baseOffset + count;
    this.retainedBytes += b.recordBytes;
    if (producer !== null) {
      update = { producerId: producer.producerId, epoch: producer.producerEpoch, batch: { firstSeq: producer.baseSequence, lastSeq: producer.baseSequence + count - 1, baseOffset } };
      this.producers.record(update);
    }
    this.effects.push({ index, nextOffsetAfter: this.nextOffset, update });
    this.onAppend();
    return { ok: true, baseOffset, logAppendTimeMs: appendTimeMs, duplicate: false };
  }

  /** Retention: drops whole batches below `to`, then moves the base (compaction point) up to them. */
  private trim(to: number, index: Index): void {
    if (to <= this.logStartOffset) return;
    while (this.head < this.batches.length) {
      const b = this.batches[this.head] as StoredBatch;
      if (b.baseOffset + b.encoded.recordCount > to) break;
      this.retainedBytes -= b.encoded.recordBytes;
      this.decoded.delete(b.baseOffset);
      this.head++;
    }
    if (this.head > 1024 && this.head * 2 > this.batches.length) {
      this.batches = this.batches.slice(this.head);
      this.head = 0;
    }
    const first = this.batches[this.head];
    this.logStartOffset = first === undefined ? this.nextOffset : first.baseOffset;
    this.advanceBase(first === undefined ? index : ((first.raftIndex - 1) as Index));
  }

  private advanceBase(to: Index): void {
    if (to <= this.base.index) return;
    let k = 0;
    for (; k < this.effects.length; k++) {
      const fx = this.effects[k] as Effect;
      if (fx.index > to) break;
      this.base.nextOffset = fx.nextOffsetAfter;
      if (fx.update !== null) this.base.producers.record(fx.update);
    }
    this.effects = this.effects.slice(k);
    this.base.index = to;
    this.base.logStartOffset = this.base.nextOffset;
  }

  /** The Raft log may be compacted up to here; snapshot() describes the state at this index. */
  compactableIndex(): Index {
    return this.base.index;
  }

  snapshot(): Uint8Array {
    const b = this.base;
    const producers = this.bugs.producerStateNotInSnapshots === true ? [] : b.producers.toJSON();
    return encoder.encode(JSON.stringify({ index: b.index, nextOffset: b.nextOffset, logStartOffset: b.logStartOffset, producers }));
  }

  restore(data: Uint8Array, index: Index): void {
    const d = JSON.parse(decoder.decode(data)) as { nextOffset: number; logStartOffset: number; producers: [number, ProducerEntry][] };
    const producers = ProducerTable.fromJSON(d.producers);
    this.base = { index, nextOffset: d.nextOffset, logStartOffset: d.logStartOffset, producers };
    this.nextOffset = d.nextOffset;
    this.logStartOffset = d.logStartOffset;
    this.producers = producers.clone();
    this.batches = [];
    this.head = 0;
    this.effects = [];
    this.decoded.clear();
    this.retainedBytes = 0;
  }

  // ---- reads ----------------------------------------------------------------------------------------

  get batchCount(): number {
    return this.batches.length - this.head;
  }

  /** Index of the batch holding `offset` (or the first after it). */
  private batchAt(offset: number): number {
    let lo = this.head;
    let hi = this.batches.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if ((this.batches[mid] as StoredBatch).baseOffset <= offset) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  }

  /**
   * Records from `offset` on, up to about `maxBytes` (always at least one record if any). Stops before a
   * batch whose checksum fails (corrupt: true): corrupt records are never served.
   */
  read(offset: number, maxBytes: number): ReadResult {
    const out: FetchedRecord[] = [];
    if (offset >= this.nextOffset || this.head >= this.batches.length) return { records: out, corrupt: false };
    let bytes = 0;
    for (let k = this.batchAt(offset); k < this.batches.length; k++) {
      const b = this.batches[k] as StoredBatch;
      const records = this.recordsOf(b);
      if (records === undefined) return { records: out, corrupt: true };
      for (let j = 0; j < records.length; j++) {
        const o = b.baseOffset + j;
        if (o < offset || o < this.logStartOffset) continue;
        const r = records[j] as ProduceRecord;
        const size = recordBytes(r);
        if (out.length > 0 && bytes + size > maxBytes) return { records: out, corrupt: false };
        bytes += size;
        out.push({ offset: o, key: r.key, value: r.value, headers: r.headers, timestamp: r.timestamp });
      }
    }
    return { records: out, corrupt: false };
  }

  /** First offset whose record timestamp is >= ts, or nextOffset if none (corrupt batches are skipped). */
  offsetForTimestamp(ts: number): number {
    for (let k = this.head; k < this.batches.length; k++) {
      const b = this.batches[k] as StoredBatch;
      if (b.encoded.maxTimestamp < ts) continue;
      const records = this.recordsOf(b) ?? [];
      for (let j = 0; j < records.length; j++) {
        if ((records[j] as ProduceRecord).timestamp >= ts && b.baseOffset + j >= this.logStartOffset) return b.baseOffset + j;
      }
    }
    return this.nextOffset;
  }

  /** A batch's records with log-append timestamps filled in, or undefined if its checksum fails. */
  private recordsOf(b: StoredBatch): readonly ProduceRecord[] | undefined {
    const cached = this.decoded.get(b.baseOffset);
    if (cached !== undefined) return cached;
    const d = decodeBatchRecords(b.encoded);
    if (!d.ok) return undefined;
    const appendTimeMs = b.encoded.appendTimeMs;
    const records = d.records.map((r) => (r.timestamp >= 0 ? r : { ...r, timestamp: appendTimeMs }));
    this.decoded.set(b.baseOffset, records);
    if (this.decoded.size > DECODED_BATCHES_KEPT) this.decoded.delete(this.decoded.keys().next().value as number);
    return records;
  }

  /**
   * Retention: the log start offset that drops every batch over the size budget or older than the time
   * budget (whole batches; the newest batch always stays), or undefined if nothing is due.
   * retentionBytes / retentionMs of -1 mean unbounded.
   */
  retentionTarget(retentionBytes: number, retentionMs: number, nowMs: number): number | undefined {
    let bytes = this.retainedBytes;
    let k = this.head;
    const last = this.batches.length - 1;
    while (k < last) {
      const b = this.batches[k] as StoredBatch;
      const overSize = retentionBytes >= 0 && bytes > retentionBytes;
      const tooOld = retentionMs >= 0 && b.encoded.maxTimestamp < nowMs - retentionMs;
      if (!overSize && !tooOld) break;
      bytes -= b.encoded.recordBytes;
      k++;
    }
    if (k === this.head) return undefined;
    return (this.batches[k] as StoredBatch).baseOffset;
  }
}
