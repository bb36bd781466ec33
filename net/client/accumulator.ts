// The producer's batching, as pure bookkeeping over an injected clock value: records are appended to the
// open batch of their partition; a batch is sealed (ready to send) when it is full (records or bytes),
// when it is `lingerMs` old, or on demand (flush). Sealed batches wait per partition in FIFO order, so a
// partition's records leave in the order they were sent. Nothing here sends, times or retries.

export interface BatchLimits {
  readonly lingerMs: number;
  readonly batchRecordsMax: number;
  readonly batchBytesMax: number;
}

export interface Batch<R> {
  readonly topic: string;
  readonly partition: number;
  readonly records: R[];
  bytes: number;
  /** When its first record was appended (the linger clock starts there). */
  readonly createdAtMs: number;
}

interface PartitionQueue<R> {
  open: Batch<R> | null;
  /** Sealed, oldest first. */
  readonly sealed: Batch<R>[];
}

function key(topic: string, partition: number): string {
  return `${partition}\u0000${topic}`;
}

export class BatchAccumulator<R> {
  private readonly queues = new Map<string, PartitionQueue<R>>();
  /** Records appended and not yet taken (open + sealed). Invariant: equals the sum over all queues. */
  private records = 0;

  constructor(private readonly limits: BatchLimits) {}

  get bufferedRecords(): number {
    return this.records;
  }

  /** Appends a record of `bytes` (estimated) to its partition's open batch, sealing first if it would not fit. */
  append(topic: string, partition: number, record: R, bytes: number, nowMs: number): void {
    const q = this.queue(topic, partition);
    const open = q.open;
    if (open !== null && (open.records.length >= this.limits.batchRecordsMax || open.bytes + bytes > this.limits.batchBytesMax)) this.seal(q);
    // A record larger than batchBytesMax travels alone (the broker decides whether it is too large).
    q.open ??= { topic, partition, records: [], bytes: 0, createdAtMs: nowMs };
    q.open.records.push(record);
    q.open.bytes += bytes;
    this.records++;
    if (q.open.records.length >= this.limits.batchRecordsMax || q.open.bytes >= this.limits.batchBytesMax) this.seal(q);
  }

  /** Seals every open batch at least `lingerMs` old. */
  expire(nowMs: number): void {
    for (const q of this.queues.values()) if (q.open !== null && nowMs - q.open.createdAtMs >= this.limits.lingerMs) this.seal(q);
  }

  /** Seals every open batch (flush: send what there is now). */
  sealAll(): void {
    for (const q of this.queues.values()) if (q.open !== null) this.seal(q);
  }

  /** When the oldest open batch's linger ends; null when there is no open batch. */
  nextLingerDeadline(): number | null {
    let at: number | null = null;
    for (const q of this.queues.values()) {
      if (q.open === null) continue;
      const end = q.open.createdAtMs + this.limits.lingerMs;
      if (at === null || end < at) at = end;
    }
    return at;
  }

  /** Partitions with a sealed batch waiting, as [topic, partition]. */
  ready(): [string, number][] {
    const out: [string, number][] = [];
    for (const q of this.queues.values()) {
      const head = q.sealed[0];
      if (head !== undefined) out.push([head.topic, head.partition]);
    }
    return out;
  }

  /** Removes and returns the partition's oldest sealed batch. */
  take(topic: string, partition: number): Batch<R> | undefined {
    const k = key(topic, partition);
    const q = this.queues.get(k);
    const b = q?.sealed.shift();
    if (q === undefined || b === undefined) return undefined;
    this.records -= b.records.length;
    if (q.open === null && q.sealed.length === 0) this.queues.delete(k);
    return b;
  }

  /** Removes every batch, open or sealed (close without flush). */
  drain(): Batch<R>[] {
    const out: Batch<R>[] = [];
    for (const q of this.queues.values()) {
      out.push(...q.sealed);
      if (q.open !== null) out.push(q.open);
    }
    this.queues.clear();
    this.records = 0;
    return out;
  }

  private queue(topic: string, partition: number): PartitionQueue<R> {
    const k = key(topic, partition);
    let q = this.queues.get(k);
    if (q === undefined) {
      q = { open: null, sealed: [] };
      this.queues.set(k, q);
    }
    return q;
  }

  private seal(q: PartitionQueue<R>): void {
    if (q.open === null) return;
    q.sealed.push(q.open);
    q.open = null;
  }
}
