// Idempotent producers, per partition, inside the replicated state machine (so deduplication survives
// failover): for each producer id, its epoch and its last five batches (Kafka's window). A batch is
// appended if its first sequence follows the last one, recognised as a duplicate if it matches one of the
// five (answered with the original offset), refused otherwise.

export const BATCHES_PER_PRODUCER = 5;
/** Producers remembered per partition; beyond it the least recently active is forgotten. */
export const PRODUCERS_PER_PARTITION_MAX = 10_000;

export interface ProducerBatch {
  readonly firstSeq: number;
  readonly lastSeq: number;
  readonly baseOffset: number;
}

export interface ProducerEntry {
  epoch: number;
  batches: ProducerBatch[];
  /** Offset of the producer's last batch: orders eviction deterministically. */
  lastOffset: number;
}

export type SequenceCheck =
  | { readonly kind: 'append' }
  | { readonly kind: 'duplicate'; readonly baseOffset: number }
  | { readonly kind: 'error'; readonly code: 'OUT_OF_ORDER_SEQUENCE' | 'INVALID_PRODUCER_EPOCH'; readonly message: string };

export interface ProducerUpdate {
  readonly producerId: number;
  readonly epoch: number;
  readonly batch: ProducerBatch;
}

export class ProducerTable {
  readonly entries = new Map<number, ProducerEntry>();

  check(producerId: number, epoch: number, firstSeq: number, count: number): SequenceCheck {
    const lastSeq = firstSeq + count - 1;
    const e = this.entries.get(producerId);
    if (e === undefined || epoch > e.epoch) {
      if (firstSeq === 0) return { kind: 'append' };
      return { kind: 'error', code: 'OUT_OF_ORDER_SEQUENCE', message: `first batch of producer ${producerId} epoch ${epoch} must start at sequence 0, not ${firstSeq}` };
    }
    if (epoch < e.epoch) return { kind: 'error', code: 'INVALID_PRODUCER_EPOCH', message: `producer ${producerId} epoch ${epoch} is fenced by epoch ${e.epoch}` };
    for (const b of e.batches) if (b.firstSeq === firstSeq && b.lastSeq === lastSeq) return { kind: 'duplicate', baseOffset: b.baseOffset };
    const last = e.batches[e.batches.length - 1];
    const expected = last === undefined ? 0 : last.lastSeq + 1;
    if (firstSeq === expected) return { kind: 'append' };
    return { kind: 'error', code: 'OUT_OF_ORDER_SEQUENCE', message: `producer ${producerId} sent sequence ${firstSeq}, expected ${expected}` };
  }

  record(u: ProducerUpdate): void {
    let e = this.entries.get(u.producerId);
    if (e === undefined || u.epoch > e.epoch) {
      e = { epoch: u.epoch, batches: [], lastOffset: u.batch.baseOffset };
      this.entries.set(u.producerId, e);
    }
    e.batches.push(u.batch);
    if (e.batches.length > BATCHES_PER_PRODUCER) e.batches.shift();
    e.lastOffset = u.batch.baseOffset;
    if (this.entries.size > PRODUCERS_PER_PARTITION_MAX) this.evictOldest();
  }

  private evictOldest(): void {
    let oldest: number | undefined;
    let oldestOffset = Number.POSITIVE_INFINITY;
    for (const [id, e] of this.entries) {
      if (e.lastOffset < oldestOffset || (e.lastOffset === oldestOffset && oldest !== undefined && id < oldest)) {
        oldest = id;
        oldestOffset = e.lastOffset;
      }
    }
    if (oldest !== undefined) this.entries.delete(oldest);
  }

  toJSON(): [number, ProducerEntry][] {
    return [...this.entries].sort((a, b) => a[0] - b[0]);
  }

  static fromJSON(rows: readonly [number, ProducerEntry][]): ProducerTable {
    const t = new ProducerTable();
    for (const [id, e] of rows) t.entries.set(id, { epoch: e.epoch, batches: e.batches.map((b) => ({ ...b })), lastOffset: e.lastOffset });
    return t;
  }

  clone(): ProducerTable {
    return ProducerTable.fromJSON(this.toJSON());
  }
}
