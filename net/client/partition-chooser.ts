// Which partition a record goes to: an explicit partition as given; a keyed record by Kafka's murmur2
// (the broker's own partitioner, so a key lands where Kafka's clients would put it); otherwise
// round-robin per topic, starting at a random partition so that many short-lived producers spread out.
import { partitionForKey } from '../../broker/partition/partitioner.ts';
import { invalidRequest, KeelError } from './errors.ts';

/** Topics with a round-robin position; past this the oldest position is forgotten. */
export const ROUND_ROBIN_TOPICS_MAX = 10_000;

export type PartitionChoice = { readonly ok: true; readonly partition: number } | { readonly ok: false; readonly error: KeelError };

export class PartitionChooser {
  /** Next round-robin position per topic (taken modulo the partition count). */
  private readonly positions = new Map<string, number>();

  constructor(private readonly random: () => number) {}

  choose(topic: string, partitions: number, key: Uint8Array | null, explicit?: number): PartitionChoice {
    if (!Number.isSafeInteger(partitions) || partitions < 1) return { ok: false, error: invalidRequest(`topic ${topic} has no partitions`) };
    if (explicit !== undefined) {
      if (!Number.isSafeInteger(explicit) || explicit < 0) return { ok: false, error: invalidRequest(`a partition is a non-negative integer, got ${explicit}`) };
      if (explicit >= partitions) {
        // The code a fetch or a describe gives for the same partition.
        const message = `topic ${topic} has ${partitions} partition${partitions === 1 ? '' : 's'} (0..${partitions - 1}); there is no partition ${explicit}`;
        return { ok: false, error: new KeelError({ code: 'UNKNOWN_TOPIC_OR_PARTITION', message, retriable: false }) };
      }
      return { ok: true, partition: explicit };
    }
    if (key !== null) return { ok: true, partition: partitionForKey(key, partitions) };
    let next = this.positions.get(topic);
    if (next === undefined) {
      next = Math.floor(this.random() * partitions);
      if (this.positions.size >= ROUND_ROBIN_TOPICS_MAX) {
        const oldest = this.positions.keys().next();
        if (oldest.done !== true) this.positions.delete(oldest.value);
      }
    }
    this.positions.set(topic, (next + 1) % partitions);
    return { ok: true, partition: next % partitions };
  }
}
