// Idempotent producer bookkeeping, per partition: under which producer identity (id, epoch) its batches
// are numbered and which sequence comes next. The broker accepts a batch whose first sequence follows the
// last one it holds and answers a repeat of a recent batch as a duplicate (with the original offset), so:
//   - a batch gets its sequences once, at its first send, and keeps them across every retry;
//   - only one batch per partition is in flight, so sequences reach the broker in order;
//   - a batch that failed for good may or may not be in the log, so no later batch can be numbered after
//     it: the partition's run ends and its identity is retired; the next batch starts a new run, at
//     sequence 0, under a fresh identity (InitProducerId). Other partitions keep their runs.
import type { ProducerIdentity } from './wire.ts';

/** Sequences are int32 in Kafka; a run that would pass this starts over under a fresh identity. */
export const SEQUENCE_MAX = 2 ** 31 - 1;
/** Retired identities remembered; older ones can no longer be the producer's current identity. */
const RETIRED_MAX = 1_000;

interface Run {
  readonly identity: ProducerIdentity;
  /** Sequence of the next batch's first record. Invariant: 0 <= next <= SEQUENCE_MAX + 1. */
  next: number;
}

export interface Assignment {
  readonly identity: ProducerIdentity;
  readonly baseSequence: number;
}

function idKey(i: ProducerIdentity): string {
  return `${i.producerId}:${i.producerEpoch}`;
}

function partitionKey(topic: string, partition: number): string {
  return `${partition}\u0000${topic}`;
}

export class SequenceBook {
  private readonly runs = new Map<string, Run>();
  private readonly retired = new Set<string>();

  /** Sequences for a batch of `count` records in the partition's current run, or null if it needs a new run. */
  next(topic: string, partition: number, count: number): Assignment | null {
    const k = partitionKey(topic, partition);
    const run = this.runs.get(k);
    if (run === undefined) return null;
    if (run.next + count - 1 > SEQUENCE_MAX) {
      this.endRun(topic, partition);
      return null;
    }
    const a = { identity: run.identity, baseSequence: run.next };
    run.next += count;
    return a;
  }

  /** Starts the partition's run under `identity` (which must not be retired): the batch gets sequence 0. */
  start(topic: string, partition: number, count: number, identity: ProducerIdentity): Assignment {
    if (this.isRetired(identity)) throw new Error(`identity ${idKey(identity)} is retired`);
    if (count < 1 || count - 1 > SEQUENCE_MAX) throw new Error(`a batch of ${count} records cannot be numbered`);
    this.runs.set(partitionKey(topic, partition), { identity, next: count });
    return { identity, baseSequence: 0 };
  }

  /** A batch failed for good: end the partition's run and retire its identity for new runs. */
  endRun(topic: string, partition: number): void {
    const k = partitionKey(topic, partition);
    const run = this.runs.get(k);
    if (run === undefined) return;
    this.runs.delete(k);
    if (this.retired.size >= RETIRED_MAX) this.retired.clear();
    this.retired.add(idKey(run.identity));
  }

  isRetired(identity: ProducerIdentity): boolean {
    return this.retired.has(idKey(identity));
  }

  /** The partition's run, for tests and diagnostics. */
  run(topic: string, partition: number): { readonly identity: ProducerIdentity; readonly next: number } | undefined {
    const r = this.runs.get(partitionKey(topic, partition));
    return r === undefined ? undefined : { identity: r.identity, next: r.next };
  }
}
