// What the client believes about where partitions live: topic -> partitions -> leader (id, address),
// filled from DescribeTopic and corrected by NOT_LEADER hints. Stale entries are expected (leadership
// moves); the broker's answers correct them, so the cache never needs to be right, only usually right.
import type { TopicInfo } from './wire.ts';

export interface LeaderHint {
  /** 0 when unknown. */
  readonly leader: number;
  /** '' when unknown. */
  readonly address: string;
}

interface TopicEntry {
  /** Indexed by partition number. Invariant: dense, one entry per partition of the description. */
  readonly partitions: LeaderHint[];
  /** When the description was taken (the client's clock, ms). */
  readonly describedAtMs: number;
}

/** Topics remembered at once; past this the least recently described is forgotten. */
export const CACHED_TOPICS_MAX = 10_000;

export class MetadataCache {
  private readonly topics = new Map<string, TopicEntry>();

  constructor(private readonly topicsMax: number = CACHED_TOPICS_MAX) {}

  /** Replaces what we know of the topic with a fresh description, taken at `nowMs`. */
  update(info: TopicInfo, nowMs: number): void {
    this.topics.delete(info.name);
    if (this.topics.size >= this.topicsMax) {
      const oldest = this.topics.keys().next();
      if (oldest.done !== true) this.topics.delete(oldest.value);
    }
    const partitions: LeaderHint[] = [];
    const sorted = [...info.partitions].sort((a, b) => a.partition - b.partition);
    for (const p of sorted) partitions[p.partition] = { leader: p.leader, address: p.leaderAddress };
    // Partitions are numbered 0..n-1; a hole would be a broker bug, and holes read as "no leader known".
    for (let i = 0; i < partitions.length; i++) partitions[i] ??= { leader: 0, address: '' };
    this.topics.set(info.name, { partitions, describedAtMs: nowMs });
  }

  /** When the topic was last described; undefined if it is not cached. */
  describedAtMs(topic: string): number | undefined {
    return this.topics.get(topic)?.describedAtMs;
  }

  has(topic: string): boolean {
    return this.topics.has(topic);
  }

  partitionCount(topic: string): number | undefined {
    return this.topics.get(topic)?.partitions.length;
  }

  /** The leader we believe in; undefined if the topic is not cached or has no such partition. */
  leader(topic: string, partition: number): LeaderHint | undefined {
    return this.topics.get(topic)?.partitions[partition];
  }

  /** A NOT_LEADER answer named the leader: believe it (it is fresher than any description we hold). */
  setLeader(topic: string, partition: number, hint: LeaderHint): boolean {
    const entry = this.topics.get(topic);
    const current = entry?.partitions[partition];
    if (entry === undefined || current === undefined) return false;
    entry.partitions[partition] = hint;
    return true;
  }

  /** Forget where the partition's leader is (the next request describes the topic again). */
  forgetLeader(topic: string, partition: number): void {
    const entry = this.topics.get(topic);
    if (entry?.partitions[partition] !== undefined) entry.partitions[partition] = { leader: 0, address: '' };
  }

  /** Forget the topic entirely (deleted, or a partition the description did not have). */
  invalidate(topic: string): void {
    this.topics.delete(topic);
  }
}
