// Committed consumer-group offsets, kept in the metadata image (DESIGN.md §4: consumer-group metadata).
// A consumer group commits, per partition, the offset of the next record it will read; a restarted
// consumer resumes there. Commits only move forward: a commit below the stored offset changes nothing,
// so a delayed copy of an old commit (retried after a timeout, stuck behind a paused node) can never
// move a group back and make it read records twice (DESIGN.md §6: committed offsets never go backwards).
import { adminError, ok, type AdminResult } from './errors.ts';

export interface PartitionOffset {
  readonly partition: number;
  readonly offset: number;
}

export interface CommitOffsetsResult {
  /** The committed offsets of the partitions named in the request, after it: higher ones stayed. */
  readonly offsets: readonly PartitionOffset[];
}

/** Everything a group committed for one topic. */
export interface GroupTopicOffsets {
  readonly topic: string;
  readonly offsets: readonly PartitionOffset[];
}

export const GROUP_ID_CHARS_MAX = 255;
/** Partitions one commit may name (a topic has at most PARTITIONS_MAX). */
export const OFFSETS_PER_COMMIT_MAX = 10_000;

/** Printable, as Kafka group ids are in practice; no control characters, which logs would mangle. */
const GROUP_PATTERN = /^[^\p{Cc}]{1,255}$/u;

export function validateGroupId(group: unknown): string | null {
  if (typeof group !== 'string') return 'group id must be a string';
  if (!GROUP_PATTERN.test(group)) return `group id must be 1 to ${GROUP_ID_CHARS_MAX} characters without control characters`;
  return null;
}

/** Why `offsets` cannot be committed for a topic of `partitionCount` partitions, or null if they can. */
function validateOffsets(topic: string, partitionCount: number, offsets: readonly PartitionOffset[]): string | null {
  if (offsets.length === 0 || offsets.length > OFFSETS_PER_COMMIT_MAX) return `a commit names 1 to ${OFFSETS_PER_COMMIT_MAX} partitions`;
  const seen = new Set<number>();
  for (const { partition, offset } of offsets) {
    // Final, not UNKNOWN_TOPIC_OR_PARTITION (which clients retry): a topic's partition count never changes.
    if (!Number.isSafeInteger(partition) || partition < 0 || partition >= partitionCount) return `topic "${topic}" has partitions 0 to ${partitionCount - 1}, not ${String(partition)}`;
    if (!Number.isSafeInteger(offset) || offset < 0) return `offset must be a non-negative integer, got ${String(offset)}`;
    if (seen.has(partition)) return `partition ${partition} is named twice`;
    seen.add(partition);
  }
  return null;
}

/** One stored offset, as snapshots hold them: [group, topic, partition, offset]. */
export type OffsetRow = readonly [string, string, number, number];

export class GroupOffsets {
  /** group → topic → partition → offset. */
  private readonly groups = new Map<string, Map<string, Map<number, number>>>();
  /** group → the metadata version at which its offsets last changed (an expiry is refused if they changed since). */
  private readonly changedAt = new Map<string, number>();

  /**
   * Commits `offsets` of `topic` (which has `partitionCount` partitions): forward only, or, for an
   * operator's reset, to exactly the offsets given. Returns whether anything moved (the caller bumps the
   * metadata version only then) with the committed offsets after the commit.
   */
  commit(group: string, topic: string, partitionCount: number, offsets: readonly PartitionOffset[], mode: 'forward' | 'reset' = 'forward'): { moved: boolean; result: AdminResult<CommitOffsetsResult> } {
    const badGroup = validateGroupId(group);
    if (badGroup !== null) return { moved: false, result: adminError('INVALID_GROUP', badGroup) };
    const badOffsets = validateOffsets(topic, partitionCount, offsets);
    if (badOffsets !== null) return { moved: false, result: adminError('INVALID_REQUEST', badOffsets) };
    const stored = this.partitionsOf(group, topic, true) as Map<number, number>;
    let moved = false;
    for (const { partition, offset } of offsets) {
      const now = stored.get(partition);
      if (mode === 'reset' ? offset !== now : offset > (now ?? -1)) {
        stored.set(partition, offset);
        moved = true;
      }
    }
    return { moved, result: ok({ offsets: offsets.map(({ partition }) => ({ partition, offset: stored.get(partition) as number })) }) };
  }

  /** Forgets everything `group` committed; false if it had committed nothing. */
  deleteGroup(group: string): boolean {
    this.changedAt.delete(group);
    return this.groups.delete(group);
  }

  /** The group's offsets changed at metadata version `version`. */
  touched(group: string, version: number): void {
    if (this.groups.has(group)) this.changedAt.set(group, version);
  }

  /** The metadata version at which the group's offsets last changed (0 if never, or before versions were kept). */
  changedAtVersion(group: string): number {
    return this.changedAt.get(group) ?? 0;
  }

  /** The group's committed offsets for `topic`, by partition (partitions it never committed are absent). */
  committed(group: string, topic: string): PartitionOffset[] {
    const stored = this.partitionsOf(group, topic, false);
    if (stored === undefined) return [];
    return [...stored].sort((a, b) => a[0] - b[0]).map(([partition, offset]) => ({ partition, offset }));
  }

  /** Groups with committed offsets, in name order (a group exists once it committed). */
  groupIds(): string[] {
    return [...this.groups.keys()].sort();
  }

  /** Everything `group` committed, by topic in name order (none for a group that never committed). */
  ofGroup(group: string): GroupTopicOffsets[] {
    const topics = this.groups.get(group);
    if (topics === undefined) return [];
    return [...topics.keys()].sort().map((topic) => ({ topic, offsets: this.committed(group, topic) }));
  }

  /** A deleted topic takes its committed offsets along (a topic created again under the name starts afresh). */
  dropTopic(topic: string): void {
    for (const [group, topics] of this.groups) {
      topics.delete(topic);
      if (topics.size === 0) this.deleteGroup(group);
    }
  }

  /** [group, version] of every group's last change, for snapshots. */
  changeRows(): [string, number][] {
    return [...this.changedAt];
  }

  rows(): OffsetRow[] {
    const rows: OffsetRow[] = [];
    for (const [group, topics] of this.groups) {
      for (const [topic, partitions] of topics) for (const [partition, offset] of partitions) rows.push([group, topic, partition, offset]);
    }
    return rows;
  }

  restore(rows: readonly OffsetRow[], changes: readonly (readonly [string, number])[] = []): void {
    this.groups.clear();
    this.changedAt.clear();
    for (const [group, topic, partition, offset] of rows) (this.partitionsOf(group, topic, true) as Map<number, number>).set(partition, offset);
    for (const [group, version] of changes) this.changedAt.set(group, version);
  }

  private partitionsOf(group: string, topic: string, create: boolean): Map<number, number> | undefined {
    let topics = this.groups.get(group);
    if (topics === undefined) {
      if (!create) return undefined;
      topics = new Map();
      this.groups.set(group, topics);
    }
    let partitions = topics.get(topic);
    if (partitions === undefined && create) {
      partitions = new Map();
      topics.set(topic, partitions);
    }
    return partitions;
  }
}
